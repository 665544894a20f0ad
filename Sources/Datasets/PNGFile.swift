import CPNG
import Foundation
import Persistence

/// A picture read from a PNG file, as grey levels (0 black, 255 white), with what it was.
public struct PNGPicture: Equatable, Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Row-major grey levels; colour is converted by luminance, transparency composited on white.
    public let grey: [UInt8]
    /// "grey", "RGB", "palette", each with " with alpha" when the file had transparency.
    public let sourceFormat: String
}

/// A PNG file could not be read.
public struct PNGError: Error, LocalizedError, Equatable {
    /// The file's path.
    public let path: String
    /// What libpng or the checks found wrong.
    public let reason: String

    /// An error about the file at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// "PATH is not a readable PNG file: REASON".
    public var errorDescription: String? { "\(path) is not a readable PNG file: \(reason)" }
}

/// Reads PNG files of any colour type and bit depth through libpng's simplified API.
public enum PNGFile {
    /// Reads and decodes the PNG file at `url` to grey levels.
    /// - Throws: `PNGError` when the file cannot be opened, is not a PNG, or is damaged.
    public static func read(from url: URL) throws(PNGError) -> PNGPicture {
        let data: Data
        do { data = try readFile(url, maximumBytes: ImageFile.maximumFileBytes) } catch { throw PNGError(path: url.path, reason: error.reason) }
        return try decode(data, path: url.path)
    }

    /// Decodes PNG bytes; `path` names the source in errors.
    public static func decode(_ data: Data, path: String) throws(PNGError) -> PNGPicture {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard data.withUnsafeBytes({ png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }) != 0 else {
            throw PNGError(path: path, reason: message(of: &image))
        }
        let format = image.format
        let hasAlpha = format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let kind = format & UInt32(PNG_FORMAT_FLAG_COLORMAP) != 0 ? "palette"
            : format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0 ? "RGB" : "grey"
        image.format = UInt32(PNG_FORMAT_GA)
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= ImageFile.maximumPixels else {
            png_image_free(&image)
            throw PNGError(path: path, reason: "\(width)x\(height) pixels is not a usable size (at most \(ImageFile.maximumPixels) pixels)")
        }
        var pairs = [UInt8](repeating: 0, count: 2 * width * height)
        let ok = data.withUnsafeBytes { _ in
            pairs.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(2 * width), nil) }
        }
        guard ok != 0 else { throw PNGError(path: path, reason: message(of: &image)) }
        // Composite on white: g a + 255 (1 - a), with 8-bit non-premultiplied grey and alpha.
        var grey = [UInt8](repeating: 0, count: width * height)
        for index in grey.indices {
            let (level, alpha) = (Int(pairs[2 * index]), Int(pairs[2 * index + 1]))
            grey[index] = UInt8((level * alpha + 255 * (255 - alpha) + 127) / 255)
        }
        return PNGPicture(width: width, height: height, grey: grey, sourceFormat: kind + (hasAlpha ? " with alpha" : ""))
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafePointer(to: &image.message) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }
}
