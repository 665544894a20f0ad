import Foundation
import NN
import TensorCore

/// The negative ELBO with its common variants (Kingma & Welling 2014), per batch of B images:
///
///     loss = s_b · (s_p · Σ_n −log p(x_n | z_n) + w_t · Σ_n Σ_i KL(q(z_i | ·) || p(z_i | ·))) + model terms
///
/// with one z per image drawn by reparameterisation, s_b = 1 (batch sum) or 1/B (batch mean),
/// s_p = 1 (pixel sum) or 1/D (pixel mean, as Keras's example), and the KL weight w_t = β · min(1, t / T)
/// after t of T warm-up epochs (Bowman et al. 2016; Sønderby et al. 2016). Each group's KL is
/// taken in closed form where there is one, by Monte Carlo otherwise. With free bits λ, a group
/// whose KL factorises over dimensions enters as B · Σ_d max(λ, KL̄_d), KL̄_d the batch mean of
/// dimension d (Kingma et al. 2016), so dimensions under λ nats are not pushed to the prior.
/// With KL balancing and w_t < 1, group i's KL enters as γᵢ · KLᵢ with the constant γ of
/// `balancingCoefficients` (NVAE's `kl_balancer`).
///
/// Two variants share it: AnnealedVAE replaces w_t · Σ KL by β |Σ_n KL_n − B C_t| (the batch
/// mean's distance to the capacity C_t, times B), and DIP-VAE adds B · `dipRegulariser` of the
/// batch's posteriors (its name in the figures: `dip_regulariser`, the batch's value).
public struct EvidenceLowerBound: Objective {
    /// β, the warm-up and the free bits.
    public let settings: ObjectiveSettings
    /// How the reconstruction is reduced over pixels.
    public let reconstruction: TermReduction
    /// How the loss is reduced over the batch.
    public let batch: TermReduction

    /// The ELBO with `settings`' β, warm-up and free bits.
    public init(settings: ObjectiveSettings = .elbo, reconstruction: TermReduction = .sum, batch: TermReduction = .sum) {
        precondition([.elbo, .dipVAE, .annealedVAE].contains(settings.kind), "the ELBO objective takes ELBO, DIP-VAE or AnnealedVAE settings")
        (self.settings, self.reconstruction, self.batch) = (settings, reconstruction, batch)
    }

    public var summary: String { settings.summary }
    public var isSumOverImages: Bool { settings.isSumOverImages }

    /// DIP-VAE needs one diagonal-Gaussian group under N(0, I); the others take any model.
    public func problem(for model: any VariationalModel, probe: ModelOutput) -> ConfigurationProblem? {
        settings.kind == .dipVAE ? TotalCorrelationBound.oneGaussianGroupProblem("DIP-VAE", model: model, probe: probe) : nil
    }

    public func terms(_ model: any VariationalModel, _ batch: Batch, epochs: Double) -> ObjectiveTerms {
        let x = batch.images
        let output = model.forward(x, condition: batch.condition, sampling: .noise(batch.noise), samples: 1)
        let reconstructionTerm = output.likelihood.negativeLogLikelihood(x)
        var klTerms: [Tensor] = []
        var figures: [BatchFigures.GroupFigure] = []
        for group in output.groups {
            let (kl, estimator) = Self.klSum(group)
            figures.append(BatchFigures.GroupFigure(name: group.group.name, value: Double(kl.item), estimator: estimator))
            klTerms.append(settings.freeBits > 0 ? Self.freeBitsTerm(group, freeBits: settings.freeBits, batch: batch) ?? kl : kl)
        }
        let weight = settings.klWeight(afterEpochs: epochs)
        if settings.klBalancing && weight < 1 && klTerms.count > 1 {
            let coefficients = Self.balancingCoefficients(meanKL: figures.map { $0.value / Double(max(x.shape[0], 1)) },
                                                          sizes: output.groups.map(\.group.size))
            klTerms = zip(klTerms, coefficients).map { $0 * Float($1) }
        }
        let klTerm = klTerms.dropFirst().reduce(klTerms[0], +)
        let pixelScale: Float = reconstruction == .mean ? 1 / Float(x.shape[1]) : 1
        let batchScale: Float = self.batch == .mean ? 1 / Float(batch.batchRows) : 1
        var modelTerms: [String: Double] = [:]
        var regularised: Tensor
        switch settings.kind {
        case .annealedVAE:
            let gap = klTerm - settings.capacity(afterEpochs: epochs) * Float(x.shape[0])
            regularised = (gap.relu() + (0 - gap).relu()) * settings.beta
            modelTerms["capacity"] = Double(settings.capacity(afterEpochs: epochs))
        case .dipVAE:
            let posterior = output.groups[0].posterior as! DiagonalGaussian
            let dip = dipRegulariser(mean: posterior.mean, logVariance: posterior.logVariance, variant: settings.dipVariant,
                                     lambdaOffDiagonal: settings.lambdaOffDiagonal, lambdaDiagonal: settings.lambdaOffDiagonal * settings.lambdaDiagonalFactor)
            regularised = (weight == 1 ? klTerm : klTerm * weight) + dip * Float(x.shape[0])
            modelTerms["dip_regulariser"] = Double(dip.item)
        default:
            regularised = weight == 1 ? klTerm : klTerm * weight
        }
        var loss = (reconstructionTerm * pixelScale + regularised) * batchScale
        loss = ExtraLossTerm.adding(model.extraLossTerms(output, labels: batch.labels), to: loss, figures: &modelTerms, batchRows: batch.batchRows,
                                    share: batch.share, batchScale: batchScale)
        return ObjectiveTerms(loss: loss, figures: BatchFigures(loss: Double(loss.item), reconstruction: Double(reconstructionTerm.item),
                                                                kl: figures, modelTerms: modelTerms))
    }

