import Foundation
import TensorCore

/// How the aggregate posterior q(z) = (1/N) Σ_n q(z | x_n) is estimated from a minibatch of M
/// codes (Chen, Li, Grosse & Duvenaud 2018, "Isolating Sources of Disentanglement in VAEs", §4).
public enum TotalCorrelationEstimator: String, Codable, CaseIterable, Sendable {
    /// Minibatch-weighted sampling: log q(z_i) ≈ log Σ_j q(z_i | x_j) − log(N M).
    case minibatchWeighted = "mws"
    /// Minibatch-stratified sampling: each q(z_i | x_j) weighted by the stratified draw's
    /// importance weight: 1/N for j = i, (N − M + 1) / (N (M − 1)) for one other code, 1/(M − 1)
    /// for the rest (the authors' `log_importance_weight_matrix`).
    case minibatchStratified = "mss"
}

/// log N(z_id; μ_jd, σ²_jd) for every pair of rows i, j and dimension d, [rows, dimension, rows]
/// (element (i, d, j)): each code's density under every other image's posterior, per dimension.
///
///     ℓ_idj = −½ (log 2π + v_jd + (z_id − μ_jd)² e^(−v_jd)),   v = log σ²
///     ∂ℓ/∂z_id = −(z_id − μ_jd) e^(−v_jd),  ∂ℓ/∂μ_jd = (z_id − μ_jd) e^(−v_jd),
///     ∂ℓ/∂v_jd = −½ + ½ (z_id − μ_jd)² e^(−v_jd).
public func pairwiseGaussianLogDensity(z: Tensor, mean: Tensor, logVariance: Tensor) -> Tensor {
    precondition(z.rank == 2 && z.shape == mean.shape && mean.shape == logVariance.shape,
                 "z, mean and log-variance must share one shape [rows, dimension], got \(z.shape), \(mean.shape), \(logVariance.shape)")
    let (rows, dimension) = (z.shape[0], z.shape[1])
    let logTwoPi = Float(log(2 * Double.pi))
    let output = Tensor.result(shape: [rows, dimension, rows], inputs: [z, mean, logVariance]) { gradient in
        // One pass over the pairs computes all three gradients' terms.
        var dz = [Float](repeating: 0, count: rows * dimension)
        var dMean = [Float](repeating: 0, count: rows * dimension)
        var dLogVariance = [Float](repeating: 0, count: rows * dimension)
        for i in 0..<rows {
            for d in 0..<dimension {
                let value = z.pointer[i * dimension + d]
                let seeds = gradient + (i * dimension + d) * rows
                var zSum: Float = 0
                for j in 0..<rows {
                    let precision = (-logVariance.pointer[j * dimension + d]).exponential
                    let difference = value - mean.pointer[j * dimension + d]
                    let seed = seeds[j]
                    zSum -= seed * difference * precision
                    dMean[j * dimension + d] += seed * difference * precision
                    dLogVariance[j * dimension + d] += seed * (0.5 * difference * difference * precision - 0.5)
                }
                dz[i * dimension + d] = zSum
            }
        }
        for (tensor, values) in [(z, dz), (mean, dMean), (logVariance, dLogVariance)] {
            tensor.accumulateGradient { target, accumulate in
                for index in values.indices { target[index] = (accumulate ? target[index] : 0) + values[index] }
            }
        }
    }
    for i in 0..<rows {
        for d in 0..<dimension {
            let value = z.pointer[i * dimension + d]
            let row = output.pointer + (i * dimension + d) * rows
            for j in 0..<rows {
                let variance = logVariance.pointer[j * dimension + d]
                let difference = value - mean.pointer[j * dimension + d]
                row[j] = -0.5 * (logTwoPi + variance + difference * difference * (-variance).exponential)
            }
        }
    }
    return output
}

private extension Float {
    var exponential: Float { Float(Foundation.exp(Double(self))) }
}

/// The KL of a diagonal-Gaussian posterior to N(0, I), averaged over the data, split in three
/// (Chen et al. 2018, eq. 2), each estimated per code z_i ~ q(z | x_i) of a minibatch:
///
///     index-code mutual information   MI   = log q(z_i | x_i) − log q(z_i)
///     total correlation               TC   = log q(z_i) − Σ_d log q(z_id)
///     dimension-wise KL               DWKL = Σ_d log q(z_id) − log p(z_i)
///
/// whose sum is the sampled KL log q(z_i | x_i) − log p(z_i). q(z_i) and the marginals q(z_id)
/// come from the minibatch by `estimator`, for a training set of N images.
public struct TotalCorrelationTerms {
    /// MI per code, [rows].
    public let mutualInformation: Tensor
    /// TC per code, [rows].
    public let totalCorrelation: Tensor
    /// DWKL per code, [rows].
    public let dimensionWiseKL: Tensor

