import Datasets
import Foundation
import SafeTensors
import TensorCore
import VAE

/// A trained model found from what a person points the tool at: a run folder written by
/// `vae train` (its configuration and `model.safetensors`), a model file written by this tool
/// (its architecture in the metadata), or a file made elsewhere with PyTorch's example names
/// (layer sizes read off the tensor shapes, the rest from a preset).
public struct LoadedModel {
    public let model: VariationalAutoencoder
    /// The run's settings (dataset, binarisation, seed, ...); for a bare model file, the preset's
    /// with the file's architecture.
    public let configuration: TrainingConfiguration
    public let modelFile: URL
    /// The run folder, when the model came from one.
    public let run: RunFolder?
    /// The file's metadata (for example the epoch it was written after).
    public let metadata: [String: String]

    /// Loads the model at `path`. `preset` supplies what a foreign file cannot carry.
    public static func load(path: String, preset: TrainingConfiguration) throws(RunError) -> LoadedModel {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw .notFound(path: url.path, expected: "a run folder written by `vae train` or a .safetensors model file")
        }
        var configuration = preset
        let run: RunFolder? = isFolder.boolValue ? RunFolder(url) : nil
        if let run { configuration = try run.readRecord().configuration }
        let modelURL = run?.model ?? url
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: modelURL) } catch {
            throw .invalidFile(path: modelURL.path, reason: error.localizedDescription)
        }
        if run == nil {
            if let saved = TrainingCheckpoint.configuration(in: file) {
                configuration = saved
            } else if let model = TrainingCheckpoint.modelConfiguration(in: file) {
                configuration.model = model
            } else if let model = ModelConfiguration.inferred(from: file, base: configuration.model) {
                configuration.model = model
            } else {
                throw .invalidFile(path: modelURL.path, reason: "it holds neither this tool's names nor PyTorch's example names (fc1, fc21, fc22, fc3, fc4); its tensors are: \(file.tensors.keys.sorted().joined(separator: ", "))")
            }
        }
        var generator = RandomGenerator(seed: 0)
        let model = VariationalAutoencoder(configuration.model, using: &generator)
        do { try model.load(file, fileName: modelURL.path) } catch {
            throw .invalidFile(path: modelURL.path, reason: "it does not fit the \(configuration.model.architectureName) architecture\(run.map { " recorded in \($0.configuration.path)" } ?? ""): \(error.localizedDescription)")
        }
        return LoadedModel(model: model, configuration: configuration, modelFile: modelURL, run: run, metadata: file.metadata)
    }

    /// The epoch the model file was written after, when it says.
    public var epoch: Int? { metadata["epoch"].flatMap(Int.init) }

    /// A split of the run's dataset (or `dataset` instead) as the model saw it: with the run's
    /// fixed binarisation applied (see `Trainer.testImages`); checked to fit the model's input.
    public func images(_ split: DatasetSplit, dataset: String? = nil, catalog: DatasetCatalog) throws(RunError) -> ImageDataset {
        let nameText = dataset ?? configuration.dataset
        guard let name = DatasetName(rawValue: nameText) else {
            throw .dataset("unknown dataset '\(nameText)'; datasets: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let raw: ImageDataset
        do { raw = try catalog.load(name, split: split) } catch { throw .dataset(error.localizedDescription) }
        guard raw.pixelsPerImage == configuration.model.inputSize else {
            throw .dataset("the model in \(modelFile.path) expects \(configuration.model.inputSize) pixels per image; \(name.rawValue) has \(raw.rows)x\(raw.columns) = \(raw.pixelsPerImage)")
        }
        return Trainer.testImages(raw, configuration: configuration)
    }

    /// Where a picture or table goes when no --out is given: inside the run folder, or beside a
    /// bare model file with the file's name as a prefix.
    public func defaultOutput(_ name: String) -> URL { Self.defaultOutput(name, run: run, modelFile: modelFile) }

    /// `name` inside `run`, or beside `modelFile` as "<file stem>-<name>".
    static func defaultOutput(_ name: String, run: RunFolder?, modelFile: URL) -> URL {
        if let run { return run.url.appendingPathComponent(name) }
        let stem = modelFile.deletingPathExtension().lastPathComponent
        return modelFile.deletingLastPathComponent().appendingPathComponent("\(stem)-\(name)")
    }

    /// The side of the square images the model was made for (28 for 784 inputs), or nil when
    /// the input size is not a square.
    public var imageSide: Int? {
        let side = Int(Double(configuration.model.inputSize).squareRoot().rounded())
        return side * side == configuration.model.inputSize ? side : nil
    }
}
