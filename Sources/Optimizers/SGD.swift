import TensorCore

/// Stochastic gradient descent with momentum and weight decay, PyTorch's rule:
/// g ← g + λ p;  v ← μ v + g (v = g on the first step);  p ← p - η v.
public final class SGD: Optimizer {
    /// The packed parameters.
    public let parameters: ParameterPack
    /// η.
    public var learningRate: Float
    /// μ (0: plain gradient descent).
    public let momentum: Float
    /// λ, the L2 penalty's coefficient.
    public let weightDecay: Float
    private let velocity: StateBuffer
    private var steps = 0

    /// An optimizer over `parameters` (packed into one buffer).
    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = ParameterPack(parameters)
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = StateBuffer(count: self.parameters.count)
    }

    /// One update of every parameter.
    public func step() {
        parameters.settleGradients()
        let p = parameters.values, g = parameters.gradients, v = velocity.pointer
        let (lr, mu, decay) = (FloatVector(repeating: learningRate), FloatVector(repeating: momentum), FloatVector(repeating: weightDecay))
        let first = steps == 0
        forEachVector(parameters.count) { i, n in
            let value = loadVector(p, i, n)
            var update = loadVector(g, i, n) + decay * value
            if momentum != 0 {
                update = first ? update : mu * loadVector(v, i, n) + update
                storeVector(update, v, i, n)
            }
            storeVector(value - lr * update, p, i, n)
        }
        steps += 1
    }

    /// The velocity ("velocity") and the step count.
    public var state: OptimizerState { OptimizerState(step: steps, buffers: ["velocity": velocity.values]) }

    /// Restores a state saved by `state`.
    /// - Throws: `OptimizerStateError` when a buffer is missing or of the wrong length.
    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try velocity.restore(state.buffers["velocity"], name: "velocity")
        steps = state.step
    }
}
