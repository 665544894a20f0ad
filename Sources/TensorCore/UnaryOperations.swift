extension Tensor {
    /// y = f(x) elementwise, same shape; the gradient is f'(x) * dy.
    public func applying(_ function: UnaryFunction) -> Tensor {
        let x = self
        var outputStorage: TensorStorage? = nil
        let y = Tensor.result(shape: shape, inputs: [x]) { g in
            x.accumulateGradient { dx, accumulate in
                ElementwiseKernels.applyDerivative(
                    function, x: x.pointer, y: outputStorage!.pointer, outputGradient: g,
                    inputGradient: dx, count: x.count, accumulate: accumulate)
            }
        }
        ElementwiseKernels.apply(function, x.pointer, y.pointer, count: count)
        if y.isRecorded { outputStorage = y.storage }
        return y
    }

    /// e^x, elementwise; differentiable.
    public func exp() -> Tensor { applying(.exp) }
    /// The natural logarithm, elementwise; differentiable (d/dx = 1/x).
    public func log() -> Tensor { applying(.log) }
    /// x², elementwise; differentiable.
    public func squared() -> Tensor { applying(.square) }
    /// √x, elementwise; differentiable (d/dx = 1 / (2√x)).
    public func squareRoot() -> Tensor { applying(.sqrt) }
    /// σ(x) = 1 / (1 + e^−x), elementwise; differentiable (d/dx = σ(1 − σ)).
    public func sigmoid() -> Tensor { applying(.sigmoid) }
    /// tanh(x), elementwise; differentiable (d/dx = 1 − tanh²).
    public func tanh() -> Tensor { applying(.tanh) }
    /// max(x, 0), elementwise; differentiable (gradient 1 where x > 0, else 0).
    public func relu() -> Tensor { applying(.relu) }
    /// log(1 + e^x), elementwise and stable; differentiable (d/dx = σ(x)).
    public func softplus() -> Tensor { applying(.softplus) }
    /// SiLU (swish): x σ(x), elementwise; differentiable (d/dx = σ(x) (1 + x (1 − σ(x)))).
    public func silu() -> Tensor { applying(.silu) }
    /// ELU: x for x > 0, alpha (e^x − 1) otherwise, elementwise; differentiable.
    public func elu(alpha: Float = 1) -> Tensor { applying(.elu(alpha: alpha)) }
    /// Leaky ReLU: x for x > 0, slope · x otherwise, elementwise; differentiable.
    public func leakyRelu(slope: Float = 0.2) -> Tensor { applying(.leakyRelu(slope: slope)) }
    /// −x, elementwise; differentiable.
    public static prefix func - (x: Tensor) -> Tensor { x.applying(.negate) }
}
