import NN
import TensorCore
import VAE

/// q(z | x) = N(μ(x), diag σ(x)²): an MLP trunk with two linear heads, the mean and the spread.
/// Shapes: x [batch, input] -> mean, spread [batch, latent]. Usable alone (a Keras VAE's encoder).
public final class GaussianEncoder: Module {
    /// The trunk's layers, first to last.
    public let hidden: [Linear]
    /// The head giving μ.
    public let mean: Linear
    /// The head giving the spread (see `varianceHead`).
    public let spread: Linear
    /// The activation after each trunk layer.
    public let activation: Activation
    /// How the spread head gives σ.
    public let varianceHead: VarianceHead
    /// What each trunk layer computes (dense, or gated: each `hidden` layer then has twice the
    /// units, the value and the gate).
    public let unit: HiddenUnit

    /// An encoder inputSize -> hiddenSizes (`unit`s with `activation`) -> two heads of latentSize,
    /// initialised by `initializer`.
    public init(inputSize: Int, hiddenSizes: [Int], latentSize: Int, activation: Activation, unit: HiddenUnit = .dense,
                varianceHead: VarianceHead, initializer: Initializer, using generator: inout RandomGenerator) {
        precondition(!hiddenSizes.isEmpty, "the encoder needs at least one hidden layer")
        let sizes = [inputSize] + hiddenSizes
        hidden = zip(sizes, sizes.dropFirst()).map {
            Linear(inputSize: $0, outputSize: unit.linearOutputs(width: $1), initializer: initializer, using: &generator)
        }
        self.unit = unit
        mean = Linear(inputSize: hiddenSizes.last!, outputSize: latentSize, initializer: initializer, using: &generator)
        spread = Linear(inputSize: hiddenSizes.last!, outputSize: latentSize, initializer: initializer, using: &generator)
        self.activation = activation
        self.varianceHead = varianceHead
    }

    /// q(z | x): the mean and the raw spread head (log σ², the softplus argument, or σ: see
    /// `varianceHead`) of x [batch, input].
    public func callAsFunction(_ x: Tensor) -> DiagonalGaussian { gaussian(features: features(x)) }

    /// The trunk's output [batch, last hidden size]: what the heads read (and a flow's context).
    public func features(_ x: Tensor) -> Tensor {
        var h = x
        for layer in hidden { h = unit(layer, h, activation: activation) }
        return h
    }

    /// The Gaussian the heads give for trunk output `features`.
    public func gaussian(features h: Tensor) -> DiagonalGaussian { DiagonalGaussian(mean: mean(h), spread: spread(h), head: varianceHead) }

    /// Values per input row.
    public var inputSize: Int { hidden[0].inputSize }
}
