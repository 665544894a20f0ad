import Foundation
import NN

/// What training minimises per image, as a run records it (`config.json`'s `objective`); the
/// maths lives in the objectives it makes (`makeObjective`).
///
/// - `.elbo`: -log p(x | z) + w_t · KL, z ~ q(z | x) (one sample), with the KL weight
///   w_t = β · min(1, t / warm-up) where t counts epochs in fractions of an epoch (a linear KL
///   warm-up, Bowman et al. 2016; Sønderby et al. 2016), and the KL optionally replaced by the
///   free-bits form Σ_d max(λ, KL_d) with KL_d the batch-mean KL of dimension d (Kingma et al.
///   2016), so dimensions below λ nats are not pushed further towards the prior. With KL
///   balancing, while w_t < 1 each latent group's KL is weighted by γᵢ ∝ (KL̄ᵢ + 0.01) / αᵢ,
///   normalised to mean 1 and held constant in the gradient (NVAE, Vahdat & Kautz 2020, appendix
///   A; its `kl_balancer`), so that no group is switched off early in the warm-up; αᵢ is the
///   group's dimension divided by the number of groups of that dimension (NVAE's "square"
///   coefficients), KL̄ᵢ the batch-mean KL of the group.
/// - `.iwae`: -log (1/k) Σ_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x) (Burda et al. 2016), the
///   importance-weighted bound with k samples; k = 1 is the ELBO with a sampled KL.
/// - `.betaTCVAE`: -log p(x | z) + w_t · (α MI + β TC + γ DWKL), the KL split into index-code
///   mutual information, total correlation and dimension-wise KL (Chen et al. 2018), q(z)
///   estimated from the batch by `estimator`; the warm-up share w_t = min(1, t / warm-up).
/// - `.dipVAE`: the ELBO plus DIP-VAE's λ_od Σ_(i≠j) C_ij² + λ_d Σ_i (C_ii − 1)², C the batch's
///   covariance of the posterior means (variant I) or of the aggregate posterior (II), with
///   λ_d = `lambdaDiagonalFactor` · λ_od (Kumar et al. 2018; `dipRegulariser`).
/// - `.factorVAE`: the ELBO plus γ · Σ_i (D_0(z_i) − D_1(z_i)), the total correlation of
///   q(z) estimated by the log-odds of a discriminator D that tells codes z ~ q(z | x) from codes
///   whose dimensions were shuffled across the batch (or across the previous batch:
///   `discriminatorShuffle`), trained alternately with its own Adam (Kim & Mnih 2018,
///   "Disentangling by Factorising"; `FactorVAEBound`).
/// - `.annealedVAE`: −log p(x | z) + β |KL − C_t|, the capacity C_t rising linearly from 0 to
///   `capacity` nats over `capacityEpochs` (Burgess et al. 2018, "Understanding disentangling
///   in β-VAE"; their γ is β here).
public struct ObjectiveSettings: Codable, Equatable, Sendable {
    /// The bound minimised.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case elbo, iwae
        case betaTCVAE = "beta-tcvae"
        case dipVAE = "dip-vae"
        case annealedVAE = "annealed-vae"
        case factorVAE = "factor-vae"
    }

    /// The bound.
    public var kind: Kind
    /// k, the importance samples per image (`.iwae` only).
    public var samples: Int
    /// β, the KL weight after warm-up (`.elbo` only; 1 is the ELBO).
    public var beta: Float
    /// Epochs over which the KL weight rises linearly from 0 to β (0: no warm-up).
    public var warmupEpochs: Int
    /// λ, free nats per latent dimension (0: off).
    public var freeBits: Float
    /// Whether each group's KL is balanced during the warm-up (see above).
    public var klBalancing: Bool
    /// α, the weight of the index-code mutual information (`.betaTCVAE` only).
    public var alpha: Float
    /// γ, the weight of the dimension-wise KL (`.betaTCVAE`), or of the total correlation (`.factorVAE`).
    public var gamma: Float
    /// How q(z) is estimated from a batch (`.betaTCVAE` only).
    public var estimator: TotalCorrelationEstimator
    /// DIP-VAE's variant (`.dipVAE` only).
    public var dipVariant: DIPVariant
    /// λ_od, DIP-VAE's weight of the off-diagonal covariances (`.dipVAE` only).
    public var lambdaOffDiagonal: Float
    /// λ_d / λ_od, DIP-VAE's diagonal weight relative to λ_od (`.dipVAE` only).
    public var lambdaDiagonalFactor: Float
    /// C, the capacity in nats the KL is led to (`.annealedVAE` only).
    public var capacity: Float
    /// The epochs over which the capacity rises from 0 to C (`.annealedVAE` only; fractional).
    public var capacityEpochs: Double
    /// FactorVAE's discriminator: hidden layers (`.factorVAE` only).
    public var discriminatorLayers: Int
    /// FactorVAE's discriminator: units per hidden layer (`.factorVAE` only).
    public var discriminatorUnits: Int
    /// FactorVAE's discriminator: its Adam's learning rate (β₁ 0.5, β₂ 0.9, as the paper's) (`.factorVAE` only).
    public var discriminatorLearningRate: Float
    /// FactorVAE's discriminator: whose codes it sees shuffled (`.factorVAE` only).
    public var discriminatorShuffle: DiscriminatorShuffle
    /// FactorVAE's discriminator: how its weights and biases start (`.factorVAE` only; PyTorch's
    /// default, or Glorot uniform with zero biases as TensorFlow's dense layers in
    /// disentanglement_lib start).
    public var discriminatorInitializer: Initializer

    /// An objective; the defaults are the plain ELBO.
    public init(kind: Kind = .elbo, samples: Int = 1, beta: Float = 1, warmupEpochs: Int = 0, freeBits: Float = 0, klBalancing: Bool = false,
                alpha: Float = 1, gamma: Float = 1, estimator: TotalCorrelationEstimator = .minibatchStratified,
                dipVariant: DIPVariant = .i, lambdaOffDiagonal: Float = 10, lambdaDiagonalFactor: Float = 10,
                capacity: Float = 25, capacityEpochs: Double = 1, discriminatorLayers: Int = 6, discriminatorUnits: Int = 1000,
                discriminatorLearningRate: Float = 1e-4, discriminatorShuffle: DiscriminatorShuffle = .sameBatch,
                discriminatorInitializer: Initializer = .pytorchDefault) {
        (self.kind, self.samples, self.beta, self.warmupEpochs, self.freeBits) = (kind, samples, beta, warmupEpochs, freeBits)
        (self.klBalancing, self.alpha, self.gamma, self.estimator) = (klBalancing, alpha, gamma, estimator)
        (self.dipVariant, self.lambdaOffDiagonal, self.lambdaDiagonalFactor) = (dipVariant, lambdaOffDiagonal, lambdaDiagonalFactor)
        (self.capacity, self.capacityEpochs) = (capacity, capacityEpochs)
        (self.discriminatorLayers, self.discriminatorUnits, self.discriminatorLearningRate) = (discriminatorLayers, discriminatorUnits, discriminatorLearningRate)
        (self.discriminatorShuffle, self.discriminatorInitializer) = (discriminatorShuffle, discriminatorInitializer)
    }

    enum CodingKeys: String, CodingKey {
        case kind, samples, beta, warmupEpochs, freeBits, klBalancing, alpha, gamma, estimator
        case dipVariant, lambdaOffDiagonal, lambdaDiagonalFactor, capacity, capacityEpochs
        case discriminatorLayers, discriminatorUnits, discriminatorLearningRate, discriminatorShuffle, discriminatorInitializer
    }

    /// Reads the settings; `klBalancing`, `alpha`, `gamma` and `estimator` may be absent (their defaults).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        samples = try c.decode(Int.self, forKey: .samples)
        beta = try c.decode(Float.self, forKey: .beta)
        warmupEpochs = try c.decode(Int.self, forKey: .warmupEpochs)
        freeBits = try c.decode(Float.self, forKey: .freeBits)
        klBalancing = try c.decodeIfPresent(Bool.self, forKey: .klBalancing) ?? false
        alpha = try c.decodeIfPresent(Float.self, forKey: .alpha) ?? 1
        gamma = try c.decodeIfPresent(Float.self, forKey: .gamma) ?? 1
        estimator = try c.decodeIfPresent(TotalCorrelationEstimator.self, forKey: .estimator) ?? .minibatchStratified
        dipVariant = try c.decodeIfPresent(DIPVariant.self, forKey: .dipVariant) ?? .i
        lambdaOffDiagonal = try c.decodeIfPresent(Float.self, forKey: .lambdaOffDiagonal) ?? 10
        lambdaDiagonalFactor = try c.decodeIfPresent(Float.self, forKey: .lambdaDiagonalFactor) ?? 10
        capacity = try c.decodeIfPresent(Float.self, forKey: .capacity) ?? 25
        capacityEpochs = try c.decodeIfPresent(Double.self, forKey: .capacityEpochs) ?? 1
        discriminatorLayers = try c.decodeIfPresent(Int.self, forKey: .discriminatorLayers) ?? 6
        discriminatorUnits = try c.decodeIfPresent(Int.self, forKey: .discriminatorUnits) ?? 1000
        discriminatorLearningRate = try c.decodeIfPresent(Float.self, forKey: .discriminatorLearningRate) ?? 1e-4
        discriminatorShuffle = try c.decodeIfPresent(DiscriminatorShuffle.self, forKey: .discriminatorShuffle) ?? .sameBatch
        discriminatorInitializer = try c.decodeIfPresent(Initializer.self, forKey: .discriminatorInitializer) ?? .pytorchDefault
    }

    /// Writes the settings; `klBalancing` only when on, and β-TCVAE's α, γ and estimator only for
    /// β-TCVAE, so older records read back the same.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(samples, forKey: .samples)
        try c.encode(beta, forKey: .beta)
        try c.encode(warmupEpochs, forKey: .warmupEpochs)
        try c.encode(freeBits, forKey: .freeBits)
        if klBalancing { try c.encode(klBalancing, forKey: .klBalancing) }
        if kind == .betaTCVAE {
            try c.encode(alpha, forKey: .alpha)
            try c.encode(gamma, forKey: .gamma)
            try c.encode(estimator, forKey: .estimator)
        }
        if kind == .dipVAE {
            try c.encode(dipVariant, forKey: .dipVariant)
            try c.encode(lambdaOffDiagonal, forKey: .lambdaOffDiagonal)
            try c.encode(lambdaDiagonalFactor, forKey: .lambdaDiagonalFactor)
        }
        if kind == .annealedVAE {
            try c.encode(capacity, forKey: .capacity)
            try c.encode(capacityEpochs, forKey: .capacityEpochs)
        }
        if kind == .factorVAE {
            try c.encode(gamma, forKey: .gamma)
            try c.encode(discriminatorLayers, forKey: .discriminatorLayers)
            try c.encode(discriminatorUnits, forKey: .discriminatorUnits)
            try c.encode(discriminatorLearningRate, forKey: .discriminatorLearningRate)
            if discriminatorShuffle != .sameBatch { try c.encode(discriminatorShuffle, forKey: .discriminatorShuffle) }
            if discriminatorInitializer != .pytorchDefault { try c.encode(discriminatorInitializer, forKey: .discriminatorInitializer) }
        }
    }

    /// The capacity C_t after `progress` epochs: C · min(1, t / capacityEpochs).
    public func capacity(afterEpochs progress: Double) -> Float {
        capacity * Float(min(1, progress / max(capacityEpochs, 1e-9)))
    }

    /// The plain ELBO.
    public static let elbo = ObjectiveSettings()

    /// The KL weight w_t after `progress` epochs (fractional: 2.5 is half-way through the third).
    public func klWeight(afterEpochs progress: Double) -> Float {
        beta * warmUpShare(afterEpochs: progress)
    }

    /// How far the warm-up has gone after `progress` epochs, min(1, t / T) (1 without warm-up).
    public func warmUpShare(afterEpochs progress: Double) -> Float {
        guard warmupEpochs > 0 else { return 1 }
        return Float(min(1, progress / Double(warmupEpochs)))
    }

    /// A short description, e.g. "ELBO" or "IWAE, k = 50" or "ELBO, beta 4, warm-up 10 epochs".
    public var summary: String {
        switch kind {
        case .iwae: return "IWAE, k = \(samples)"
        case .betaTCVAE:
            var parts = ["beta-TCVAE, beta \(beta)"]
            if alpha != 1 || gamma != 1 { parts.append("alpha \(alpha), gamma \(gamma)") }
            parts.append(estimator == .minibatchStratified ? "minibatch-stratified q(z)" : "minibatch-weighted q(z)")
            if warmupEpochs > 0 { parts.append("warm-up over \(warmupEpochs) epochs") }
            return parts.joined(separator: ", ")
        case .dipVAE:
            return "DIP-VAE-\(dipVariant == .i ? "I" : "II"), lambda_od \(lambdaOffDiagonal), lambda_d \(lambdaOffDiagonal * lambdaDiagonalFactor)" + (beta != 1 ? ", beta \(beta)" : "")
        case .factorVAE:
            let start = discriminatorInitializer != .pytorchDefault ? " (\(discriminatorInitializer.rawValue) start)" : ""
            return "FactorVAE, gamma \(gamma), discriminator \(discriminatorLayers) x \(discriminatorUnits) leaky ReLU\(start), Adam \(discriminatorLearningRate) (betas 0.5, 0.9)"
                + (discriminatorShuffle == .previousBatch ? ", shuffling the previous batch's codes" : "") + (beta != 1 ? ", beta \(beta)" : "")
        case .annealedVAE:
            return "AnnealedVAE, gamma \(beta), capacity rising to \(capacity) nats over \(capacityEpochs) epochs"
        case .elbo:
            var parts = ["ELBO"]
            if beta != 1 { parts.append("beta \(beta)") }
            if warmupEpochs > 0 { parts.append("KL warm-up over \(warmupEpochs) epochs") }
            if freeBits > 0 { parts.append("free bits \(freeBits) nats per dimension") }
            if klBalancing { parts.append("KL balancing") }
            return parts.joined(separator: ", ")
        }
    }

    /// Whether any of the discriminator's settings differs from the defaults (they belong to FactorVAE).
    var setsTheDiscriminator: Bool {
        let standard = Self.elbo
        return discriminatorLayers != standard.discriminatorLayers || discriminatorUnits != standard.discriminatorUnits
            || discriminatorLearningRate != standard.discriminatorLearningRate || discriminatorShuffle != standard.discriminatorShuffle
            || discriminatorInitializer != standard.discriminatorInitializer
    }

    /// Problems with the settings, one each (empty when valid).
    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if samples < 1 || samples > 100_000 { found.append(ConfigurationProblem(.samples, "must be 1...100000, got \(samples)")) }
        if kind != .iwae && samples != 1 { found.append(ConfigurationProblem(.samples, "apply to the IWAE objective; \(kind == .elbo ? "the ELBO" : kind.rawValue) uses one sample")) }
        if !(beta >= 0 && beta.isFinite) { found.append(ConfigurationProblem(.beta, "must be a number >= 0, got \(beta)")) }
        if warmupEpochs < 0 { found.append(ConfigurationProblem(.warmupEpochs, "must be >= 0, got \(warmupEpochs)")) }
        if !(freeBits >= 0 && freeBits.isFinite) { found.append(ConfigurationProblem(.freeBits, "must be a number >= 0, got \(freeBits)")) }
        if kind == .iwae && (beta != 1 || warmupEpochs > 0 || freeBits > 0 || klBalancing) {
            found.append(ConfigurationProblem(.objective, "IWAE takes no beta, warm-up, free bits or KL balancing (they apply to the ELBO)"))
        }
        if kind == .betaTCVAE {
            if !(alpha >= 0 && alpha.isFinite) { found.append(ConfigurationProblem(.alpha, "must be a number >= 0, got \(alpha)")) }
            if !(gamma >= 0 && gamma.isFinite) { found.append(ConfigurationProblem(.gamma, "must be a number >= 0, got \(gamma)")) }
            if freeBits > 0 || klBalancing {
                found.append(ConfigurationProblem(.objective, "beta-TCVAE takes no free bits or KL balancing (they apply to the ELBO)"))
            }
        } else if kind == .factorVAE {
            if !(gamma >= 0 && gamma.isFinite) { found.append(ConfigurationProblem(.gamma, "must be a number >= 0, got \(gamma)")) }
            if alpha != 1 || estimator != .minibatchStratified {
                found.append(ConfigurationProblem(.objective, "alpha and the q(z) estimator apply to beta-TCVAE (--objective beta-tcvae), not factor-vae"))
            }
            if warmupEpochs > 0 || freeBits > 0 || klBalancing {
                found.append(ConfigurationProblem(.objective, "FactorVAE takes no warm-up, free bits or KL balancing"))
            }
            if !(1...32).contains(discriminatorLayers) { found.append(ConfigurationProblem(.discriminatorLayers, "must be 1...32, got \(discriminatorLayers)")) }
            if !(1...100_000).contains(discriminatorUnits) { found.append(ConfigurationProblem(.discriminatorUnits, "must be 1...100000, got \(discriminatorUnits)")) }
            if !(discriminatorLearningRate > 0 && discriminatorLearningRate.isFinite) {
                found.append(ConfigurationProblem(.discriminatorLearningRate, "must be a number > 0, got \(discriminatorLearningRate)"))
            }
        } else if alpha != 1 || gamma != 1 || estimator != .minibatchStratified {
            found.append(ConfigurationProblem(.objective, "alpha, gamma and the q(z) estimator apply to beta-TCVAE (--objective beta-tcvae; gamma also to factor-vae), not \(kind.rawValue)"))
        }
        if kind != .factorVAE && setsTheDiscriminator {
            found.append(ConfigurationProblem(.objective, "the discriminator's layers, units, learning rate, shuffle and initializer apply to FactorVAE (--objective factor-vae), not \(kind.rawValue)"))
        }
        if kind == .dipVAE {
            if !(lambdaOffDiagonal >= 0 && lambdaOffDiagonal.isFinite) { found.append(ConfigurationProblem(.lambdaOffDiagonal, "must be a number >= 0, got \(lambdaOffDiagonal)")) }
            if !(lambdaDiagonalFactor >= 0 && lambdaDiagonalFactor.isFinite) { found.append(ConfigurationProblem(.lambdaDiagonalFactor, "must be a number >= 0, got \(lambdaDiagonalFactor)")) }
        } else if dipVariant != .i || lambdaOffDiagonal != 10 || lambdaDiagonalFactor != 10 {
            found.append(ConfigurationProblem(.objective, "the DIP variant and its lambdas apply to DIP-VAE (--objective dip-vae), not \(kind.rawValue)"))
        }
        if kind == .annealedVAE {
            if !(capacity >= 0 && capacity.isFinite) { found.append(ConfigurationProblem(.capacity, "must be a number of nats >= 0, got \(capacity)")) }
            if !(capacityEpochs > 0 && capacityEpochs.isFinite) { found.append(ConfigurationProblem(.capacityEpochs, "must be a number of epochs > 0, got \(capacityEpochs)")) }
            if warmupEpochs > 0 || freeBits > 0 || klBalancing {
                found.append(ConfigurationProblem(.objective, "AnnealedVAE raises its capacity instead of a KL warm-up; it takes no warm-up, free bits or KL balancing"))
            }
        } else if capacity != 25 || capacityEpochs != 1 {
            found.append(ConfigurationProblem(.objective, "the capacity applies to AnnealedVAE (--objective annealed-vae), not \(kind.rawValue)"))
        }
        if kind == .dipVAE && (freeBits > 0 || klBalancing) {
            found.append(ConfigurationProblem(.objective, "DIP-VAE takes no free bits or KL balancing"))
        }
        if kind == .elbo && klBalancing && warmupEpochs == 0 {
            found.append(ConfigurationProblem(.klBalancing, "acts during the KL warm-up only: give --warmup-epochs N with N > 0"))
        }
        return found
    }

    /// Whether processes may each take a shard of a batch: the batch loss is a sum of per-image
    /// terms, or free bits', whose per-dimension batch sums the processes share
    /// (`Batch.sumOverShards`). KL balancing (coefficients from the batch's mean KL) is not.
    public var isSumOverImages: Bool { kind == .elbo && !klBalancing }

    /// Whether the objective needs the number of training images (β-TCVAE's q(z) estimate).
    public var needsDatasetSize: Bool { kind == .betaTCVAE }

    /// Whether the objective acts on one diagonal-Gaussian group's posterior under N(0, I)
    /// (β-TCVAE, DIP-VAE).
    public var needsOneGaussianGroup: Bool { kind == .betaTCVAE || kind == .dipVAE || kind == .factorVAE }

    /// The objective these settings describe, with the run's reductions of the reconstruction
    /// (over pixels) and of the loss (over the batch).
    /// `datasetSize`: the training images (β-TCVAE; others ignore it).
    /// `seed`: where FactorVAE's discriminator starts (others ignore it).
    public func makeObjective(reconstruction: TermReduction, batch: TermReduction, datasetSize: Int = 1, seed: UInt64 = 0) -> any Objective {
        switch kind {
        case .factorVAE: FactorVAEBound(settings: self, reconstruction: reconstruction, batch: batch, seed: seed)
        case .elbo, .dipVAE, .annealedVAE: EvidenceLowerBound(settings: self, reconstruction: reconstruction, batch: batch)
        case .iwae: ImportanceWeightedBound(samples: samples, batch: batch)
        case .betaTCVAE: TotalCorrelationBound(settings: self, datasetSize: datasetSize, reconstruction: reconstruction, batch: batch)
        }
    }
}

