import TensorCore

/// Adam (Kingma & Ba) with PyTorch's update, one flat pass over all parameters:
/// m ← β₁ m + (1 - β₁) g;  v ← β₂ v + (1 - β₂) g²;
/// p ← p - (η / (1 - β₁ᵗ)) · m / (√v / √(1 - β₂ᵗ) + ε).
/// Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (PyTorch's and Keras's).
public final class Adam: Optimizer {
    public let parameters: ParameterPack
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    private let firstMoment: StateBuffer
    private let secondMoment: StateBuffer
    private var steps = 0

    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.parameters = ParameterPack(parameters)
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = StateBuffer(count: self.parameters.count)
        secondMoment = StateBuffer(count: self.parameters.count)
    }

    public func step() {
        steps += 1
        let t = Double(steps)
        let correction1 = 1 - pow(Double(beta1), t), correction2 = 1 - pow(Double(beta2), t)
        let stepSize = FloatVector(repeating: Float(Double(learningRate) / correction1))
        let inverseRootCorrection2 = FloatVector(repeating: Float(1 / correction2.squareRoot()))
        let (b1, b2) = (FloatVector(repeating: beta1), FloatVector(repeating: beta2))
        let (c1, c2) = (FloatVector(repeating: 1 - beta1), FloatVector(repeating: 1 - beta2))
        let eps = FloatVector(repeating: epsilon)
        let p = parameters.values, g = parameters.gradients, m = firstMoment.pointer, v = secondMoment.pointer
        forEachVector(parameters.count) { i, n in
            let gradient = loadVector(g, i, n)
            let mNew = b1 * loadVector(m, i, n) + c1 * gradient
            let vNew = b2 * loadVector(v, i, n) + c2 * gradient * gradient
            storeVector(mNew, m, i, n)
            storeVector(vNew, v, i, n)
            let denominator = VectorMath.squareRoot(vNew) * inverseRootCorrection2 + eps
            storeVector(loadVector(p, i, n) - stepSize * mNew / denominator, p, i, n)
        }
    }

    public var state: OptimizerState {
        OptimizerState(step: steps, buffers: ["first_moment": firstMoment.values, "second_moment": secondMoment.values])
    }

    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try firstMoment.restore(state.buffers["first_moment"], name: "first_moment")
        try secondMoment.restore(state.buffers["second_moment"], name: "second_moment")
        steps = state.step
    }
}

import Foundation
