import TensorCore

/// y = x Wᵀ + b with PyTorch's layout and names: `weight` [out, in], `bias` [out].
/// Shapes: x [batch, in] -> [batch, out].
public final class Linear: Module {
    /// The weights W, [out, in].
    public let weight: Tensor
    /// The bias b, [out], or nil for a layer without one.
    public let bias: Tensor?

    /// A layer from `inputSize` to `outputSize` features, initialised by `initializer`
    /// (PyTorch's uniform ±1/√in for the weights and the bias by default) from `generator`.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true,
                initializer: Initializer = .pytorchDefault, using generator: inout RandomGenerator) {
        precondition(inputSize > 0 && outputSize > 0, "Linear needs positive sizes, got \(inputSize) -> \(outputSize)")
        let (weight, bias0) = initializer.weightAndBias(fanIn: inputSize, fanOut: outputSize, using: &generator)
        self.weight = weight
        self.bias = bias ? bias0 : nil
    }

    /// Features in.
    public var inputSize: Int { weight.shape[1] }
    /// Features out.
    public var outputSize: Int { weight.shape[0] }

    /// y = x Wᵀ + b: [batch, in] -> [batch, out]; differentiable in x, W and b.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight, bias: bias)
    }

    /// activation(x Wᵀ + b). A ReLU is fused into the product (`Tensor.linear(relu:)`: no pass
    /// of its own forward, one shared with the bias gradient backward); other activations
    /// follow as their own op.
    public func callAsFunction(_ x: Tensor, then activation: Activation) -> Tensor {
        activation == .relu ? Tensor.linear(x, weight: weight, bias: bias, relu: true) : activation(self(x))
    }
}
