import CImageDecoding
import CTurboJPEG
import Foundation
import Persistence

/// A picture decoded from a file: 8-bit red, green, blue and alpha per pixel, row-major,
/// non-premultiplied, the levels the file stores (no gamma or colour-profile conversion).
public struct DecodedImage: Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// width · height · 4 bytes: R, G, B, A per pixel, row by row.
    public let rgba: [UInt8]
    /// What the file held, e.g. "PNG RGB with alpha", "PNG grey 16-bit, interlaced", "JPEG 4:2:0".
    public let sourceFormat: String

    /// An image of the given RGBA bytes; `rgba` must hold width · height · 4 values.
    public init(width: Int, height: Int, rgba: [UInt8], sourceFormat: String) {
        precondition(width > 0 && height > 0 && rgba.count == 4 * width * height, "a \(width)x\(height) RGBA image needs \(4 * width * height) bytes, got \(rgba.count)")
        (self.width, self.height, self.rgba, self.sourceFormat) = (width, height, rgba, sourceFormat)
    }

    /// Whether every pixel is grey (R = G = B): a grey or palette-grey file, or colour channels
    /// that happen to agree. Such an image loses nothing when read in grey.
    public var isGrey: Bool {
        rgba.withUnsafeBufferPointer { bytes in
            var index = 0
            while index < bytes.count {
                if bytes[index] != bytes[index + 1] || bytes[index] != bytes[index + 2] { return false }
                index += 4
            }
            return true
        }
    }
}

/// Why an image file could not be decoded.
public struct ImageFileError: Error, LocalizedError, Equatable {
    /// The file's path.
    public let path: String
    /// What the decoder or the checks found wrong.
    public let reason: String

    /// An error about the file at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    /// "PATH is not a readable image: REASON".
    public var errorDescription: String? { "\(path) is not a readable image: \(reason)" }
}

/// The one decoder of picture files: PNG (libpng: every colour type and bit depth, palette,
/// transparency, interlacing) and JPEG (libjpeg-turbo: baseline, progressive, grey, CMYK and
/// YCCK), recognised by their content (the signature), not their name, to a `DecodedImage`.
///
/// A file is read for what it is or refused: 16-bit samples keep their levels (rounded to 8
/// bits), damage anywhere (truncation, a bad CRC, a libjpeg warning) is an error, and a header
/// declaring more pixels than the file's bytes could encode is refused before any pixel buffer
/// is allocated, as is one above the pixel cap.
public enum ImageFile {
    /// The largest picture decoded by default, in pixels (a guard against decompression bombs).
    public static let maximumPixels = 1 << 26
    /// The largest image file read, in bytes.
    public static let maximumFileBytes = 1 << 30

    /// Reads and decodes the PNG or JPEG file at `url` (recognised by its signature) to RGBA.
    /// Only a regular file is opened for reading: a FIFO, socket or device is refused at once.
    /// - Throws: `ImageFileError` when the file cannot be read, is neither format, is damaged, or is
    /// larger than `maximumFileBytes` or `maximumPixels`.
    public static func read(from url: URL, maximumPixels: Int = maximumPixels) throws(ImageFileError) -> DecodedImage {
        let data: Data
        do { data = try readFile(url, maximumBytes: maximumFileBytes) } catch { throw ImageFileError(path: url.path, reason: error.reason) }
        return try decode(data, path: url.path, maximumPixels: maximumPixels)
    }

