import Foundation
import TensorCore

// Log-likelihoods of images per row, differentiable in the distribution's parameters (the
// targets are data). Shapes: [batch, D] -> [batch].

/// log p(t) = Σ_j t_j ℓ_j − softplus(ℓ_j) = −Σ_j BCE(ℓ_j, t_j) per row, for a Bernoulli with
/// logits ℓ; d/dℓ = t − σ(ℓ). The same kernel as `binaryCrossEntropy(logits:targets:)`.
public func bernoulliLogLikelihood(logits: Tensor, targets: Tensor) -> Tensor {
    precondition(logits.rank == 2 && logits.shape == targets.shape, "logits \(logits.shape) and targets \(targets.shape) must be one [batch, D] shape")
    let batch = logits.shape[0], width = logits.shape[1]
    let keepsDerivative = GradientMode.isEnabled && logits.requiresGradient
    let derivative: TensorStorage? = keepsDerivative ? TensorStorage(uninitializedCount: logits.count) : nil
    let wide = AVX512Kernels.isAvailable
    let y = Tensor.result(shape: [batch], inputs: [logits]) { g in
        logits.accumulateGradient { gradient, accumulate in
            for row in 0..<batch {
                let seed = FloatVector(repeating: -g[row]), offset = row &* width
                forEachVector(width) { i, n in
                    storeVector(seed * loadVector(derivative!.pointer + offset, i, n), gradient + offset, i, n, accumulate: accumulate)
                }
            }
        }
    }
    ParallelLoop.shared.run(count: batch, grain: max(1, 16_384 / max(width, 1))) { start, end in
        for row in start..<end {
            let offset = row &* width
            let x = logits.pointer + offset, t = targets.pointer + offset, d = derivative.map { $0.pointer + offset }
            let crossEntropy = wide ? AVX512Kernels.binaryCrossEntropyLogits(logits: x, targets: t, derivative: d, values: nil, count: width)
                : binaryCrossEntropyLogitsTerms(logits: x, targets: t, derivative: d, values: nil, count: width)
            y.pointer[row] = -crossEntropy
        }
    }
    return y
}

/// log p(t) per row for a Gaussian with means m and a learned log-variance v shared by rows:
/// log p = −½ Σ_j ((t_j − m_j)² e^{−v_j} + v_j + log 2π); d/dm_j = (t_j − m_j) e^{−v_j},
/// d/dv_j = ½ ((t_j − m_j)² e^{−v_j} − 1).
///
/// `logVariance` holds one value per column ([D]: per pixel) or one per channel ([C], each
/// shared by the D / C columns of its channel, planar). Differentiable in both.
public func gaussianLogLikelihood(means: Tensor, logVariance: Tensor, targets: Tensor) -> Tensor {
    precondition(means.rank == 2 && means.shape == targets.shape, "means \(means.shape) and targets \(targets.shape) must be one [batch, D] shape")
    let batch = means.shape[0], width = means.shape[1], groups = logVariance.count
    precondition(logVariance.rank == 1 && groups >= 1 && width % groups == 0,
                 "the log-variance must have one value per column or per channel of \(width) columns, got \(logVariance.shape)")
    let span = width / groups
    let halfLogTwoPi = Float(0.5 * Foundation.log(2 * Double.pi))
    let y = Tensor.result(shape: [batch], inputs: [means, logVariance]) { g in
        means.accumulateGradient { gradient, accumulate in
            for row in 0..<batch {
                for group in 0..<groups {
                    let precision = FloatVector(repeating: Foundation.exp(-logVariance.pointer[group]) * g[row])
                    let offset = row &* width &+ group &* span
                    forEachVector(span) { i, n in
                        let local = (loadVector(targets.pointer + offset, i, n) - loadVector(means.pointer + offset, i, n)) * precision
                        storeVector(local, gradient + offset, i, n, accumulate: accumulate)
                    }
                }
            }
        }
        logVariance.accumulateGradient { gradient, accumulate in
            for group in 0..<groups {
                let precision = Foundation.exp(-logVariance.pointer[group])
                var total = FloatVector()
                for row in 0..<batch {
                    let offset = row &* width &+ group &* span, seed = FloatVector(repeating: g[row])
                    forEachVector(span) { i, n in
                        let d = loadVector(targets.pointer + offset, i, n) - loadVector(means.pointer + offset, i, n)
                        var term = seed * (0.5 * (d * d * precision - 1))
                        if n < 16 { for lane in n..<16 { term[lane] = 0 } }
                        total += term
                    }
                }
                gradient[group] = (accumulate ? gradient[group] : 0) + total.sum()
            }
        }
    }
    for row in 0..<batch {
        var total: Float = 0
        for group in 0..<groups {
            let v = logVariance.pointer[group], precision = FloatVector(repeating: Foundation.exp(-v))
            let offset = row &* width &+ group &* span
            var squares = FloatVector()
            forEachVector(span) { i, n in
                let d = loadVector(targets.pointer + offset, i, n) - loadVector(means.pointer + offset, i, n)
                squares += d * d * precision
            }
            total += -0.5 * squares.sum() - Float(span) * (0.5 * v + halfLogTwoPi)
        }
        y.pointer[row] = total
    }
    return y
}