    /// The three terms for codes `z` drawn from `posterior` (mean μ, log-variance v, [rows,
    /// dimension]), the minibatch standing for a training set of `datasetSize` images.
    public init(z: Tensor, mean: Tensor, logVariance: Tensor, datasetSize: Int, estimator: TotalCorrelationEstimator) {
        let (rows, dimension) = (z.shape[0], z.shape[1])
        let logTwoPi = Float(log(2 * Double.pi))
        // log q(z_i | x_i) and log p(z_i), each summed over the dimensions.
        let logPosterior = ((logVariance + (z - mean).squared() / logVariance.exp() + logTwoPi) * -0.5).sum(alongAxis: 1)
        let logPrior = ((z.squared() + logTwoPi) * -0.5).sum(alongAxis: 1)
        let pairs = pairwiseGaussianLogDensity(z: z, mean: mean, logVariance: logVariance)  // [i, d, j]
        let logWeights = Self.logImportanceWeights(rows: rows, datasetSize: datasetSize, estimator: estimator)  // [i, j]
        // log q(z_i) ≈ log Σ_j w_ij Π_d q(z_id | x_j).
        let joint = pairs.sum(alongAxis: 1) + Tensor(shape: [rows, rows], scalars: logWeights)
        let logAggregate = joint.logSumExpRows()
        // Σ_d log q(z_id) ≈ Σ_d log Σ_j w_ij q(z_id | x_j).
        var repeated = [Float]()
        repeated.reserveCapacity(rows * dimension * rows)
        for i in 0..<rows {
            for _ in 0..<dimension { repeated += logWeights[(i * rows)..<((i + 1) * rows)] }
        }
        let marginals = (pairs.reshaped(to: [rows * dimension, rows]) + Tensor(shape: [rows * dimension, rows], scalars: repeated))
            .logSumExpRows().reshaped(to: [rows, dimension]).sum(alongAxis: 1)
        mutualInformation = logPosterior - logAggregate
        totalCorrelation = logAggregate - marginals
        dimensionWiseKL = marginals - logPrior
    }

    /// log w_ij, [rows · rows], row i's weights of the codes j; each row's weights sum to 1.
    ///
    /// - weighted: w_ij = 1 / (N M);
    /// - stratified (M ≥ 2): w_ii = 1/N, w_i,(i+1) mod M = (N − M + 1) / (N (M − 1)), every other
    ///   w_ij = 1/(M − 1): the paper's weights (appendix C.2). The authors' released
    ///   `log_importance_weight_matrix` means the same but strides by M instead of M + 1, so it
    ///   fills columns instead of the diagonal (rtqichen/beta-tcvae, pull request 1).
    ///
    /// A batch of one image (an epoch's last, partial batch) has no other codes: both give 1/N.
    public static func logImportanceWeights(rows: Int, datasetSize: Int, estimator: TotalCorrelationEstimator) -> [Float] {
        let size = Double(max(datasetSize, rows))
        if rows == 1 { return [Float(-log(size))] }
        switch estimator {
        case .minibatchWeighted:
            return [Float](repeating: Float(-log(size * Double(rows))), count: rows * rows)
        case .minibatchStratified:
            let others = Double(rows - 1)
            var weights = [Double](repeating: 1 / others, count: rows * rows)
            for i in 0..<rows {
                weights[i * rows + i] = 1 / size
                weights[i * rows + (i + 1) % rows] = (size - others) / (size * others)
            }
            return weights.map { Float(log($0)) }
        }
    }
}

/// β-TCVAE (Chen et al. 2018): the ELBO with its KL split into index-code mutual information,
/// total correlation and dimension-wise KL (`TotalCorrelationTerms`), each weighted, per batch:
///
///     loss = s_b · (s_p · Σ_n −log p(x_n | z_n) + w_t · Σ_n (α MI_n + β TC_n + γ DWKL_n))
///
/// with the reductions s_b, s_p and the warm-up w_t = min(1, t / T) as `EvidenceLowerBound`
/// has them; α = γ = 1 and β > 1 penalise the total correlation alone. Needs a model of one
/// diagonal-Gaussian latent group under a N(0, I) prior. The batch estimates q(z), so the loss
/// is not a sum over images (no sharding); its figures report the group's closed-form KL and
/// the three terms as batch means, named `mutual_information`, `total_correlation` and
/// `dimension_wise_kl`.
public struct TotalCorrelationBound: Objective {
    /// β (the TC weight), α, γ, the estimator and the warm-up.
    public let settings: ObjectiveSettings
    /// How the reconstruction is reduced over pixels.
    public let reconstruction: TermReduction
    /// How the loss is reduced over the batch.
    public let batch: TermReduction
    /// N, the training images the batch stands for.
    public let datasetSize: Int

