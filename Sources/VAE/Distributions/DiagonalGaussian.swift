import Foundation
import NN
import TensorCore

/// How the encoder parameterises the spread of q(z | x) = N(μ, diag σ²).
public enum VarianceHead: String, Codable, CaseIterable, Sendable {
    /// The head outputs v = log σ²; σ = exp(v / 2) (designs A, C, D and the PyTorch example).
    case logVariance = "log-variance"
    /// The head outputs s; σ = softplus(s) = log(1 + eˢ) (the affine kind's encoder).
    case softplusStandardDeviation = "softplus-std"
    /// The head outputs σ itself, unconstrained; the KL uses log σ² (a Keras example's linear z_sigma).
    case standardDeviation = "std"
    /// The head outputs u; log σ² = hardtanh(u) = min(max(u, −6), 2), so σ stays in [e⁻³, e]
    /// (the VampPrior paper's `Hardtanh(min_val=-6, max_val=2)` log-variance heads).
    case clampedLogVariance = "log-variance-clamped"

    /// The clamped head's bounds on log σ².
    public static let clampedLogVarianceRange: ClosedRange<Float> = -6...2

    /// log σ² from a clamped head's raw output u: hardtanh written as
    /// −6 + relu(u + 6) − relu(u − 2), which has its gradient (1 inside the range, 0 outside).
    static func clampedLogVariance(_ u: Tensor) -> Tensor {
        let range = clampedLogVarianceRange
        return (u - range.lowerBound).relu() - (u - range.upperBound).relu() + range.lowerBound
    }
}

/// A diagonal Gaussian N(μ, diag σ²) per row, kept in the encoder's own spread
/// parameterisation (see `VarianceHead`). Shapes: mean and spread [rows, dimension].
public struct DiagonalGaussian: ReparameterizedDistribution {
    /// μ, [rows, dimension].
    public let mean: Tensor
    /// The raw spread head: log σ², the softplus argument, or σ itself.
    public let spread: Tensor
    /// How `spread` maps to σ.
    public let head: VarianceHead

    /// A Gaussian from the encoder's two heads.
    public init(mean: Tensor, spread: Tensor, head: VarianceHead) {
        precondition(mean.rank == 2 && mean.shape == spread.shape, "mean \(mean.shape) and spread \(spread.shape) must have one [rows, dimension] shape")
        (self.mean, self.spread, self.head) = (mean, spread, head)
    }

    /// A Gaussian with log-variance v = log σ².
    public init(mean: Tensor, logVariance: Tensor) {
        self.init(mean: mean, spread: logVariance, head: .logVariance)
    }

    /// The rows, one distribution each.
    public var rows: Int { mean.shape[0] }
    /// The dimension of z.
    public var dimension: Int { mean.shape[1] }

    /// σ, [rows, dimension] (differentiable).
    public var standardDeviation: Tensor {
        switch head {
        case .logVariance: (spread * 0.5).exp()
        case .softplusStandardDeviation: spread.softplus()
        case .standardDeviation: spread
        case .clampedLogVariance: (VarianceHead.clampedLogVariance(spread) * 0.5).exp()
        }
    }

    /// log σ², [rows, dimension] (differentiable).
    public var logVariance: Tensor {
        switch head {
        case .logVariance: spread
        case .softplusStandardDeviation: spread.softplus().log() * 2
        case .standardDeviation: spread.squared().log()
        case .clampedLogVariance: VarianceHead.clampedLogVariance(spread)
        }
    }

    /// z = μ + σ ⊙ ε for noise ε [rows, dimension] (the reparameterisation trick).
    public func sample(noise: Tensor) -> Tensor {
        precondition(noise.shape == mean.shape, "noise \(noise.shape) must have the mean's shape \(mean.shape)")
        return mean + standardDeviation * noise
    }

    /// z = μ + σ ⊙ ε, or z = μ when `noise` is nil.
    public func sample(noise: Tensor?) -> Tensor { noise.map { sample(noise: $0) } ?? mean }

    /// log q(z) per row, [rows]: −½ Σ_d ((z_d − μ_d)² / σ_d² + log σ_d² + log 2π).
    public func logProbability(_ z: Tensor) -> Tensor {
        let logVariance = self.logVariance
        let standardised = (z - mean).squared() / logVariance.exp()
        return (standardised + logVariance + Float(Foundation.log(2 * Double.pi))).sum(alongAxis: 1) * -0.5
    }

    /// log q(z) for z = μ + σ ε, [rows]: −½ Σ_d (ε_d² + log σ_d² + log 2π), with ε a constant.
    public func logProbability(ofSampleFrom noise: Tensor) -> Tensor {
        let noiseTerm = Tensor(shape: [rows], scalars: withoutGradients { noise.squared().sum(alongAxis: 1).scalars })
        return (noiseTerm + logVariance.sum(alongAxis: 1) + Float(Double(dimension) * Foundation.log(2 * Double.pi))) * -0.5
    }

    /// KL(q || N(0, I)) = ½ Σ_d (μ_d² + σ_d² − log σ_d² − 1), in closed form (one fused kernel),
    /// reduced over the rows as asked (`.none`: [rows]).
    public func klDivergence(reduction: Reduction) -> Tensor {
        switch head {
        case .logVariance: gaussianKLDivergence(mean: mean, logVariance: spread, reduction: reduction)
        case .softplusStandardDeviation: gaussianKLDivergence(mean: mean, standardDeviation: spread.softplus(), reduction: reduction)
        case .standardDeviation: gaussianKLDivergence(mean: mean, standardDeviation: spread, reduction: reduction)
        case .clampedLogVariance: gaussianKLDivergence(mean: mean, logVariance: VarianceHead.clampedLogVariance(spread), reduction: reduction)
        }
    }

    /// KL(q || N(0, I)) per dimension, [rows, dimension]: ½ (μ² + σ² − log σ² − 1).
    public var klDivergencePerDimension: Tensor {
        let logVariance = self.logVariance
        return (mean.squared() + logVariance.exp() - logVariance - 1) * 0.5
    }

    /// KL(q || p) to another diagonal Gaussian per row, [rows]:
    /// ½ Σ_d (log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²) / σ_p² − 1).
    public func klDivergence(to prior: DiagonalGaussian) -> Tensor {
        klDivergencePerDimension(to: prior).sum(alongAxis: 1)
    }

    /// The terms of `klDivergence(to:)` per dimension, [rows, dimension].
    public func klDivergencePerDimension(to prior: DiagonalGaussian) -> Tensor {
        precondition(prior.mean.shape == mean.shape, "the prior \(prior.mean.shape) must have the posterior's shape \(mean.shape)")
        let (logVariance, priorLogVariance) = (self.logVariance, prior.logVariance)
        return (priorLogVariance - logVariance + (logVariance.exp() + (mean - prior.mean).squared()) / priorLogVariance.exp() - 1) * 0.5
    }

    /// The same distribution with every row repeated k times ([rows · k, dimension], row r · k + i
    /// is row r's i-th copy).
    public func repeatingRows(_ k: Int) -> DiagonalGaussian {
        k == 1 ? self : DiagonalGaussian(mean: mean.repeatingRows(k), spread: spread.repeatingRows(k), head: head)
    }
}
