import Foundation
import Datasets
import NN

/// Design B's architecture. Encoder: pixels -> encoderHiddenSizes (ReLU) -> mean and softplus σ,
/// contentSize + 6 wide (content first, then the 6 transform parameters). Decoder: the
/// coordinate MLP (2 + contentSize -> H -> H -> 1, see `CoordinateDecoder`). Classifier on the
/// content: contentSize -> classifierHiddenSize (ReLU) -> classes, whose cross-entropy enters
/// the loss with `classifierWeight` (the design: 1e-3).
public struct AffineModelConfiguration: Codable, Equatable, Sendable {
    /// The images' width in pixels.
    public var imageWidth: Int
    /// The images' height in pixels.
    public var imageHeight: Int
    /// The encoder's hidden layer sizes.
    public var encoderHiddenSizes: [Int]
    /// The content part of z (the rest is the 6 transform parameters).
    public var contentSize: Int
    /// H, the coordinate decoder's hidden width.
    public var decoderHiddenSize: Int
    /// The classifier head's hidden width.
    public var classifierHiddenSize: Int
    /// The classifier head's classes.
    public var classes: Int
    /// How the 6 transform parameters become the affine matrix (see `AffineForm`).
    public var transformForm: AffineForm
    /// The classifier cross-entropy's weight in the loss.
    public var classifierWeight: Float

    /// Design B's architecture (the defaults are the design's).
    public init(imageWidth: Int = 28, imageHeight: Int = 28, encoderHiddenSizes: [Int] = [512, 512], contentSize: Int = 10,
                decoderHiddenSize: Int = 512, classifierHiddenSize: Int = 512, classes: Int = 10, transformForm: AffineForm = .column,
                classifierWeight: Float = 1e-3) {
        self.classifierWeight = classifierWeight
        (self.imageWidth, self.imageHeight, self.encoderHiddenSizes, self.contentSize) = (imageWidth, imageHeight, encoderHiddenSizes, contentSize)
        (self.decoderHiddenSize, self.classifierHiddenSize, self.classes, self.transformForm) = (decoderHiddenSize, classifierHiddenSize, classes, transformForm)
    }

    enum CodingKeys: String, CodingKey {
        case imageWidth, imageHeight, encoderHiddenSizes, contentSize, decoderHiddenSize, classifierHiddenSize, classes, transformForm, classifierWeight
    }

    /// Reads a configuration; files written before the classifier weight was part of the model get the design's 1e-3.
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageWidth = try c.decode(Int.self, forKey: .imageWidth)
        imageHeight = try c.decode(Int.self, forKey: .imageHeight)
        encoderHiddenSizes = try c.decode([Int].self, forKey: .encoderHiddenSizes)
        contentSize = try c.decode(Int.self, forKey: .contentSize)
        decoderHiddenSize = try c.decode(Int.self, forKey: .decoderHiddenSize)
        classifierHiddenSize = try c.decode(Int.self, forKey: .classifierHiddenSize)
        classes = try c.decode(Int.self, forKey: .classes)
        transformForm = try c.decode(AffineForm.self, forKey: .transformForm)
        classifierWeight = try c.decodeIfPresent(Float.self, forKey: .classifierWeight) ?? 1e-3
    }

    /// contentSize + 6.
    public var latentSize: Int { contentSize + 6 }
    /// Grey images of imageHeight x imageWidth.
    public var imageShape: ImageShape { .grey(height: imageHeight, width: imageWidth) }
    /// Pixels per image.
    public var inputSize: Int { imageWidth * imageHeight }
    /// The pixel centres' coordinates at the training resolution.
    public var grid: PixelGrid { PixelGrid(width: imageWidth, height: imageHeight) }
    /// E.g. "784-512-512-16, decoder 12-128-128-1".
    public var architectureName: String {
        ([inputSize] + encoderHiddenSizes + [latentSize]).map(String.init).joined(separator: "-")
            + ", decoder \(2 + contentSize)-\(decoderHiddenSize)-\(decoderHiddenSize)-1"
    }
}
