import Foundation
import TensorCore

// Fused, numerically stable losses. Each computes its value and gradient in one pass over
// the data (no chain of elementary ops), and each states its formula.
//
// Shapes: elementwise losses (binary cross-entropy, squared error) take predictions and
// targets of one shape; `.none` returns that shape. Per-example losses (Gaussian KL, softmax
// cross-entropy) take [batch, features]; `.none` returns [batch]. `.sum` and `.mean` return a
// scalar; `.mean` divides by the number of elements (elementwise) or examples (per-example).

/// How a loss combines its terms.
public enum Reduction: Sendable {
    case none, sum, mean
}

/// Shared plumbing: `forward(values?)` returns the total and writes per-term values when asked;
/// `backward(scale, perTerm?)` receives the scalar seed or per-term seeds.
private func lossResult(
    terms: Int, termShape: [Int], inputs: [Tensor], reduction: Reduction,
    forward: (_ values: UnsafeMutablePointer<Float>?) -> Float,
    backward: @escaping (_ scale: Float, _ perTerm: UnsafePointer<Float>?) -> Void
) -> Tensor {
    switch reduction {
    case .none:
        let y = Tensor.result(shape: termShape, inputs: inputs) { g in backward(1, g) }
        _ = forward(y.pointer)
        return y
    case .sum, .mean:
        let scale: Float = reduction == .mean ? 1 / Float(max(terms, 1)) : 1
        let y = Tensor.result(shape: [], inputs: inputs) { g in backward(g[0] * scale, nil) }
        y.pointer[0] = forward(nil) * scale
        return y
    }
}

/// d(input) (+)= seed * local, where the seed is a scalar or one value per element.
@inline(__always)
private func storeGradient(_ local: FloatVector, scale: Float, perTerm: UnsafePointer<Float>?,
                           into gradient: UnsafeMutablePointer<Float>, _ offset: Int, _ lanes: Int, accumulate: Bool) {
    let seed = perTerm.map { loadVector($0, offset, lanes) } ?? FloatVector(repeating: scale)
    storeVector(local * seed, gradient, offset, lanes, accumulate: accumulate)
}

/// Σ of per-element terms over `count` elements, 16 lanes at a time (the tail's padding lanes
/// are zeroed); each term is also written to `values` when given.
@inline(__always)
private func sumOfTerms(count: Int, values: UnsafeMutablePointer<Float>?,
                        _ term: (_ offset: Int, _ lanes: Int) -> FloatVector) -> Float {
    var total = FloatVector(repeating: 0)
    forEachVector(count) { i, n in
        var value = term(i, n)
        if n < 16 { for lane in n..<16 { value[lane] = 0 } }
        total += value
        if let values { storeVector(value, values, i, n) }
    }
    return total.sum()
}

/// Binary cross-entropy on logits, stable for any x:
/// ℓ(x, t) = max(x, 0) - x t + log(1 + e^-|x|), dℓ/dx = σ(x) - t.
/// Targets are constants (no gradient flows to them). The forward pass computes e^-|x| once and
/// keeps dℓ/dx = σ(x) - t (σ(x) = 1/(1 + e^-|x|) for x ≥ 0, e^-|x|/(1 + e^-|x|) otherwise) for the
/// backward pass, so the pair costs one exp, one log and one division per element.
public func binaryCrossEntropy(logits: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.shape == targets.shape, "logits \(logits.shape) and targets \(targets.shape) differ")
    let count = logits.count
    let keepsDerivative = GradientMode.isEnabled && logits.requiresGradient
    let derivative: TensorStorage? = keepsDerivative ? TensorStorage(uninitializedCount: count) : nil
    // Both passes split across `ParallelLoop.shared` (two threads when configured).
    let wide = AVX512Kernels.isAvailable
    return lossResult(terms: count, termShape: logits.shape, inputs: [logits], reduction: reduction, forward: { values in
        ParallelLoop.shared.sum(count: count) { start, end in
            let x0 = logits.pointer + start, t0 = targets.pointer + start
            let d0 = derivative.map { $0.pointer + start }, v0 = values.map { $0 + start }
            if wide {
                return AVX512Kernels.binaryCrossEntropyLogits(logits: x0, targets: t0, derivative: d0, values: v0, count: end - start)
            }
            return binaryCrossEntropyLogitsTerms(logits: x0, targets: t0, derivative: d0, values: v0, count: end - start)
        }
    }, backward: { scale, perTerm in
        logits.accumulateGradient { gradient, accumulate in
            ParallelLoop.shared.run(count: count) { start, end in
                let d0 = derivative!.pointer + start, g0 = gradient + start, p0 = perTerm.map { $0 + start }
                forEachVector(end - start) { i, n in
                    storeGradient(loadVector(d0, i, n), scale: scale, perTerm: p0, into: g0, i, n, accumulate: accumulate)
                }
            }
        }
    })
}

