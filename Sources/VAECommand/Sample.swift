import ArgumentParser
import Foundation
import LatentTools
import TensorCore

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A grid of new images decoded from z ~ N(0, I).",
        discussion: """
        Each cell decodes z = T eps with eps ~ N(0, I) (seeded): T = 1 samples the prior, T < 1 stays nearer its \
        mode (clearer, less varied images).

        Example: vae sample runs/pytorch-example --count 64 --temperature 0.8 --out samples.png
        """)

    @OptionGroup var model: ModelArguments
    @Option(parsing: .unconditional, help: "How many images.") var count = 64
    @Option(parsing: .unconditional, help: "Images per row.") var columns = 8
    @Option(parsing: .unconditional, help: "Temperature T: z = T eps.") var temperature: Float = 1
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale = 2
    @Option(parsing: .unconditional, help: "Seed for the draws.") var seed: UInt64 = 1
    @Option(help: "The PNG file to write (default: samples.png in the run folder).") var out: String?

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be 1...10000, got \(count)") }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1, got \(columns)") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be a number >= 0, got \(temperature)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
    }

    func run() throws {
        let (loaded, explorer) = try model.load()
        let url = try outputFile(out, default: loaded.defaultOutput("samples.png"), extensions: ["png"])
        var generator = RandomGenerator(seed: seed)
        let grid = explorer.priorSampleGrid(count: count, temperature: temperature, columns: columns, scale: scale, using: &generator)
        try write(grid, to: url)
        print("\(count) images decoded from z ~ N(0, \(temperature == 1 ? "I" : "\(temperature)^2 I")), seed \(seed)")
    }
}
