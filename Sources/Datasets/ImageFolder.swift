import Foundation
import Persistence
import SafeTensors

/// How a folder of PNG and JPEG files becomes a dataset. Every picture is decoded by `ImageFile`
/// and made an image by the folder's `ImageTransform` (composited on white, optionally centre
/// cropped, resized by area, grey or colour; values are level / 255). With colour `auto` (the
/// default), the folder is read in grey when every picture is grey, in colour otherwise.
///
/// Layout (see `ImageFolderListing`): `train/` and `test/` subfolders, or the folder itself with
/// a seeded held-out share as the test split; inside a split, one subfolder per class, or the
/// files directly. Every file must be a readable PNG or JPEG, or (`skipUnreadable`) is skipped
/// and counted.
public struct ImageFolderOptions: Codable, Equatable, Sendable {
    /// The folder to read.
    public var path: String
    /// The size to resize to; nil keeps the files' own size (then all must share it).
    public var height: Int?
    /// See `height`; both are set or neither.
    public var width: Int?
    /// Crop each picture to its largest centred region of the target's aspect ratio before
    /// resizing (otherwise it is squeezed).
    public var centreCrop: Bool
    /// Grey (one channel, by luminance), colour (three), or auto (grey when every picture is).
    public var colour: ColourMode
    /// The share of the images held out as the test split when there are no train/test subfolders.
    public var testShare: Double
    /// The seed of the held-out split's permutation.
    public var splitSeed: UInt64
    /// Skip (and count) files that cannot be decoded instead of failing on the first.
    public var skipUnreadable: Bool
    /// Round every value to the nearest 8-bit level k / 255 after the transforms, as an image
    /// library that resizes into 8-bit pixels does: what a likelihood over 8-bit levels (the
    /// discretised logistic) needs once a picture is resized, composited or made grey.
    public var quantize: Bool

    /// Options for reading the folder at `path`; see the properties for what each means.
    public init(path: String, height: Int? = nil, width: Int? = nil, centreCrop: Bool = false, colour: ColourMode = .auto,
                testShare: Double = 0.1, splitSeed: UInt64 = 1, skipUnreadable: Bool = false, quantize: Bool = false) {
        (self.path, self.height, self.width, self.centreCrop, self.colour) = (path, height, width, centreCrop, colour)
        (self.testShare, self.splitSeed, self.skipUnreadable, self.quantize) = (testShare, splitSeed, skipUnreadable, quantize)
    }

    enum CodingKeys: String, CodingKey { case path, height, width, centreCrop, colour, testShare, splitSeed, skipUnreadable, quantize }

    /// Reads the options; records written before `quantize` existed read it as false.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decode(String.self, forKey: .path)
        height = try c.decodeIfPresent(Int.self, forKey: .height)
        width = try c.decodeIfPresent(Int.self, forKey: .width)
        centreCrop = try c.decode(Bool.self, forKey: .centreCrop)
        colour = try c.decode(ColourMode.self, forKey: .colour)
        testShare = try c.decode(Double.self, forKey: .testShare)
        splitSeed = try c.decode(UInt64.self, forKey: .splitSeed)
        skipUnreadable = try c.decode(Bool.self, forKey: .skipUnreadable)
        quantize = try c.decodeIfPresent(Bool.self, forKey: .quantize) ?? false
    }

    /// Problems with the options themselves, one message each.
    public var problems: [String] {
        var found: [String] = []
        if (height == nil) != (width == nil) { found.append("the image size needs both a height and a width") }
        if let height, let width, !(1...4096).contains(height) || !(1...4096).contains(width) {
            found.append("the image size must be 1...4096 pixels each way, got \(height)x\(width)")
        }
        if !(testShare > 0 && testShare < 1) { found.append("the held-out test share must lie strictly between 0 and 1, got \(testShare)") }
        return found
    }

    /// The transform every picture goes through.
    public var transform: ImageTransform {
        ImageTransform(height: height, width: width, centreCrop: centreCrop, colour: colour, quantize: quantize)
    }

    /// E.g. "centre crop, resize to 32x32 (area), colour".
    public var transformSummary: String { transform.summary }
}

/// A folder dataset could not be read.
public struct ImageFolderError: Error, LocalizedError, Equatable {
    /// What was wrong, naming the file or folder.
    public let message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var errorDescription: String? { message }
}

/// Both splits of a dataset with what identifies it: where it was read from and the SHA-256 of
/// its files (for a folder: one hash over every file's relative path and content hash).
public struct LoadedDataset: Sendable {
    /// The training split.
    public let train: ImageDataset
    /// The test split.
    public let test: ImageDataset
    /// Where the data was read from.
    public let folder: String
    /// SHA-256 of the data's files by name (for a folder, one entry over all of its files).
    public let checksums: [String: String]
    /// A sentence on how it was read (files, skips, decoding speed or the cache), for the console.
    public let report: String
}

