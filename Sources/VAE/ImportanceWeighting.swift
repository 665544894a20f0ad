import Foundation
import NN
import TensorCore

/// log (1/n) Σ_i e^{a_i} accumulated one value at a time, stably: the running maximum m is kept
/// and the sum is of e^{a_i - m}, rescaled when m grows. Finite for any finite inputs (for
/// example log-weights of -1e4, whose exponentials underflow to 0 in any float format).
public struct LogMeanExp: Sendable {
    /// Values added.
    public private(set) var count = 0
    private var maximum = -Double.infinity
    private var scaledSum = 0.0

    /// An empty accumulator.
    public init() {}

    /// Adds one value a_i.
    public mutating func add(_ value: Double) {
        count += 1
        if value <= maximum {
            scaledSum += Foundation.exp(value - maximum)
        } else {
            scaledSum = scaledSum * Foundation.exp(maximum - value) + 1
            maximum = value
        }
    }

    /// log of the mean of e^{a_i}; -∞ before any value.
    public var value: Double { count == 0 ? -.infinity : maximum + Foundation.log(scaledSum) - Foundation.log(Double(count)) }

    /// log (1/n) Σ e^{a_i} of a whole array.
    public static func of(_ values: [Double]) -> Double {
        var accumulator = LogMeanExp()
        for value in values { accumulator.add(value) }
        return accumulator.value
    }
}

/// The importance-weighted bound on log p(x) (Burda, Grosse & Salakhutdinov, "Importance
/// Weighted Autoencoders", 2016), per image:
///
///     L_k(x) = log (1/k) Σ_i w_i,   w_i = p(x | z_i) p(z_i) / q(z_i | x),   z_i ~ q(z | x),
///
/// with log w_i = log p(x | z_i) − ½ Σ_d z_id² + ½ Σ_d ε_id² + ½ Σ_d log σ_d² for
/// z_i = μ + σ ⊙ ε_i (the 2π terms of the prior and the posterior cancel). E[L_1] is the ELBO,
/// E[L_k] grows with k and tends to log p(x).
public struct ImportanceWeightedResult: Codable, Equatable, Sendable {
    /// The images evaluated.
    public var images: Int
    /// k, samples per image.
    public var samples: Int
    /// Mean over images of L_k(x), in nats (a lower bound on the mean log p(x)).
    public var logLikelihood: Double
    /// Mean over images and samples of log w_i: the ELBO estimated with k samples per image.
    public var elbo: Double
    /// Mean over images and samples of -log p(x | z_i) (the ELBO's reconstruction term).
    public var reconstruction: Double
    /// Mean over images and samples of log q(z_i | x) - log p(z_i) (the ELBO's KL term, sampled).
    public var kl: Double
}

extension VariationalModel {
    /// The constant a Gaussian likelihood's log-density has beyond −Σ (x − mean)²: with σ² = ½,
    /// −(D/2) log π; 0 for the Bernoulli likelihood.
    public var logLikelihoodConstant: Double { ImageLikelihood.constant(specification.likelihood, dimension: inputSize) }

    /// The k-sample bound L_k for a batch, differentiable (the IWAE objective): x [B, D] and its
    /// posterior -> L_k(x) [B], plus the batch's sums of the mean reconstruction and sampled-KL
    /// terms (for reporting). k = 1 gives the ELBO with a sampled KL.
    public func importanceWeightedLogLikelihood(x: Tensor, posterior: DiagonalGaussian, condition: Tensor? = nil, samples k: Int,
                                                using generator: inout RandomGenerator)
        -> (logLikelihood: Tensor, reconstruction: Double, kl: Double) {
        precondition(k >= 1, "the bound needs at least one sample")
        let rows = x.shape[0]
        let repeated = posterior.repeatingRows(k)
        let noise = Tensor.randomNormal([rows * k, latentSize], using: &generator)
        let z = repeated.sample(noise: noise)
        let logLikelihood = decode(z, condition: condition?.repeatingRows(k)).logLikelihoodPerRow(x.repeatingRows(k))
        let noiseTerm = Tensor(shape: [rows * k], scalars: withoutGradients { noise.squared().sum(alongAxis: 1).scalars })
        let logPriorOverPosterior = z.squared().sum(alongAxis: 1) * -0.5 + noiseTerm * 0.5
            + repeated.logVariance.sum(alongAxis: 1) * 0.5
        let logWeights = (logLikelihood + logPriorOverPosterior).reshaped(to: [rows, k])
        // log (1/k) Σ e^{a} = m + log Σ e^{a − m} − log k, with m the row maximum held constant.
        let values = logWeights.scalars
        let maxima = (0..<rows).map { r in values[(r * k)..<((r + 1) * k)].max()! }
        let shift = Tensor(shape: [rows, 1], scalars: maxima)
        let bound = (logWeights - shift).exp().sum(alongAxis: 1).log() + Tensor(shape: [rows], scalars: maxima) - Float(Foundation.log(Double(k)))
        let reconstruction = -Double(logLikelihood.scalars.reduce(0, +)) / Double(k)
        let kl = -Double(logPriorOverPosterior.scalars.reduce(0, +)) / Double(k)
        return (bound, reconstruction, kl)
    }

