import ArgumentParser
import Foundation
import Runs

struct Curves: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a run's learning curves from its metrics.csv (PNG and SVG).",
        discussion: """
        Left: the loss per image (train; test with a sampled z and with z = mu). Right: its two terms, \
        reconstruction and KL, train and test. Without --out, writes learning-curves.png and .svg in the run folder.

        Example: vae curves runs/pytorch-example --out curves.svg
        """)

    @Argument(help: ArgumentHelp("A run folder written by `vae train`.", valueName: "run")) var path: String
    @Option(help: "The file to write, .png or .svg (default: both, learning-curves.png and .svg in the run folder).") var out: String?

    func run() throws {
        let folder = RunFolder(URL(fileURLWithPath: path))
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.url.path, isDirectory: &isFolder) else {
            throw CommandFailure("\(folder.url.path) does not exist (expected a run folder written by `vae train`)")
        }
        guard isFolder.boolValue else { throw CommandFailure("\(folder.url.path) is a file; learning curves need a run folder (its metrics.csv)") }
        let rows: [MetricsRow]
        let record: RunRecord
        do {
            record = try folder.readRecord()
            rows = try folder.readMetrics()
        } catch { throw CommandFailure(error.localizedDescription) }
        guard !rows.isEmpty else { throw CommandFailure("\(folder.metrics.path) has no finished epoch yet") }
        let configuration = record.configuration
        let figure = LearningCurves.figure(rows, title: "\(configuration.preset): \(configuration.model.architectureName) on \(configuration.dataset)")
        let urls = try out.map { [try outputFile($0, default: folder.learningCurves, extensions: ["png", "svg"])] }
            ?? [folder.learningCurves, folder.learningCurvesSVG]
        for url in urls {
            do { try figure.write(to: url) } catch { throw CommandFailure(error.localizedDescription) }
            print("wrote \(url.path)")
        }
        let last = rows.last!
        print(String(format: "%d epochs; last: train %.2f, test %.2f (recon %.2f + KL %.2f), test with z = mu %.2f",
                     rows.count, last.trainLoss, last.testLoss, last.testReconstruction, last.testKL, last.testLossMean))
    }
}