    /// Decodes PNG or JPEG bytes; `path` names the source in errors.
    public static func decode(_ data: Data, path: String, maximumPixels: Int = maximumPixels) throws(ImageFileError) -> DecodedImage {
        let bytes = [UInt8](data.prefix(8))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try decodePNG(data, path: path, maximumPixels: maximumPixels) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(data, path: path, maximumPixels: maximumPixels) }
        if data.isEmpty { throw ImageFileError(path: path, reason: "the file is empty") }
        throw ImageFileError(path: path, reason: "it is neither a PNG nor a JPEG file (its first bytes are \(bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")))")
    }

    /// Width and height, refused above the pixel cap.
    static func checkSize(width: Int, height: Int, maximumPixels: Int, path: String) throws(ImageFileError) {
        guard width > 0, height > 0, width * height <= maximumPixels else {
            throw ImageFileError(path: path, reason: "\(width)x\(height) pixels is not a usable size (at most \(maximumPixels) pixels)")
        }
    }

    /// Deflate's best ratio is about 1032 to 1: a PNG whose header declares more filtered image
    /// bytes than its file could expand to is damaged or hostile.
    static let deflateRatio = 1032

    static func decodePNG(_ data: Data, path: String, maximumPixels: Int) throws(ImageFileError) -> DecodedImage {
        var message = [CChar](repeating: 0, count: 256)
        var header = vae_png_header()
        let status = data.withUnsafeBytes { raw in
            vae_png_read_header(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &header, &message, message.count)
        }
        guard status == 0 else { throw ImageFileError(path: path, reason: "PNG: " + String(cString: message)) }
        let (width, height) = (Int(header.width), Int(header.height))
        try checkSize(width: width, height: height, maximumPixels: maximumPixels, path: path)
        let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(header.color_type)] ?? 4
        let filtered = height * (1 + (width * samples * Int(header.bit_depth) + 7) / 8)
        guard data.count >= filtered / deflateRatio else {
            throw ImageFileError(path: path, reason: "PNG: its header declares \(width)x\(height) pixels, which need at least \(filtered / deflateRatio) bytes of compressed data; the file has \(data.count) bytes")
        }
        var rgba = [UInt8](repeating: 0, count: 4 * width * height)
        let decoded = data.withUnsafeBytes { raw in
            rgba.withUnsafeMutableBufferPointer { out in
                vae_png_decode_rgba(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, out.baseAddress, header.width, header.height, &message, message.count)
            }
        }
        guard decoded == 0 else { throw ImageFileError(path: path, reason: "PNG: " + String(cString: message)) }
        let kind = switch header.color_type { case 0, 4: "grey"; case 3: "palette"; default: "RGB" }
        var format = "PNG \(kind)" + (header.has_transparency != 0 ? " with alpha" : "")
        if header.bit_depth == 16 { format += " 16-bit" }
        if header.interlaced != 0 { format += ", interlaced" }
        return DecodedImage(width: width, height: height, rgba: rgba, sourceFormat: format)
    }

    /// Whether the JPEG's frame is arithmetic-coded (SOF9 to SOF15 but DAC), found by walking
    /// the marker segments before the first scan.
    static func isArithmeticCoded(_ data: Data) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            let bytes = raw.bindMemory(to: UInt8.self)
            var offset = 2
            while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
                let marker = bytes[offset + 1]
                if marker == 0xFF { offset += 1; continue }
                if marker == 0xDA || marker == 0xD9 { return false }
                if (0xC9...0xCF).contains(marker) && marker != 0xCC { return true }
                if (0xC0...0xC3).contains(marker) || (0xC5...0xC7).contains(marker) { return false }
                offset += 2 + (Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]))
            }
            return false
        }
    }

    static func decodeJPEG(_ data: Data, path: String, maximumPixels: Int) throws(ImageFileError) -> DecodedImage {
        guard let handle = tjInitDecompress() else { throw ImageFileError(path: path, reason: "JPEG: libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        var (width, height, subsampling, colourSpace): (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
        let header = data.withUnsafeBytes { raw in
            tjDecompressHeader3(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), &width, &height, &subsampling, &colourSpace)
        }
        guard header == 0 else { throw ImageFileError(path: path, reason: "JPEG: " + String(cString: tjGetErrorStr2(handle))) }
        try checkSize(width: Int(width), height: Int(height), maximumPixels: maximumPixels, path: path)
        // A Huffman-coded scan spends at least one bit on each 8x8 block of the first component.
        let blocks = ((Int(width) + 7) / 8) * ((Int(height) + 7) / 8)
        if !isArithmeticCoded(data), data.count < blocks / 8 {
            throw ImageFileError(path: path, reason: "JPEG: its header declares \(width)x\(height) pixels, which need at least \(blocks / 8) bytes of coded data; the file has \(data.count) bytes")
        }
        let ink = colourSpace == Int32(TJCS_CMYK.rawValue) || colourSpace == Int32(TJCS_YCCK.rawValue)
        let count = Int(width) * Int(height)
        var rgba = [UInt8](repeating: 0, count: 4 * count)
        // Warnings are errors: libjpeg warns, and fills grey, when the data ends early or is corrupt.
        let flags = Int32(TJFLAG_STOPONWARNING)
        let status = data.withUnsafeBytes { raw in
            rgba.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), out.baseAddress,
                              width, 0, height, Int32(ink ? TJPF_CMYK.rawValue : TJPF_RGBA.rawValue), flags)
            }
        }
        if status != 0 { throw ImageFileError(path: path, reason: "JPEG: " + String(cString: tjGetErrorStr2(handle))) }
        if ink {
            // libjpeg gives CMYK as Adobe writes it, inverted (255 is no ink): R = C · K / 255,
            // as TurboJPEG's own conversion does.
            rgba.withUnsafeMutableBufferPointer { pixels in
                for index in 0..<count {
                    let k = Int(pixels[4 * index + 3])
                    for channel in 0..<3 { pixels[4 * index + channel] = UInt8((Int(pixels[4 * index + channel]) * k + 127) / 255) }
                    pixels[4 * index + 3] = 255
                }
            }
        }
        let names = ["4:4:4", "4:2:2", "4:2:0", "grey", "4:4:0", "4:1:1"]
        let kind = (0..<Int32(names.count)).contains(subsampling) ? names[Int(subsampling)] : "subsampling \(subsampling)"
        let space = colourSpace == Int32(TJCS_CMYK.rawValue) ? " CMYK" : colourSpace == Int32(TJCS_YCCK.rawValue) ? " YCCK" : ""
        return DecodedImage(width: Int(width), height: Int(height), rgba: rgba, sourceFormat: "JPEG\(space) \(kind)")
    }
}