    /// L_k on a set of images ([count, D]), without gradients, in passes of at most `maxRows`
    /// decoded samples (all k samples of several images, or a share of one image's k), so that
    /// k = 5000 over 10,000 images is a sequence of large matrix products. `progress(done)` is
    /// called after each image group with the images finished.
    public func importanceWeightedBound(images: [Float], labels: [Int] = [], samples k: Int, maxRows: Int = 4096,
                                        using generator: inout RandomGenerator,
                                        progress: (_ imagesDone: Int) -> Void = { _ in },
                                        shouldStop: () -> Bool = { false }) -> ImportanceWeightedResult {
        let width = inputSize, latent = latentSize
        precondition(images.count % width == 0, "need [count, \(width)] images")
        let codes = encode(images: images, labels: labels)
        let constant = Float(logLikelihoodConstant)
        return withoutGradients {
            ImportanceSampler(samples: k, maxRows: maxRows).bound(codes: codes, using: &generator, progress: progress,
                                                                 shouldStop: shouldStop) { first, taken, z in
                let rows = z.count / latent
                var condition: Tensor? = nil
                if case .classes = self.condition {
                    condition = conditionTensor(labels: (0..<rows).map { labels[first + $0 / taken] })
                }
                let likelihood = decode(Tensor(shape: [rows, latent], scalars: z), condition: condition)
                let bernoulli = likelihood.kind == .bernoulli
                let parameters: Tensor
                switch likelihood.parameters {
                case let .logits(logits): parameters = bernoulli ? logits : likelihood.mean
                case let .mean(mean): parameters = mean
                }
                var logLikelihood = [Double](repeating: 0, count: rows)
                images.withUnsafeBufferPointer { source in
                    logLikelihood.withUnsafeMutableBufferPointer { out in
                        let target = source.baseAddress! + first * width, values = parameters.pointer, out = out.baseAddress!
                        ParallelLoop.shared.run(count: rows, grain: max(1, 16_384 / width)) { begin, end in
                            for row in begin..<end {
                                let l = values + row &* width, t = target + (row / taken) &* width
                                out[row] = Double(bernoulli ? bernoulliLogLikelihood(logits: l, targets: t, count: width)
                                    : gaussianLogLikelihood(means: l, targets: t, count: width) + constant)
                            }
                        }
                    }
                }
                return logLikelihood
            }
        }
    }
}

/// Σ_j x_j ℓ_j − softplus(ℓ_j) = −Σ_j BCE(ℓ_j, x_j), vectorised (AVX-512 where the processor has it).
@inline(__always)
func bernoulliLogLikelihood(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int) -> Float {
    if AVX512Kernels.isAvailable {
        return -AVX512Kernels.binaryCrossEntropyLogits(logits: logits, targets: targets, derivative: nil, values: nil, count: count)
    }
    var total = FloatVector()
    forEachVector(count) { i, n in
        let l = loadVector(logits, i, n), t = loadVector(targets, i, n)
        var term = t * l - VectorMath.softplus(l)
        if n < FloatVector.scalarCount { for lane in n..<FloatVector.scalarCount { term[lane] = 0 } }
        total += term
    }
    return total.sum()
}

