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

    /// The mean and the raw spread head (log σ², the softplus argument, or σ: see `varianceHead`).
    public func callAsFunction(_ x: Tensor) -> (mean: Tensor, spread: Tensor) {
        var h = x
        for layer in hidden { h = activation(layer(h)) }
        return (mean(h), spread(h))
    }

    /// σ from the raw spread head.
    public func standardDeviation(fromSpread spread: Tensor) -> Tensor {
        switch varianceHead {
        case .logVariance: (spread * 0.5).exp()
        case .softplusStandardDeviation: spread.softplus()
        case .standardDeviation: spread
        }
    }

    /// log σ² from the raw spread head.
    public func logVariance(fromSpread spread: Tensor) -> Tensor {
        switch varianceHead {
        case .logVariance: spread
        case .softplusStandardDeviation: spread.softplus().log() * 2
        case .standardDeviation: spread.squared().log()
        }
    }

    /// KL(q(z | x) || N(0, I)) per example, [batch], in closed form.
    public func klDivergence(mean: Tensor, spread: Tensor, reduction: Reduction) -> Tensor {
        switch varianceHead {
        case .logVariance: gaussianKLDivergence(mean: mean, logVariance: spread, reduction: reduction)
        case .softplusStandardDeviation: gaussianKLDivergence(mean: mean, standardDeviation: spread.softplus(), reduction: reduction)
        case .standardDeviation: gaussianKLDivergence(mean: mean, standardDeviation: spread, reduction: reduction)
        }
    }
}
