import Datasets
import Foundation
import Persistence
#if canImport(Glibc)
import Glibc
#endif
import SafeTensors
import TensorCore
import VAE
import VAEModels

/// What a run folder records about how it was made (`config.json`).
public struct RunRecord: Codable, Equatable, Sendable {
    /// The program that made the run.
    public var tool = "vae"
    /// Its version.
    public var version = ToolVersion.current
    /// The resolved training configuration (model, data, optimizer, seed).
    public var configuration: TrainingConfiguration
    /// The folder the dataset was read from, and the SHA-256 of each of its four files.
    public var datasetFolder: String
    /// The SHA-256 of each dataset file, by name.
    public var datasetSHA256: [String: String]
    /// The threads the matrix libraries used.
    public var blasThreads: Int
    /// The dataset's class names by label (empty for an unlabelled one; nil in records of earlier versions).
    public var classNames: [String]?
    /// The library that ran the fp32 matrix products when the run started ("OpenBLAS" or
    /// "oneDNN", see `MatrixLibrary`; nil in records of earlier versions, which used OpenBLAS).
    /// The two round differently, so a run reproduces to the digit only with the same one.
    public var fp32MatrixLibrary: String?
    /// How the objective estimates each latent group's KL ("closed form" or "Monte Carlo"), by
    /// group name (nil in records of earlier versions, whose every KL was in closed form).
    public var klEstimators: [String: String]?

    /// A record of a run starting now, with this process's fp32 matrix library.
    public init(configuration: TrainingConfiguration, datasetFolder: String, datasetSHA256: [String: String], blasThreads: Int,
                classNames: [String]? = nil) {
        self.configuration = configuration
        self.datasetFolder = datasetFolder
        self.datasetSHA256 = datasetSHA256
        self.blasThreads = blasThreads
        self.classNames = classNames
        self.fp32MatrixLibrary = MatrixLibrary.fp32.rawValue
    }
}

/// A training run's folder and the names of its files:
///
///     config.json                 the resolved configuration, seed, dataset checksums, version
///     metrics.csv                 one line per epoch (see `MetricsRow`)
///     model.safetensors           the weights (PyTorch names for one hidden layer)
///     checkpoint.safetensors      weights + optimizer state + progress, for --resume
///     best.safetensors            with a validation share: the weights of the epoch of lowest
///                                 validation loss (its epoch and loss in the metadata)
///     reconstructions/epoch-N.png 8 test digits (top) above their reconstructions (z = μ)
///     learning-curves.png/.svg    loss per epoch (train, test) and its two terms
///     .lock                       held (flock) by the one process writing the folder; its id
public struct RunFolder: Sendable {
    /// The folder.
    public let url: URL

    /// The run folder at `url` (nothing is read or created).
    public init(_ url: URL) { self.url = url }

    /// `config.json`.
    public var configuration: URL { url.appendingPathComponent("config.json") }
    /// `metrics.csv`.
    public var metrics: URL { url.appendingPathComponent("metrics.csv") }
    /// `model.safetensors`.
    public var model: URL { url.appendingPathComponent("model.safetensors") }
    /// `checkpoint.safetensors`.
    public var checkpoint: URL { url.appendingPathComponent("checkpoint.safetensors") }
    /// `best.safetensors`.
    public var best: URL { url.appendingPathComponent("best.safetensors") }
    /// `reconstructions/`.
    public var reconstructions: URL { url.appendingPathComponent("reconstructions") }
    /// `learning-curves.png`.
    public var learningCurves: URL { url.appendingPathComponent("learning-curves.png") }
    /// `learning-curves.svg`.
    public var learningCurvesSVG: URL { url.appendingPathComponent("learning-curves.svg") }

    /// `reconstructions/epoch-NNN.png` for `epoch`.
    public func reconstruction(epoch: Int) -> URL {
        reconstructions.appendingPathComponent(String(format: "epoch-%03d.png", epoch))
    }

    /// Whether the folder exists.
    public var exists: Bool { FileManager.default.fileExists(atPath: url.path) }

    /// What a folder holds, as far as training is concerned.
    public enum State: Equatable, Sendable {
        /// No such folder yet.
        case absent
        /// A folder with nothing in it (but perhaps a lock or a dead writer's temporary files).
        case empty
        /// A run with a checkpoint to resume from.
        case resumable
        /// A run that stopped before its first checkpoint (killed, disk full, NaN in epoch 1):
        /// it restarts from epoch 1 with its recorded settings.
        case restartable
        /// Files that are not a run of this tool (`example`: one of their names).
        case foreign(example: String)
    }

