import Foundation
import Visualization

/// Several runs side by side: their learning curves on one plot, the settings in which they
/// differ, and their final figures (from `metrics.csv`, and where present the evaluation
/// `vae eval` kept, `evaluation.json`, and the sample scores of `vae score`, `score-*.json`).
public struct RunComparison {
    /// One run's files.
    public struct Run {
        /// The name shown: the folder's name (its path when two folders share a name).
        public var name: String
        /// The folder.
        public let folder: RunFolder
        /// Its record.
        public let record: RunRecord
        /// Its finished epochs.
        public let rows: [MetricsRow]
        /// Its last evaluation's figures (`evaluation.json`), by name (numbers only).
        public let evaluation: [String: Double]
        /// Its sample scores' Fréchet distances by sampler (`score-SAMPLER.json`).
        public let frechetDistances: [String: Double]
    }

    /// The runs, in the order given.
    public let runs: [Run]

    /// Reads the runs in `folders`.
    /// - Throws: `RunError` naming the folder or file that is not a run's.
    public init(folders: [RunFolder]) throws(RunError) {
        var runs: [Run] = []
        for folder in folders {
            let record = try folder.readRecord()
            let rows = try folder.readMetrics()
            var evaluation: [String: Double] = [:]
            if let data = try? Data(contentsOf: folder.url.appendingPathComponent("evaluation.json")),
               let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                for (key, value) in object { if let number = value as? Double { evaluation[key] = number } }
            }
            var distances: [String: Double] = [:]
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.url.path)) ?? []
            for file in files where file.hasPrefix("score-") && file.hasSuffix(".json") {
                if let data = try? Data(contentsOf: folder.url.appendingPathComponent(file)),
                   let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                   let distance = (object["quality"] as? [String: Any])?["frechetDistance"] as? Double {
                    distances[String(file.dropFirst("score-".count).dropLast(".json".count))] = distance
                }
            }
            runs.append(Run(name: folder.url.lastPathComponent, folder: folder, record: record, rows: rows, evaluation: evaluation, frechetDistances: distances))
        }
        let names = runs.map(\.name)
        for index in runs.indices where names.filter({ $0 == runs[index].name }).count > 1 { runs[index].name = runs[index].folder.url.path }
        self.runs = runs
    }

    /// The settings whose values differ between the runs (dotted paths into the configuration,
    /// e.g. "objective.beta"), each with its value in every run ("-" where a run lacks it).
    public var differingSettings: [(setting: String, values: [String])] {
        let flattened = runs.map { Self.flatten(Self.jsonObject($0.record.configuration)) }
        let keys = Set(flattened.flatMap(\.keys)).sorted()
        return keys.compactMap { key in
            let values = flattened.map { $0[key] ?? "-" }
            return Set(values).count > 1 ? (setting: key, values: values) : nil
        }
    }

    /// The runs' final figures, one line per figure a run has.
    public var finalFigures: [(figure: String, values: [String])] {
        func line(_ name: String, _ value: (Run) -> Double?, format: String = "%.2f") -> (String, [String])? {
            let values = runs.map { value($0).map { String(format: format, $0) } ?? "-" }
            return values.allSatisfy { $0 == "-" } ? nil : (name, values)
        }
        var lines: [(String, [String])?] = [
            line("epochs", { Double($0.rows.count) }, format: "%.0f"),
            line("train loss", { $0.rows.last?.trainLoss }),
            line("test loss", { $0.rows.last?.testLoss }),
            line("test loss (z = mu)", { $0.rows.last?.testLossMean }),
            line("test KL", { $0.rows.last?.testKL }),
            line("best validation loss", { run in run.rows.compactMap { $0.extra["validation_loss"] }.min() }),
            line("test bits per dim", { $0.rows.last?.extra["test_bits_per_dim"] }, format: "%.4f"),
            line("test reconstruction MSE", { $0.rows.last?.extra["test_reconstruction_mse"] }, format: "%.5f"),
            line("IWAE bound (eval)", { $0.evaluation["iwae"] }),
            line("ELBO (eval)", { $0.evaluation["elbo"] }),
            line("training seconds", { run in run.rows.reduce(0) { $0 + $1.seconds } }, format: "%.0f"),
        ]
        for sampler in Set(runs.flatMap(\.frechetDistances.keys)).sorted() {
            lines.append(line("Frechet distance (\(sampler))", { $0.frechetDistances[sampler] }))
        }
        return lines.compactMap { $0 }.map { (figure: $0.0, values: $0.1) }
    }

    /// The table printed by `vae compare`: a header of run names, the differing settings, then
    /// the final figures, in aligned columns.
    public var table: String {
        let header = ["run"] + runs.map(\.name)
        let settings = differingSettings.map { [$0.setting] + $0.values }
        let figures = finalFigures.map { [$0.figure] + $0.values }
        let all = [header] + settings + figures
        let widths = (0..<header.count).map { column in all.map { $0[column].count }.max()! }
        func render(_ row: [String]) -> String {
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines = [render(header)]
        lines.append(settings.isEmpty ? "(the runs' settings are the same)" : "settings that differ:")
        lines += settings.map(render)
        lines.append("final figures:")
        lines += figures.map(render)
        return lines.joined(separator: "\n")
    }

    /// The learning curves of every run: the test loss per epoch (the training loss dashed, in
    /// the run's colour) and, when some run has them, the validation losses (else the test KL).
    public func figure() -> PlotRow {
        let palette = Colour.qualitative
        var loss: [LinePlot.Series] = [], other: [LinePlot.Series] = []
        let validated = runs.contains { $0.rows.contains { $0.extra["validation_loss"] != nil } }
        for (index, run) in runs.enumerated() {
            let colour = palette[index % palette.count]
            loss.append(.init(name: "\(run.name) test", points: run.rows.map { (Double($0.epoch), $0.testLoss) }, colour: colour))
            loss.append(.init(name: "\(run.name) train", points: run.rows.map { (Double($0.epoch), $0.trainLoss) }, colour: colour, dashed: true))
            if validated {
                let points = run.rows.compactMap { row in row.extra["validation_loss"].map { (Double(row.epoch), $0) } }
                if !points.isEmpty { other.append(.init(name: run.name, points: points, colour: colour)) }
            } else {
                other.append(.init(name: run.name, points: run.rows.map { (Double($0.epoch), $0.testKL) }, colour: colour))
            }
        }
        return PlotRow([
            LinePlot(title: "loss per image (test solid, train dashed)", xLabel: "epoch", yLabel: "nats", series: loss, integerX: true),
            LinePlot(title: validated ? "validation loss" : "test KL", xLabel: "epoch", yLabel: "nats", series: other, integerX: true),
        ])
    }

    static func jsonObject(_ value: some Encodable) -> Any {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value), let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
        return object
    }

    /// Dotted paths to every leaf of a JSON object; arrays and empty objects are leaves.
    static func flatten(_ object: Any, prefix: String = "") -> [String: String] {
        if let dictionary = object as? [String: Any], !dictionary.isEmpty {
            var result: [String: String] = [:]
            for (key, value) in dictionary { result.merge(flatten(value, prefix: prefix.isEmpty ? key : prefix + "." + key)) { first, _ in first } }
            return result
        }
        let text: String
        if let string = object as? String { text = string }
        else if let integer = object as? Int { text = String(integer) }
        else if let number = object as? Double { text = "\(number)" }
        else if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]) {
            text = String(decoding: data, as: UTF8.self)
        } else { text = "\(object)" }
        return [prefix: text]
    }
}
