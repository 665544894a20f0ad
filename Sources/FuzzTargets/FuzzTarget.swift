import CPNG
import CTurboJPEG
import Datasets
import Foundation
import Optimizers
import Runs
import SafeTensors
import TensorCore
import VAE
import VAEModels

/// The readers of untrusted input, each as one function of arbitrary bytes, for libFuzzer
/// (`scripts/fuzz.sh`) and for replaying saved inputs in the tests. A target must never
/// crash, hang or allocate without bound, whatever the bytes; a clear thrown error is the
/// expected answer to damaged input.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `IDXFile.decode` of image and label files (the header-declared length bound too).
    case idx
    /// `SafeTensorsFile.decode`, and loading the result into a small model.
    case safetensors
    /// `ImageFile.decode`, the one decoder (PNG through libpng, JPEG through libjpeg-turbo), and
    /// the import of a picture as a digit (`ImageTransform` with MNIST framing).
    case image
    /// An image folder's per-file path: decode, then composite, crop and resize to a target
    /// size taken from the first bytes; and the folder's decoded-image cache reader.
    case folderFile = "folder-file"
    /// A run folder's config.json (`RunFolder.decodeRecord`, with all its validation).
    case config
    /// A training checkpoint restored into a small trainer (metadata, progress, optimizer).
    case checkpoint
    /// A run folder's metrics.csv (`MetricsTable.decode`).
    case metrics

    /// Feeds `data` to the target and says whether it was accepted as valid input; errors
    /// thrown for bad input are the expected outcome.
    @discardableResult
    public func run(_ data: Data) -> Bool {
        StandardModelKinds.register()  // the files name the toolkit's kinds, as the tool reads them
        switch self {
        case .idx:
            let bytes = [UInt8](data)
            let images = try? IDXFile.decode(bytes, file: "fuzz", expectedMagic: IDXFile.imageMagic)
            let labels = try? IDXFile.decode(bytes, file: "fuzz", expectedMagic: IDXFile.labelMagic)
            return images != nil || labels != nil
        case .safetensors:
            guard let file = try? SafeTensorsFile.decode(data, file: "fuzz") else { return false }
            let loaded = (try? Self.small.freshTrainer().model.load(file, fileName: "fuzz")) != nil
            _ = try? TrainingCheckpoint.modelSpecification(in: file, fileName: "fuzz")
            return loaded
        case .image:
            // The one decoder, then the digit framing every imported picture may get.
            guard let picture = try? ImageFile.decode(data, path: "fuzz") else { return false }
            if picture.width * picture.height <= 1 << 16 {
                let digit = ImageTransform(height: 28, width: 28, colour: .grey, digitBox: 20).apply(picture)
                precondition(digit.values.count == 28 * 28 && digit.values.allSatisfy { $0 >= 0 && $0 <= 1 }, "an imported digit left [0, 1]")
            }
            return true
        case .folderFile:
            guard data.count >= 2 else { return false }
            let side = 1 + Int(data[data.startIndex]) % 48
            let flags = data[data.startIndex + 1]
            let rest = Data(data.dropFirst(2))
            if flags & 0x80 != 0 { return ImageFolder.cachedShape(bytes: rest, entryCount: Int(flags & 0x7F)) != nil }
            guard let picture = try? ImageFile.decode(rest, path: "fuzz") else { return false }
            let sized = flags & 1 != 0
            let transform = ImageTransform(height: sized ? side : nil, width: sized ? side + Int(flags >> 4) : nil, centreCrop: flags & 2 != 0,
                                           colour: [ColourMode.colour, .grey, .auto][Int(flags >> 2) % 3], quantize: flags & 8 != 0)
            // A picture of its own size is only resampled when it is small (the fuzzer's time).
            guard sized || picture.width * picture.height <= 1 << 16 else { return false }
            let image = transform.apply(picture)
            precondition(image.values.count == image.shape.count && image.shape == transform.shape(of: picture)
                         && image.values.allSatisfy { $0 >= 0 && $0 <= 1 }, "a transformed picture left [0, 1] or its shape")
            return true
        case .config:
            return (try? RunFolder.decodeRecord(data, file: "fuzz/config.json")) != nil
        case .checkpoint:
            guard let file = try? SafeTensorsFile.decode(data, file: "fuzz") else { return false }
            return (try? TrainingCheckpoint.restore(Self.small.freshTrainer(), from: file, fileName: "fuzz")) != nil
        case .metrics:
            return (try? MetricsTable.decode(String(decoding: data, as: UTF8.self))) != nil
        }
    }

    // MARK: - Seeds

    /// Valid inputs to start from, by file name.
    public var seeds: [String: Data] {
        switch self {
        case .idx:
            let images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + [0, 255, 128, 7, 1, 2, 3, 4]
            let labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0, 3, 1, 7, 9]
            return ["images.idx": Data(images), "labels.idx": Data(labels)]
        case .safetensors:
            return ["model.safetensors": TrainingCheckpoint.modelFile(Self.small.trainer.model).encoded()]
        case .image:
            return ["grey.png": Self.png(width: 5, height: 3, channels: 1), "rgba.png": Self.png(width: 4, height: 4, channels: 4),
                    "colour.jpg": Self.jpeg(width: 8, height: 6, grey: false), "grey.jpg": Self.jpeg(width: 9, height: 5, grey: true)]
        case .folderFile:
            let cache = ImageFolder.cacheBytes(pixels: [0, 0.5, 1, 0.25, 0.75, 1, 0, 0], shape: .grey(height: 2, width: 2), kept: [0, 2],
                                               hashes: [String(repeating: "a", count: 64), String(repeating: "b", count: 64)])
            return ["resize.png": Data([7, 0x13]) + Self.png(width: 6, height: 5, channels: 4),
                    "crop-grey.jpg": Data([12, 0x07]) + Self.jpeg(width: 10, height: 7, grey: false),
                    "cache.safetensors": Data([0, 0x83]) + cache]
        case .config:
            let record = RunRecord(configuration: Self.small.configuration, datasetFolder: "/data/mnist", datasetSHA256: ["a": "b"], blasThreads: 1,
                                   classNames: ["0", "1"])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var convolutional = record
            convolutional.configuration = Preset.named("keras-conv")!.configuration
            return ["config.json": try! encoder.encode(record), "conv-config.json": try! encoder.encode(convolutional)]
        case .checkpoint:
            let trainer = Self.small.freshTrainer()
            let start = TrainingCheckpoint.checkpointFile(trainer).encoded()
            _ = try? trainer.trainEpoch()
            _ = try? trainer.trainEpoch(shouldStop: { trainer.progress.batchesDone >= 1 })
            return ["start.safetensors": start, "mid-epoch.safetensors": TrainingCheckpoint.checkpointFile(trainer).encoded()]
        case .metrics:
            let row = MetricsRow(epoch: 1, trainLoss: 2, testLoss: 3, testLossMean: 2.5, reconstruction: 1.5, kl: 0.5, testReconstruction: 2,
                                 testKL: 1, seconds: 1, imagesPerSecond: 100, evaluationSeconds: 0.1, extra: ["validation_accuracy": 0.5])
            var second = row
            second.epoch = 2
            return ["metrics.csv": Data(MetricsTable.encode([row, second]).utf8)]
        }
    }

    /// A tiny MLP run (4x4 grey images, 10 of them) for the model and checkpoint targets.
    struct SmallRun: @unchecked Sendable {
        let configuration: TrainingConfiguration
        let images: ImageDataset
        let trainer: Trainer

        init() {
            var configuration = Preset.named("pytorch-example")!.configuration
            configuration.model = .mlp(MLPConfiguration(imageShape: .grey(height: 4, width: 4), hiddenSizes: [3], latentSize: 2))
            configuration.batchSize = 4
            configuration.epochs = 3
            self.configuration = configuration
            images = ImageDataset(pixels: (0..<160).map { Float($0 % 7) / 6 }, labels: (0..<10).map { $0 % 2 }, height: 4, width: 4)
            trainer = Self.makeTrainer(configuration, images)
        }

        func freshTrainer() -> Trainer { Self.makeTrainer(configuration, images) }

        /// The fixed configuration and images above are valid: a failure is a bug in this file.
        static func makeTrainer(_ configuration: TrainingConfiguration, _ images: ImageDataset) -> Trainer {
            do { return try Trainer(configuration: configuration, train: images, test: images) } catch { preconditionFailure("\(error)") }
        }
    }

    static let small = SmallRun()

    static func png(width: Int, height: Int, channels: Int) -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 1 ? 0 : UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        let pixels = (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: $0 * 37) }
        var size = 0
        _ = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, Int32(width * channels), nil) }
        var bytes = [UInt8](repeating: 0, count: size)
        _ = pixels.withUnsafeBytes { source in
            bytes.withUnsafeMutableBytes { png_image_write_to_memory(&image, $0.baseAddress, &size, 0, source.baseAddress, Int32(width * channels), nil) }
        }
        return Data(bytes.prefix(size))
    }

    static func jpeg(width: Int, height: Int, grey: Bool) -> Data {
        guard let handle = tjInitCompress() else { return Data() }
        defer { tjDestroy(handle) }
        let pixels = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 * 11) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &output, &size,
                        grey ? Int32(TJSAMP_GRAY.rawValue) : Int32(TJSAMP_420.rawValue), 90, 0)
        }
        defer { tjFree(output) }
        guard status == 0, let output else { return Data() }
        return Data(bytes: output, count: Int(size))
    }
}
