import Foundation
import NN
import Optimizers
import Persistence
import SafeTensors

/// The files a run keeps: the model alone (`model.safetensors`, loadable in PyTorch) and the
/// training checkpoint (`checkpoint.safetensors`: the model, the optimizer's state as
/// `optimizer.<name>` tensors, an objective's own state as `objective.<name>`, the weights'
/// moving average as `weight_average.<N>` (N the parameter's index), and in the metadata the
/// training configuration and progress).
public enum TrainingCheckpoint {
    /// The metadata key naming the file's format.
    public static let formatKey = "format"
    /// The format's name before its version number.
    public static let formatName = "vae-toolkit"
    /// The format version this version writes: 2 (open model kinds, likelihoods with parameters
    /// of their own). Version 1 files read as before.
    public static let formatVersion = 2
    /// The format this version writes, "vae-toolkit/2".
    public static var formatValue: String { "\(formatName)/\(formatVersion)" }

    /// Refuses a file of a format this version cannot read: a newer version of this tool's
    /// format, or another tool's format. A file without a format (made elsewhere, for example
    /// by PyTorch) passes.
    public static func checkFormat(_ file: SafeTensorsFile, fileName: String) throws(CheckpointError) {
        guard let format = file.metadata[formatKey] else { return }
        let parts = format.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, parts[0] == formatName, let version = Int(parts[1]), version >= 1 else {
            throw .unknownFormat(file: fileName, format: format)
        }
        guard version <= formatVersion else { throw .newerFormat(file: fileName, format: format) }
    }

    /// The model's weights with its kind and architecture in the metadata (`model_specification`;
    /// an MLP also keeps `model_configuration`, as files of earlier versions had).
    public static func modelFile(_ model: any VariationalModel, extra: [String: String] = [:]) -> SafeTensorsFile {
        var metadata = extra
        metadata[formatKey] = formatValue
        metadata["model_specification"] = encodeJSON(model.specification)
        let specification = model.specification
        if specification.kind == "mlp" { metadata["model_configuration"] = specification.architectureJSON }
        return model.stateDictionary(metadata: metadata)
    }

    /// The whole training state.
    public static func checkpointFile(_ trainer: Trainer) -> SafeTensorsFile {
        var file = modelFile(trainer.model)
        let state = trainer.optimizer.state
        for (name, values) in state.buffers {
            file.tensors["optimizer." + name] = .init(shape: [values.count], values: values)
        }
        for (name, values) in trainer.objective.state {
            file.tensors["objective." + name] = .init(shape: [values.count], values: values)
        }
        for (index, values) in (trainer.weightAverage?.averages ?? []).enumerated() {
            file.tensors["\(WeightAverage.stateName).\(index)"] = .init(shape: [values.count], values: values)
        }
        file.metadata["optimizer_step"] = String(state.step)
        file.metadata["training_configuration"] = encodeJSON(trainer.configuration)
        file.metadata["training_progress"] = encodeJSON(trainer.progress)
        return file
    }

    /// The training configuration saved in a checkpoint (nil when it has none), validated.
    public static func configuration(in file: SafeTensorsFile, fileName: String) throws(CheckpointError) -> TrainingConfiguration? {
        try checkFormat(file, fileName: fileName)
        guard let text = file.metadata["training_configuration"] else { return nil }
        let configuration = try decodeJSON(TrainingConfiguration.self, text, field: "training_configuration", fileName: fileName)
        if let problem = configuration.problems.first { throw .invalidMetadata(file: fileName, field: "training_configuration", reason: problem.message) }
        return configuration
    }

