import Foundation
import NN
import TensorCore

/// A tensor a module holds that is not a parameter (the reflection that finds parameters sees
/// only `Tensor` and `Module` properties): a MADE layer's mask.
public struct ConstantTensor {
    /// The tensor, never differentiated.
    public let tensor: Tensor
}

/// A dense layer whose weight is multiplied by a fixed 0/1 mask: y = x (W ⊙ M)ᵀ + b, the building
/// block of MADE (Germain et al. 2015). Shapes: x [batch, in] -> [batch, out]; W and M [out, in].
public final class MaskedLinear: Module {
    /// W, [out, in].
    public let weight: Tensor
    /// b, [out].
    public let bias: Tensor
    /// M, [out, in].
    public let mask: ConstantTensor

    /// A layer with `mask` ([out][in], 1 where a connection exists), weights uniform in
    /// ±1/√fan_in (PyTorch's default) and zero bias unless `bias` is given.
    public init(mask: [[Float]], bias initialBias: Float = 0, using generator: inout RandomGenerator) {
        let outputs = mask.count, inputs = mask.first?.count ?? 0
        precondition(outputs > 0 && inputs > 0 && mask.allSatisfy { $0.count == inputs }, "a mask of [out][in] values")
        let bound = 1 / Float(inputs).squareRoot()
        weight = Tensor.randomUniform([outputs, inputs], low: -bound, high: bound, using: &generator, requiresGradient: true)
        bias = Tensor(shape: [outputs], repeating: initialBias, requiresGradient: true)
        self.mask = ConstantTensor(tensor: Tensor(shape: [outputs, inputs], scalars: mask.flatMap { $0 }))
    }

    /// x (W ⊙ M)ᵀ + b.
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.matmul(x, weight * mask.tensor, transposeB: true) + bias }
}

/// One step of an inverse autoregressive flow (Kingma et al. 2016, "Improved Variational
/// Inference with Inverse Autoregressive Flow", §4 and algorithm 1): a MADE network reads z and
/// the encoder's context h and gives, for each dimension i, m_i and s_i from z_{<i} (in the
/// step's order) and h only; then
///
///     σ = sigmoid(s),   z' = σ ⊙ z + (1 − σ) ⊙ m,   log |det ∂z'/∂z| = Σ_i log σ_i.
///
/// The MADE has one hidden layer (ELU): hidden unit k has a degree d_k in 1...D−1 (cyclic); it
/// sees the inputs of degree ≤ d_k and all of h; output i (degree o_i) sees the hidden units of
/// degree < o_i. s starts near +1 (a bias of 1, the paper's forget-gate bias), so the first
/// steps stay near the identity.
public final class InverseAutoregressiveStep: Module {
    /// z → hidden, masked.
    public let input: MaskedLinear
    /// h → hidden, dense.
    public let context: Linear
    /// hidden → m, masked.
    public let shift: MaskedLinear
    /// hidden → s, masked.
    public let gate: MaskedLinear
    /// The degree of each dimension of z in this step (a permutation of 1...D).
    public let order: [Int]

    /// A step over `dimension` values with `hiddenSize` hidden units and a context of
    /// `contextSize`, its dimensions ordered by `order` (degrees 1...D).
    public init(dimension: Int, hiddenSize: Int, contextSize: Int, order: [Int], using generator: inout RandomGenerator) {
        precondition(order.sorted() == Array(1...dimension) && hiddenSize > 0, "the order must be a permutation of 1...\(dimension)")
        let hiddenDegrees = (0..<hiddenSize).map { dimension == 1 ? 0 : $0 % (dimension - 1) + 1 }
        let inputMask = hiddenDegrees.map { degree in order.map { Float($0 <= degree ? 1 : 0) } }
        let outputMask = order.map { degree in hiddenDegrees.map { Float($0 < degree ? 1 : 0) } }
        input = MaskedLinear(mask: inputMask, using: &generator)
        context = Linear(inputSize: contextSize, outputSize: hiddenSize, using: &generator)
        shift = MaskedLinear(mask: outputMask, using: &generator)
        gate = MaskedLinear(mask: outputMask, bias: 1, using: &generator)
        self.order = order
    }

    /// (m, s) for z [rows, D] and context h [rows, H].
    public func parameters(_ z: Tensor, context h: Tensor) -> (shift: Tensor, gate: Tensor) {
        let hidden = (input(z) + context(h)).elu()
        return (shift(hidden), gate(hidden))
    }

    /// z' and log σ per row summed, [rows].
    public func callAsFunction(_ z: Tensor, context h: Tensor) -> (z: Tensor, logDeterminant: Tensor) {
        let (m, s) = parameters(z, context: h)
        let sigma = s.sigmoid()
        let moved = sigma * z + (Float(1) - sigma) * m
        return (moved, sigma.log().sum(alongAxis: 1))
    }

    /// z from z' = σ ⊙ z + (1 − σ) ⊙ m, dimension by dimension in the step's order (each m_i and σ_i
    /// depends only on the dimensions before i): D passes through the network, without gradients.
    public func inverse(_ moved: [Float], rows: Int, context h: Tensor) -> [Float] {
        let d = order.count
        var z = [Float](repeating: 0, count: rows * d)
        for degree in 1...d {
            let i = order.firstIndex(of: degree)!
            let (m, s) = withoutGradients { parameters(Tensor(shape: [rows, d], scalars: z), context: h) }
            let (mValues, sValues) = (m.scalars, s.scalars)
            for row in 0..<rows {
                let sigma = 1 / (1 + Foundation.exp(-sValues[row * d + i]))
                z[row * d + i] = (moved[row * d + i] - (1 - sigma) * mValues[row * d + i]) / sigma
            }
        }
        return z
    }
}

