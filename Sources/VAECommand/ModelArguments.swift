import ArgumentParser
import Datasets
import Foundation
import LatentTools
import Persistence
import Runs
import TensorCore
import VAE
import VAEModels
import Visualization

/// The arguments every latent-space command shares: which model, where the data is, threads.
struct ModelArguments: ParsableArguments {
    @Argument(help: "A run folder written by `vae train`, or a .safetensors model file.") var run: String
    @Option(help: "Preset giving what a model file made elsewhere cannot carry (default pytorch-example).") var preset: String?
    @Option(help: "A folder holding the dataset's IDX files.") var dataDir: String?
    @Option(help: "A named dataset to take images from (default: the run's own, named or a folder).") var dataset: DatasetName?
    @Option(parsing: .unconditional, help: "OpenBLAS threads.") var blasThreads = 1

    func validate() throws {
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        if let preset, Preset.named(preset) == nil {
            throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
        }
    }

    /// The model (any kind) and an explorer for its images.
    func load() throws -> (LoadedModel, LatentExplorer) {
        BLAS.setThreadCount(blasThreads)
        let loaded: LoadedModel
        do { loaded = try LoadedModel.load(path: run, preset: Preset.named(preset ?? "pytorch-example")!.configuration) } catch {
            throw CommandFailure(error.localizedDescription)
        }
        return (loaded, try LatentExplorer(model: loaded.model))
    }

    /// Refuses a model of discrete codes (a VQ-VAE) for `command`, which moves through a
    /// continuous latent space.
    func refuseDiscreteCodes(_ loaded: LoadedModel, command: String) throws {
        guard loaded.model is any DiscreteLatentModel else { return }
        throw CommandFailure("`vae \(command)` moves through a continuous latent space; \(run) is a VQ-VAE, whose latent is a grid of discrete codes. For it: `vae reconstruct`, `vae encode` (the code indices), `vae sample` (from its PixelCNN prior, after `vae train-prior`), `vae eval` and `vae explore` (its code grid, cell by cell)")
    }

    /// `--label` checked against the model: a class 0..<K of a conditional model (needed when
    /// `required`), nothing for an unconditional one.
    func checkedLabel(_ label: Int?, for loaded: LoadedModel, required: Bool, option: String = "label", purpose: String = "") throws -> Int? {
        switch loaded.model.condition {
        case .none:
            if label != nil {
                throw CommandFailure("--\(option) applies to a conditional model (trained with --conditional); \(run) is unconditional")
            }
            return nil
        case let .classes(classes):
            let names = loaded.classNames.flatMap { $0.count == classes ? $0 : nil }
            let listing = names.map { " (" + $0.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ") + ")" } ?? ""
            guard let label else {
                if required { throw CommandFailure("\(run) is a conditional model: give --\(option) K with K in 0...\(classes - 1)\(listing)\(purpose)") }
                return nil
            }
            guard (0..<classes).contains(label) else {
                throw CommandFailure("--\(option) \(label) is out of range: the model is conditioned on \(classes) classes, 0...\(classes - 1)\(listing)")
            }
            return label
        }
    }

    /// The name of class `label` of a conditional model, for messages ("3", or "3 (Dress)").
    func className(_ label: Int, for loaded: LoadedModel) -> String {
        guard let names = loaded.classNames, label < names.count, names[label] != String(label) else { return String(label) }
        return "\(label) (\(names[label]))"
    }