/// Reads an image folder (see `ImageFolderOptions`), decoding in parallel, and caches the decoded
/// result (see `ImageFolderCache`), so an unchanged folder is not decoded again.
public enum ImageFolder {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Where decoded folders are cached: $VAE_CACHE_DIR, else $XDG_CACHE_HOME/vae-toolkit, else ~/.cache/vae-toolkit.
    public static var defaultCacheFolder: URL {
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["VAE_CACHE_DIR"], !folder.isEmpty { return URL(fileURLWithPath: folder) }
        if let folder = environment["XDG_CACHE_HOME"], !folder.isEmpty { return URL(fileURLWithPath: folder).appendingPathComponent("vae-toolkit") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/vae-toolkit")
    }

    /// Reads the folder `options` names, from the cache when nothing changed, and splits it. The
    /// memory the images will take (N · C · H · W · 4 bytes) is checked against `availableBytes`
    /// after listing and before decoding (with no size stated, after the first picture).
    /// - Throws: `ImageFolderError` naming the file or folder at fault: a missing or empty folder, an
    /// unreadable image (unless skipped), images of different sizes with no size given, too few images
    /// for a test split, a dataset larger than the memory share.
    ///
    /// `otherBytes` gives the memory the rest of the run needs for images of a shape (the model
    /// fitted to it), held to the same share with the images.
    public static func load(_ options: ImageFolderOptions, cacheFolder: URL? = defaultCacheFolder,
                            availableBytes: Double = MemoryShare.availableBytes,
                            otherBytes: @Sendable (ImageShape) -> (bytes: Double, what: String)? = { _ in nil }) throws(ImageFolderError) -> LoadedDataset {
        if let problem = options.problems.first { throw ImageFolderError("\(options.path): \(problem)") }
        let root = URL(fileURLWithPath: options.path).standardizedFileURL
        let listing = try ImageFolderListing.list(root)
        let all = listing.all
        guard !all.isEmpty else { throw ImageFolderError("\(root.path) holds no image files") }
        if !options.skipUnreadable, let bad = all.first(where: { $0.problem != nil }) {
            throw ImageFolderError("\(bad.path) is not a readable image: \(bad.problem!) (skip such files with the option to skip unreadable images; nothing was written)")
        }
        let key = ImageFolderCache.key(options.transform, skipUnreadable: options.skipUnreadable, entries: all)
        let cacheFile = cacheFolder?.appendingPathComponent("folder-\(key).safetensors")
        let started = Date()
        let decoded: ImageFolderCache.Decoded
        var fromCache = false
        if let cacheFile, let cached = ImageFolderCache.read(cacheFile, entryCount: all.count) {
            decoded = cached
            fromCache = true
        } else {
            decoded = try decode(all, options: options, availableBytes: availableBytes, otherBytes: otherBytes)
            if let cacheFile { ImageFolderCache.write(decoded, to: cacheFile) }
        }
        let seconds = Date().timeIntervalSince(started)
        let shape = decoded.shape
        let labelled = all.first?.label != nil
        // Split the decoded images: by subfolder, or by a seeded permutation.
        var trainIndices: [Int] = [], testIndices: [Int] = []
        let kept = decoded.kept
        if listing.test != nil {
            for (position, index) in kept.enumerated() { if index < listing.train.count { trainIndices.append(position) } else { testIndices.append(position) } }
        } else {
            var order = Array(kept.indices)
            var state = options.splitSeed ^ 0x7E57_5EED
            for i in stride(from: order.count - 1, to: 0, by: -1) {  // Fisher-Yates over SplitMix64
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                order.swapAt(i, Int(z % UInt64(i + 1)))
            }
            let held = max(1, Int((Double(order.count) * options.testShare).rounded()))
            guard held < order.count else { throw ImageFolderError("\(root.path): \(order.count) readable images are too few to hold out a test share of \(options.testShare)") }
            testIndices = order[..<held].sorted()
            trainIndices = order[held...].sorted()
        }
        func dataset(_ positions: [Int]) -> ImageDataset {
            var pixels = [Float]()
            pixels.reserveCapacity(positions.count * shape.count)
            for position in positions { pixels += decoded.pixels[(position * shape.count)..<((position + 1) * shape.count)] }
            let labels = labelled ? positions.map { all[kept[$0]].label! } : []
            return ImageDataset(pixels: pixels, shape: shape, labels: labels, classNames: labelled ? listing.classNames : [])
        }
        let train = dataset(trainIndices), test = dataset(testIndices)
        guard train.count > 0, test.count > 0 else { throw ImageFolderError("\(root.path): the \(train.count == 0 ? "train" : "test") split has no readable images") }
        var hasher = SHA256()
        for (position, index) in kept.enumerated() { hasher.update(Array("\(all[index].relativePath)\t\(decoded.hashes[position])\n".utf8)) }
        let speed = fromCache ? "read from the cache in \(String(format: "%.2f", seconds)) s"
            : String(format: "decoded in %.2f s (%.0f images/s)", seconds, Double(all.count) / max(seconds, 1e-9))
        let skipped = decoded.skipped.isEmpty ? "" : "; skipped \(decoded.skipped.count) unreadable file\(decoded.skipped.count == 1 ? "" : "s") (first: \(decoded.skipped[0]))"
        var summary = options.transform
        summary.colour = ColourMode(channels: shape.channels)
        let colourNote = decoded.colourChoice.map { "; \($0)" } ?? ""
        let report = "\(root.path): \(kept.count) images of \(shape) (\(summary.summary)\(colourNote)), \(labelled ? "\(listing.classNames.count) classes" : "unlabelled"), \(train.count) train / \(test.count) test\(listing.test == nil ? " (seeded held-out share \(options.testShare))" : ""), \(speed)\(skipped)"
        return LoadedDataset(train: train, test: test, folder: root.path,
                             checksums: ["files": String(kept.count), "sha256": SHA256.hexDigits(hasher.finalize())], report: report)
    }

    // MARK: - Decoding

    /// What decoding one file gave: its SHA-256 and whether it is grey, a picture of another
    /// size than the first, or why it could not be read.
    enum Outcome {
        case decoded(hash: String, grey: Bool)
        case otherSize(ImageShape)
        case unreadable(String)
    }

    /// The images are held up to three times over at the peak: decoded, encoded for the cache,
    /// and copied into the train and test splits.
    static let peakCopies = 3.0

    static func decode(_ entries: [ImageFolderListing.Entry], options: ImageFolderOptions, availableBytes: Double,
                       otherBytes: (ImageShape) -> (bytes: Double, what: String)?) throws(ImageFolderError) -> ImageFolderCache.Decoded {
        // Auto colour decodes in colour and keeps one plane when every picture was grey
        // (a grey picture's three planes are equal, and equal to its grey reading).
        var decoding = options.transform
        if decoding.colour == .auto { decoding.colour = .colour }
        let transform = decoding
        let channels = transform.colour.channels
        let readable = entries.indices.filter { entries[$0].problem == nil }
        @Sendable func decodeOne(_ index: Int) -> Result<(TransformedImage, String, Bool), ImageFileError> {
            let entry = entries[index]
            let data: Data
            do { data = try readFile(URL(fileURLWithPath: entry.path), maximumBytes: ImageFile.maximumFileBytes) } catch {
                return .failure(ImageFileError(path: entry.path, reason: error.reason))
            }
            do {
                let image = try ImageFile.decode(data, path: entry.path)
                return .success((transform.apply(image), SHA256.hex(data), options.colour == .auto && image.isGrey))
            } catch { return .failure(error) }
        }
        @Sendable func refuse(_ error: ImageFileError) -> ImageFolderError {
            ImageFolderError(error.localizedDescription + " (skip such files with the option to skip unreadable images; nothing was written)")
        }
        // The image size: stated, or the first readable picture's.
        var first: (position: Int, image: TransformedImage, hash: String, grey: Bool)?
        let size: (height: Int, width: Int)
        if let height = options.height, let width = options.width {
            size = (height, width)
        } else {
            for (position, index) in readable.enumerated() {
                switch decodeOne(index) {
                case let .success((image, hash, grey)): first = (position, image, hash, grey)
                case let .failure(error): if !options.skipUnreadable { throw refuse(error) }
                }
                if first != nil { break }
            }
            guard let first else { throw ImageFolderError("\(options.path): none of its \(entries.count) files is a readable image") }
            size = (first.image.shape.height, first.image.shape.width)
        }
        let shape = ImageShape(channels: channels, height: size.height, width: size.width)
        let images = Double(readable.count) * Double(shape.count) * 4
        let other = otherBytes(shape)
        let needed = images * peakCopies + (other?.bytes ?? 0)
        guard needed <= availableBytes else {
            let rest = other.map { String(format: ", and %@ %@", MemoryShare.describe($0.bytes), $0.what) } ?? ""
            throw ImageFolderError("\(options.path): \(readable.count) images of \(shape) take \(MemoryShare.describe(images)) as 32-bit values (\(MemoryShare.describe(images * peakCopies)) at the peak, while they are cached and split)\(rest); \(MemoryShare.describe(availableBytes)) are allowed (half this machine's memory). State a smaller image size, or use fewer images; nothing was decoded or written")
        }
        // Every readable file decoded in parallel, straight into its slot.
        let pixels = UnsafeMutableBufferPointer<Float>.allocate(capacity: readable.count * shape.count)
        defer { pixels.deallocate() }
        let outcomes = UnsafeMutableBufferPointer<Outcome?>.allocate(capacity: readable.count)
        outcomes.initialize(repeating: nil)
        defer { outcomes.deallocate() }
        let box = UncheckedBox(pixels: pixels, outcomes: outcomes)
        let firstDecoded = first
        DispatchQueue.concurrentPerform(iterations: readable.count) { position in
            let result: Result<(TransformedImage, String, Bool), ImageFileError>
            if let first = firstDecoded, first.position == position { result = .success((first.image, first.hash, first.grey)) } else { result = decodeOne(readable[position]) }
            switch result {
            case let .success((image, hash, grey)):
                guard image.shape == shape else { box.outcomes[position] = .otherSize(image.shape); return }
                _ = UnsafeMutableBufferPointer(rebasing: box.pixels[(position * shape.count)..<((position + 1) * shape.count)]).initialize(from: image.values)
                box.outcomes[position] = .decoded(hash: hash, grey: grey)
            case let .failure(error):
                box.outcomes[position] = .unreadable(options.skipUnreadable ? error.reason : refuse(error).message)
            }
        }
        var decoded = ImageFolderCache.Decoded(shape: shape, pixels: [], kept: [], hashes: [], skipped: [], colourChoice: nil)
        decoded.skipped = entries.filter { $0.problem != nil }.map(\.relativePath)
        var keptPositions: [Int] = []
        var greyFiles = 0
        for (position, index) in readable.enumerated() {
            switch outcomes[position]! {
            case let .unreadable(message):
                guard options.skipUnreadable else { throw ImageFolderError(message) }
                decoded.skipped.append(entries[index].relativePath)
            case let .otherSize(other):
                let firstKept = keptPositions.first.map { entries[readable[$0]].relativePath } ?? "the first image"
                throw ImageFolderError("\(entries[index].path) is \(other.height)x\(other.width), but \(firstKept) is \(shape.height)x\(shape.width): images of different sizes need a stated image size to resize to")
            case let .decoded(hash, grey):
                keptPositions.append(position)
                decoded.kept.append(index)
                decoded.hashes.append(hash)
                if grey { greyFiles += 1 }
            }
        }
        guard !keptPositions.isEmpty else { throw ImageFolderError("\(options.path): none of its \(entries.count) files is a readable image") }
        decoded.skipped.sort()
        let keepGrey = options.colour == .auto && greyFiles == keptPositions.count
        let kept = keepGrey ? ImageShape(channels: 1, height: shape.height, width: shape.width) : shape
        decoded.shape = kept
        decoded.pixels.reserveCapacity(keptPositions.count * kept.count)
        for position in keptPositions { decoded.pixels += pixels[(position * shape.count)..<(position * shape.count + kept.count)] }
        if options.colour == .auto {
            let colourFiles = keptPositions.count - greyFiles
            decoded.colourChoice = keepGrey ? "colour auto: grey, as every file is grey" : "colour auto: colour, as \(colourFiles) of \(keptPositions.count) files have colour"
        }
        return decoded
    }

    /// The bytes of a cache file holding `pixels` (images of `shape`) decoded from the files at
    /// listing indices `kept`, whose SHA-256 digests are `hashes` (for tools and fuzzing).
    public static func cacheBytes(pixels: [Float], shape: ImageShape, kept: [Int], hashes: [String]) -> Data {
        ImageFolderCache.file(.init(shape: shape, pixels: pixels, kept: kept, hashes: hashes, skipped: [], colourChoice: nil)).encoded()
    }

    /// Whether `bytes` would be used as the decoded-image cache of a folder of `entryCount`
    /// files, and the shape of its images (for tools and fuzzing; see `ImageFolderCache`).
    public static func cachedShape(bytes: Data, entryCount: Int) -> ImageShape? {
        guard let file = try? SafeTensorsFile.decode(bytes, file: "cache") else { return nil }
        return ImageFolderCache.decode(file, entryCount: entryCount)?.shape
    }
}

/// Lets the parallel decoding loop write disjoint slots of its buffers.
private final class UncheckedBox: @unchecked Sendable {
    let pixels: UnsafeMutableBufferPointer<Float>
    let outcomes: UnsafeMutableBufferPointer<ImageFolder.Outcome?>
    init(pixels: UnsafeMutableBufferPointer<Float>, outcomes: UnsafeMutableBufferPointer<ImageFolder.Outcome?>) {
        (self.pixels, self.outcomes) = (pixels, outcomes)
    }
}
