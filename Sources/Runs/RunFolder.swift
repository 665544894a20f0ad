import Datasets
import Foundation
import Persistence
import SafeTensors
import VAE

/// What a run folder records about how it was made (`config.json`).
public struct RunRecord: Codable, Equatable, Sendable {
    public var tool = "vae"
    public var version = ToolVersion.current
    public var configuration: TrainingConfiguration
    /// The folder the dataset was read from, and the SHA-256 of each of its four files.
    public var datasetFolder: String
    public var datasetSHA256: [String: String]
    public var blasThreads: Int
    /// The dataset's class names by label (empty for an unlabelled one; nil in records of earlier versions).
    public var classNames: [String]?

    public init(configuration: TrainingConfiguration, datasetFolder: String, datasetSHA256: [String: String], blasThreads: Int,
                classNames: [String]? = nil) {
        self.configuration = configuration
        self.datasetFolder = datasetFolder
        self.datasetSHA256 = datasetSHA256
        self.blasThreads = blasThreads
        self.classNames = classNames
    }
}

/// A training run's folder and the names of its files:
///
///     config.json                 the resolved configuration, seed, dataset checksums, version
///     metrics.csv                 one line per epoch (see `MetricsRow`)
///     model.safetensors           the weights (PyTorch names for one hidden layer)
///     checkpoint.safetensors      weights + optimizer state + progress, for --resume
///     reconstructions/epoch-N.png 8 test digits (top) above their reconstructions (z = μ)
///     learning-curves.png/.svg    loss per epoch (train, test) and its two terms
public struct RunFolder: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    public var configuration: URL { url.appendingPathComponent("config.json") }
    public var metrics: URL { url.appendingPathComponent("metrics.csv") }
    public var model: URL { url.appendingPathComponent("model.safetensors") }
    public var checkpoint: URL { url.appendingPathComponent("checkpoint.safetensors") }
    public var reconstructions: URL { url.appendingPathComponent("reconstructions") }
    public var learningCurves: URL { url.appendingPathComponent("learning-curves.png") }
    public var learningCurvesSVG: URL { url.appendingPathComponent("learning-curves.svg") }

    public func reconstruction(epoch: Int) -> URL {
        reconstructions.appendingPathComponent(String(format: "epoch-%03d.png", epoch))
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: url.path) }
    public var holdsRun: Bool {
        FileManager.default.fileExists(atPath: checkpoint.path) || FileManager.default.fileExists(atPath: configuration.path)
    }

    public func create() throws(RunError) {
        do {
            try FileManager.default.createDirectory(at: reconstructions, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    public func writeRecord(_ record: RunRecord) throws(RunError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try writeAtomically(try encoder.encode(record), to: configuration)
        } catch {
            throw .cannotWrite(path: configuration.path, reason: error.localizedDescription)
        }
    }

    public func readRecord() throws(RunError) -> RunRecord {
        guard let data = FileManager.default.contents(atPath: configuration.path) else {
            throw .notARun(path: url.path, reason: "it has no config.json")
        }
        do {
            return try JSONDecoder().decode(RunRecord.self, from: data)
        } catch {
            if let legacy = try? JSONDecoder().decode(LegacyAffineRecord.self, from: data) { return legacy.record }
            throw .invalidFile(path: configuration.path, reason: "\(error)")
        }
    }

    public func readMetrics() throws(RunError) -> [MetricsRow] {
        guard let data = FileManager.default.contents(atPath: metrics.path) else { return [] }
        guard let rows = MetricsTable.decode(String(decoding: data, as: UTF8.self)) else {
            throw .invalidFile(path: metrics.path, reason: "expected the header '\(MetricsRow.header)' (and the model's own columns) and one numeric field per column on every line")
        }
        return rows
    }
}

/// A run folder could not be used.
public enum RunError: Error, LocalizedError, Equatable {
    case notARun(path: String, reason: String)
    case notFound(path: String, expected: String)
    case alreadyARun(path: String)
    case invalidFile(path: String, reason: String)
    case invalidConfiguration(String)
    case cannotWrite(path: String, reason: String)
    case dataset(String)
    case checkpoint(String)
    case nonFiniteLoss(String, keptCheckpoint: String?)

    public var errorDescription: String? {
        switch self {
        case let .notARun(path, reason):
            "\(path) is not a run folder of `vae train`: \(reason)"
        case let .notFound(path, expected):
            "\(path) does not exist (expected \(expected))"
        case let .alreadyARun(path):
            "\(path) already holds a training run; resume it, or choose another run folder (nothing was overwritten)"
        case let .invalidFile(path, reason):
            "\(path) is not valid: \(reason)"
        case let .invalidConfiguration(problem):
            "invalid settings: \(problem)"
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason)"
        case let .dataset(message), let .checkpoint(message):
            message
        case let .nonFiniteLoss(message, kept):
            message + (kept.map { "; the last good checkpoint is kept at \($0)" } ?? "; no checkpoint had been written yet")
        }
    }
}

/// The config.json of a design-B run written before there was one run format (version 0.x,
/// `"kind": "affine"` with `affineConfiguration`): read as today's record, so its model loads
/// for `vae eval` and the latent tools. Its checkpoint kept only finished epochs in another
/// form, so it cannot be resumed (the resume says so).
struct LegacyAffineRecord: Decodable {
    struct Configuration: Decodable {
        var preset: String, dataset: String, model: AffineModelConfiguration, learningRate: Float, batchSize: Int, epochs: Int, seed: UInt64
        var validationFraction: Double, classifierWeight: Float, klWeight: Float?
    }
    var kind: String
    var affineConfiguration: Configuration
    var datasetFolder: String
    var datasetSHA256: [String: String]
    var blasThreads: Int

    var record: RunRecord {
        let old = affineConfiguration
        var model = old.model
        model.classifierWeight = old.classifierWeight
        var configuration = TrainingConfiguration.affine(name: old.preset, model: model, batchSize: old.batchSize, epochs: old.epochs,
                                                         klWeight: old.klWeight ?? 5 / Float(model.latentSize * old.batchSize),
                                                         learningRate: old.learningRate, seed: old.seed)
        configuration.dataset = old.dataset
        configuration.validationShare = old.validationFraction
        return RunRecord(configuration: configuration, datasetFolder: datasetFolder, datasetSHA256: datasetSHA256, blasThreads: blasThreads)
    }
}
