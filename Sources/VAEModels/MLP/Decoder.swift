import NN
import TensorCore
import VAE

/// p(x | z)'s parameters: an MLP from the latent space to the likelihood's parameters (one logit
/// per pixel for the Bernoulli and the Gaussians; see `Likelihood.parameterChannels`).
/// Shapes: z [batch, latent] -> [batch, output]. Usable alone as a generator (designs D, E): for
/// logits, `callAsFunction(z)` gives the decoded images in [0, 1].
public final class Decoder: Module {
    /// The hidden layers, first to last.
    public let hidden: [Linear]
    /// The layer to the likelihood's parameters.
    public let output: Linear
    /// The activation after each hidden layer.
    public let activation: Activation
    /// What each hidden layer computes (dense, or gated: each `hidden` layer then has twice the
    /// units, the value and the gate).
    public let unit: HiddenUnit

    /// A decoder latentSize -> hiddenSizes (`unit`s with `activation`) -> outputSize values,
    /// initialised by `initializer`.
    public init(latentSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation, unit: HiddenUnit = .dense,
                initializer: Initializer, using generator: inout RandomGenerator) {
        precondition(!hiddenSizes.isEmpty, "the decoder needs at least one hidden layer")
        let sizes = [latentSize] + hiddenSizes
        hidden = zip(sizes, sizes.dropFirst()).map {
            Linear(inputSize: $0, outputSize: unit.linearOutputs(width: $1), initializer: initializer, using: &generator)
        }
        self.unit = unit
        output = Linear(inputSize: hiddenSizes.last!, outputSize: outputSize, initializer: initializer, using: &generator)
        self.activation = activation
    }

    /// The dimension of z.
    public var latentSize: Int { hidden[0].inputSize }

    /// The decoder's output: the logits ℓ of every pixel, or the likelihood's parameters.
    public func logits(_ z: Tensor) -> Tensor {
        var h = z
        for layer in hidden { h = unit(layer, h, activation: activation) }
        return output(h)
    }

    /// The decoded images, sigmoid(ℓ), in [0, 1].
    public func callAsFunction(_ z: Tensor) -> Tensor { logits(z).sigmoid() }
}

extension Decoder {
    /// Starts the output layer's bias at `likelihood`'s parameters for the mean image [C · H · W]
    /// of `channels` channels (`Likelihood.startingOutputBias(_:forMeans:channels:)`), per value.
    /// - Throws: `ConfigurationProblem` when the likelihood has no such start.
    func startOutputBias(atMeanImage means: [Float], channels: Int, likelihood: Likelihood) throws(ConfigurationProblem) {
        guard let bias = output.bias else { preconditionFailure("the decoder's output layer has a bias") }
        guard let values = likelihood.startingOutputBias(bias.scalars, forMeans: means, channels: channels) else { throw likelihood.outputBiasStartProblem! }
        values.withUnsafeBufferPointer { bias.pointer.update(from: $0.baseAddress!, count: bias.count) }
    }
}
