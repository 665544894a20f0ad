import CZlib
import Foundation

/// An IDX file of unsigned bytes (the MNIST family's format), gzipped or raw.
///
/// Layout: a big-endian magic number 0x000008NN (0x08: unsigned bytes; NN: the number of
/// dimensions), NN big-endian UInt32 dimensions, then the product of the dimensions in bytes.
/// The reader checks the magic number and that the data length equals what the header says.
public struct IDXFile: Equatable, Sendable {
    /// The magic number of an unsigned-byte file with three dimensions (images).
    public static let imageMagic: UInt32 = 0x0000_0803
    /// The magic number of an unsigned-byte file with one dimension (labels).
    public static let labelMagic: UInt32 = 0x0000_0801

    /// The sizes from the header, outermost first.
    public let dimensions: [Int]
    /// The data, row-major; its count is the product of `dimensions`.
    public let bytes: [UInt8]

    /// Reads `url`, gunzipping when it is gzip (zlib reads raw files unchanged), and checks the
    /// magic number against `expectedMagic`.
    public static func read(_ url: URL, expectedMagic: UInt32) throws(IDXError) -> IDXFile {
        try decode(readDecompressed(url), file: url.path, expectedMagic: expectedMagic)
    }

    /// Validates and splits decompressed IDX bytes; `file` names them in errors.
    public static func decode(_ data: [UInt8], file: String, expectedMagic: UInt32) throws(IDXError) -> IDXFile {
        func word(_ offset: Int) -> UInt32 {
            data[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        guard data.count >= 4 else { throw .lengthMismatch(file: file, expectedBytes: 4, foundBytes: data.count) }
        let magic = word(0)
        guard magic == expectedMagic else { throw .badMagic(file: file, expected: expectedMagic, found: magic) }
        let rank = Int(magic & 0xFF)
        let headerBytes = 4 + 4 * rank
        guard data.count >= headerBytes else { throw .lengthMismatch(file: file, expectedBytes: headerBytes, foundBytes: data.count) }
        let dimensions = (0..<rank).map { Int(word(4 + 4 * $0)) }
        let (payload, overflow) = dimensions.reduce((1, false)) { partial, dimension in
            let product = partial.0.multipliedReportingOverflow(by: dimension)
            return (product.partialValue, partial.1 || product.overflow)
        }
        guard !overflow, headerBytes + payload <= maximumBytes, data.count == headerBytes + payload else {
            throw .lengthMismatch(file: file, expectedBytes: overflow ? Int.max : headerBytes + payload, foundBytes: data.count)
        }
        return IDXFile(dimensions: dimensions, bytes: Array(data[headerBytes...]))
    }

    /// The largest IDX payload read, in bytes (MNIST's training images are 47 MB).
    public static let maximumBytes = 1 << 32

    /// The length an IDX file's header declares (header and data), once `prefix` holds the
    /// header: nil while it is too short, `Int.max` when the dimensions overflow.
    static func declaredLength(_ prefix: ArraySlice<UInt8>) -> Int? {
        guard prefix.count >= 4 else { return nil }
        let base = prefix.startIndex
        let rank = Int(prefix[base + 3])
        let headerBytes = 4 + 4 * rank
        guard prefix.count >= headerBytes else { return nil }
        var total = 1
        for d in 0..<rank {
            let dimension = prefix[(base + 4 + 4 * d)..<(base + 8 + 4 * d)].reduce(0) { $0 << 8 | Int($1) }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return Int.max }
            total = product
        }
        let (length, overflow) = total.addingReportingOverflow(headerBytes)
        return overflow ? Int.max : length
    }

    /// The file's bytes after gunzipping, inflating no more than its header declares (plus one
    /// byte, to see that there is more): a small file claiming little cannot inflate to
    /// gigabytes, and one claiming more than `maximumBytes` is refused before it is inflated.
    static func readDecompressed(_ url: URL) throws(IDXError) -> [UInt8] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { throw .missingFile(file: url.path) }
        guard !isFolder.boolValue else { throw .unreadable(file: url.path, reason: "it is a folder, not a file") }
        guard let handle = gzopen(url.path, "rb") else { throw .unreadable(file: url.path, reason: "cannot open it (\(String(cString: strerror(errno))))") }
        defer { gzclose(handle) }
        var result: [UInt8] = []
        var limit = Int.max
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while result.count <= limit {
            // Until the header is known, read only as far as it reaches.
            let headerEnd = result.count < 4 ? 4 : 4 + 4 * Int(result[3])
            let wanted = min(chunk.count, limit == Int.max ? headerEnd - result.count : limit + 1 - result.count)
            let read = chunk.withUnsafeMutableBytes { gzread(handle, $0.baseAddress, UInt32(wanted)) }
            if read < 0 {
                var code: Int32 = 0
                let message = gzerror(handle, &code).map { String(cString: $0) } ?? "zlib error \(read)"
                throw .unreadable(file: url.path, reason: message)
            }
            if read == 0 { break }
            result.append(contentsOf: chunk[0..<Int(read)])
            if limit == Int.max, let declared = declaredLength(result[...]) {
                guard declared <= maximumBytes else {
                    throw .lengthMismatch(file: url.path, expectedBytes: declared, foundBytes: -1)
                }
                limit = declared
            }
            if result.count > limit { return result }  // longer than declared: decode says so
            if chunk.count < 1 << 20 { chunk = [UInt8](repeating: 0, count: chunk.count * 2) }
        }
        // A gzip stream cut short reads as a clean end of file; zlib reports it here.
        var code: Int32 = 0
        if let message = gzerror(handle, &code), code != Z_OK, code != Z_STREAM_END {
            throw .unreadable(file: url.path, reason: String(cString: message))
        }
        return result
    }
}
