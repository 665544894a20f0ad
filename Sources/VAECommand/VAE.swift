import ArgumentParser

@main
struct VAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train, evaluate and inspect variational autoencoders on the CPU.",
        version: "0.1.0",
        subcommands: [Demo.self, DataCommand.self, Bench.self]
    )
}