/// Σ ℓ(x, t) over `count` elements in Swift, 16 lanes at a time: the reference for the AVX-512
/// kernel (`AVX512Kernels.binaryCrossEntropyLogits`) and the path on other processors. Writes each
/// term to `values` and dℓ/dx = σ(x) - t to `derivative` when given.
package func binaryCrossEntropyLogitsTerms(logits x0: UnsafePointer<Float>, targets t0: UnsafePointer<Float>,
                                          derivative d0: UnsafeMutablePointer<Float>?, values v0: UnsafeMutablePointer<Float>?,
                                          count: Int) -> Float {
    sumOfTerms(count: count, values: v0) { i, n in
        let x = loadVector(x0, i, n), t = loadVector(t0, i, n)
        // log(1 + e) with the rounding of u = 1 + e corrected (as VectorMath.log1pPositive),
        // sharing one reciprocal with the derivative.
        let e = VectorMath.exp(-VectorMath.abs(x))
        let u = 1 + e
        let reciprocal = 1 / u
        if let d0 {
            var numerator = e
            numerator.replace(with: 1, where: x .>= 0)
            storeVector(numerator * reciprocal - t, d0, i, n)
        }
        return VectorMath.positivePart(x) - x * t + (VectorMath.log(u) - ((u - 1) - e) * reciprocal)
    }
}

/// How binary cross-entropy on probabilities keeps log finite at p = 0 and p = 1.
public enum ProbabilityClamp: Sendable, Equatable {
    /// PyTorch's BCELoss: each log is clamped below at `floor` (-100).
    case logarithm(floor: Float)
    /// Keras: p is clipped to [epsilon, 1 - epsilon] (1e-7); no gradient outside.
    case probability(epsilon: Float)

    /// PyTorch's `binary_cross_entropy`: log p and log(1 − p) clamped at −100.
    public static let pytorch = ProbabilityClamp.logarithm(floor: -100)
    /// Keras's `binary_crossentropy`: p clipped to [1e-7, 1 − 1e-7].
    public static let keras = ProbabilityClamp.probability(epsilon: 1e-7)
}

