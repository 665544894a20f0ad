import Datasets
import Foundation
import SafeTensors
import TensorCore
import VAE
import VAEModels

/// A trained model found from what a person points the tool at: a run folder written by
/// training (its configuration and `model.safetensors`), a model file written by this tool
/// (its architecture in the metadata), or a file made elsewhere with PyTorch's example names
/// (layer sizes read off the tensor shapes, the rest from a preset). Any model kind.
public struct LoadedModel {
    /// The model, with the loaded weights.
    public let model: any VariationalModel
    /// The run's settings (dataset, binarisation, seed, ...); for a bare model file, the preset's
    /// with the file's architecture.
    public let configuration: TrainingConfiguration
    /// The weights file read.
    public let modelFile: URL
    /// The run folder, when the model came from one.
    public let run: RunFolder?
    /// The file's metadata (for example the epoch it was written after).
    public let metadata: [String: String]
    /// The class names by label, as the run recorded them (nil for a bare model file or an
    /// older run).
    public var classNames: [String]? { try? run?.readRecord().classNames }

    /// Loads the model at `path`. `preset` supplies what a foreign file cannot carry.
    public static func load(path: String, preset: TrainingConfiguration) throws(RunError) -> LoadedModel {
        StandardModelKinds.register()
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw .notFound(path: url.path, expected: "a training run's folder or a .safetensors model file")
        }
        var configuration = preset
        let run: RunFolder? = isFolder.boolValue ? RunFolder(url) : nil
        if let run { configuration = try run.readRecord().configuration }
        let modelURL = run?.model ?? url
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: modelURL) } catch { throw .unreadableModel(error) }
        if run == nil {
            let saved: TrainingConfiguration?, specification: ModelSpecification?
            do {
                saved = try TrainingCheckpoint.configuration(in: file, fileName: modelURL.path)
                specification = try TrainingCheckpoint.modelSpecification(in: file, fileName: modelURL.path)
            } catch { throw .invalidFile(path: modelURL.path, reason: error.reason) }
            if let saved {
                configuration = saved
            } else if let model = specification {
                configuration.model = model
            } else if let base = configuration.model.architecture(as: MLPConfiguration.self), let model = MLPConfiguration.inferred(from: file, base: base) {
                configuration.model = .mlp(model)
            } else {
                throw .invalidFile(path: modelURL.path, reason: "it holds neither this tool's names nor PyTorch's example names (fc1, fc21, fc22, fc3, fc4); its tensors are: \(file.tensors.keys.sorted().joined(separator: ", "))")
            }
        }
        var generator = RandomGenerator(seed: 0)
        let model: any VariationalModel
        do { model = try configuration.model.makeModel(using: &generator) } catch {
            throw .invalidFile(path: modelURL.path, reason: "its recorded architecture is not usable: \(error.message)")
        }
        do { try model.load(file, fileName: modelURL.path) } catch {
            if case .nonFiniteValue = error { throw .unreadableModel(error) }
            throw .invalidFile(path: modelURL.path, reason: "it does not fit the \(configuration.model.architectureName) architecture\(run.map { " recorded in \($0.configuration.path)" } ?? ""): \(error.reason)")
        }
        return LoadedModel(model: model, configuration: configuration, modelFile: modelURL, run: run, metadata: file.metadata)
    }

    /// The epoch the model file was written after, when it says.
    public var epoch: Int? { metadata["epoch"].flatMap(Int.init) }

    /// A split of the run's dataset (or the named `dataset` instead) as the model saw it: with
    /// the run's fixed binarisation applied (see `Trainer.testImages`); checked to fit the model.
    public func images(_ split: DatasetSplit, dataset: String? = nil, catalog: DatasetCatalog) throws(RunError) -> ImageDataset {
        try imagesAndFolder(split, dataset: dataset, catalog: catalog).images
    }

    /// `images(...)` and the folder they were read from (for the console). With `binarised`
    /// false the images are the dataset's own values, without the run's binarisation.
    public func imagesAndFolder(_ split: DatasetSplit, dataset: String? = nil, catalog: DatasetCatalog,
                                binarised: Bool = true) throws(RunError) -> (images: ImageDataset, folder: String) {
        let data: LoadedDataset
        do {
            data = try catalog.loadSplits(dataset: dataset ?? configuration.dataset, folder: dataset == nil ? configuration.imageFolder : nil)
        } catch { throw .dataset(error.localizedDescription) }
        let raw = split == .train ? data.train : data.test
        guard raw.shape == model.imageShape else {
            throw .dataset("the model in \(modelFile.path) takes \(model.imageShape) images; the dataset in \(data.folder) has \(raw.shape)")
        }
        return (binarised ? Trainer.testImages(raw, configuration: configuration) : raw, data.folder)
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
}
