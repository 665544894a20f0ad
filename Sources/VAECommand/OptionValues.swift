import ArgumentParser
import Datasets
import Foundation
import LatentTools
import TensorCore
import NN
import VAE
import VAEModels

// The settings' enums as option values: `--activation elu` parses through their raw values, and
// `--help` lists the choices.
extension Activation: ExpressibleByArgument {}
extension Initializer: ExpressibleByArgument {}
extension VarianceHead: ExpressibleByArgument {}
extension HiddenUnit: ExpressibleByArgument {}
extension Likelihood.Name: ExpressibleByArgument {}
extension LearnedVariance: ExpressibleByArgument {}
extension PriorSettings.Kind: ExpressibleByArgument {}
extension PosteriorSettings.Kind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension LearningRateSchedule.Kind: ExpressibleByArgument {}
extension OutputBiasStart: ExpressibleByArgument {}
extension Binarization: ExpressibleByArgument {}
extension CodebookUpdate: ExpressibleByArgument {}
extension DatasetName: ExpressibleByArgument {}
extension ColourMode: ExpressibleByArgument {}
extension ObjectiveSettings.Kind: ExpressibleByArgument {}
extension TotalCorrelationEstimator: ExpressibleByArgument {}
extension DIPVariant: ExpressibleByArgument {}
extension DiscriminatorShuffle: ExpressibleByArgument {}
extension AffineForm: ExpressibleByArgument {}
extension DatasetSplit: ExpressibleByArgument {}
extension InterpolationPath: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

/// An image size given as N (square) or HxW, e.g. 32 or 48x64.
struct ImageSize: ExpressibleByArgument {
    let height: Int
    let width: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil && (1...4096).contains($0!) }) else { return nil }
        (height, width) = (parts[0]!, parts.count == 2 ? parts[1]! : parts[0]!)
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// A moving average's decay, or `none` to train without one (a preset's average switched off).
struct WeightAverageDecay: ExpressibleByArgument {
    /// The decay; nil for none.
    let decay: Double?

    init?(argument: String) {
        if argument == "none" { decay = nil; return }
        guard let value = Double(argument) else { return nil }
        decay = value
    }

    var description: String { decay.map { "\($0)" } ?? "none" }
}

/// Where the images come from: a dataset by name, or a folder of PNG and JPEG files.
struct DataOptions: ParsableArguments {
    @Option(help: "A dataset by name.") var dataset: DatasetName?
    @Option(help: "A folder holding the named dataset's IDX files.") var dataDir: String?
    @Option(help: ArgumentHelp("A folder of PNG and JPEG files to train on: one subfolder per class (or none: unlabelled), with train/ and test/ subfolders or a held-out share.", valueName: "folder"))
    var images: String?
    @Option(help: "Resize the folder's images to N (square) or HxW pixels (area-weighted resampling).") var imageSize: ImageSize?
    @Flag(help: "Crop each picture to its largest centred region of the target's aspect ratio before resizing.") var centreCrop = false
    @Option(help: ArgumentHelp("Read the folder's images in grey, colour, or auto: grey when every picture is grey (grey or palette-grey files, R = G = B), colour otherwise (default auto; the data line says which).", valueName: "colour"))
    var colour: ColourMode?
    @Option(parsing: .unconditional, help: "The share of the folder's images held out as the test split when it has no train/ and test/ subfolders (default 0.1).")
    var testShare: Double?
    @Option(parsing: .unconditional, help: "The seed of the held-out test split's draw (default: --seed). Fix it to compare training seeds on one test split.")
    var splitSeed: UInt64?
    @Flag(help: "Skip files that are not readable PNG or JPEG images (counted) instead of stopping.") var skipUnreadable = false
    @Flag(help: "Round the folder's values to 8-bit levels after resizing (as an image library writing 8-bit pixels does): needed by a discretised-logistic likelihood.")
    var quantize = false

