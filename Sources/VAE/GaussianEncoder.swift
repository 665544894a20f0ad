import NN
import TensorCore

/// q(z | x) = N(μ(x), diag σ(x)²): an MLP trunk with two linear heads, the mean and the spread.
/// Shapes: x [batch, input] -> mean, spread [batch, latent]. Usable alone (design D's encoder).
public final class GaussianEncoder: Module {
    public let hidden: [Linear]
    public let mean: Linear
    public let spread: Linear
    public let activation: Activation
    public let varianceHead: VarianceHead

    public init(inputSize: Int, hiddenSizes: [Int], latentSize: Int, activation: Activation,
                varianceHead: VarianceHead, initializer: Initializer, using generator: inout RandomGenerator) {
        precondition(!hiddenSizes.isEmpty, "the encoder needs at least one hidden layer")
        let sizes = [inputSize] + hiddenSizes
        hidden = zip(sizes, sizes.dropFirst()).map {
            Linear(inputSize: $0, outputSize: $1, initializer: initializer, using: &generator)
        }
        mean = Linear(inputSize: hiddenSizes.last!, outputSize: latentSize, initializer: initializer, using: &generator)
        spread = Linear(inputSize: hiddenSizes.last!, outputSize: latentSize, initializer: initializer, using: &generator)
        self.activation = activation
        self.varianceHead = varianceHead
    }

    /// q(z | x): the mean and the raw spread head (log σ², the softplus argument, or σ: see
    /// `varianceHead`) of x [batch, input].
    public func callAsFunction(_ x: Tensor) -> DiagonalGaussian {
        var h = x
        for layer in hidden { h = layer(h, then: activation) }
        return DiagonalGaussian(mean: mean(h), spread: spread(h), head: varianceHead)
    }

    /// Values per input row.
    public var inputSize: Int { hidden[0].inputSize }
}
