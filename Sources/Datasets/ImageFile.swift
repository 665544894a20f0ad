import CPNG
import CTurboJPEG
import Foundation
import Persistence

/// A decoded picture: 8-bit red, green, blue and alpha per pixel, row-major, non-premultiplied.
public struct RGBAPicture: Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// width · height · 4 bytes: R, G, B, A per pixel, row by row.
    public let rgba: [UInt8]
    /// What the file held, e.g. "PNG RGB with alpha", "JPEG 4:2:0".
    public let sourceFormat: String
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

/// Reads PNG (libpng's simplified API: any colour type and bit depth) and JPEG (libjpeg-turbo)
/// files as RGBA, by their content (the signature), not their name.
public enum ImageFile {
    /// The largest picture decoded, in pixels (a guard against decompression bombs).
    public static let maximumPixels = 1 << 26
    /// The largest image file read, in bytes.
    public static let maximumFileBytes = 1 << 30

    /// Reads and decodes the PNG or JPEG file at `url` (recognised by its signature) to RGBA.
    /// - Throws: `ImageFileError` when the file cannot be read, is neither format, is damaged, or is
    /// larger than `maximumFileBytes` or `maximumPixels`.
    public static func read(from url: URL) throws(ImageFileError) -> RGBAPicture {
        let data: Data
        do { data = try readFile(url, maximumBytes: maximumFileBytes) } catch { throw ImageFileError(path: url.path, reason: error.reason) }
        return try decode(data, path: url.path)
    }

    /// Decodes PNG or JPEG bytes; `path` names the source in errors.
    public static func decode(_ data: Data, path: String) throws(ImageFileError) -> RGBAPicture {
        let bytes = [UInt8](data.prefix(8))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return try decodePNG(data, path: path) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(data, path: path) }
        if data.isEmpty { throw ImageFileError(path: path, reason: "the file is empty") }
        throw ImageFileError(path: path, reason: "it is neither a PNG nor a JPEG file (its first bytes are \(bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")))")
    }

    static func decodePNG(_ data: Data, path: String) throws(ImageFileError) -> RGBAPicture {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw ImageFileError(path: path, reason: "PNG: " + message(of: &image)) }
        let format = image.format
        let kind = format & UInt32(PNG_FORMAT_FLAG_COLORMAP) != 0 ? "palette" : format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0 ? "RGB" : "grey"
        let alpha = format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let (width, height) = (Int(image.width), Int(image.height))
        guard width > 0, height > 0, width * height <= maximumPixels else {
            png_image_free(&image)
            throw ImageFileError(path: path, reason: "\(width)x\(height) pixels is not a usable size (at most \(maximumPixels) pixels)")
        }
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)  // PNG_FORMAT_RGBA
        var rgba = [UInt8](repeating: 0, count: 4 * width * height)
        let finished = data.withUnsafeBytes { _ in
            rgba.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(4 * width), nil) }
        }
        guard finished != 0 else { throw ImageFileError(path: path, reason: "PNG: " + message(of: &image)) }
        return RGBAPicture(width: width, height: height, rgba: rgba, sourceFormat: "PNG \(kind)" + (alpha ? " with alpha" : ""))
    }

    static func decodeJPEG(_ data: Data, path: String) throws(ImageFileError) -> RGBAPicture {
        guard let handle = tjInitDecompress() else { throw ImageFileError(path: path, reason: "JPEG: libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        var (width, height, subsampling, colourSpace): (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
        let header = data.withUnsafeBytes { raw in
            tjDecompressHeader3(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), &width, &height, &subsampling, &colourSpace)
        }
        guard header == 0 else { throw ImageFileError(path: path, reason: "JPEG: " + String(cString: tjGetErrorStr2(handle))) }
        guard width > 0, height > 0, Int(width) * Int(height) <= maximumPixels else {
            throw ImageFileError(path: path, reason: "\(width)x\(height) pixels is not a usable size (at most \(maximumPixels) pixels)")
        }
        var rgba = [UInt8](repeating: 0, count: 4 * Int(width) * Int(height))
        let status = data.withUnsafeBytes { raw in
            rgba.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), out.baseAddress,
                              width, 0, height, Int32(TJPF_RGBA.rawValue), 0)
            }
        }
        // A warning (for example extraneous bytes after the image) still gives the full picture.
        if status != 0 && tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) {
            throw ImageFileError(path: path, reason: "JPEG: " + String(cString: tjGetErrorStr2(handle)))
        }
        let names = ["4:4:4", "4:2:2", "4:2:0", "grey", "4:4:0", "4:1:1"]
        let kind = (0..<Int32(names.count)).contains(subsampling) ? names[Int(subsampling)] : "subsampling \(subsampling)"
        return RGBAPicture(width: Int(width), height: Int(height), rgba: rgba, sourceFormat: "JPEG \(kind)")
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafePointer(to: &image.message) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }
}
