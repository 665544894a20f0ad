import Foundation
import NN
import Optimizers
import SafeTensors

/// The files a run keeps: the model alone (`model.safetensors`, loadable in PyTorch) and the
/// training checkpoint (`checkpoint.safetensors`: the model, the optimizer's state as
/// `optimizer.<name>` tensors, and in the metadata the training configuration and progress).
public enum TrainingCheckpoint {
    public static let formatKey = "format"
    public static let formatValue = "vae-toolkit/1"

    /// The model's weights with its kind and architecture in the metadata (`model_specification`;
    /// an MLP also keeps `model_configuration`, as files of earlier versions had).
    public static func modelFile(_ model: any VariationalModel, extra: [String: String] = [:]) -> SafeTensorsFile {
        var metadata = extra
        metadata[formatKey] = formatValue
        metadata["model_specification"] = encodeJSON(model.specification)
        if case let .mlp(configuration) = model.specification { metadata["model_configuration"] = encodeJSON(configuration) }
        return model.stateDictionary(metadata: metadata)
    }

    /// The whole training state.
    public static func checkpointFile(_ trainer: Trainer) -> SafeTensorsFile {
        var file = modelFile(trainer.model)
        let state = trainer.optimizer.state
        for (name, values) in state.buffers {
            file.tensors["optimizer." + name] = .init(shape: [values.count], values: values)
        }
        file.metadata["optimizer_step"] = String(state.step)
        file.metadata["training_configuration"] = encodeJSON(trainer.configuration)
        file.metadata["training_progress"] = encodeJSON(trainer.progress)
        return file
    }

    /// The training configuration saved in a checkpoint, or nil when it has none.
    public static func configuration(in file: SafeTensorsFile) -> TrainingConfiguration? {
        file.metadata["training_configuration"].flatMap { decodeJSON(TrainingConfiguration.self, $0) }
    }

    /// The kind and architecture saved with a model file (also as written by earlier versions:
    /// `model_configuration` for an MLP, `affine_configuration` for design B), or nil when it has
    /// none (a file made elsewhere).
    public static func modelSpecification(in file: SafeTensorsFile) -> ModelSpecification? {
        if let text = file.metadata["model_specification"] { return decodeJSON(ModelSpecification.self, text) }
        if let text = file.metadata["model_configuration"] { return decodeJSON(ModelConfiguration.self, text).map { .mlp($0) } }
        if let text = file.metadata["affine_configuration"] { return decodeJSON(AffineModelConfiguration.self, text).map { .affine($0) } }
        return nil
    }

    /// Loads a checkpoint into a trainer built from the same configuration.
    public static func restore(_ trainer: Trainer, from file: SafeTensorsFile, fileName: String) throws(CheckpointError) {
        guard let progressText = file.metadata["training_progress"],
              let progress = decodeJSON(TrainingProgress.self, progressText),
              let step = file.metadata["optimizer_step"].flatMap(Int.init) else {
            if file.metadata["affine_configuration"] != nil && file.metadata["generator"] != nil {
                throw .incompatible(file: fileName, reason: "it is a design-B checkpoint of an earlier version, which kept only finished epochs in another form; this version cannot continue it (its model still loads for evaluation and pictures; start a new run to train further)")
            }
            throw .notACheckpoint(file: fileName)
        }
        do {
            try trainer.model.load(file, fileName: fileName)
        } catch {
            throw .incompatible(file: fileName, reason: error.localizedDescription)
        }
        var buffers: [String: [Float]] = [:]
        for (key, entry) in file.tensors where key.hasPrefix("optimizer.") {
            buffers[String(key.dropFirst("optimizer.".count))] = entry.values
        }
        do {
            try trainer.restore(progress: progress, optimizerState: OptimizerState(step: step, buffers: buffers))
        } catch {
            throw .incompatible(file: fileName, reason: error.description)
        }
    }

    static func encodeJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// A checkpoint could not be used.
public enum CheckpointError: Error, LocalizedError, Equatable {
    case notACheckpoint(file: String)
    case incompatible(file: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .notACheckpoint(file):
            "\(file) is not a training checkpoint of this tool (its metadata has no training_progress/optimizer_step). Hint: resuming takes a run folder written by training."
        case let .incompatible(file, reason):
            "\(file) does not fit this run: \(reason)"
        }
    }
}
