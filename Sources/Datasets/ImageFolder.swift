import Foundation
import Persistence
import SafeTensors

/// Grey (1 channel, by luminance) or colour (3 channels: red, green, blue).
public enum ColourMode: String, Codable, CaseIterable, Sendable {
    case grey, colour

    /// 1 for grey, 3 for colour.
    public var channels: Int { self == .grey ? 1 : 3 }
}

/// How a folder of PNG and JPEG files becomes a dataset. Every picture is decoded to RGBA,
/// composited on white where it is transparent, optionally cropped to its largest centred region
/// of the target's aspect ratio, resized to height x width by area-weighted (box) resampling
/// (each output pixel is the mean of the source area it covers, weighted by overlap), and made
/// grey by luminance (0.299 R + 0.587 G + 0.114 B) or kept in colour; values are level / 255.
///
/// Layout: `train/` and `test/` subfolders when both exist, otherwise the folder itself with a
/// seeded held-out share as the test split. Inside a split, one subfolder per class (labels are
/// the sorted subfolder names) or the files directly (unlabelled). Names starting with "." are
/// ignored; every other file must be a readable PNG or JPEG, or (`skipUnreadable`) is skipped and
/// counted.
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
    /// Grey (one channel, by luminance) or colour (three).
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
    public init(path: String, height: Int? = nil, width: Int? = nil, centreCrop: Bool = false, colour: ColourMode = .colour,
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

    /// E.g. "resize to 32x32 (area), centre crop, colour".
    public var transformSummary: String {
        var parts: [String] = []
        if centreCrop { parts.append("centre crop") }
        if let height, let width { parts.append("resize to \(height)x\(width) (area)") }
        parts.append(colour.rawValue)
        if quantize { parts.append("8-bit levels") }
        return parts.joined(separator: ", ")
    }
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
/// result under `cacheFolder` keyed by the options and every file's path, size and modification
/// time, so an unchanged folder is not decoded again; any change to a file invalidates it.
public enum ImageFolder {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Where decoded folders are cached: $VAE_CACHE_DIR, else $XDG_CACHE_HOME/vae-toolkit, else ~/.cache/vae-toolkit.
    public static var defaultCacheFolder: URL {
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["VAE_CACHE_DIR"], !folder.isEmpty { return URL(fileURLWithPath: folder) }
        if let folder = environment["XDG_CACHE_HOME"], !folder.isEmpty { return URL(fileURLWithPath: folder).appendingPathComponent("vae-toolkit") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/vae-toolkit")
    }

    /// One file of the folder: its path relative to the root, its label, size and time.
    struct Entry {
        let relativePath: String
        let url: URL
        let label: Int?
        let size: Int
        let modified: Double
    }

    /// The images listed for one split, with the class names found.
    struct Listing {
        var train: [Entry]
        var test: [Entry]?
        var classNames: [String]
    }

    /// Reads the folder `options` names, from the cache when nothing changed, and splits it.
    /// - Throws: `ImageFolderError` naming the file or folder at fault: a missing or empty folder, an
    /// unreadable image (unless skipped), images of different sizes with no size given, too few images
    /// for a test split.
    public static func load(_ options: ImageFolderOptions, cacheFolder: URL? = defaultCacheFolder) throws(ImageFolderError) -> LoadedDataset {
        if let problem = options.problems.first { throw ImageFolderError("\(options.path): \(problem)") }
        let root = URL(fileURLWithPath: options.path).standardizedFileURL
        let listing = try list(root)
        let all = listing.train + (listing.test ?? [])
        guard !all.isEmpty else { throw ImageFolderError("\(root.path) holds no image files") }
        let key = cacheKey(options, entries: all)
        let cacheFile = cacheFolder?.appendingPathComponent("folder-\(key).safetensors")
        let started = Date()
        let decoded: Decoded
        var fromCache = false
        if let cacheFile, let cached = readCache(cacheFile, entries: all) {
            decoded = cached
            fromCache = true
        } else {
            decoded = try decode(all, options: options)
            if let cacheFile { writeCache(decoded, to: cacheFile) }
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
        let report = "\(root.path): \(kept.count) images of \(shape) (\(options.transformSummary)), \(labelled ? "\(listing.classNames.count) classes" : "unlabelled"), \(train.count) train / \(test.count) test\(listing.test == nil ? " (seeded held-out share \(options.testShare))" : ""), \(speed)\(skipped)"
        return LoadedDataset(train: train, test: test, folder: root.path,
                             checksums: ["files": String(kept.count), "sha256": SHA256.hexDigits(hasher.finalize())], report: report)
    }

    // MARK: - Listing

    static func list(_ root: URL) throws(ImageFolderError) -> Listing {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder) else { throw ImageFolderError("\(root.path) does not exist (expected a folder of PNG or JPEG files)") }
        guard isFolder.boolValue else { throw ImageFolderError("\(root.path) is a file, not a folder of images") }
        let top = try children(root)
        let trainFolder = root.appendingPathComponent("train"), testFolder = root.appendingPathComponent("test")
        if top.folders.contains("train") && top.folders.contains("test") {
            let train = try split(trainFolder, relativeTo: root, classNames: nil)
            let test = try split(testFolder, relativeTo: root, classNames: train.classNames)
            return Listing(train: train.entries, test: test.entries, classNames: train.classNames)
        }
        let whole = try split(root, relativeTo: root, classNames: nil)
        return Listing(train: whole.entries, test: nil, classNames: whole.classNames)
    }

    /// The files of one split folder: class subfolders, or files directly. `classNames` given:
    /// the split must use those classes (the test split of a train/test layout).
    static func split(_ folder: URL, relativeTo root: URL, classNames known: [String]?) throws(ImageFolderError)
        -> (entries: [Entry], classNames: [String]) {
        let content = try children(folder)
        if !content.folders.isEmpty && !content.files.isEmpty {
            throw ImageFolderError("\(folder.path) mixes files (\(content.files[0]) ...) with class subfolders (\(content.folders[0]) ...): put every image in a class subfolder, or use no subfolders at all")
        }
        if content.folders.isEmpty {
            if let known, !known.isEmpty { throw ImageFolderError("\(folder.path) has no class subfolders, but the train split has classes \(known.joined(separator: ", "))") }
            return (try content.files.map { name throws(ImageFolderError) in try entry(folder.appendingPathComponent(name), root: root, label: nil) }, [])
        }
        let names = content.folders
        if let known {
            if let stranger = names.first(where: { !known.contains($0) }) {
                throw ImageFolderError("\(folder.appendingPathComponent(stranger).path): class '\(stranger)' is not among the train split's classes (\(known.joined(separator: ", ")))")
            }
        }
        let classNames = known ?? names
        var entries: [Entry] = []
        for name in names {
            let classFolder = folder.appendingPathComponent(name)
            let inner = try children(classFolder)
            if let nested = inner.folders.first { throw ImageFolderError("\(classFolder.appendingPathComponent(nested).path): class folders hold image files, not further folders") }
            for file in inner.files { entries.append(try entry(classFolder.appendingPathComponent(file), root: root, label: classNames.firstIndex(of: name)!)) }
        }
        return (entries, classNames)
    }

    static func children(_ folder: URL) throws(ImageFolderError) -> (folders: [String], files: [String]) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw ImageFolderError("cannot list \(folder.path): \(plainDescription(of: error))")
        }
        var folders: [String] = [], files: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isFolder)
            if isFolder.boolValue { folders.append(name) } else { files.append(name) }
        }
        return (folders, files)
    }

    static func entry(_ url: URL, root: URL, label: Int?) throws(ImageFolderError) -> Entry {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: url.path) } catch {
            throw ImageFolderError("cannot read \(url.path): \(plainDescription(of: error))")
        }
        let relative = String(url.path.dropFirst(root.path.count + 1))
        return Entry(relativePath: relative, url: url, label: label, size: (attributes[.size] as? NSNumber)?.intValue ?? 0,
                     modified: (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
    }

    // MARK: - Decoding

    /// The decoded images in listing order, less the skipped ones: `kept[i]` is the listing index
    /// of decoded image i, `hashes[i]` the SHA-256 of its file.
    struct Decoded {
        var shape: ImageShape
        var pixels: [Float]
        var kept: [Int]
        var hashes: [String]
        var skipped: [String]
    }

    static func decode(_ entries: [Entry], options: ImageFolderOptions) throws(ImageFolderError) -> Decoded {
        let results = UnsafeMutableBufferPointer<Result<([Float], ImageShape, String), ImageFileError>?>.allocate(capacity: entries.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let box = UncheckedBox(results)
        DispatchQueue.concurrentPerform(iterations: entries.count) { index in
            let url = entries[index].url
            do throws(ImageFileError) {
                if let extensionProblem = Self.extensionProblem(url) { throw ImageFileError(path: url.path, reason: extensionProblem) }
                let data: Data
                do throws(FileReadError) { data = try readFile(url, maximumBytes: ImageFile.maximumFileBytes) } catch { throw ImageFileError(path: url.path, reason: error.reason) }
                let picture = try ImageFile.decode(data, path: url.path)
                let (values, shape) = transform(picture, options: options)
                box.buffer[index] = .success((values, shape, Self.hash(data)))
            } catch {
                box.buffer[index] = .failure(error)
            }
        }
        var decoded = Decoded(shape: ImageShape(channels: 0, height: 0, width: 0), pixels: [], kept: [], hashes: [], skipped: [])
        for index in entries.indices {
            switch results[index]! {
            case let .failure(error):
                guard options.skipUnreadable else {
                    throw ImageFolderError(error.localizedDescription + " (skip such files with the option to skip unreadable images; nothing was written)")
                }
                decoded.skipped.append(entries[index].relativePath)
            case let .success((values, shape, hash)):
                if decoded.kept.isEmpty { decoded.shape = shape }
                guard shape == decoded.shape else {
                    throw ImageFolderError("\(entries[index].url.path) is \(shape.height)x\(shape.width), but \(entries[decoded.kept[0]].relativePath) is \(decoded.shape.height)x\(decoded.shape.width): images of different sizes need a stated image size to resize to")
                }
                decoded.pixels += values
                decoded.kept.append(index)
                decoded.hashes.append(hash)
            }
        }
        guard !decoded.kept.isEmpty else { throw ImageFolderError("\(options.path): none of its \(entries.count) files is a readable image") }
        return decoded
    }

    static func hash(_ data: Data) -> String {
        var hasher = SHA256()
        hasher.update(data)
        return SHA256.hexDigits(hasher.finalize())
    }

    static func extensionProblem(_ url: URL) -> String? {
        imageExtensions.contains(url.pathExtension.lowercased()) ? nil
            : "its name does not end in .png, .jpg or .jpeg (only PNG and JPEG files are read)"
    }

    /// One picture through the transforms: C x H x W values in [0, 1].
    public static func transform(_ picture: RGBAPicture, options: ImageFolderOptions) -> ([Float], ImageShape) {
        let (width, height) = (picture.width, picture.height)
        let targetHeight = options.height ?? height, targetWidth = options.width ?? width
        // Composite on white: c a + 255 (1 - a), per channel, in [0, 255].
        let count = width * height
        let planes = (0..<3).map { channel in
            [Float](unsafeUninitializedCapacity: count) { out, initialised in
                picture.rgba.withUnsafeBufferPointer { rgba in
                    for index in 0..<count {
                        let alpha = Float(rgba[4 * index + 3]) / 255
                        out[index] = Float(rgba[4 * index + channel]) * alpha + 255 * (1 - alpha)
                    }
                }
                initialised = count
            }
        }
        // The source region: the whole picture, or its largest centred region of the target's aspect.
        var region = (x: 0.0, y: 0.0, width: Double(width), height: Double(height))
        if options.centreCrop {
            let aspect = Double(targetWidth) / Double(targetHeight)
            if Double(width) / Double(height) > aspect {
                region.width = Double(height) * aspect
                region.x = (Double(width) - region.width) / 2
            } else {
                region.height = Double(width) / aspect
                region.y = (Double(height) - region.height) / 2
            }
        }
        let resized = planes.map { resample($0, width: width, height: height, region: region, toWidth: targetWidth, toHeight: targetHeight) }
        let shape = ImageShape(channels: options.colour.channels, height: targetHeight, width: targetWidth)
        let size = targetWidth * targetHeight
        let values = [Float](unsafeUninitializedCapacity: shape.count) { out, initialised in
            switch options.colour {
            case .colour:
                for channel in 0..<3 {
                    resized[channel].withUnsafeBufferPointer { plane in
                        for index in 0..<size { out[channel * size + index] = min(max(plane[index] / 255, 0), 1) }
                    }
                }
            // (299 R + 587 G + 114 B) / 1000 is exact for a grey pixel (R = G = B), so grey files keep their levels.
            case .grey:
                resized[0].withUnsafeBufferPointer { r in
                    resized[1].withUnsafeBufferPointer { g in
                        resized[2].withUnsafeBufferPointer { b in
                            for index in 0..<size { out[index] = min(max((299 * r[index] + 587 * g[index] + 114 * b[index]) / 1000 / 255, 0), 1) }
                        }
                    }
                }
            }
            initialised = shape.count
        }
        guard options.quantize else { return (values, shape) }
        return (values.map { ($0 * 255).rounded() / 255 }, shape)
    }

    /// Area-weighted resampling of `region` of a width x height plane to toWidth x toHeight: each
    /// output pixel is the overlap-weighted mean of the source pixels under its footprint.
    static func resample(_ plane: [Float], width: Int, height: Int, region: (x: Double, y: Double, width: Double, height: Double),
                         toWidth: Int, toHeight: Int) -> [Float] {
        if region == (0, 0, Double(width), Double(height)) && toWidth == width && toHeight == height { return plane }
        func weights(_ start: Double, _ length: Double, source: Int, count: Int) -> [[(Int, Float)]] {
            let step = length / Double(count)
            return (0..<count).map { i in
                let low = start + Double(i) * step, high = low + step
                var taps: [(Int, Float)] = []
                var j = max(0, Int(low.rounded(.down)))
                while Double(j) < high && j < source {
                    let overlap = min(high, Double(j + 1)) - max(low, Double(j))
                    if overlap > 1e-12 { taps.append((j, Float(overlap / step))) }
                    j += 1
                }
                return taps
            }
        }
        let columns = weights(region.x, region.width, source: width, count: toWidth)
        let rows = weights(region.y, region.height, source: height, count: toHeight)
        var horizontal = [Float](repeating: 0, count: toWidth * height)
        for y in 0..<height {
            for (x, taps) in columns.enumerated() {
                var total: Float = 0
                for (j, w) in taps { total += plane[y * width + j] * w }
                horizontal[y * toWidth + x] = total
            }
        }
        var out = [Float](repeating: 0, count: toWidth * toHeight)
        for (y, taps) in rows.enumerated() {
            for x in 0..<toWidth {
                var total: Float = 0
                for (i, w) in taps { total += horizontal[i * toWidth + x] * w }
                out[y * toWidth + x] = total
            }
        }
        return out
    }

    // MARK: - Cache

    static func cacheKey(_ options: ImageFolderOptions, entries: [Entry]) -> String {
        var hasher = SHA256()
        hasher.update(Array("vae-folder-cache/1 \(options.height ?? 0)x\(options.width ?? 0) crop \(options.centreCrop) \(options.colour.rawValue) skip \(options.skipUnreadable)\(options.quantize ? " quantize" : "")\n".utf8))
        for entry in entries { hasher.update(Array("\(entry.url.path)\t\(entry.size)\t\(entry.modified)\t\(entry.label ?? -1)\n".utf8)) }
        return String(SHA256.hexDigits(hasher.finalize()).prefix(32))
    }

    static func readCache(_ url: URL, entries: [Entry]) -> Decoded? {
        guard FileManager.default.fileExists(atPath: url.path), let file = try? SafeTensorsFile.read(from: url) else { return nil }
        return decodeCache(file, entryCount: entries.count)
    }

    /// A cache file's content when it is one written by `writeCache` for a folder of
    /// `entryCount` files: a [N, C, H, W] tensor of values in [0, 1] with a valid shape, N
    /// distinct ascending file indices and N SHA-256 digests. Anything else is not used (the
    /// folder is decoded again).
    static func decodeCache(_ file: SafeTensorsFile, entryCount: Int) -> Decoded? {
        guard let pixels = file.tensors["pixels"], pixels.shape.count == 4,
              let kept = file.metadata["kept"].map({ $0.split(separator: ",").map { Int($0) } }), kept.allSatisfy({ $0 != nil }),
              let hashes = file.metadata["hashes"].map({ $0.split(separator: ",").map(String.init) }),
              kept.count == pixels.shape[0], hashes.count == kept.count, hashes.allSatisfy({ $0.count == 64 }) else { return nil }
        let indices = kept.map { $0! }
        guard zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }), indices.allSatisfy({ (0..<entryCount).contains($0) }) else { return nil }
        let shape = ImageShape(channels: pixels.shape[1], height: pixels.shape[2], width: pixels.shape[3])
        guard shape.isValid, pixels.values.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { return nil }
        let skipped = file.metadata["skipped"].map { $0.isEmpty ? [] : $0.components(separatedBy: "\n") } ?? []
        return Decoded(shape: shape, pixels: pixels.values, kept: indices, hashes: hashes, skipped: skipped)
    }

    /// Whether `bytes` would be used as the decoded-image cache of a folder of `entryCount`
    /// files, and the shape of its images (for tools and fuzzing; see `decodeCache`).
    public static func cachedShape(bytes: Data, entryCount: Int) -> ImageShape? {
        guard let file = try? SafeTensorsFile.decode(bytes, file: "cache") else { return nil }
        return decodeCache(file, entryCount: entryCount)?.shape
    }

    /// Best effort: a cache that cannot be written only costs decoding next time.
    static func writeCache(_ decoded: Decoded, to url: URL) {
        let file = SafeTensorsFile(
            tensors: ["pixels": .init(shape: [decoded.kept.count, decoded.shape.channels, decoded.shape.height, decoded.shape.width], values: decoded.pixels)],
            metadata: ["kept": decoded.kept.map(String.init).joined(separator: ","), "hashes": decoded.hashes.joined(separator: ","),
                       "skipped": decoded.skipped.joined(separator: "\n")])
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? file.write(to: url)
    }
}

/// Lets the parallel decoding loop write disjoint slots of one buffer.
private final class UncheckedBox<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