    /// NVAE's KL-balancing coefficients γ for groups of batch-mean KLs KL̄ᵢ and dimensions dᵢ:
    /// αᵢ = dᵢ / (groups of dimension dᵢ), γᵢ = (|KL̄ᵢ| + 0.01) / αᵢ · Σⱼ (|KL̄ⱼ| + 0.01), then
    /// γ ← γ / mean(γ). Groups holding more KL per unit of α get more weight, so the warm-up
    /// does not leave some groups collapsed.
    public static func balancingCoefficients(meanKL: [Double], sizes: [Int]) -> [Double] {
        precondition(meanKL.count == sizes.count && !sizes.isEmpty, "one KL per group")
        let alphas = sizes.map { size in Double(size) / Double(sizes.filter { $0 == size }.count) }
        let smallest = alphas.min()!
        let shifted = meanKL.map { abs($0) + 0.01 }
        let total = shifted.reduce(0, +)
        let raw = zip(shifted, alphas).map { $0 / ($1 / smallest) * total }
        let mean = raw.reduce(0, +) / Double(raw.count)
        return raw.map { $0 / mean }
    }

    /// Σ over the rows of the group's KL: the fused closed form for a diagonal Gaussian against
    /// N(0, I), the general closed form or the Monte-Carlo estimate otherwise.
    static func klSum(_ group: LatentGroupOutput) -> (Tensor, KLEstimator) {
        if let gaussian = group.posterior as? DiagonalGaussian, group.prior is StandardNormal {
            return (gaussian.klDivergence(reduction: .sum), .closedForm)
        }
        let (perRow, estimator) = group.klDivergence()
        return (perRow.sum(), estimator)
    }

    /// Free bits (Kingma et al. 2016): B · Σ_d max(λ, KL̄_d) over a batch of B images, KL̄_d the
    /// batch mean of dimension d's KL, for a group whose KL has a per-dimension closed form (nil
    /// otherwise). Written as Σ_d [S_d > λB] S_d + [S_d ≤ λB] λ b with S_d the dimension's KL
    /// summed over the whole batch and b this process's rows: the mask comes from the whole
    /// batch's sums (`Batch.sumOverShards`), so processes sharing a batch each add their part
    /// and their terms and gradients sum to one process's.
    public static func freeBitsTerm(_ group: LatentGroupOutput, freeBits: Float, batch: Batch) -> Tensor? {
        guard let perDimension = KLDivergence.closedFormPerDimension(group.posterior, group.prior)?.sum(alongAxis: 0) else { return nil }
        let sums = batch.sumOverShards(perDimension.scalars.map(Double.init))
        let threshold = Double(freeBits) * Double(batch.batchRows)
        let open = sums.map { $0 > threshold ? Float(1) : 0 }
        let closed = Float(open.filter { $0 == 0 }.count) * freeBits * Float(batch.images.shape[0])
        return (perDimension * Tensor(shape: perDimension.shape, scalars: open)).sum() + closed
    }
}
