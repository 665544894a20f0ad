import Foundation

/// What training minimises per image, as a run records it (`config.json`'s `objective`); the
/// maths lives in the objectives it makes (`makeObjective`).
///
/// - `.elbo`: -log p(x | z) + w_t · KL, z ~ q(z | x) (one sample), with the KL weight
///   w_t = β · min(1, t / warm-up) where t counts epochs in fractions of an epoch (a linear KL
///   warm-up, Bowman et al. 2016; Sønderby et al. 2016), and the KL optionally replaced by the
///   free-bits form Σ_d max(λ, KL_d) with KL_d the batch-mean KL of dimension d (Kingma et al.
///   2016), so dimensions below λ nats are not pushed further towards the prior.
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

    /// An objective; the defaults are the plain ELBO.
    public init(kind: Kind = .elbo, samples: Int = 1, beta: Float = 1, warmupEpochs: Int = 0, freeBits: Float = 0) {
        (self.kind, self.samples, self.beta, self.warmupEpochs, self.freeBits) = (kind, samples, beta, warmupEpochs, freeBits)
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
        if kind == .iwae && (beta != 1 || warmupEpochs > 0 || freeBits > 0) {
            found.append(ConfigurationProblem(.objective, "IWAE takes no beta, warm-up or free bits (they apply to the ELBO)"))
        }
        return found
    }

    /// Whether the batch loss is a sum of per-image terms, so that processes may each take a
    /// shard of a batch: free bits (a batch mean per dimension) and IWAE (k draws per image of a
    /// whole batch) are not.
    public var isSumOverImages: Bool { kind == .elbo && freeBits == 0 }

    /// The objective these settings describe, with the run's reductions of the reconstruction
    /// (over pixels) and of the loss (over the batch).
    public func makeObjective(reconstruction: TermReduction, batch: TermReduction) -> any Objective {
        switch kind {
        case .elbo: EvidenceLowerBound(settings: self, reconstruction: reconstruction, batch: batch)
        case .iwae: ImportanceWeightedBound(samples: samples, batch: batch)
        }
    }
}

