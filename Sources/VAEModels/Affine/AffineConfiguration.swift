import Datasets
import Foundation
import NN
import TensorCore
import VAE

/// The architecture of a VAE whose decoder renders every pixel from its coordinate moved by a
/// learned affine transform (the kind "affine"; spatial-VAE, Bepler et al. 2019). Encoder: pixels
/// -> encoderHiddenSizes (ReLU) -> mean and softplus σ, contentSize + 6 wide (content first, then
/// the 6 transform parameters). Decoder: the coordinate MLP (2 + contentSize -> H -> H -> 1, see
/// `CoordinateDecoder`), a Gaussian of σ² = ½ around its image. Classifier on the content:
/// contentSize -> classifierHiddenSize (ReLU) -> classes, whose cross-entropy enters the loss
/// with `classifierWeight` (1e-3 by default).
public struct AffineModelConfiguration: ModelArchitecture {
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

    /// The architecture; the defaults are those of the write-up the model comes from.
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

    public static let kind = "affine"
    public static let kindDescription = "affine-transform VAE"
    public static var presets: [Preset] { AffinePresets.all }

    /// contentSize + 6.
    public var latentSize: Int { contentSize + 6 }
    /// A Gaussian of σ² = ½ around the rendered image.
    public var likelihood: Likelihood { .gaussian }

    /// "affine-transform VAE 784-512-512-16, decoder 12-128-128-1, transform column form".
    public var summary: String { "\(Self.kindDescription) \(architectureName), transform \(transformForm.rawValue) form" }

    /// The same architecture for grey images of another size (colour images are left to be refused).
    public func fitted(to shape: ImageShape) -> AffineModelConfiguration {
        guard shape.channels == 1 else { return self }
        var configuration = self
        (configuration.imageHeight, configuration.imageWidth) = (shape.height, shape.width)
        return configuration
    }

    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        try AffineVAE(self, using: &generator)
    }

    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if decoderHiddenSize <= 0 { found.append(ConfigurationProblem(.decoderHiddenSize, "must be positive, got \(decoderHiddenSize)")) }
        if contentSize <= 0 { found.append(ConfigurationProblem(.contentSize, "must be positive, got \(contentSize)")) }
        if encoderHiddenSizes.isEmpty || encoderHiddenSizes.contains(where: { $0 <= 0 }) {
            found.append(ConfigurationProblem(.encoderHiddenSizes, "must be one or more positive sizes, got \(encoderHiddenSizes)"))
        }
        if classifierHiddenSize <= 0 { found.append(ConfigurationProblem(.classifierHiddenSize, "must be positive, got \(classifierHiddenSize)")) }
        if !(2...256).contains(classes) { found.append(ConfigurationProblem(.classes, "must be 2...256, got \(classes)")) }
        if !ImageShape.grey(height: imageHeight, width: imageWidth).isValid {
            found.append(ConfigurationProblem(.imageShape, "must be 1...4096 pixels each way, got \(imageHeight)x\(imageWidth)"))
        }
        if !(classifierWeight >= 0 && classifierWeight.isFinite) { found.append(ConfigurationProblem(.classifierWeight, "must be a number >= 0, got \(classifierWeight)")) }
        return found
    }

    /// The encoder, the heads, the coordinate decoder and the classifier.
    public var approximateParameterCount: Double {
        let hidden = encoderHiddenSizes.map(Double.init), h = Double(decoderHiddenSize)
        return StandardChecks.chain([Double(inputSize)] + hidden) + 2 * StandardChecks.chain([hidden.last ?? 1, Double(latentSize)])
            + StandardChecks.chain([Double(contentSize + 2), h, h, 1]) + StandardChecks.chain([Double(latentSize), Double(classifierHiddenSize), Double(classes)])
    }
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

extension Setting {
    /// The coordinate decoder's hidden size H.
    public static let decoderHiddenSize = Setting("the decoder hidden size")
    /// The content part of z.
    public static let contentSize = Setting("the content size")
    /// The encoder's hidden sizes.
    public static let encoderHiddenSizes = Setting("the encoder hidden sizes")
    /// The classifier head's hidden size.
    public static let classifierHiddenSize = Setting("the classifier hidden size")
    /// The classifier head's class count.
    public static let classes = Setting("the class count")
    /// The classifier cross-entropy's weight.
    public static let classifierWeight = Setting("the classifier weight")
    /// The KL weight per latent element.
    public static let klWeight = Setting("the KL weight")
}
