import Foundation
import TensorCore

/// Which covariance DIP-VAE pushes towards the identity (Kumar, Sattigeri & Balakrishnan 2018,
/// "Variational Inference of Disentangled Latent Concepts from Unlabeled Observations").
public enum DIPVariant: String, Codable, CaseIterable, Sendable {
    /// DIP-VAE-I: Cov_x[μ(x)], the covariance of the posterior means over the batch (eq. 6).
    case i
    /// DIP-VAE-II: E_x[Σ(x)] + Cov_x[μ(x)], the covariance of the aggregate posterior (eq. 7).
    case ii
}

/// DIP-VAE's regulariser of one batch's posteriors (mean μ, log-variance v, [rows, dimension]):
///
///     C = Cov_n[μ_n] (+ diag(mean_n e^(v_n)) for DIP-VAE-II),   Cov with 1/rows (the population form)
///     R = λ_od Σ_(i≠j) C_ij² + λ_d Σ_i (C_ii − 1)²
///
/// as disentanglement_lib's `DIPVAE.regularizer` computes it, a scalar. Its gradient:
/// with G = ∂R/∂C (2 λ_od C_ij off the diagonal, 2 λ_d (C_ii − 1) on it, symmetric),
/// ∂R/∂μ_n = (2 / rows) G (μ_n − μ̄) and, for DIP-VAE-II, ∂R/∂v_nd = G_dd e^(v_nd) / rows.
public func dipRegulariser(mean: Tensor, logVariance: Tensor, variant: DIPVariant, lambdaOffDiagonal: Float, lambdaDiagonal: Float) -> Tensor {
    precondition(mean.rank == 2 && mean.shape == logVariance.shape, "mean and log-variance must share one shape [rows, dimension]")
    let (rows, dimension) = (mean.shape[0], mean.shape[1])
    let count = Float(rows)
    // The centred means and the covariance, in Float (a few hundred values).
    var centred = [Float](repeating: 0, count: rows * dimension)
    var means = [Float](repeating: 0, count: dimension)
    for n in 0..<rows { for d in 0..<dimension { means[d] += mean.pointer[n * dimension + d] / count } }
    for n in 0..<rows { for d in 0..<dimension { centred[n * dimension + d] = mean.pointer[n * dimension + d] - means[d] } }
    var covariance = [Float](repeating: 0, count: dimension * dimension)
    for n in 0..<rows {
        for a in 0..<dimension {
            let left = centred[n * dimension + a]
            for b in 0..<dimension { covariance[a * dimension + b] += left * centred[n * dimension + b] / count }
        }
    }
    if variant == .ii {
        for n in 0..<rows { for d in 0..<dimension { covariance[d * dimension + d] += Float(exp(Double(logVariance.pointer[n * dimension + d]))) / count } }
    }
    // R and G = ∂R/∂C.
    var value: Float = 0
    var slope = [Float](repeating: 0, count: dimension * dimension)
    for a in 0..<dimension {
        for b in 0..<dimension {
            let entry = covariance[a * dimension + b]
            if a == b {
                value += lambdaDiagonal * (entry - 1) * (entry - 1)
                slope[a * dimension + b] = 2 * lambdaDiagonal * (entry - 1)
            } else {
                value += lambdaOffDiagonal * entry * entry
                slope[a * dimension + b] = 2 * lambdaOffDiagonal * entry
            }
        }
    }
    let inputs = variant == .ii ? [mean, logVariance] : [mean]
    let output = Tensor.result(shape: [], inputs: inputs) { gradient in
        let seed = gradient[0]
        mean.accumulateGradient { target, accumulate in
            for n in 0..<rows {
                for a in 0..<dimension {
                    // ∂R/∂μ_na = (2 / rows) (G c_n)_a: G is symmetric, and Σ_n c_n = 0 removes μ̄'s share.
                    var sum: Float = 0
                    for b in 0..<dimension { sum += slope[a * dimension + b] * centred[n * dimension + b] }
                    let value = 2 * seed * sum / count
                    let index = n * dimension + a
                    target[index] = (accumulate ? target[index] : 0) + value
                }
            }
        }
        if variant == .ii {
            logVariance.accumulateGradient { target, accumulate in
                for n in 0..<rows {
                    for d in 0..<dimension {
                        let index = n * dimension + d
                        let local = slope[d * dimension + d] * Float(exp(Double(logVariance.pointer[index]))) / count
                        target[index] = (accumulate ? target[index] : 0) + seed * local
                    }
                }
            }
        }
    }
    output.pointer[0] = value
    return output
}