/// Binary cross-entropy on probabilities p in [0, 1], as the PyTorch and Keras designs use it:
/// ℓ = -(t log p + (1 - t) log(1 - p)), with the clamp making it finite;
/// dℓ/dp = (p - t) / (p (1 - p)) (PyTorch bounds the denominator below by 1e-12).
public func binaryCrossEntropy(probabilities: Tensor, targets: Tensor, clamp: ProbabilityClamp = .pytorch,
                               reduction: Reduction = .mean) -> Tensor {
    precondition(probabilities.shape == targets.shape, "probabilities \(probabilities.shape) and targets \(targets.shape) differ")
    let count = probabilities.count
    return lossResult(terms: count, termShape: probabilities.shape, inputs: [probabilities], reduction: reduction, forward: { values in
        sumOfTerms(count: count, values: values) { i, n in
            var p = loadVector(probabilities.pointer, i, n)
            let t = loadVector(targets.pointer, i, n)
            var logP: FloatVector, logQ: FloatVector
            switch clamp {
            case .logarithm(let floor):
                logP = VectorMath.log(p)
                logQ = VectorMath.log(1 - p)
                logP.replace(with: floor, where: logP .< floor)
                logQ.replace(with: floor, where: logQ .< floor)
            case .probability(let epsilon):
                p.replace(with: epsilon, where: p .< epsilon)
                p.replace(with: 1 - epsilon, where: p .> 1 - epsilon)
                logP = VectorMath.log(p)
                logQ = VectorMath.log(1 - p)
            }
            return -(t * logP + (1 - t) * logQ)
        }
    }, backward: { scale, perTerm in
        probabilities.accumulateGradient { gradient, accumulate in
            forEachVector(count) { i, n in
                let p = loadVector(probabilities.pointer, i, n), t = loadVector(targets.pointer, i, n)
                var local: FloatVector
                switch clamp {
                case .logarithm:
                    var denominator = p * (1 - p)
                    denominator.replace(with: 1e-12, where: denominator .< 1e-12)
                    local = (p - t) / denominator
                case .probability(let epsilon):
                    local = (p - t) / (p * (1 - p))
                    local.replace(with: 0, where: (p .< epsilon) .| (p .> 1 - epsilon))
                }
                storeGradient(local, scale: scale, perTerm: perTerm, into: gradient, i, n, accumulate: accumulate)
            }
        }
    })
}

/// Squared error: ℓ = (p - t)², dℓ/dp = 2 (p - t). `.mean` is PyTorch's MSELoss.
public func meanSquaredError(predictions: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    precondition(predictions.shape == targets.shape, "predictions \(predictions.shape) and targets \(targets.shape) differ")
    let count = predictions.count
    return lossResult(terms: count, termShape: predictions.shape, inputs: [predictions], reduction: reduction, forward: { values in
        sumOfTerms(count: count, values: values) { i, n in
            let d = loadVector(predictions.pointer, i, n) - loadVector(targets.pointer, i, n)
            return d * d
        }
    }, backward: { scale, perTerm in
        predictions.accumulateGradient { gradient, accumulate in
            forEachVector(count) { i, n in
                let local = 2 * (loadVector(predictions.pointer, i, n) - loadVector(targets.pointer, i, n))
                storeGradient(local, scale: scale, perTerm: perTerm, into: gradient, i, n, accumulate: accumulate)
            }
        }
    })
}

/// KL(N(μ, diag σ²) || N(0, I)) per example, from the log-variance v = log σ²:
/// KL = -½ Σ_j (1 + v_j - μ_j² - e^{v_j});  dKL/dμ = μ, dKL/dv = ½ (e^v - 1).
/// Shapes: mean, logVariance [batch, latent] -> [batch] (`.none`).
public func gaussianKLDivergence(mean: Tensor, logVariance: Tensor, reduction: Reduction = .mean) -> Tensor {
    gaussianKL(mean: mean, spread: logVariance, isLogVariance: true, reduction: reduction)
}

/// The same KL from the standard deviation σ (for example a softplus head):
/// KL = -½ Σ_j (1 + log σ_j² - μ_j² - σ_j²);  dKL/dσ = σ - 1/σ. Written with log σ², so an
/// unconstrained head (a Keras example's linear σ, which may go negative) gives the same value as |σ|.
public func gaussianKLDivergence(mean: Tensor, standardDeviation: Tensor, reduction: Reduction = .mean) -> Tensor {
    gaussianKL(mean: mean, spread: standardDeviation, isLogVariance: false, reduction: reduction)
}

