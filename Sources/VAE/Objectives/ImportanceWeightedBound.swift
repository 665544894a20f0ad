import Foundation
import TensorCore

/// The importance-weighted bound (Burda, Grosse & Salakhutdinov, "Importance Weighted
/// Autoencoders", 2016) as an objective, per image:
///
///     L_k(x) = log (1/k) Σ_i w_i,   w_i = p(x | z_i) Π_g p(z_g,i | ·) / q(z_g,i | ·),   z_i ~ q(z | x),
///
/// k draws per image through the model's forward pass; the loss is −Σ_n L_k(x_n), times 1/B for
/// a batch mean. E[L_1] is the ELBO; E[L_k] grows with k towards log p(x).
public struct ImportanceWeightedBound: Objective {
    /// k, the importance samples per image.
    public let samples: Int
    /// How the loss is reduced over the batch.
    public let batch: TermReduction

    /// The bound with k = `samples`.
    public init(samples: Int, batch: TermReduction = .sum) {
        precondition(samples >= 1, "the bound needs at least one sample")
        (self.samples, self.batch) = (samples, batch)
    }

    public var summary: String { "IWAE, k = \(samples)" }
    public var isSumOverImages: Bool { false }

    /// A model of discrete codes has nothing to weight: its posterior is one-hot, and its own
    /// terms (a VQ-VAE's commitment loss) belong to the ELBO objective.
    public func problem(for model: any VariationalModel, probe: ModelOutput) -> ConfigurationProblem? {
        guard model is any DiscreteLatentModel else { return nil }
        return ConfigurationProblem(.objective, "cannot be the importance-weighted bound for a \(model.specification.kindDescription): its posterior is one-hot on the nearest codes, so every sample is the same; train it with the ELBO objective (its loss is the VQ-VAE paper's)")
    }

    /// The loss, and as figures the k-sample means of −log p(x | z_i) and of log q − log p per
    /// group (their sum is the k-sample ELBO estimate).
    public func terms(_ model: any VariationalModel, _ batch: Batch, epochs: Double) -> ObjectiveTerms {
        let x = batch.images, rows = x.shape[0], k = samples
        let bound = Self.bound(model, x, condition: batch.condition, samples: k, noise: batch.noise)
        let batchScale: Float = self.batch == .mean ? 1 / Float(batch.batchRows) : 1
        let loss = -bound.logLikelihood.sum() * batchScale
        let kl = zip(bound.output.groups, bound.logPriorMinusLogPosterior).map { group, logRatio in
            BatchFigures.GroupFigure(name: group.group.name, value: -Double(logRatio.scalars.reduce(0, +)) / Double(k), estimator: .monteCarlo)
        }
        precondition(bound.logLikelihood.shape == [rows], "one bound per image")
        return ObjectiveTerms(loss: loss, figures: BatchFigures(loss: Double(loss.item), reconstruction: bound.reconstruction, kl: kl))
    }

    /// L_k per image [rows] (differentiable), with the pass it came from, each group's
    /// log p(z_g) − log q(z_g) per sample, and Σ over the images of the mean −log p(x | z_i).
    static func bound(_ model: any VariationalModel, _ x: Tensor, condition: Tensor?, samples k: Int, noise: NoiseSource)
        -> (logLikelihood: Tensor, output: ModelOutput, logPriorMinusLogPosterior: [Tensor], reconstruction: Double) {
        let rows = x.shape[0]
        let output = model.forward(x, condition: condition, sampling: .noise(noise), samples: k)
        let logLikelihood = output.likelihood.logProbability(k == 1 ? x : x.repeatingRows(k))
        let logRatios = output.groups.map(\.logPriorMinusLogPosterior)
        var logWeights = logLikelihood
        for logRatio in logRatios { logWeights = logWeights + logRatio }
        // log (1/k) Σ e^{a} = m + log Σ e^{a − m} − log k, with m the row maximum held constant.
        let bound = logWeights.reshaped(to: [rows, k]).logSumExpRows() - Float(Foundation.log(Double(k)))
        let reconstruction = -Double(logLikelihood.scalars.reduce(0, +)) / Double(k)
        return (bound, output, logRatios, reconstruction)
    }
}
