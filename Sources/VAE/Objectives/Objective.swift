import TensorCore

/// What training minimises: per batch, a scalar loss and its named parts. The trainer calls
/// `terms` once per batch and knows nothing of the maths, so a new objective (β-TCVAE, FactorVAE,
/// capacity annealing) plugs in as a new conforming type.
public protocol Objective {
    /// A short description for logs, e.g. "ELBO, beta 4" or "IWAE, k = 50".
    var summary: String { get }
    /// Whether several processes may each take a shard of a batch and sum their gradients: the
    /// batch loss is a sum of per-image terms, or the objective sums over the shards whatever
    /// else of the whole batch it needs (`Batch.sumOverShards`).
    var isSumOverImages: Bool { get }
    /// The loss of `batch` for `model` and its named parts, `epochs` into training (fractional:
    /// 2.5 is half-way through the third epoch).
    func terms(_ model: any VariationalModel, _ batch: Batch, epochs: Double) -> ObjectiveTerms
    /// Why this objective cannot train `model` (nil when it can), judged from `probe`, one
    /// forward pass of a test image with z at the posterior's mean.
    func problem(for model: any VariationalModel, probe: ModelOutput) -> ConfigurationProblem?
    /// Readies what the objective owns for `model` (FactorVAE sizes its discriminator to the
    /// latent group); called once, when the trainer has built the model.
    func prepare(for model: any VariationalModel)
    /// Work after the optimizer's step, on what `terms` left (FactorVAE's discriminator step).
    func finishStep()
    /// The objective's own training state by name (FactorVAE's discriminator and its Adam), kept
    /// in checkpoints beside the model's and the optimizer's.
    var state: [String: [Float]] { get }
    /// Restores `state` as `state` gave it.
    func restore(state: [String: [Float]]) throws(ObjectiveStateError)
}

/// An objective's saved state does not fit it: the name and what was expected.
public struct ObjectiveStateError: Error, Equatable, Sendable {
    /// The state's name (without the checkpoint's "objective." prefix).
    public let name: String
    /// What is wrong.
    public let problem: String

    /// A problem with the state named `name`.
    public init(name: String, problem: String) { (self.name, self.problem) = (name, problem) }
}

extension Objective {
    /// Any model will do.
    public func problem(for model: any VariationalModel, probe: ModelOutput) -> ConfigurationProblem? { nil }
    /// Nothing to ready.
    public func prepare(for model: any VariationalModel) {}
    /// Nothing after the step.
    public func finishStep() {}
    /// No state of its own.
    public var state: [String: [Float]] { [:] }
    /// No state of its own: any saved state is refused.
    public func restore(state: [String: [Float]]) throws(ObjectiveStateError) {
        if let name = state.keys.sorted().first { throw ObjectiveStateError(name: name, problem: "\(summary) keeps no state of its own") }
    }
}

/// One batch's loss and its parts.
public struct ObjectiveTerms {
    /// The scalar minimised (differentiable in the model's parameters).
    public let loss: Tensor
    /// Its parts as figures, summed over this process's images.
    public let figures: BatchFigures

    /// A loss and its figures.
    public init(loss: Tensor, figures: BatchFigures) { (self.loss, self.figures) = (loss, figures) }
}

/// A batch's figures by name, summed over its images (in nats, unweighted): what the epoch's
/// running means are made of.
public struct BatchFigures: Equatable, Sendable {
    /// The loss as minimised (for the finiteness check and the console).
    public var loss: Double
    /// Σ −log p(x | z) (the likelihood's reconstruction term; see `ImageDistribution`).
    public var reconstruction: Double
    /// Σ KL per latent group, by group name, with the estimator each used.
    public var kl: [GroupFigure]
    /// The model's and the objective's own terms, by name (each a batch mean times this
    /// process's share of the batch, so shards add up to the batch's value).
    public var modelTerms: [String: Double]

    /// One group's KL sum.
    public struct GroupFigure: Equatable, Sendable {
        /// The group's name.
        public var name: String
        /// Σ KL over the images.
        public var value: Double
        /// How it was obtained.
        public var estimator: KLEstimator
    }

    /// The figures of one batch.
    public init(loss: Double, reconstruction: Double, kl: [GroupFigure], modelTerms: [String: Double] = [:]) {
        (self.loss, self.reconstruction, self.kl, self.modelTerms) = (loss, reconstruction, kl, modelTerms)
    }

    /// Σ KL over the groups.
    public var totalKL: Double { kl.reduce(0) { $0 + $1.value } }

    /// The figures summed over the processes of `group` (every process gets the totals).
    public func summed(over group: (any ProcessGroup)?) -> BatchFigures {
        guard let group else { return self }
        let names = modelTerms.keys.sorted()
        var values = [loss, reconstruction] + kl.map(\.value) + names.map { modelTerms[$0]! }
        group.sum(&values)
        var total = self
        total.loss = values[0]
        total.reconstruction = values[1]
        for index in kl.indices { total.kl[index].value = values[2 + index] }
        for (offset, name) in names.enumerated() { total.modelTerms[name] = values[2 + kl.count + offset] }
        return total
    }
}
