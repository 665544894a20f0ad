import Foundation

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
public struct ObjectiveSettings: Codable, Equatable, Sendable {
    /// The bound minimised.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case elbo, iwae
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

    /// An objective; the defaults are the plain ELBO.
    public init(kind: Kind = .elbo, samples: Int = 1, beta: Float = 1, warmupEpochs: Int = 0, freeBits: Float = 0, klBalancing: Bool = false) {
        (self.kind, self.samples, self.beta, self.warmupEpochs, self.freeBits) = (kind, samples, beta, warmupEpochs, freeBits)
        self.klBalancing = klBalancing
    }

    enum CodingKeys: String, CodingKey { case kind, samples, beta, warmupEpochs, freeBits, klBalancing }

    /// Reads the settings; `klBalancing` may be absent (off).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        samples = try c.decode(Int.self, forKey: .samples)
        beta = try c.decode(Float.self, forKey: .beta)
        warmupEpochs = try c.decode(Int.self, forKey: .warmupEpochs)
        freeBits = try c.decode(Float.self, forKey: .freeBits)
        klBalancing = try c.decodeIfPresent(Bool.self, forKey: .klBalancing) ?? false
    }

    /// Writes the settings; `klBalancing` only when on, so records without it read back the same.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(samples, forKey: .samples)
        try c.encode(beta, forKey: .beta)
        try c.encode(warmupEpochs, forKey: .warmupEpochs)
        try c.encode(freeBits, forKey: .freeBits)
        if klBalancing { try c.encode(klBalancing, forKey: .klBalancing) }
    }

    /// The plain ELBO.
    public static let elbo = ObjectiveSettings()

    /// The KL weight w_t after `progress` epochs (fractional: 2.5 is half-way through the third).
    public func klWeight(afterEpochs progress: Double) -> Float {
        guard warmupEpochs > 0 else { return beta }
        return beta * Float(min(1, progress / Double(warmupEpochs)))
    }

    /// A short description, e.g. "ELBO" or "IWAE, k = 50" or "ELBO, beta 4, warm-up 10 epochs".
    public var summary: String {
        switch kind {
        case .iwae: return "IWAE, k = \(samples)"
        case .elbo:
            var parts = ["ELBO"]
            if beta != 1 { parts.append("beta \(beta)") }
            if warmupEpochs > 0 { parts.append("KL warm-up over \(warmupEpochs) epochs") }
            if freeBits > 0 { parts.append("free bits \(freeBits) nats per dimension") }
            if klBalancing { parts.append("KL balancing") }
            return parts.joined(separator: ", ")
        }
    }

    /// Problems with the settings, one each (empty when valid).
    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if samples < 1 || samples > 100_000 { found.append(ConfigurationProblem(.samples, "must be 1...100000, got \(samples)")) }
        if kind == .elbo && samples != 1 { found.append(ConfigurationProblem(.samples, "apply to the IWAE objective; the ELBO uses one sample")) }
        if !(beta >= 0 && beta.isFinite) { found.append(ConfigurationProblem(.beta, "must be a number >= 0, got \(beta)")) }
        if warmupEpochs < 0 { found.append(ConfigurationProblem(.warmupEpochs, "must be >= 0, got \(warmupEpochs)")) }
        if !(freeBits >= 0 && freeBits.isFinite) { found.append(ConfigurationProblem(.freeBits, "must be a number >= 0, got \(freeBits)")) }
        if kind == .iwae && (beta != 1 || warmupEpochs > 0 || freeBits > 0 || klBalancing) {
            found.append(ConfigurationProblem(.objective, "IWAE takes no beta, warm-up, free bits or KL balancing (they apply to the ELBO)"))
        }
        if kind == .elbo && klBalancing && warmupEpochs == 0 {
            found.append(ConfigurationProblem(.klBalancing, "acts during the KL warm-up only: give --warmup-epochs N with N > 0"))
        }
        return found
    }

    /// Whether the batch loss is a sum of per-image terms, so that processes may each take a
    /// shard of a batch: free bits (a batch mean per dimension) and IWAE (k draws per image of a
    /// whole batch) and KL balancing (coefficients from the batch's mean KL) are not.
    public var isSumOverImages: Bool { kind == .elbo && freeBits == 0 && !klBalancing }

    /// The objective these settings describe, with the run's reductions of the reconstruction
    /// (over pixels) and of the loss (over the batch).
    public func makeObjective(reconstruction: TermReduction, batch: TermReduction) -> any Objective {
        switch kind {
        case .elbo: EvidenceLowerBound(settings: self, reconstruction: reconstruction, batch: batch)
        case .iwae: ImportanceWeightedBound(samples: samples, batch: batch)
        }
    }
}