/// −Σ_j (m_j − x_j)², vectorised.
@inline(__always)
func gaussianLogLikelihood(means: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int) -> Float {
    var total = FloatVector()
    forEachVector(count) { i, n in
        let difference = loadVector(means, i, n) - loadVector(targets, i, n)
        var term = -(difference * difference)
        if n < FloatVector.scalarCount { for lane in n..<FloatVector.scalarCount { term[lane] = 0 } }
        total += term
    }
    return total.sum()
}

/// The k-sample importance-weighted bound for any likelihood, given the Gaussian posteriors
/// q(z | x_n) = N(μ_n, diag exp(logVariance_n)) and a function returning log p(x_n | z) for
/// sampled z. It draws z = μ + σ ⊙ ε in passes of at most `maxRows` samples, keeps one stable
/// log-mean-exp accumulator per image, and averages.
public struct ImportanceSampler: Sendable {
    /// k, samples per image.
    public let samples: Int
    /// The most samples decoded in one pass (bounds memory).
    public let maxRows: Int

    /// A sampler of k = `samples` per image.
    public init(samples: Int, maxRows: Int = 4096) {
        precondition(samples >= 1 && maxRows >= 1, "need at least one sample and one row per pass")
        (self.samples, self.maxRows) = (samples, maxRows)
    }

    /// `logLikelihood(first, taken, z)` gets the rows z ([rows, latent], row r belonging to image
    /// first + r / taken) and returns log p(x | z) per row.
    ///
    /// `shouldStop` is asked after each group of images: when it returns true the bound is the
    /// mean over the images finished so far (`images` says how many).
    public func bound(codes: LatentCodes, using generator: inout RandomGenerator, progress: (_ imagesDone: Int) -> Void = { _ in },
                      shouldStop: () -> Bool = { false },
                      logLikelihood: (_ firstImage: Int, _ samplesPerImage: Int, _ z: [Float]) -> [Double]) -> ImportanceWeightedResult {
        let (all, latent, k) = (codes.count, codes.size, samples)
        let group = max(1, maxRows / k), chunk = min(k, maxRows)
        var boundSum = 0.0, logWeightSum = 0.0, reconstructionSum = 0.0
        var count = 0
        for first in stride(from: 0, to: all, by: group) {
            if first > 0 && shouldStop() { break }
            let members = min(group, all - first)
            var accumulators = [LogMeanExp](repeating: LogMeanExp(), count: members)
            for start in stride(from: 0, to: k, by: chunk) {
                let taken = min(chunk, k - start), rows = members * taken
                var noise = [Float](repeating: 0, count: rows * latent)
                noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
                var z = [Float](repeating: 0, count: rows * latent)
                var priorOverPosterior = [Double](repeating: 0, count: rows)
                for row in 0..<rows {
                    let base = (first + row / taken) * latent
                    var total = 0.0
                    for d in 0..<latent {
                        let e = noise[row * latent + d], logVariance = codes.logVariances[base + d]
                        let value = codes.means[base + d] + Float(Foundation.exp(0.5 * Double(logVariance))) * e
                        z[row * latent + d] = value
                        total += 0.5 * (Double(e * e) - Double(value * value) + Double(logVariance))
                    }
                    priorOverPosterior[row] = total
                }
                let likelihoods = logLikelihood(first, taken, z)
                precondition(likelihoods.count == rows, "the likelihood must return one value per row")
                for row in 0..<rows {
                    let logWeight = likelihoods[row] + priorOverPosterior[row]
                    accumulators[row / taken].add(logWeight)
                    logWeightSum += logWeight
                    reconstructionSum -= likelihoods[row]
                }
            }
            boundSum += accumulators.reduce(0) { $0 + $1.value }
            count = first + members
            progress(count)
        }
        let total = Double(max(count, 1) * k)
        return ImportanceWeightedResult(
            images: count, samples: k, logLikelihood: boundSum / Double(max(count, 1)), elbo: logWeightSum / total,
            reconstruction: reconstructionSum / total, kl: -(logWeightSum + reconstructionSum) / total)
    }
}