    /// β-TCVAE with `settings` for a training set of `datasetSize` images.
    public init(settings: ObjectiveSettings, datasetSize: Int, reconstruction: TermReduction = .sum, batch: TermReduction = .sum) {
        precondition(settings.kind == .betaTCVAE, "the β-TCVAE objective takes β-TCVAE settings")
        precondition(datasetSize >= 1, "a training set has images")
        (self.settings, self.datasetSize, self.reconstruction, self.batch) = (settings, datasetSize, reconstruction, batch)
    }

    public var summary: String { settings.summary }
    public var isSumOverImages: Bool { false }

    /// The names of the terms in `metrics.csv`.
    public static let termNames = (mutualInformation: "mutual_information", totalCorrelation: "total_correlation", dimensionWiseKL: "dimension_wise_kl")

    /// A model of one diagonal-Gaussian group under N(0, I) will do.
    public func problem(for model: any VariationalModel, probe: ModelOutput) -> ConfigurationProblem? {
        Self.oneGaussianGroupProblem("beta-TCVAE", model: model, probe: probe)
    }

    /// Why an objective `name` that acts on one diagonal-Gaussian group under N(0, I) cannot
    /// train `model` (nil when it can).
    static func oneGaussianGroupProblem(_ name: String, model: any VariationalModel, probe: ModelOutput) -> ConfigurationProblem? {
        guard probe.groups.count == 1 else {
            return ConfigurationProblem(.objective, "\(name) acts on one latent group; the \(model.specification.kindDescription) has \(probe.groups.count)")
        }
        guard probe.groups[0].posterior is DiagonalGaussian, probe.groups[0].prior is StandardNormal else {
            return ConfigurationProblem(.objective, "\(name) needs a diagonal-Gaussian posterior and the N(0, I) prior; this model has \(type(of: probe.groups[0].posterior)) under \(type(of: probe.groups[0].prior))")
        }
        return nil
    }

    /// One sampled forward pass of `batch` through a model of one diagonal-Gaussian group under
    /// N(0, I) (what `oneGaussianGroupProblem` checked before training): the output, its group
    /// and the group's posterior.
    static func oneGaussianGroupForward(_ name: String, model: any VariationalModel, batch: Batch)
        -> (output: ModelOutput, group: LatentGroupOutput, posterior: DiagonalGaussian) {
        let output = model.forward(batch.images, condition: batch.condition, sampling: .noise(batch.noise), samples: 1)
        precondition(output.groups.count == 1, "\(name) needs one latent group, the model has \(output.groups.count)")
        let group = output.groups[0]
        guard let posterior = group.posterior as? DiagonalGaussian, group.prior is StandardNormal else {
            preconditionFailure("\(name) needs a diagonal-Gaussian posterior and a N(0, I) prior")
        }
        return (output, group, posterior)
    }

    public func terms(_ model: any VariationalModel, _ batch: Batch, epochs: Double) -> ObjectiveTerms {
        let x = batch.images
        let (output, group, posterior) = Self.oneGaussianGroupForward("β-TCVAE", model: model, batch: batch)
        let reconstructionTerm = output.likelihood.negativeLogLikelihood(x)
        let split = TotalCorrelationTerms(z: group.z, mean: posterior.mean, logVariance: posterior.logVariance,
                                          datasetSize: datasetSize, estimator: settings.estimator)
        let (mi, tc, dwkl) = (split.mutualInformation.sum(), split.totalCorrelation.sum(), split.dimensionWiseKL.sum())
        let weight = settings.warmUpShare(afterEpochs: epochs)
        let regulariser = mi * settings.alpha + tc * settings.beta + dwkl * settings.gamma
        let pixelScale: Float = reconstruction == .mean ? 1 / Float(x.shape[1]) : 1
        let batchScale: Float = self.batch == .mean ? 1 / Float(batch.batchRows) : 1
        var loss = (reconstructionTerm * pixelScale + (weight == 1 ? regulariser : regulariser * weight)) * batchScale
        let rows = Double(max(x.shape[0], 1))
        var modelTerms = [Self.termNames.mutualInformation: Double(mi.item) / rows, Self.termNames.totalCorrelation: Double(tc.item) / rows,
                          Self.termNames.dimensionWiseKL: Double(dwkl.item) / rows]
        loss = ExtraLossTerm.adding(model.extraLossTerms(output, labels: batch.labels), to: loss, figures: &modelTerms, batchRows: batch.batchRows,
                                    share: batch.share, batchScale: batchScale)
        let kl = posterior.klDivergence(reduction: .sum)
        return ObjectiveTerms(loss: loss, figures: BatchFigures(loss: Double(loss.item), reconstruction: Double(reconstructionTerm.item),
                                                                kl: [.init(name: group.group.name, value: Double(kl.item), estimator: .closedForm)],
                                                                modelTerms: modelTerms))
    }
}
