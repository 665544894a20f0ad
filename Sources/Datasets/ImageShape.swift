/// The shape of one image: channels x height x width (1 channel grey, 3 colour: red, green,
/// blue). Values are stored planar, channel after channel, each channel row-major:
/// value (c, y, x) is at index (c · height + y) · width + x.
public struct ImageShape: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Channels: 1 (grey) or 3 (red, green, blue).
    public var channels: Int
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int

    /// A shape of `channels` planes of `height` x `width`; see `isValid` for the shapes datasets accept.
    public init(channels: Int, height: Int, width: Int) {
        (self.channels, self.height, self.width) = (channels, height, width)
    }

    /// A grey image of height x width.
    public static func grey(height: Int, width: Int) -> ImageShape { ImageShape(channels: 1, height: height, width: width) }

    /// 1 x 28 x 28, the shape of MNIST and Fashion-MNIST.
    public static let mnist = ImageShape.grey(height: 28, width: 28)

    /// Values per image, C · H · W.
    public var count: Int { channels * height * width }
    /// Pixels per channel, H · W.
    public var pixels: Int { height * width }
    /// Whether the shape is one the toolkit handles: 1 or 3 channels, each side 1 to 4096.
    public var isValid: Bool { (channels == 1 || channels == 3) && height > 0 && width > 0 && height <= 4096 && width <= 4096 }

    /// "1x28x28".
    public var description: String { "\(channels)x\(height)x\(width)" }

    /// The grey square image whose side² is `count`, for files that record only an input size.
    public static func square(count: Int) -> ImageShape? {
        let side = Int(Double(count).squareRoot().rounded())
        return side > 0 && side * side == count ? .grey(height: side, width: side) : nil
    }
}