    /// The folder's state; throws when the path is not a folder, or another process holds
    /// the folder's lock (it is writing there: what the folder holds is not settled).
    /// `holdingLock`: this process holds the lock (so it is not asked about).
    public func state(holdingLock: Bool = false) throws(RunError) -> State {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { return .absent }
        guard isFolder.boolValue else { throw .notAFolder(path: url.path) }
        if !holdingLock, let holder = FolderLock.holder(of: url) { throw .inUse(path: url.path, process: holder) }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: url.path) } catch {
            throw .notARun(path: url.path, reason: "its contents cannot be listed (\(plainDescription(of: error)))")
        }
        let kept = names.filter { $0 != FolderLock.fileName && !isTemporaryFileName($0) }.sorted()
        if kept.isEmpty { return .empty }
        guard kept.contains(configuration.lastPathComponent) else { return .foreign(example: kept[0]) }
        return FileManager.default.fileExists(atPath: checkpoint.path) ? .resumable : .restartable
    }

    /// Takes the folder's lock (creating the folder), so that this process is its one writer.
    public func lock() throws(RunError) -> FolderLock {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue { throw .notAFolder(path: url.path) }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: url.path, reason: plainDescription(of: error))
        }
        do { return try FolderLock(url) } catch {
            if case let .inUse(_, process) = error { throw .inUse(path: url.path, process: process) }
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Creates the folder and its `reconstructions/` subfolder.
    /// - Throws: `RunError.cannotWrite` naming the folder.
    public func create() throws(RunError) {
        do {
            try FileManager.default.createDirectory(at: reconstructions, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: reconstructions.path, reason: plainDescription(of: error))
        }
    }

    /// Writes `config.json` atomically.
    /// - Throws: `RunError.cannotWrite` naming the file.
    public func writeRecord(_ record: RunRecord) throws(RunError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try writeAtomically(try encoder.encode(record), to: configuration)
        } catch {
            throw .cannotWrite(path: configuration.path, reason: plainDescription(of: error))
        }
    }

    /// The run's record, validated as strictly as the command line validates its options.
    public func readRecord() throws(RunError) -> RunRecord {
        guard FileManager.default.fileExists(atPath: configuration.path) else {
            throw .notARun(path: url.path, reason: "it has no config.json")
        }
        let data: Data
        do { data = try readFile(configuration, maximumBytes: 1 << 24) } catch { throw .invalidFile(path: configuration.path, reason: error.reason) }
        return try Self.decodeRecord(data, file: configuration.path)
    }

    /// Parses and validates a config.json's bytes; `file` names it in errors.
    public static func decodeRecord(_ data: Data, file: String) throws(RunError) -> RunRecord {
        StandardModelKinds.register()
        let record: RunRecord
        do {
            record = try JSONDecoder().decode(RunRecord.self, from: data)
        } catch {
            if let legacy = try? JSONDecoder().decode(LegacyAffineRecord.self, from: data) {
                record = legacy.record
            } else {
                throw .invalidFile(path: file, reason: JSONDecoding.describe(error, data: data))
            }
        }
        if let problem = record.configuration.problems.first { throw .invalidFile(path: file, reason: "configuration: \(problem.message)") }
        if let names = record.classNames, names.count > 256 {
            throw .invalidFile(path: file, reason: "classNames: at most 256 classes, got \(names.count)")
        }
        if let library = record.fp32MatrixLibrary, MatrixLibrary(rawValue: library) == nil {
            throw .invalidFile(path: file, reason: "fp32MatrixLibrary: expected \"OpenBLAS\" or \"oneDNN\", got \"\(library)\"")
        }
        guard record.blasThreads >= 1 && record.blasThreads <= 4096 else {
            throw .invalidFile(path: file, reason: "blasThreads: expected 1...4096, got \(record.blasThreads)")
        }
        return record
    }

    /// Reads and validates `metrics.csv`.
    /// - Throws: `RunError` naming the file and the line at fault.
    public func readMetrics() throws(RunError) -> [MetricsRow] {
        guard FileManager.default.fileExists(atPath: metrics.path) else { return [] }
        let data: Data
        do { data = try readFile(metrics, maximumBytes: 1 << 28) } catch { throw .invalidFile(path: metrics.path, reason: error.reason) }
        do { return try MetricsTable.decode(String(decoding: data, as: UTF8.self)) } catch {
            throw .invalidFile(path: metrics.path, reason: error.description)
        }
    }
}

/// A run folder could not be used.
public enum RunError: Error, LocalizedError, Equatable {
    case notARun(path: String, reason: String)
    case notFound(path: String, expected: String)
    case alreadyARun(path: String)
    case invalidFile(path: String, reason: String)
    case invalidConfiguration(ConfigurationProblem)
    case cannotWrite(path: String, reason: String)
    case notAFolder(path: String)
    case restartable(path: String)
    case unreadableModel(SafeTensorsError)
    case notEmpty(path: String, example: String)
    case inUse(path: String, process: Int32?)
    case dataset(String)
    /// The data do not fit the model's likelihood (values off the 8-bit levels), in `folder`.
    case unfitData(ConfigurationProblem, folder: String)
    case checkpoint(String)
    case nonFiniteLoss(NonFiniteLossError, keptCheckpoint: String?)

    /// The file or folder and what went wrong.
    public var errorDescription: String? {
        switch self {
        case let .notARun(path, reason):
            "\(path) is not a training run's folder: \(reason)"
        case let .notFound(path, expected):
            "\(path) does not exist (expected \(expected))"
        case let .alreadyARun(path):
            "\(path) already holds a training run; resume it, or choose another run folder (nothing was overwritten)"
        case let .invalidFile(path, reason):
            "\(path) is not valid: \(reason)"
        case let .invalidConfiguration(problem):
            "invalid settings: \(problem.message)"
        case let .cannotWrite(path, reason):
            "cannot write \(path): \(reason)"
        case let .unreadableModel(error):
            error.localizedDescription
        case let .restartable(path):
            "\(path) holds a run that stopped before its first checkpoint; resuming it restarts it from epoch 1 with its recorded settings, or choose another folder (nothing was overwritten)"
        case let .notEmpty(path, example):
            "\(path) is not empty and is not a training run's folder (it holds \(example) but no config.json); choose a new or empty folder (nothing was overwritten)"
        case let .notAFolder(path):
            "\(path) is a file, not a run folder"
        case let .inUse(path, process):
            "\(path) is in use by \(process.map { "process \($0)" } ?? "another process"), which is writing it; wait for it to finish or stop it first"
        case let .dataset(message), let .checkpoint(message):
            message
        case let .unfitData(problem, folder):
            "\(problem.message) (in \(folder))"
        case let .nonFiniteLoss(error, kept):
            (error.errorDescription ?? "") + (kept.map { "; the last good checkpoint is kept at \($0)" } ?? "; no checkpoint had been written yet")
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