private func gaussianKL(mean: Tensor, spread: Tensor, isLogVariance: Bool, reduction: Reduction) -> Tensor {
    precondition(mean.rank == 2 && mean.shape == spread.shape, "KL needs mean and spread of one shape [batch, latent], got \(mean.shape) and \(spread.shape)")
    let batch = mean.shape[0], latent = mean.shape[1]
    return lossResult(terms: batch, termShape: [batch], inputs: [mean, spread], reduction: reduction, forward: { values in
        var total: Float = 0
        for r in 0..<batch {
            let mu = mean.pointer + r &* latent, s = spread.pointer + r &* latent
            let kl = -0.5 * sumOfTerms(count: latent, values: nil) { i, n in
                let m = loadVector(mu, i, n), v = loadVector(s, i, n)
                return isLogVariance ? 1 + v - m * m - VectorMath.exp(v) : 1 + VectorMath.log(v * v) - m * m - v * v
            }
            values?[r] = kl
            total += kl
        }
        return total
    }, backward: { scale, perTerm in
        mean.accumulateGradient { gradient, accumulate in
            for r in 0..<batch {
                let seed = FloatVector(repeating: perTerm?[r] ?? scale), offset = r &* latent
                forEachVector(latent) { i, n in
                    storeVector(seed * loadVector(mean.pointer + offset, i, n), gradient + offset, i, n, accumulate: accumulate)
                }
            }
        }
        spread.accumulateGradient { gradient, accumulate in
            for r in 0..<batch {
                let seed = FloatVector(repeating: perTerm?[r] ?? scale), offset = r &* latent
                forEachVector(latent) { i, n in
                    let v = loadVector(spread.pointer + offset, i, n)
                    let local = isLogVariance ? 0.5 * (VectorMath.exp(v) - 1) : v - 1 / v
                    storeVector(seed * local, gradient + offset, i, n, accumulate: accumulate)
                }
            }
        }
    })
}

/// Softmax cross-entropy with integer labels, per example:
/// ℓ = log Σ_c e^{x_c} - x_y (with the row maximum subtracted first), dℓ/dx = softmax(x) - onehot(y).
/// Shapes: logits [batch, classes], labels `batch` integers in 0..<classes -> [batch] (`.none`).
public func softmaxCrossEntropy(logits: Tensor, labels: [Int], reduction: Reduction = .mean) -> Tensor {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count, "logits \(logits.shape) need one label per row, got \(labels.count)")
    let batch = logits.shape[0], classes = logits.shape[1]
    precondition(labels.allSatisfy { (0..<classes).contains($0) }, "labels must lie in 0..<\(classes)")
    let probabilities = TensorStorage(uninitializedCount: logits.count)
    return lossResult(terms: batch, termShape: [batch], inputs: [logits], reduction: reduction, forward: { values in
        var total: Float = 0
        for r in 0..<batch {
            let x = logits.pointer + r &* classes, p = probabilities.pointer + r &* classes
            var maximum = -Float.infinity
            for c in 0..<classes { maximum = max(maximum, x[c]) }
            let normaliser = sumOfTerms(count: classes, values: p) { i, n in VectorMath.exp(loadVector(x, i, n) - maximum) }
            let scale = FloatVector(repeating: 1 / normaliser)
            forEachVector(classes) { i, n in storeVector(loadVector(p, i, n) * scale, p, i, n) }
            let loss = Foundation.log(normaliser) - (x[labels[r]] - maximum)
            values?[r] = loss
            total += loss
        }
        return total
    }, backward: { scale, perTerm in
        logits.accumulateGradient { gradient, accumulate in
            for r in 0..<batch {
                let seed = FloatVector(repeating: perTerm?[r] ?? scale)
                let p = probabilities.pointer + r &* classes, g = gradient + r &* classes
                let label = labels[r]
                forEachVector(classes) { i, n in
                    var local = loadVector(p, i, n)
                    if label >= i && label < i + n { local[label - i] -= 1 }
                    storeVector(seed * local, g, i, n, accumulate: accumulate)
                }
            }
        }
    })
}
