import CPNG
import Datasets
import Foundation
import Persistence

/// An 8-bit grey picture, row-major, 0 black and 255 white.
public struct GreyImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height, "a \(width)x\(height) image needs \(width * height) pixels, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, filledWith value: UInt8) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: value, count: width * height))
    }

    /// Intensities in [0, 1] (clamped) as grey levels, rounded to the nearest.
    public init(width: Int, height: Int, intensities: some Collection<Float>) {
        self.init(width: width, height: height, pixels: intensities.map(Self.level))
    }

    /// The grey level of an intensity in [0, 1] (clamped), rounded to the nearest.
    public static func level(_ intensity: Float) -> UInt8 {
        UInt8((min(max(intensity, 0), 1) * 255).rounded())
    }

    public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Each pixel repeated `factor` times in both directions.
    public func scaled(by factor: Int) -> GreyImage {
        precondition(factor >= 1, "scale must be at least 1, got \(factor)")
        guard factor > 1 else { return self }
        var out = GreyImage(width: width * factor, height: height * factor, filledWith: 0)
        for y in 0..<out.height {
            for x in 0..<out.width { out.pixels[y * out.width + x] = pixels[(y / factor) * width + x / factor] }
        }
        return out
    }

    /// The PNG file's bytes (8-bit greyscale), through libpng's simplified API.
    public func pngData() throws(PictureError) -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_GRAY)
        var size: png_alloc_size_t = 0
        let ok = pixels.withUnsafeBytes { raw in
            png_image_write_to_memory(&image, nil, &size, 0, raw.baseAddress, Int32(width), nil)
        }
        guard ok != 0, size > 0 else { throw .encodingFailed(reason: "libpng could not size the image") }
        var data = Data(count: Int(size))
        let written = data.withUnsafeMutableBytes { buffer in
            pixels.withUnsafeBytes { raw in
                png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, raw.baseAddress, Int32(width), nil)
            }
        }
        guard written != 0 else {
            throw .encodingFailed(reason: String(cString: withUnsafePointer(to: &image.message) { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }))
        }
        return data.prefix(Int(size))
    }

    /// Writes a PNG file atomically.
    public func writePNG(to url: URL) throws(PictureError) {
        let data = try pngData()
        do { try writeAtomically(data, to: url) } catch { throw .writeFailed(path: url.path, reason: error.reason) }
    }

    /// Reads a PNG file (any colour type) as grey: colour by luminance, transparency on white.
    public static func readPNG(from url: URL) throws(PictureError) -> GreyImage {
        let picture: PNGPicture
        do { picture = try PNGFile.read(from: url) } catch { throw .notAPNG(path: url.path, reason: error.reason) }
        return GreyImage(width: picture.width, height: picture.height, pixels: picture.grey)
    }
}

/// A picture could not be made, read or written.
public enum PictureError: Error, LocalizedError, Equatable {
    case encodingFailed(reason: String)
    case writeFailed(path: String, reason: String)
    case notAPNG(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .encodingFailed(reason): "cannot encode the picture: \(reason)"
        case let .writeFailed(path, reason): "cannot write \(path): \(reason)"
        case let .notAPNG(path, reason): "\(path) is not a readable PNG file: \(reason)"
        }
    }
}
