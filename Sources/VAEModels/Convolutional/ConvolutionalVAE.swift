import Datasets
import NN
import TensorCore
import VAE

/// q(z | x) of a convolutional VAE: convolutions, flatten, dense layers, two linear heads.
/// Shapes: images [N, C, H, W] -> mean, spread [N, latent].
public final class ConvolutionalEncoder: Module {
    /// The convolutions, first to last.
    public let convolutions: [Conv2D]
    /// The dense layers after the flatten.
    public let dense: [Linear]
    /// The head giving μ.
    public let mean: Linear
    /// The head giving the spread.
    public let spread: Linear
    let flatten = Flatten()
    let activation: Activation
    let varianceHead: VarianceHead
    let condition: ModelCondition

    init(_ configuration: ConvolutionalModelConfiguration, initializer: Initializer, using generator: inout RandomGenerator) {
        var channels = configuration.imageShape.channels
        convolutions = configuration.encoderConvolutions.map { layer in
            defer { channels = layer.channels }
            return Conv2D(inputChannels: channels, outputChannels: layer.channels, kernel: SpatialPair(layer.kernel),
                          stride: SpatialPair(layer.stride), padding: SpatialPair(layer.padding), initializer: initializer, using: &generator)
        }
        let sizes = [configuration.flattenedSize! + (configuration.conditionClasses ?? 0)] + configuration.encoderDenseSizes
        condition = configuration.conditionClasses.map { .classes($0) } ?? .none
        dense = zip(sizes, sizes.dropFirst()).map { Linear(inputSize: $0, outputSize: $1, initializer: initializer, using: &generator) }
        mean = Linear(inputSize: sizes.last!, outputSize: configuration.latentSize, initializer: initializer, using: &generator)
        spread = Linear(inputSize: sizes.last!, outputSize: configuration.latentSize, initializer: initializer, using: &generator)
        activation = configuration.activation
        varianceHead = configuration.varianceHead
    }

    /// q(z | x), or q(z | x, y) with the one-hot y [N, K] joining the flattened features.
    public func callAsFunction(_ images: Tensor, condition y: Tensor? = nil) -> DiagonalGaussian {
        var h = images
        for layer in convolutions { h = layer(h, then: activation) }
        h = condition.joined(flatten(h), y)
        for layer in dense { h = layer(h, then: activation) }
        return DiagonalGaussian(mean: mean(h), spread: spread(h), head: varianceHead)
    }
}

/// p(x | z)'s parameters for a convolutional VAE: dense layers to a grid, transposed
/// convolutions to the likelihood's P parameter channels (C logits for the Bernoulli).
/// Shapes: z [N, latent] -> [N, P, H, W] (planar).
public final class ConvolutionalDecoder: Module {
    /// The hidden dense layers, then the projection to the starting grid.
    public let dense: [Linear]
    /// The hidden transposed convolutions.
    public let convolutions: [ConvTranspose2D]
    /// The transposed convolution to the likelihood's parameter channels.
    public let output: ConvTranspose2D
    let reshape: Reshape
    let activation: Activation

    init(_ configuration: ConvolutionalModelConfiguration, initializer: Initializer, using generator: inout RandomGenerator) {
        let grid = configuration.decoderGrid!
        guard case let .success(stages) = configuration.decoderStages else { preconditionFailure("invalid decoder: \(configuration.problems)") }
        let sizes = [configuration.latentSize + (configuration.conditionClasses ?? 0)] + configuration.decoderDenseSizes + [grid.count]
        dense = zip(sizes, sizes.dropFirst()).map { Linear(inputSize: $0, outputSize: $1, initializer: initializer, using: &generator) }
        reshape = Reshape([grid.channels, grid.height, grid.width])
        var channels = grid.channels
        let layers = stages.enumerated().map { index, stage in
            let outputChannels = index == stages.count - 1 ? configuration.outputChannels : stage.layer.channels
            defer { channels = outputChannels }
            return ConvTranspose2D(inputChannels: channels, outputChannels: outputChannels, kernel: SpatialPair(stage.layer.kernel),
                                   stride: SpatialPair(stage.layer.stride), padding: SpatialPair(stage.layer.padding),
                                   outputPadding: stage.outputPadding, initializer: initializer, using: &generator)
        }
        convolutions = Array(layers.dropLast())
        output = layers.last!
        activation = configuration.activation
    }

