import TensorCore

/// How a layer's weights and biases start.
public enum Initializer: String, Sendable, CaseIterable {
    /// PyTorch's nn.Linear default (Kaiming uniform with a = sqrt(5)): weight and bias both
    /// uniform in ±1/sqrt(fanIn).
    case pytorchDefault = "pytorch"
    /// Keras's Dense default: weight Glorot uniform, ±sqrt(6 / (fanIn + fanOut)); bias zero.
    case glorotUniform = "glorot"

    /// A weight [fanOut, fanIn] and bias [fanOut], drawn from `generator`.
    public func weightAndBias(fanIn: Int, fanOut: Int, using generator: inout RandomGenerator) -> (weight: Tensor, bias: Tensor) {
        switch self {
        case .pytorchDefault:
            let bound = 1 / Float(fanIn).squareRoot()
            let weight = Tensor.randomUniform([fanOut, fanIn], low: -bound, high: bound, using: &generator, requiresGradient: true)
            let bias = Tensor.randomUniform([fanOut], low: -bound, high: bound, using: &generator, requiresGradient: true)
            return (weight, bias)
        case .glorotUniform:
            let bound = (6 / Float(fanIn + fanOut)).squareRoot()
            let weight = Tensor.randomUniform([fanOut, fanIn], low: -bound, high: bound, using: &generator, requiresGradient: true)
            return (weight, Tensor.zeros([fanOut], requiresGradient: true))
        }
    }
}
