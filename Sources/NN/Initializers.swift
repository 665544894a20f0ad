import TensorCore

/// How a layer's weights and biases start.
public enum Initializer: String, Codable, Sendable, CaseIterable {
    /// PyTorch's nn.Linear default (Kaiming uniform with a = sqrt(5)): weight and bias both
    /// uniform in ±1/sqrt(fanIn).
    case pytorchDefault = "pytorch"
    /// Keras's Dense default: weight Glorot uniform, ±sqrt(6 / (fanIn + fanOut)); bias zero.
    case glorotUniform = "glorot"
    /// He et al.'s normal: weight N(0, 2 / fanIn), bias as PyTorch's default (uniform in
    /// ±1/sqrt(fanIn)); the VampPrior paper's code (`he_init`) draws its weights so.
    case heNormal = "he"

    /// A weight [fanOut, fanIn] and bias [fanOut], drawn from `generator`.
    public func weightAndBias(fanIn: Int, fanOut: Int, using generator: inout RandomGenerator) -> (weight: Tensor, bias: Tensor) {
        weightAndBias(weightShape: [fanOut, fanIn], biasCount: fanOut, fanIn: fanIn, fanOut: fanOut, using: &generator)
    }

    /// A weight of any shape and a bias of `biasCount`, for a layer whose fans are given (a
    /// convolution's are channels times the kernel's pixels, counted as PyTorch counts them:
    /// fan-in from the weight's dimension 1, fan-out from dimension 0).
    public func weightAndBias(weightShape: [Int], biasCount: Int, fanIn: Int, fanOut: Int,
                              using generator: inout RandomGenerator) -> (weight: Tensor, bias: Tensor) {
        switch self {
        case .pytorchDefault:
            let bound = 1 / Float(fanIn).squareRoot()
            let weight = Tensor.randomUniform(weightShape, low: -bound, high: bound, using: &generator, requiresGradient: true)
            let bias = Tensor.randomUniform([biasCount], low: -bound, high: bound, using: &generator, requiresGradient: true)
            return (weight, bias)
        case .glorotUniform:
            let bound = (6 / Float(fanIn + fanOut)).squareRoot()
            let weight = Tensor.randomUniform(weightShape, low: -bound, high: bound, using: &generator, requiresGradient: true)
            return (weight, Tensor.zeros([biasCount], requiresGradient: true))
        case .heNormal:
            let weight = Tensor.randomNormal(weightShape, mean: 0, standardDeviation: (2 / Float(fanIn)).squareRoot(), using: &generator, requiresGradient: true)
            let bound = 1 / Float(fanIn).squareRoot()
            let bias = Tensor.randomUniform([biasCount], low: -bound, high: bound, using: &generator, requiresGradient: true)
            return (weight, bias)
        }
    }
}
