import Foundation
import NN
import TensorCore
import VAE

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
///     L_k(x) = log (1/k) Σ_i w_i,   w_i = p(x | z_i) Π_g p(z_g,i | ·) / q(z_g,i | ·),   z_i ~ q(z | x),
///
/// over every latent group g of the model. E[L_1] is the ELBO, E[L_k] grows with k and tends to
/// log p(x). For a conditional model it bounds log p(x | y).
public struct ImportanceWeightedResult: Codable, Equatable, Sendable {
    /// The images evaluated.
    public var images: Int
    /// k, samples per image.
    public var samples: Int
    /// Mean over images of L_k(x), in nats (a lower bound on the mean log p(x)).
    public var logLikelihood: Double
    /// Mean over images and samples of log w_i: the ELBO estimated with k samples per image.
    public var elbo: Double
    /// Mean over images and samples of −log p(x | z_i) (the ELBO's reconstruction term).
    public var reconstruction: Double
    /// Mean over images and samples of Σ_g log q(z_g,i) − log p(z_g,i) (the ELBO's KL term, sampled).
    public var kl: Double
}

extension VariationalModel {
    /// L_k on a set of images ([count, D]) with the likelihood's every constant, without
    /// gradients, through the model's forward pass: in passes of at most `maxRows` samples (all
    /// k samples of several images, or a share of one image's k), so that k = 5000 over 10,000
    /// images is a sequence of large matrix products. `progress(done)` is called after each
    /// image group with the images finished; when `shouldStop` returns true (asked after each
    /// group) the bound is the mean over the images finished so far (`images` says how many).
    public func importanceWeightedBound(images: [Float], labels: [Int] = [], samples k: Int, maxRows: Int = 4096,
                                        using generator: inout RandomGenerator,
                                        progress: (_ imagesDone: Int) -> Void = { _ in },
                                        shouldStop: () -> Bool = { false }) -> ImportanceWeightedResult {
        let width = inputSize
        precondition(images.count % width == 0, "need [count, \(width)] images")
        precondition(k >= 1 && maxRows >= 1, "need at least one sample and one row per pass")
        let all = images.count / width
        // Samples are decoded in passes of equal size (5000 in two of 2500, not 4096 and 904), so
        // every pass asks for buffers of the same lengths and the pool serves them all after the
        // first: a pass of another length would fault in fresh pages for every activation.
        let group = max(1, maxRows / k), passes = (k + maxRows - 1) / maxRows, chunk = (k + passes - 1) / passes
        var boundSum = 0.0, logWeightSum = 0.0, reconstructionSum = 0.0
        var count = 0
        let noise = NoiseSource(generator: generator)
        withoutGradients {
            for first in stride(from: 0, to: all, by: group) {
                if first > 0 && shouldStop() { break }
                let members = min(group, all - first)
                let x = Tensor(shape: [members, width], scalars: Array(images[(first * width)..<((first + members) * width)]))
                let condition: Tensor? = self.condition == .none ? nil : conditionTensor(labels: Array(labels[first..<(first + members)]))
                var accumulators = [LogMeanExp](repeating: LogMeanExp(), count: members)
                var repeated: (samples: Int, images: Tensor)?
                for start in stride(from: 0, to: k, by: chunk) {
                    let taken = min(chunk, k - start)
                    if repeated?.samples != taken { repeated = (taken, taken == 1 ? x : x.repeatingRows(taken)) }
                    let output = forward(x, condition: condition, sampling: .noise(noise), samples: taken)
                    var logWeights = output.likelihood.logProbability(repeated!.images)
                    let logLikelihoods = logWeights.scalars
                    for latentGroup in output.groups { logWeights = logWeights + latentGroup.logPriorMinusLogPosterior }
                    for (row, logWeight) in logWeights.scalars.enumerated() {
                        accumulators[row / taken].add(Double(logWeight))
                        logWeightSum += Double(logWeight)
                        reconstructionSum -= Double(logLikelihoods[row])
                    }
                }
                boundSum += accumulators.reduce(0) { $0 + $1.value }
                count = first + members
                progress(count)
            }
        }
        generator = noise.generator
        let total = Double(max(count, 1) * k)
        return ImportanceWeightedResult(
            images: count, samples: k, logLikelihood: boundSum / Double(max(count, 1)), elbo: logWeightSum / total,
            reconstruction: reconstructionSum / total, kl: -(logWeightSum + reconstructionSum) / total)
    }
}
