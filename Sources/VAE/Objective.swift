import Foundation

/// What training minimises per image, beyond the plain negative ELBO.
///
/// - `.elbo`: -log p(x | z) + w_t · KL, z ~ q(z | x) (one sample), with the KL weight
///   w_t = β · min(1, t / warm-up) where t counts epochs in fractions of an epoch (a linear KL
///   warm-up, Bowman et al. 2016; Sønderby et al. 2016), and the KL optionally replaced by the
///   free-bits form Σ_d max(λ, KL_d) with KL_d the batch-mean KL of dimension d (Kingma et al.
///   2016), so dimensions below λ nats are not pushed further towards the prior.
/// - `.iwae`: -log (1/k) Σ_i p(x, z_i) / q(z_i | x), z_i ~ q(z | x) (Burda et al. 2016), the
///   importance-weighted bound with k samples; k = 1 is the ELBO with a sampled KL.
public struct Objective: Codable, Equatable, Sendable {
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
    public static let elbo = Objective()

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

    var problems: [String] {
        var found: [String] = []
        if samples < 1 || samples > 100_000 { found.append("the importance samples must be 1...100000, got \(samples)") }
        if kind == .elbo && samples != 1 { found.append("importance samples apply to the IWAE objective; the ELBO uses one sample") }
        if !(beta >= 0 && beta.isFinite) { found.append("beta (the KL weight) must be a number >= 0, got \(beta)") }
        if warmupEpochs < 0 { found.append("the warm-up epochs must be >= 0, got \(warmupEpochs)") }
        if !(freeBits >= 0 && freeBits.isFinite) { found.append("the free bits must be a number >= 0, got \(freeBits)") }
        if kind == .iwae && (beta != 1 || warmupEpochs > 0 || freeBits > 0) {
            found.append("beta, warm-up and free bits apply to the ELBO objective, not to IWAE")
        }
        return found
    }
}

/// How the learning rate changes over epochs.
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// The configured rate throughout.
    case constant
    /// Burda et al.'s schedule: stage i = 0 ..< stages runs 3^i epochs at rate r · 10^(-i/7)
    /// (the paper: 8 stages, 3,280 epochs, r = 1e-3).
    case iwaePaper(stages: Int)

    /// The epochs the schedule takes, or nil when it does not fix them.
    public var epochs: Int? {
        switch self {
        case .constant: nil
        case let .iwaePaper(stages): (0..<stages).reduce(0) { total, stage in total + Int(pow(3.0, Double(stage))) }
        }
    }

    /// The rate for epoch `epoch` (1-based) given the base rate.
    public func learningRate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant: return base
        case let .iwaePaper(stages):
            var end = 0
            for stage in 0..<stages {
                end += Int(pow(3.0, Double(stage)))
                if epoch <= end { return base * Float(pow(10.0, -Double(stage) / 7)) }
            }
            return base * Float(pow(10.0, -Double(max(stages - 1, 0)) / 7))
        }
    }

    /// A short description for logs and reports.
    public var summary: String {
        switch self {
        case .constant: "constant"
        case let .iwaePaper(stages): "IWAE paper's: \(stages) stages of 3^i epochs at rate x 10^(-i/7), \(epochs!) epochs"
        }
    }
}