    /// The kind and architecture saved with a model file (also as written by earlier versions:
    /// `model_configuration` for an MLP, `affine_configuration` for the affine kind), validated; nil
    /// when it has none (a file made elsewhere).
    public static func modelSpecification(in file: SafeTensorsFile, fileName: String) throws(CheckpointError) -> ModelSpecification? {
        try checkFormat(file, fileName: fileName)
        let specification: ModelSpecification
        if let text = file.metadata["model_specification"] {
            specification = try decodeJSON(ModelSpecification.self, text, field: "model_specification", fileName: fileName)
        } else if let (field, kind) = [("model_configuration", "mlp"), ("affine_configuration", "affine")].first(where: { file.metadata[$0.0] != nil }) {
            // Files of earlier versions: a bare architecture under a kind's own key.
            guard let type = ModelKinds.named(kind) else {
                throw .invalidMetadata(file: fileName, field: field, reason: ModelKinds.unregisteredMessage(kind))
            }
            specification = ModelSpecification(existential: try decodeArchitecture(type, file.metadata[field]!, field: field, fileName: fileName))
        } else {
            return nil
        }
        if let problem = specification.problems.first { throw .invalidMetadata(file: fileName, field: "model_specification", reason: problem.message) }
        return specification
    }

    static func decodeArchitecture(_ type: any ModelArchitecture.Type, _ text: String, field: String, fileName: String) throws(CheckpointError) -> any ModelArchitecture {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            throw .invalidMetadata(file: fileName, field: field, reason: JSONDecoding.describe(error, data: Data(text.utf8)))
        }
    }

    /// Loads a checkpoint into a trainer built from the same configuration, after checking that
    /// it belongs to that configuration and that its progress is possible.
    public static func restore(_ trainer: Trainer, from file: SafeTensorsFile, fileName: String) throws(CheckpointError) {
        try checkFormat(file, fileName: fileName)
        guard let progressText = file.metadata["training_progress"], let stepText = file.metadata["optimizer_step"] else {
            if file.metadata["affine_configuration"] != nil && file.metadata["generator"] != nil {
                throw .incompatible(file: fileName, reason: "it is a design-B checkpoint of an earlier version, which kept only finished epochs in another form; this version cannot continue it (its model still loads for evaluation and pictures; start a new run to train further)")
            }
            throw .notACheckpoint(file: fileName)
        }
        let progress = try decodeJSON(TrainingProgress.self, progressText, field: "training_progress", fileName: fileName)
        guard let step = Int(stepText), step >= 0 else {
            throw .invalidMetadata(file: fileName, field: "optimizer_step", reason: "expected an integer >= 0, got '\(stepText)'")
        }
        if let saved = try configuration(in: file, fileName: fileName) {
            var mine = trainer.configuration, theirs = saved
            (mine.epochs, theirs.epochs) = (0, 0)  // a resume may raise the epoch count
            guard mine == theirs else {
                throw .incompatible(file: fileName, reason: "it was written by a run with other settings than the run folder's config.json records (was the folder written by two runs?)")
            }
        }
        if let saved = try modelSpecification(in: file, fileName: fileName), saved != trainer.configuration.model {
            throw .incompatible(file: fileName, reason: "its model is \(saved.architectureName) (\(saved.kind)); the run is \(trainer.configuration.model.architectureName)")
        }
        do {
            try trainer.model.load(file, fileName: fileName)
        } catch {
            throw .incompatible(file: fileName, reason: error.reason)
        }
        let buffers = try tensors(named: "optimizer.", in: file, fileName: fileName, holder: "the optimizer state")
        let objectiveState = try tensors(named: "objective.", in: file, fileName: fileName, holder: "the objective's state")
        do { try trainer.objective.restore(state: objectiveState) } catch {
            throw .invalidMetadata(file: fileName, field: "objective." + error.name, reason: error.problem)
        }
        let prefix = WeightAverage.stateName + "."
        var averages: [Int: [Float]] = [:]
        for (suffix, values) in try tensors(named: prefix, in: file, fileName: fileName, holder: nil) {  // WeightAverage.restore checks the values
            guard let index = Int(suffix), index >= 0, String(index) == suffix else {
                throw .invalidMetadata(file: fileName, field: prefix + suffix, reason: "expected \(prefix)N, N the parameter's index from 0")
            }
            averages[index] = values
        }
        if let missing = (0..<averages.count).first(where: { averages[$0] == nil }) {
            throw .invalidMetadata(file: fileName, field: "\(prefix)\(missing)", reason: "missing, while \(averages.count) averages are saved up to \(prefix)\(averages.keys.max()!)")
        }
        do {
            try trainer.restore(progress: progress, optimizerState: OptimizerState(step: step, buffers: buffers),
                                weightAverages: (0..<averages.count).map { averages[$0]! })
        } catch {
            let field = error.field == "optimizer" || error.field.hasPrefix(WeightAverage.stateName) ? error.field : "training_progress.\(error.field)"
            throw .invalidMetadata(file: fileName, field: field, reason: error.problem)
        }
    }

    /// The file's tensors whose names are `prefix` and a suffix, by suffix. `holder` names what
    /// they hold, and refuses a value that is not finite in its words; nil leaves the values to
    /// their reader.
    static func tensors(named prefix: String, in file: SafeTensorsFile, fileName: String, holder: String?) throws(CheckpointError) -> [String: [Float]] {
        var found: [String: [Float]] = [:]
        for (key, entry) in file.tensors where key.hasPrefix(prefix) {
            if let holder, let index = entry.values.firstIndex(where: { !$0.isFinite }) {
                throw .invalidMetadata(file: fileName, field: key, reason: "\(holder) holds \(entry.values[index]) at index \(index)")
            }
            found[String(key.dropFirst(prefix.count))] = entry.values
        }
        return found
    }

    static func encodeJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String, field: String, fileName: String) throws(CheckpointError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            throw .invalidMetadata(file: fileName, field: field, reason: JSONDecoding.describe(error, data: Data(text.utf8)))
        }
    }
}