    /// z [N, latent] (joined with the condition when there is one) -> the likelihood's
    /// parameters [N, P · H · W], planar.
    public func logits(_ z: Tensor) -> Tensor {
        var h = z
        for layer in dense { h = layer(h, then: activation) }
        h = reshape(h)
        for layer in convolutions { h = layer(h, then: activation) }
        return output(h).planarImages()
    }
}

/// A convolutional VAE under the model contract. Images enter and leave as [N, C · H · W] rows
/// (planar), as for every model; inside, they are [N, C, H, W] images.
///
/// Checkpoint keys follow PyTorch's module names for the same structure, so the file loads into
/// a `torch.nn.Module` with attributes `encoder.convolutions` (a ModuleList of Conv2d),
/// `encoder.dense` (Linear), `encoder.mean`, `encoder.spread`, `decoder.dense`,
/// `decoder.convolutions` (ConvTranspose2d) and `decoder.output`: `Conv2d.weight` [out, in, kh, kw],
/// `ConvTranspose2d.weight` [in, out, kh, kw], `Linear.weight` [out, in]; the dense layer after
/// the flatten reads the (C, H, W) order of `torch.flatten`. A learned-variance Gaussian adds
/// `likelihood.logVariance`.
public final class ConvolutionalVAE: Module, VariationalModel {
    /// q(z | x).
    public let encoder: ConvolutionalEncoder
    /// p(x | z)'s parameters.
    public let decoder: ConvolutionalDecoder
    /// The decoder's output to p(x | z), with the likelihood's own parameters.
    public let likelihood: LikelihoodHead
    /// The architecture.
    public let configuration: ConvolutionalModelConfiguration

    /// A model of `configuration`'s architecture with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture (for
    ///   example layers that do not fit the image size).
    public init(_ configuration: ConvolutionalModelConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification(configuration).validate()
        let initializer = Initializer(rawValue: configuration.initializer)!
        encoder = ConvolutionalEncoder(configuration, initializer: initializer, using: &generator)
        decoder = ConvolutionalDecoder(configuration, initializer: initializer, using: &generator)
        likelihood = LikelihoodHead(configuration.likelihood, imageShape: configuration.imageShape)
        self.configuration = configuration
    }

    public var latentSize: Int { configuration.latentSize }
    public var imageShape: ImageShape { configuration.imageShape }
    public var condition: ModelCondition { configuration.conditionClasses.map { .classes($0) } ?? .none }
    public var specification: ModelSpecification { ModelSpecification(configuration) }

    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        let shape = configuration.imageShape
        return encoder(x.reshaped(to: [x.shape[0], shape.channels, shape.height, shape.width]), condition: condition)
    }

    /// p(x | z), or p(x | z, y) with the one-hot y [N, K] joining z before the dense layers.
    public func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        let output = decoder.logits(self.condition.joined(z, condition))
        return likelihood(output.reshaped(to: [z.shape[0], likelihood.outputSize]))
    }
}

extension ConvolutionalVAE: DataStartedOutputBias {
    /// Starts the output convolution's bias, one per channel, at the likelihood's output for each
    /// channel's mean value over the mean image.
    public func startOutputBias(atMeanImage means: [Float]) throws(ConfigurationProblem) {
        let shape = imageShape
        precondition(means.count == shape.count, "a mean image of \(means.count) values for \(shape) images")
        let plane = shape.height * shape.width
        let channelMeans = (0..<shape.channels).map { channel in
            Float(means[(channel * plane)..<((channel + 1) * plane)].reduce(0.0) { $0 + Double($1) } / Double(plane))
        }
        guard let bias = decoder.output.bias else { preconditionFailure("the output convolution has a bias") }
        guard let values = likelihood.likelihood.startingOutputBias(bias.scalars, forMeans: channelMeans, channels: shape.channels) else {
            throw likelihood.likelihood.outputBiasStartProblem!
        }
        values.withUnsafeBufferPointer { bias.pointer.update(from: $0.baseAddress!, count: bias.count) }
    }
}
