import CZlib
import Foundation

/// An IDX file of unsigned bytes (the MNIST family's format), gzipped or raw.
///
/// Layout: a big-endian magic number 0x000008NN (0x08: unsigned bytes; NN: the number of
/// dimensions), NN big-endian UInt32 dimensions, then the product of the dimensions in bytes.
/// The reader checks the magic number and that the data length equals what the header says.
public struct IDXFile: Equatable, Sendable {
    public static let imageMagic: UInt32 = 0x0000_0803
    public static let labelMagic: UInt32 = 0x0000_0801

    public let dimensions: [Int]
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
        guard !overflow, data.count == headerBytes + payload else {
            throw .lengthMismatch(file: file, expectedBytes: overflow ? Int.max : headerBytes + payload, foundBytes: data.count)
        }
        return IDXFile(dimensions: dimensions, bytes: Array(data[headerBytes...]))
    }

    static func readDecompressed(_ url: URL) throws(IDXError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(file: url.path) }
        guard let handle = gzopen(url.path, "rb") else { throw .unreadable(file: url.path, reason: "cannot open") }
        defer { gzclose(handle) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let read = chunk.withUnsafeMutableBytes { gzread(handle, $0.baseAddress, UInt32($0.count)) }
            if read < 0 {
                var code: Int32 = 0
                let message = gzerror(handle, &code).map { String(cString: $0) } ?? "zlib error \(read)"
                throw .unreadable(file: url.path, reason: message)
            }
            if read == 0 { break }
            result.append(contentsOf: chunk[0..<Int(read)])
        }
        // A gzip stream cut short reads as a clean end of file; zlib reports it here.
        var code: Int32 = 0
        if let message = gzerror(handle, &code), code != Z_OK, code != Z_STREAM_END {
            throw .unreadable(file: url.path, reason: String(cString: message))
        }
        return result
    }
}
