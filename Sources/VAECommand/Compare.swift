import ArgumentParser
import Foundation
import Persistence
import Runs

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Several runs side by side: their learning curves on one plot, the settings in which they differ, their final figures.",
        discussion: """
        Draws every run's test loss per epoch (training loss dashed, in the run's colour) and its validation loss \
        (or, without a validation share, its test KL) into one PNG or SVG, and prints a table: the settings whose \
        values differ between the runs (paths into config.json, e.g. objective.beta), then the final figures: \
        epochs, losses, the best validation loss, the IWAE bound where `vae eval` kept one (evaluation.json), the \
        Fréchet distance of each `vae score` (score-SAMPLER.json).

        Example: vae compare runs/sweep/beta-1 runs/sweep/beta-4 --out beta.png
        """)

    @Argument(help: ArgumentHelp("Two or more run folders written by `vae train`.", valueName: "run")) var runs: [String]
    @Option(help: "The picture to write, .png or .svg (default: comparison.png in the first run's parent folder).") var out: String?

    func validate() throws {
        guard runs.count >= 2 else { throw ValidationError("give at least two run folders to compare, got \(runs.count)") }
    }

    func run() throws {
        let folders = runs.map { RunFolder(URL(fileURLWithPath: $0)) }
        let comparison: RunComparison
        do { comparison = try RunComparison(folders: folders) } catch { throw CommandFailure(commandMessage(for: error)) }
        let fallback = folders[0].url.deletingLastPathComponent().appendingPathComponent("comparison.png")
        let url = try outputFile(out, default: fallback, extensions: ["png", "svg"])
        try Self.report(comparison, to: url)
    }

    /// Writes the comparison's picture to `url` and prints its table.
    static func report(_ comparison: RunComparison, to url: URL) throws {
        for run in comparison.runs where run.rows.isEmpty { print("note: \(run.folder.metrics.path) has no finished epoch yet") }
        do { try comparison.figure().write(to: url) } catch { throw CommandFailure("\(url.path): \(plainDescription(of: error))") }
        print(comparison.table)
        print("wrote \(url.path)")
    }
}
