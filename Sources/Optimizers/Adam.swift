import TensorCore

/// Adam (Kingma & Ba) with PyTorch's update, one flat pass over all parameters:
/// m ← β₁ m + (1 - β₁) g;  v ← β₂ v + (1 - β₂) g²;
/// p ← p - (η / (1 - β₁ᵗ)) · m / (√v / √(1 - β₂ᵗ) + ε).
/// Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (PyTorch's and Keras's).
///
/// With a weight decay λ > 0 it is AdamW (Loshchilov & Hutter 2019, PyTorch's `AdamW`): each
/// step first scales every parameter, p ← p (1 − η λ), then applies the update above; the decay
/// never enters the moments.
public final class Adam: Optimizer {
    /// The packed parameters.
    public let parameters: ParameterPack
    /// η.
    public var learningRate: Float
    /// β₁, the first moment's decay.
    public let beta1: Float
    /// β₂, the second moment's decay.
    public let beta2: Float
    /// ε.
    public let epsilon: Float
    /// λ, the decoupled weight decay (0: plain Adam).
    public let weightDecay: Float
    /// PyTorch's `AdamW` default λ.
    public static let defaultWeightDecay: Float = 0.01
    private let firstMoment: StateBuffer
    private let secondMoment: StateBuffer
    private var steps = 0

    /// An optimizer over `parameters` (packed into one buffer); AdamW when `weightDecay` > 0.
    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0) {
        precondition(weightDecay >= 0 && weightDecay.isFinite, "a weight decay is a finite number >= 0")
        self.weightDecay = weightDecay
        self.parameters = ParameterPack(parameters)
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = StateBuffer(count: self.parameters.count)
        secondMoment = StateBuffer(count: self.parameters.count)
    }

    /// One Adam update of every parameter in one pass (the AVX-512 kernel where the processor has it).
    public func step() {
        steps += 1
        let t = Double(steps)
        let correction1 = 1 - pow(Double(beta1), t), correction2 = 1 - pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / correction1)
        let inverseRootCorrection2 = Float(1 / correction2.squareRoot())
        let coefficients = Coefficients(beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize,
                                        inverseRootCorrection2: inverseRootCorrection2)
        parameters.settleGradients()
        let p = parameters.values, g = parameters.gradients, m = firstMoment.pointer, v = secondMoment.pointer
        let wide = AVX512Kernels.isAvailable
        let decayFactor = 1 - learningRate * weightDecay
        ParallelLoop.shared.run(count: parameters.count, grain: 1 << 14) { start, end in
            if decayFactor != 1 { Self.scale(p + start, count: end - start, by: decayFactor) }
            if wide {
                AVX512Kernels.adamUpdate(values: p + start, gradients: g + start, firstMoment: m + start, secondMoment: v + start,
                                         count: end - start, beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize,
                                         inverseRootCorrection2: inverseRootCorrection2)
            } else {
                Self.update(p + start, g + start, m + start, v + start, count: end - start, coefficients)
            }
        }
    }

    /// p ← p · factor over one contiguous range (AdamW's decay).
    @inline(__always)
    static func scale(_ p: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        let vectorFactor = SIMD8<Float>(repeating: factor)
        while i &+ 8 <= count {
            let raw = UnsafeMutableRawPointer(p + i)
            raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) * vectorFactor, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count { p[i] *= factor; i &+= 1 }
    }

    /// The scalars of one update, with the bias corrections folded in: the step size η / (1 − β₁ᵗ)
    /// and 1 / √(1 − β₂ᵗ).
    public struct Coefficients {
        /// The coefficients of one step.
        public init(beta1: Float, beta2: Float, epsilon: Float, stepSize: Float, inverseRootCorrection2: Float) {
            (self.beta1, self.beta2, self.epsilon, self.stepSize, self.inverseRootCorrection2) = (beta1, beta2, epsilon, stepSize, inverseRootCorrection2)
        }
        /// β₁, β₂, ε, η / (1 − β₁ᵗ) and 1 / √(1 − β₂ᵗ).
        public let beta1, beta2, epsilon, stepSize, inverseRootCorrection2: Float
    }

    /// The update over one contiguous range in Swift (the reference for the AVX-512 kernel, and the
    /// path on processors without AVX-512), 8 lanes at a time (SIMD8 keeps every value in
    /// registers on the baseline SSE build, where SIMD16 spills). √v comes from a division-free
    /// reciprocal square root: two Newton steps from the exponent-bit estimate and one Heron
    /// correction (relative error ~1e-10 before rounding). v below 1e-30 is treated as 1e-30:
    /// √ is then 1e-15, under one ulp of ε = 1e-8 in the denominator.
    @inline(__always)
    package static func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                       _ v: UnsafeMutablePointer<Float>, count: Int, _ c: Coefficients) {
        typealias Vector = SIMD8<Float>
        let (b1, b2) = (Vector(repeating: c.beta1), Vector(repeating: c.beta2))
        let (c1, c2) = (Vector(repeating: 1 - c.beta1), Vector(repeating: 1 - c.beta2))
        let eps = Vector(repeating: c.epsilon), stepSize = Vector(repeating: c.stepSize)
        let inverseRootCorrection2 = Vector(repeating: c.inverseRootCorrection2)
        @inline(__always) func load(_ pointer: UnsafeMutablePointer<Float>, _ i: Int) -> Vector {
            UnsafeRawPointer(pointer + i).loadUnaligned(as: Vector.self)
        }
        @inline(__always) func store(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>, _ i: Int) {
            UnsafeMutableRawPointer(pointer + i).storeBytes(of: value, as: Vector.self)
        }
        var i = 0
        while i &+ 8 <= count {
            let gradient = load(g, i)
            let mNew = b1 * load(m, i) + c1 * gradient
            var vNew = b2 * load(v, i) + c2 * gradient * gradient
            store(mNew, m, i)
            store(vNew, v, i)
            vNew.replace(with: 1e-30, where: vNew .< 1e-30)
            var y = unsafeBitCast(0x5F37_5A86 &- (unsafeBitCast(vNew, to: SIMD8<UInt32>.self) &>> 1), to: Vector.self)
            let half = 0.5 * vNew
            y = y * (1.5 - half * y * y)
            y = y * (1.5 - half * y * y)
            var root = vNew * y
            root = root + (vNew - root * root) * (0.5 * y)
            store(load(p, i) - stepSize * mNew / (root * inverseRootCorrection2 + eps), p, i)
            i &+= 8
        }
        while i < count {  // the tail, exactly
            let gradient = g[i]
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * gradient
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * gradient * gradient
            p[i] -= c.stepSize * m[i] / (v[i].squareRoot() * c.inverseRootCorrection2 + c.epsilon)
            i &+= 1
        }
    }

    /// The moments ("first_moment", "second_moment") and the step count.
    public var state: OptimizerState {
        OptimizerState(step: steps, buffers: ["first_moment": firstMoment.values, "second_moment": secondMoment.values])
    }

    /// Restores a state saved by `state`.
    /// - Throws: `OptimizerStateError` when a buffer is missing or of the wrong length.
    public func restore(_ state: OptimizerState) throws(OptimizerStateError) {
        try firstMoment.restore(state.buffers["first_moment"], name: "first_moment")
        try secondMoment.restore(state.buffers["second_moment"], name: "second_moment")
        steps = state.step
    }
}

import Foundation
