import Datasets
import NN
import TensorCore
import VAE

/// A VAE whose decoder renders every pixel from its coordinate, moved by an affine transform read
/// from the last 6 latent dimensions (spatial-VAE, Bepler et al. 2019), so that decoding with the
/// transform switched off (A = I) gives the image in a canonical frame, at any resolution: the
/// kind "affine".
///
/// Keys: `encoder.*` (see `GaussianEncoder`), `decoder.first|second|output.*`,
/// `classifier.layers.0|1.*`.
public final class AffineVAE: Module, VariationalModel {
    /// q(z | x) over content and transform.
    public let encoder: GaussianEncoder
    /// The coordinate decoder.
    public let decoder: CoordinateDecoder
    /// The classifier head on the content part of μ.
    public let classifier: MultilayerPerceptron
    /// The architecture.
    public let configuration: AffineModelConfiguration

    /// A model of `configuration`'s architecture with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture.
    public init(_ configuration: AffineModelConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification(configuration).validate()
        encoder = GaussianEncoder(inputSize: configuration.inputSize, hiddenSizes: configuration.encoderHiddenSizes,
                                  latentSize: configuration.latentSize, activation: .relu, varianceHead: .softplusStandardDeviation,
                                  initializer: .pytorchDefault, using: &generator)
        decoder = CoordinateDecoder(contentSize: configuration.contentSize, hiddenSize: configuration.decoderHiddenSize,
                                    initializer: .pytorchDefault, using: &generator)
        classifier = MultilayerPerceptron(sizes: [configuration.contentSize, configuration.classifierHiddenSize, configuration.classes],
                                          activation: .relu, using: &generator)
        self.configuration = configuration
    }

    public var latentSize: Int { configuration.latentSize }
    public var imageShape: ImageShape { configuration.imageShape }
    public var condition: ModelCondition { .none }
    public var specification: ModelSpecification { ModelSpecification(configuration) }

    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        precondition(condition == nil, "the affine model is unconditional")
        return encoder(x)
    }

    /// A Gaussian around the rendered image (the coordinate decoder ends in its own sigmoid):
    /// its −log p is the squared error.
    public func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        precondition(condition == nil, "the affine model is unconditional")
        return FixedVarianceGaussian(mean: render(z))
    }

    /// It renders at any size, with its transform on or off.
    public var rendering: (any AdjustableRendering)? { self }

    /// The classifier head learns from the labels.
    public var usesLabels: Bool { true }

    /// The classifier term: classifierWeight · CE(classifier(content of z), labels), batch mean.
    public func extraLossTerms(_ output: ModelOutput, labels: [Int]) -> [ExtraLossTerm] {
        guard !labels.isEmpty, configuration.classifierWeight > 0 else { return [] }
        let crossEntropy = softmaxCrossEntropy(logits: classifier(content(output.z)), labels: labels, reduction: .mean)
        return [ExtraLossTerm(name: "classifier cross-entropy", weighted: crossEntropy * configuration.classifierWeight,
                              value: Double(crossEntropy.item))]
    }

    /// The reconstruction MSE per value (z = μ, transform on) and the classifier's accuracy.
    public func figures(on dataset: ImageDataset) -> [(name: String, value: Double)] {
        let evaluation = evaluate(dataset)
        var figures = [(name: "reconstruction MSE", value: evaluation.reconstructionMSE)]
        if dataset.isLabelled { figures.append((name: "accuracy", value: evaluation.accuracy)) }
        return figures
    }

    /// The content part of latent vectors [B, C + 6] -> [B, C].
    public func content(_ z: Tensor) -> Tensor { z.sliced(lastAxis: 0..<configuration.contentSize) }

    /// Images decoded from z on `grid` (default: the training size), with the learned transform
    /// or (transformOn false) with A = I.
    public func render(_ z: Tensor, grid: PixelGrid? = nil, transformOn: Bool = true) -> Tensor {
        decoder(z, grid: grid ?? configuration.grid, transform: transformOn ? configuration.transformForm : nil)
    }
}

extension AffineVAE: AdjustableRendering {
    public var trainingSize: (height: Int, width: Int) { (configuration.imageHeight, configuration.imageWidth) }
    public var sizes: ClosedRange<Int> { 4...512 }
    public var hasSwitchableTransform: Bool { true }
    public var transformDimensions: Range<Int>? { configuration.contentSize..<configuration.latentSize }

    public func render(latents: [Float], height: Int, width: Int, transformOn: Bool) -> [Float] {
        renderImages(latents, grid: PixelGrid(width: width, height: height), transformOn: transformOn)
    }
}