    /// Refuses the folder options without --images. (A resumed run checks them against its
    /// record instead: see `contradictions(with:)`.)
    func refuseFolderOptionsWithoutAFolder() throws {
        if images == nil && (imageSize != nil || centreCrop || skipUnreadable || quantize || colour != nil || testShare != nil || splitSeed != nil) {
            throw ValidationError("--image-size, --centre-crop, --colour, --test-share, --split-seed, --skip-unreadable and --quantize apply to an image folder (--images)")
        }
    }

    func validate() throws {
        if images != nil && dataset != nil { throw ValidationError("give a dataset by name (--dataset) or an image folder (--images), not both") }
        if let testShare, !(testShare > 0 && testShare < 1) { throw ValidationError("--test-share must lie strictly between 0 and 1, got \(testShare)") }
    }

    /// The options given that contradict a run's recorded data (see `Train.contradictions`).
    func contradictions(with recorded: TrainingConfiguration) -> [Contradiction] {
        var found: [Contradiction] = []
        let folder = recorded.imageFolder
        let recordedData = folder.map { "the image folder \($0.path)" } ?? "the dataset \(recorded.dataset)"
        if let dataset, folder != nil || dataset.rawValue != recorded.dataset { found.append(.init("--dataset", dataset.rawValue, recordedData)) }
        if let images, URL(fileURLWithPath: images).standardizedFileURL.path != folder?.path {
            found.append(.init("--images", images, recordedData))
        }
        guard let folder else {
            if let option = [("--image-size", imageSize != nil), ("--centre-crop", centreCrop), ("--colour", colour != nil), ("--test-share", testShare != nil),
                             ("--split-seed", splitSeed != nil), ("--skip-unreadable", skipUnreadable), ("--quantize", quantize)].first(where: \.1)?.0 {
                found.append(.init(option, "given", recordedData))
            }
            return found
        }
        let size = { (height: Int?, width: Int?) in height.map { "\($0)x\(width!)" } ?? "the files' own size" }
        if let imageSize, imageSize.height != folder.height || imageSize.width != folder.width {
            found.append(.init("--image-size", size(imageSize.height, imageSize.width), size(folder.height, folder.width)))
        }
        if centreCrop && !folder.centreCrop { found.append(.init("--centre-crop", "on", "off")) }
        if let colour, colour != folder.colour { found.append(.init("--colour", colour.rawValue, folder.colour.rawValue)) }
        if let testShare, testShare != folder.testShare { found.append(.init("--test-share", "\(testShare)", "\(folder.testShare)")) }
        if let splitSeed, splitSeed != folder.splitSeed { found.append(.init("--split-seed", "\(splitSeed)", "\(folder.splitSeed)")) }
        if skipUnreadable && !folder.skipUnreadable { found.append(.init("--skip-unreadable", "on", "off")) }
        if quantize && !folder.quantize { found.append(.init("--quantize", "on", "off")) }
        return found
    }

    var catalog: DatasetCatalog { DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }) }

    /// The folder options, when an image folder is given.
    func folder(seed: UInt64) -> ImageFolderOptions? {
        images.map {
            ImageFolderOptions(path: URL(fileURLWithPath: $0).standardizedFileURL.path, height: imageSize?.height, width: imageSize?.width, centreCrop: centreCrop,
                               colour: colour ?? .auto, testShare: testShare ?? 0.1, splitSeed: splitSeed ?? seed, skipUnreadable: skipUnreadable, quantize: quantize)
        }
    }
}

/// An option given with --resume (or to a process of an mpirun job) whose value differs from the
/// run's record.
struct Contradiction: Equatable {
    /// The option, e.g. "--precision".
    let option: String
    /// The value given.
    let given: String
    /// The value the run recorded.
    let recorded: String

    init(_ option: String, _ given: String, _ recorded: String) { (self.option, self.given, self.recorded) = (option, given, recorded) }

    /// "--precision bf16 (the run recorded fp32)".
    var description: String { "\(option) \(given) (the run recorded \(recorded))" }
}