/// A checkpoint could not be used.
public enum CheckpointError: Error, LocalizedError, Equatable {
    /// The file has no training state.
    case notACheckpoint(file: String)
    /// The file belongs to another run or model.
    case incompatible(file: String, reason: String)
    /// A metadata field does not hold what it must.
    case invalidMetadata(file: String, field: String, reason: String)
    /// The file was written by a newer version of this tool's format.
    case newerFormat(file: String, format: String)
    /// The file's format is not this tool's.
    case unknownFormat(file: String, format: String)

    /// The message without the file's name, for a caller that names the file itself.
    public var reason: String {
        switch self {
        case .notACheckpoint: "it is not a training checkpoint of this tool (its metadata has no training_progress/optimizer_step)"
        case let .incompatible(_, reason): reason
        case let .invalidMetadata(_, field, reason): "\(field): \(reason)"
        case let .newerFormat(_, format):
            "it was written by a newer version of the toolkit (format \(format)); this version (\(ToolVersion.current)) reads \(TrainingCheckpoint.formatName)/1 to /\(TrainingCheckpoint.formatVersion). Hint: update the toolkit to read it"
        case let .unknownFormat(_, format): "its format '\(format)' is not this tool's (\(TrainingCheckpoint.formatName)/N)"
        }
    }

    /// The file and what is wrong, with a hint where one helps.
    public var errorDescription: String? {
        switch self {
        case let .notACheckpoint(file):
            "\(file) is not a training checkpoint of this tool (its metadata has no training_progress/optimizer_step). Hint: resuming takes a run folder written by training."
        case let .incompatible(file, reason):
            "\(file) does not fit this run: \(reason)"
        case let .invalidMetadata(file, field, reason):
            "\(file) is damaged or was edited: \(field): \(reason)"
        case let .newerFormat(file, _):
            "\(file): \(reason)."
        case let .unknownFormat(file, format):
            "\(file) has the format '\(format)', which is not this tool's (\(TrainingCheckpoint.formatName)/N); nothing was read from it"
        }
    }
}