    var catalog: DatasetCatalog { DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }) }

    /// A split of the dataset as the model saw it.
    func images(_ split: DatasetSplit, of loaded: LoadedModel) throws -> ImageDataset {
        let images: ImageDataset
        do { images = try loaded.images(split, dataset: dataset?.rawValue, catalog: catalog) } catch { throw CommandFailure(error.localizedDescription) }
        // Packed splits are large (dSprites' training split is all 737,280 images, 12 GB as floats).
        guard !images.isPacked || images.count <= 100_000 else {
            throw CommandFailure("the \(split.rawValue) split holds \(images.count) bit-packed images (\(images.count * images.shape.count * 4 / 1_000_000_000) GB as floats): use --split test (\(DSprites.testImageCount) of them), or `vae encode --dataset dsprites --count N`")
        }
        return images.expanded()
    }

    /// People's PNG or JPEG files converted to the model's images (see `LoadedModel.importPicture`:
    /// the MNIST framing for a model of a named digit-like dataset, the folder's transforms for a
    /// model of an image folder), each with a sentence saying how.
    func importPictures(_ paths: [String], for loaded: LoadedModel) throws -> [TransformedImage] {
        try paths.map { try importPicture($0, for: loaded, dataset: dataset) }
    }
}

/// A person's PNG or JPEG file converted to `loaded`'s input (see `LoadedModel.importPicture`).
func importPicture(_ path: String, for loaded: LoadedModel, dataset: DatasetName?) throws -> TransformedImage {
    do {
        let url = URL(fileURLWithPath: path)
        return try loaded.importPicture(readFile(url, maximumBytes: ImageFile.maximumFileBytes), path: path, dataset: dataset)
    } catch {
        throw CommandFailure(error.localizedDescription)
    }
}

/// Picks the images a command works on: test indices, or PNG files.
func selectImages(indices: [Int], from dataset: ImageDataset, split: DatasetSplit) throws -> [Float] {
    var pixels: [Float] = []
    for index in indices {
        guard (0..<dataset.count).contains(index) else {
            throw CommandFailure("index \(index) is out of range: the \(split.rawValue) split has \(dataset.count) images (0...\(dataset.count - 1))")
        }
        pixels += dataset.image(index)
    }
    return pixels
}

/// The labels of images `indices` of a labelled dataset, for a conditional model.
func labelsOf(_ indices: [Int], in dataset: ImageDataset, path: String) throws -> [Int] {
    guard dataset.isLabelled else { throw CommandFailure("\(path) is a conditional model, but its dataset's images have no labels to encode them with") }
    return indices.map { dataset.labels[$0] }
}

/// A comma-separated list of integers, e.g. "0,5,7".
func parseIntegers(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Int($0) }
    guard values.count == parts.count, !values.isEmpty else {
        throw ValidationError("--\(option) must be comma-separated whole numbers such as 0,5,7; got '\(text)'")
    }
    return values
}

/// Two comma-separated numbers low,high with low < high, e.g. "-3,3".
func parseRange(_ text: String, option: String) throws -> ClosedRange<Double> {
    let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let low = parts[0], let high = parts[1], low.isFinite, high.isFinite, low < high else {
        throw ValidationError("--\(option) must be two numbers low,high with low < high, such as -3,3; got '\(text)'")
    }
    return low...high
}

/// Checks latent dimension indices against the model.
func checkDimensions(_ dimensions: [Int], latentSize: Int, option: String) throws {
    for dimension in dimensions where !(0..<latentSize).contains(dimension) {
        throw CommandFailure("--\(option): dimension \(dimension) is out of range: the model's latent space has \(latentSize) dimensions (0...\(latentSize - 1))")
    }
}

/// The file to write: `--out` (its folder created if needed; its extension checked) or the default.
func outputFile(_ out: String?, default fallback: URL, extensions: [String]) throws -> URL {
    let url = out.map { URL(fileURLWithPath: $0) } ?? fallback
    guard extensions.contains(url.pathExtension.lowercased()) else {
        throw CommandFailure("\(url.path): the file name must end in .\(extensions.joined(separator: " or ."))")
    }
    do {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    } catch {
        throw CommandFailure("cannot create the folder \(url.deletingLastPathComponent().path): \(error.localizedDescription)")
    }
    return url
}

/// Writes a grid picture and says where.
func write(_ picture: Picture, to url: URL) throws {
    do { try picture.writePNG(to: url) } catch { throw CommandFailure(error.localizedDescription) }
    print("wrote \(url.path) (\(picture.width)x\(picture.height)\(picture.channels == 3 ? ", colour" : ""))")
}
