import NN
import TensorCore

/// Design B: a VAE whose decoder renders every pixel from its coordinate, moved by an affine
/// transform read from the last 6 latent dimensions, so that decoding with the transform
/// switched off (A = I) gives the digit in a canonical frame, at any resolution.
///
/// Keys: `encoder.*` (see `GaussianEncoder`), `decoder.first|second|output.*`,
/// `classifier.layers.0|1.*`.
public final class AffineVAE: Module {
    public let encoder: GaussianEncoder
    public let decoder: CoordinateDecoder
    public let classifier: MultilayerPerceptron
    public let configuration: AffineModelConfiguration

    public init(_ configuration: AffineModelConfiguration, using generator: inout RandomGenerator) {
        encoder = GaussianEncoder(inputSize: configuration.inputSize, hiddenSizes: configuration.encoderHiddenSizes,
                                  latentSize: configuration.latentSize, activation: .relu, varianceHead: .softplusStandardDeviation,
                                  initializer: .pytorchDefault, using: &generator)
        decoder = CoordinateDecoder(contentSize: configuration.contentSize, hiddenSize: configuration.decoderHiddenSize,
                                    initializer: .pytorchDefault, using: &generator)
        classifier = MultilayerPerceptron(sizes: [configuration.contentSize, configuration.classifierHiddenSize, configuration.classes],
                                          activation: .relu, using: &generator)
        self.configuration = configuration
    }

    /// The content part of latent vectors [B, C + 6] -> [B, C].
    public func content(_ z: Tensor) -> Tensor { z.sliced(lastAxis: 0..<configuration.contentSize) }

    /// Images decoded from z on `grid` (default: the training size), with the learned transform
    /// or (transformOn false) with A = I.
    public func render(_ z: Tensor, grid: PixelGrid? = nil, transformOn: Bool = true) -> Tensor {
        decoder(z, grid: grid ?? configuration.grid, transform: transformOn ? configuration.transformForm : nil)
    }
}
