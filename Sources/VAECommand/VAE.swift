import ArgumentParser
import VAE

@main
struct VAETool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract: "Train, evaluate and inspect variational autoencoders on the CPU.",
        version: ToolVersion.current,
        subcommands: [
            Train.self, Evaluate.self, Reconstruct.self, Sample.self, Encode.self, Scatter.self, Manifold.self,
            Interpolate.self, Traverse.self, Curves.self, Normalize.self, DataCommand.self, Bench.self, Demo.self,
        ]
    )
}
