import TensorCore

/// RMSprop with PyTorch's update: v ← α v + (1 - α) g²;  p ← p - η g / (√v + ε).
/// PyTorch's defaults are α = 0.99, ε = 1e-8 (η = 1e-2); Keras's are ρ = 0.9, ε = 1e-7
/// (η = 1e-3), reachable with `RMSprop.keras(parameters:)` or the initialiser's arguments.
public final class RMSprop: Optimizer {
    /// The packed parameters.
    public let parameters: ParameterPack
    /// η.
    public var learningRate: Float
    /// α, the square average's decay (Keras's ρ).
    public let alpha: Float
    /// ε, added to the root of the square average.
    public let epsilon: Float
    private let squareAverage: StateBuffer
    private var steps = 0

    /// An optimizer over `parameters` (packed into one buffer) with PyTorch's defaults.
    public init(parameters: [Tensor], learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8) {
        self.parameters = ParameterPack(parameters)
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        squareAverage = StateBuffer(count: self.parameters.count)
    }

    /// Keras's defaults: learning rate 1e-3, ρ = 0.9, ε = 1e-7.
    public static func keras(parameters: [Tensor], learningRate: Float = 1e-3) -> RMSprop {
        RMSprop(parameters: parameters, learningRate: learningRate, alpha: 0.9, epsilon: 1e-7)
    }

    /// v ← α v + (1 − α) g²; p ← p − η g / (√v + ε).
    public func step() {
        let (a, c) = (FloatVector(repeating: alpha), FloatVector(repeating: 1 - alpha))
        let (lr, eps) = (FloatVector(repeating: learningRate), FloatVector(repeating: epsilon))
        parameters.settleGradients()
        let p = parameters.values, g = parameters.gradients, v = squareAverage.pointer
        forEachVector(parameters.count) { i, n in
            let gradient = loadVector(g, i, n)
            let average = a * loadVector(v, i, n) + c * gradient * gradient
            storeVector(average, v, i, n)
            storeVector(loadVector(p, i, n) - lr * gradient / (VectorMath.squareRoot(average) + eps), p, i, n)
        }
        steps += 1
    }

    /// The square average ("square_average") and the step count.
    public var state: OptimizerState { OptimizerState(step: steps, buffers: ["square_average": squareAverage.values]) }

    /// Restores a state saved by `state`.
    /// - Throws: `OptimizerStateError` when a buffer is missing or of the wrong length.
    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try squareAverage.restore(state.buffers["square_average"], name: "square_average")
        steps = state.step
    }
}
