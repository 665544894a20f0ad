import CPNG
import Datasets
import Foundation
import Persistence

/// An 8-bit picture, grey (1 channel, 0 black and 255 white) or colour (3 channels, red, green,
/// blue), row-major with the channels of a pixel side by side (as PNG stores them).
public struct Picture: Equatable, Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// 1 (grey) or 3 (red, green, blue).
    public let channels: Int
    /// width · height · channels levels, row by row, a pixel's channels side by side.
    public var pixels: [UInt8]

    /// A picture of the given levels; `pixels` must hold width · height · channels values.
    public init(width: Int, height: Int, channels: Int = 1, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "a picture has 1 or 3 channels, got \(channels)")
        precondition(width > 0 && height > 0 && pixels.count == width * height * channels,
                     "a \(width)x\(height) picture of \(channels) channels needs \(width * height * channels) values, got \(pixels.count)")
        (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
    }

    /// A picture with every level `value`.
    public init(width: Int, height: Int, channels: Int = 1, filledWith value: UInt8) {
        self.init(width: width, height: height, channels: channels, pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// Intensities in [0, 1] (clamped) as grey levels, rounded to the nearest.
    public init(width: Int, height: Int, intensities: some Collection<Float>) {
        self.init(width: width, height: height, pixels: intensities.map(Self.level))
    }

    /// The grey level of an intensity in [0, 1] (clamped), rounded to the nearest; NaN, which
    /// has no level, is drawn black.
    public static func level(_ intensity: Float) -> UInt8 {
        intensity.isNaN ? 0 : UInt8((min(max(intensity, 0), 1) * 255).rounded())
    }

    /// The level of `channel` at column x, row y.
    public subscript(x: Int, y: Int, channel: Int = 0) -> UInt8 {
        get { pixels[(y * width + x) * channels + channel] }
        set { pixels[(y * width + x) * channels + channel] = newValue }
    }

    /// Each pixel repeated `factor` times in both directions.
    public func scaled(by factor: Int) -> Picture {
        precondition(factor >= 1, "scale must be at least 1, got \(factor)")
        guard factor > 1 else { return self }
        var out = Picture(width: width * factor, height: height * factor, channels: channels, filledWith: 0)
        for y in 0..<out.height {
            for x in 0..<out.width {
                for c in 0..<channels { out.pixels[(y * out.width + x) * channels + c] = pixels[((y / factor) * width + x / factor) * channels + c] }
            }
        }
        return out
    }

    /// The PNG file's bytes (8-bit grey or RGB), through libpng's simplified API.
    public func pngData() throws(PictureError) -> Data {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : UInt32(PNG_FORMAT_GRAY)
        var size: png_alloc_size_t = 0
        let ok = pixels.withUnsafeBytes { raw in
            png_image_write_to_memory(&image, nil, &size, 0, raw.baseAddress, Int32(width * channels), nil)
        }
        guard ok != 0, size > 0 else { throw .encodingFailed(reason: "libpng could not size the image") }
        var data = Data(count: Int(size))
        let written = data.withUnsafeMutableBytes { buffer in
            pixels.withUnsafeBytes { raw in
                png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, raw.baseAddress, Int32(width * channels), nil)
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

    /// One image of `shape` (C x H x W values in [0, 1], planar) as a picture, each value v shown
    /// as level round(255 · clamp(v, 0, 1)).
    public init(values: [Float], shape: ImageShape) {
        precondition(values.count == shape.count, "a \(shape) image needs \(shape.count) values, got \(values.count)")
        var pixels = [UInt8](repeating: 0, count: shape.count)
        for c in 0..<shape.channels {
            for index in 0..<shape.pixels { pixels[index * shape.channels + c] = Self.level(values[c * shape.pixels + index]) }
        }
        self.init(width: shape.width, height: shape.height, channels: shape.channels, pixels: pixels)
    }

    /// Reads a PNG or JPEG file (through `ImageFile`, the one decoder) at its own size,
    /// composited on white where transparent: grey when every pixel is grey, colour otherwise.
    public static func read(from url: URL) throws(PictureError) -> Picture {
        let image: DecodedImage
        do { image = try ImageFile.read(from: url) } catch { throw .unreadable(path: url.path, reason: error.reason) }
        let transformed = ImageTransform(colour: .auto).apply(image)
        return Picture(values: transformed.values, shape: transformed.shape)
    }
}

/// A picture could not be made, read or written.
public enum PictureError: Error, LocalizedError, Equatable {
    case encodingFailed(reason: String)
    case writeFailed(path: String, reason: String)
    case unreadable(path: String, reason: String)

    /// The file and what went wrong.
    public var errorDescription: String? {
        switch self {
        case let .encodingFailed(reason): "cannot encode the picture: \(reason)"
        case let .writeFailed(path, reason): "cannot write \(path): \(reason)"
        case let .unreadable(path, reason): "\(path) is not a readable image: \(reason)"
        }
    }
}