/// The flow: `steps` IAF steps, each reading the dimensions in the reverse order of the one before
/// (the paper reverses z between steps; reversing the masks' order is the same map).
public final class InverseAutoregressiveFlow: Module {
    /// The steps, applied first to last.
    public let steps: [InverseAutoregressiveStep]

    /// `count` steps over `dimension` values, `hiddenSize` hidden units each, a context of `contextSize`.
    public init(steps count: Int, dimension: Int, hiddenSize: Int, contextSize: Int, using generator: inout RandomGenerator) {
        precondition(count >= 1, "a flow has at least one step")
        let forward = Array(1...dimension), backward = Array(forward.reversed())
        steps = (0..<count).map { step in
            InverseAutoregressiveStep(dimension: dimension, hiddenSize: hiddenSize, contextSize: contextSize,
                                      order: step % 2 == 0 ? forward : backward, using: &generator)
        }
    }

    /// z_T and Σ_t log |det| per row for z₀ [rows, D] and context h [rows, H].
    public func callAsFunction(_ z: Tensor, context h: Tensor) -> (z: Tensor, logDeterminant: Tensor) {
        var current = z
        var total: Tensor? = nil
        for step in steps {
            let (moved, logDeterminant) = step(current, context: h)
            current = moved
            total = total.map { $0 + logDeterminant } ?? logDeterminant
        }
        return (current, total!)
    }
}

/// q(z | x) as a diagonal Gaussian z₀ = μ + σ ε carried through an inverse autoregressive flow:
/// z = f_T ∘ … ∘ f₁(z₀), with
///
///     log q(z | x) = log N(z₀ | μ, σ²) − Σ_t log |det ∂f_t/∂z|
///
/// exact and cheap from ε (`logProbability(ofSampleFrom:)`). Its KL to any prior is estimated by
/// Monte Carlo; the IWAE bound uses the same log-density. `mean` is the flow of the Gaussian's
/// mean (ε = 0), the code drawn in pictures.
public struct FlowPosterior: ReparameterizedDistribution {
    /// q(z₀ | x).
    public let base: DiagonalGaussian
    /// The encoder's context h, [rows, H].
    public let context: Tensor
    /// The flow.
    public let flow: InverseAutoregressiveFlow

    /// The flow of `base` with `context`.
    public init(base: DiagonalGaussian, context: Tensor, flow: InverseAutoregressiveFlow) {
        precondition(context.shape[0] == base.rows, "one context row per posterior row")
        (self.base, self.context, self.flow) = (base, context, flow)
    }

    /// The rows, one posterior per image (or per sample).
    public var rows: Int { base.rows }
    /// The dimension of z.
    public var dimension: Int { base.dimension }

    public func sample(noise: Tensor) -> Tensor { flow(base.sample(noise: noise), context: context).z }

    public var mean: Tensor { flow(base.mean, context: context).z }

    public func repeatingRows(_ k: Int) -> FlowPosterior {
        FlowPosterior(base: base.repeatingRows(k), context: context.repeatingRows(k), flow: flow)
    }

    public func logProbability(ofSampleFrom noise: Tensor) -> Tensor {
        base.logProbability(ofSampleFrom: noise) - flow(base.sample(noise: noise), context: context).logDeterminant
    }

    /// log q(z) at any z: the flow inverted step by step (D network passes per step, without
    /// gradients in the inversion), then the Gaussian's density of z₀ less the log-determinants.
    public func logProbability(_ z: Tensor) -> Tensor {
        var values = withoutGradients { z.scalars }
        for step in flow.steps.reversed() { values = step.inverse(values, rows: rows, context: context) }
        let z0 = Tensor(shape: [rows, dimension], scalars: values)
        return base.logProbability(z0) - flow(z0, context: context).logDeterminant
    }
}

/// Which posterior q(z | x) a model has, saved in its architecture (`"posterior"`): the
/// diagonal Gaussian, or the Gaussian carried through an inverse autoregressive flow.
public struct PosteriorSettings: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The kinds of posterior.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// N(μ(x), diag σ(x)²).
        case gaussian
        /// The Gaussian through `flowSteps` IAF steps.
        case iaf
    }

    /// The kind.
    public var kind: Kind
    /// The flow's steps (0 for the Gaussian).
    public var flowSteps: Int
    /// Each step's hidden units, and the width of the encoder's context h (0 for the Gaussian).
    public var flowHiddenSize: Int

    /// The diagonal Gaussian.
    public static let gaussian = PosteriorSettings(kind: .gaussian, flowSteps: 0, flowHiddenSize: 0)

    /// An IAF posterior of `steps` steps of `hiddenSize` units.
    public static func iaf(steps: Int, hiddenSize: Int) -> PosteriorSettings { PosteriorSettings(kind: .iaf, flowSteps: steps, flowHiddenSize: hiddenSize) }

    /// "gaussian", "iaf (2 steps of 320 units)".
    public var description: String { kind == .gaussian ? "gaussian" : "iaf (\(flowSteps) step\(flowSteps == 1 ? "" : "s") of \(flowHiddenSize) units)" }

    /// The problem with these settings, or nil.
    public var problem: ConfigurationProblem? {
        guard kind == .iaf else { return nil }
        if !(1...64).contains(flowSteps) { return ConfigurationProblem(.posterior, "an IAF needs 1...64 steps, got \(flowSteps)") }
        if !(1...65_536).contains(flowHiddenSize) { return ConfigurationProblem(.posterior, "an IAF step needs 1...65536 hidden units, got \(flowHiddenSize)") }
        return nil
    }
}

extension Setting {
    /// The posterior q(z | x).
    public static let posterior = Setting("the posterior")
}
