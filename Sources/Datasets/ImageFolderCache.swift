import CZlib
import Foundation
import SafeTensors

/// The decoded images of a folder, kept between runs so that an unchanged folder is not decoded
/// again.
///
/// The key is a SHA-256 over the transform and, for every listed file, its relative path, its
/// label and its identity after following symbolic links: device, inode, size, modification time
/// and change time (ctime), both to the nanosecond. A file rewritten in place changes its ctime;
/// one replaced by another (`cp -p`, `rsync -a`, `tar x`, a new link target) changes its inode or
/// ctime even when its size and mtime are the old ones; the ctime cannot be set back by a user.
///
/// The file (`folder-KEY.safetensors`) holds the pixels, which files were kept, the SHA-256 of
/// each kept file's bytes (computed from the bytes that were decoded), the skipped files, and a
/// CRC-32 over all of these: a truncated or edited cache file is detected and rebuilt. It is
/// written atomically under a unique temporary name, so two processes building one cache both
/// succeed and the last rename wins, whole.
enum ImageFolderCache {
    /// The cache format's name, part of the key: a new format never reads an old file.
    static let format = "vae-folder-cache/2"

    static func key(_ transform: ImageTransform, skipUnreadable: Bool, entries: [ImageFolderListing.Entry]) -> String {
        var hasher = SHA256()
        let size = transform.height.map { "\($0)x\(transform.width!)" } ?? "own size"
        hasher.update(Array("\(format) \(size) crop \(transform.centreCrop) \(transform.colour.rawValue) skip \(skipUnreadable) quantize \(transform.quantize)\n".utf8))
        for entry in entries { hasher.update(Array("\(entry.relativePath)\t\(entry.identity)\t\(entry.label ?? -1)\n".utf8)) }
        return String(SHA256.hexDigits(hasher.finalize()).prefix(32))
    }

    /// The decoded images in listing order, less the skipped ones: `kept[i]` is the listing index
    /// of decoded image i, `hashes[i]` the SHA-256 of its file.
    struct Decoded {
        var shape: ImageShape
        var pixels: [Float]
        var kept: [Int]
        var hashes: [String]
        var skipped: [String]
        /// How auto colour was resolved, for the data line (nil when colour was stated).
        var colourChoice: String?
    }

    static func read(_ url: URL, entryCount: Int) -> Decoded? {
        guard FileManager.default.fileExists(atPath: url.path), let file = try? SafeTensorsFile.read(from: url) else { return nil }
        return decode(file, entryCount: entryCount)
    }

    /// CRC-32 of the pixels' bytes and the metadata that says what they are.
    static func checksum(pixels: [Float], metadata: [String: String]) -> String {
        var crc = pixels.withUnsafeBytes { raw in
            crc32(0, raw.bindMemory(to: UInt8.self).baseAddress, UInt32(raw.count))
        }
        for key in ["kept", "hashes", "skipped", "colour"] {
            let bytes = Array("\(key)=\(metadata[key] ?? "")\n".utf8)
            crc = bytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) }
        }
        return String(format: "%08x", UInt32(crc))
    }

    /// A cache file's content when it is one written by `write` for a folder of `entryCount`
    /// files: a [N, C, H, W] tensor of values in [0, 1] with a valid shape, N distinct ascending
    /// file indices, N SHA-256 digests, and a matching checksum. Anything else is not used (the
    /// folder is decoded again).
    static func decode(_ file: SafeTensorsFile, entryCount: Int) -> Decoded? {
        guard let pixels = file.tensors["pixels"], pixels.shape.count == 4,
              file.metadata["checksum"] == checksum(pixels: pixels.values, metadata: file.metadata),
              let kept = file.metadata["kept"].map({ $0.split(separator: ",").map { Int($0) } }), kept.allSatisfy({ $0 != nil }),
              let hashes = file.metadata["hashes"].map({ $0.split(separator: ",").map(String.init) }),
              kept.count == pixels.shape[0], hashes.count == kept.count, hashes.allSatisfy({ $0.count == 64 }) else { return nil }
        let indices = kept.map { $0! }
        guard zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }), indices.allSatisfy({ (0..<entryCount).contains($0) }) else { return nil }
        let shape = ImageShape(channels: pixels.shape[1], height: pixels.shape[2], width: pixels.shape[3])
        guard shape.isValid, pixels.values.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { return nil }
        let skipped = file.metadata["skipped"].map { $0.isEmpty ? [] : $0.components(separatedBy: "\n") } ?? []
        let colour = file.metadata["colour"].flatMap { $0.isEmpty ? nil : $0 }
        return Decoded(shape: shape, pixels: pixels.values, kept: indices, hashes: hashes, skipped: skipped, colourChoice: colour)
    }

    /// The cache file of `decoded`, checksum included.
    static func file(_ decoded: Decoded) -> SafeTensorsFile {
        var metadata = ["kept": decoded.kept.map(String.init).joined(separator: ","), "hashes": decoded.hashes.joined(separator: ","),
                        "skipped": decoded.skipped.joined(separator: "\n"), "colour": decoded.colourChoice ?? ""]
        metadata["checksum"] = checksum(pixels: decoded.pixels, metadata: metadata)
        return SafeTensorsFile(
            tensors: ["pixels": .init(shape: [decoded.kept.count, decoded.shape.channels, decoded.shape.height, decoded.shape.width], values: decoded.pixels)],
            metadata: metadata)
    }

    /// Best effort: a cache that cannot be written only costs decoding next time.
    static func write(_ decoded: Decoded, to url: URL) {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? file(decoded).write(to: url)
    }
}
