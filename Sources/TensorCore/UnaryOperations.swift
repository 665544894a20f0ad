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

    public func exp() -> Tensor { applying(.exp) }
    public func log() -> Tensor { applying(.log) }
    public func squared() -> Tensor { applying(.square) }
    public func squareRoot() -> Tensor { applying(.sqrt) }
    public func sigmoid() -> Tensor { applying(.sigmoid) }
    public func tanh() -> Tensor { applying(.tanh) }
    public func relu() -> Tensor { applying(.relu) }
    public func softplus() -> Tensor { applying(.softplus) }
    public func elu(alpha: Float = 1) -> Tensor { applying(.elu(alpha: alpha)) }
    public static prefix func - (x: Tensor) -> Tensor { x.applying(.negate) }
}
