import NN
import Optimizers
import TensorCore

/// FactorVAE (Kim & Mnih 2018, "Disentangling by Factorising"): the ELBO plus γ times an
/// estimate of the total correlation of q(z),
///
///     L = Σ_i [−log p(x_i | z_i) + β KL(q(z | x_i) ‖ N(0, I)) + γ (D_0(z_i) − D_1(z_i))],
///
/// where D is a discriminator (`discriminatorLayers` hidden layers of `discriminatorUnits`,
/// leaky ReLU of slope 0.2, two logits) telling sampled codes z_i ~ q(z | x_i) (class 0) from
/// codes whose dimensions were each shuffled across the batch (class 1, samples of Π_j q(z_j)):
/// D_0 − D_1 = log D(z) / (1 − D(z)) estimates log q(z) / Π_j q(z_j), whose mean is the TC.
/// The VAE's gradient passes through D to z with D held fixed; after the VAE's optimizer step,
/// D takes one step of its own Adam (learning rate `discriminatorLearningRate`, β₁ 0.5, β₂
/// 0.9) on −½ [log D_0(z) + log D_1(z̃)], the batch's codes detached, as disentanglement_lib
/// trains it: both updates from the same batch, the discriminator's from its weights before the
/// step. With `discriminatorShuffle` `.previousBatch` the shuffled codes z̃ are the previous
/// batch's instead, so that the two classes share no image, as in the paper's Algorithm 2 (which
/// draws a second batch for them). Needs one diagonal-Gaussian group under N(0, I).
/// Figures (`metrics.csv`): `factor_vae_tc` (the batch mean of D_0 − D_1),
/// `discriminator_loss`, `discriminator_accuracy` (the share of the 2B codes it classifies
/// right).
public final class FactorVAEBound: Objective {
    /// The name under which the previous batch's codes are kept in `state`.
    static let previousCodesName = "discriminator_previous_codes"
    /// The settings (γ, β and the discriminator's).
    public let settings: ObjectiveSettings
    /// How the reconstruction term is reduced over pixels.
    public let reconstruction: TermReduction
    /// How the loss is reduced over the batch.
    public let batch: TermReduction
    /// Where the discriminator's weights start.
    public let seed: UInt64
    /// The discriminator's layers, input first (built by `prepare(for:)`).
    public private(set) var layers: [Linear] = []
    /// The discriminator's optimizer.
    private var optimizer: Adam?
    /// The discriminator's loss of the last batch, awaiting its step.
    private var pendingLoss: Tensor?
    /// The last batch's codes [B, d] (with `.previousBatch`: the next step shuffles them).
    private var previousCodes: Tensor?

    /// The names of the figures it adds to `metrics.csv`.
    public static let termNames = (totalCorrelation: "factor_vae_tc", discriminatorLoss: "discriminator_loss", discriminatorAccuracy: "discriminator_accuracy")
    /// The leaky ReLU's slope for negative inputs.
    public static let slope: Float = 0.2

    /// FactorVAE with `settings` (its `gamma`, `beta` and discriminator).
    public init(settings: ObjectiveSettings, reconstruction: TermReduction = .sum, batch: TermReduction = .sum, seed: UInt64 = 0) {
        (self.settings, self.reconstruction, self.batch, self.seed) = (settings, reconstruction, batch, seed)
    }

    /// "FactorVAE, gamma 35.0, ...".
    public var summary: String { settings.summary }
    /// The discriminator sees the whole batch: not a sum over images.
    public var isSumOverImages: Bool { false }

    /// A model of one diagonal-Gaussian group under N(0, I) will do.
    public func problem(for model: any VariationalModel, probe: ModelOutput) -> ConfigurationProblem? {
        TotalCorrelationBound.oneGaussianGroupProblem("FactorVAE", model: model, probe: probe)
    }

    /// Builds the discriminator for `model`'s latent size, from the seed (started by the settings'
    /// `discriminatorInitializer`), and its Adam.
    public func prepare(for model: any VariationalModel) {
        var generator = RandomGenerator(seed: seed ^ 0xFAC7_0D15)
        let sizes = [model.latentSize] + Array(repeating: settings.discriminatorUnits, count: settings.discriminatorLayers) + [2]
        layers = zip(sizes, sizes.dropFirst()).map { Linear(inputSize: $0, outputSize: $1, initializer: settings.discriminatorInitializer, using: &generator) }
        optimizer = Adam(parameters: parameters, learningRate: settings.discriminatorLearningRate, beta1: 0.5, beta2: 0.9)
    }

    /// The discriminator's parameters, layer by layer (weight, bias).
    public var parameters: [Tensor] { layers.flatMap { [$0.weight, $0.bias!] } }

    /// The logits [rows, 2] of codes `z` [rows, d]; with `trainable` false the weights are read
    /// through views that take no gradient (the VAE's pass: D held fixed, z differentiable).
    public func logits(_ z: Tensor, trainable: Bool) -> Tensor {
        precondition(!layers.isEmpty, "the discriminator is built by prepare(for:)")
        var h = z
        for (index, layer) in layers.enumerated() {
            let weight = trainable ? layer.weight : Tensor(shape: layer.weight.shape, storage: layer.weight.storage)
            let bias = trainable ? layer.bias! : Tensor(shape: layer.bias!.shape, storage: layer.bias!.storage)
            h = Tensor.linear(h, weight: weight, bias: bias)
            if index < layers.count - 1 { h = h.leakyRelu(slope: Self.slope) }
        }
        return h
    }

    /// Codes with each dimension's values permuted across the rows independently (a draw of
    /// Π_j q(z_j)), from `generator`.
    public static func permutedDimensions(_ z: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let (rows, columns) = (z.shape[0], z.shape[1])
        var values = [Float](repeating: 0, count: rows * columns)
        let source = z.pointer
        for column in 0..<columns {
            let order = generator.permutation(rows)
            for row in 0..<rows { values[row * columns + column] = source[order[row] * columns + column] }
        }
        return Tensor(shape: [rows, columns], scalars: values)
    }

    /// The batch's loss (the ELBO's terms and γ D's log-odds) and the discriminator's loss,
    /// kept for `finishStep`.
    public func terms(_ model: any VariationalModel, _ batch: Batch, epochs: Double) -> ObjectiveTerms {
        let x = batch.images
        let (output, group, posterior) = TotalCorrelationBound.oneGaussianGroupForward("FactorVAE", model: model, batch: batch)
        let reconstructionTerm = output.likelihood.negativeLogLikelihood(x)
        let kl = posterior.klDivergence(reduction: .sum)
        let logOdds = logits(group.z, trainable: false)
        let totalCorrelation = (logOdds.sliced(lastAxis: 0..<1) - logOdds.sliced(lastAxis: 1..<2)).sum()
        let pixelScale: Float = reconstruction == .mean ? 1 / Float(x.shape[1]) : 1
        let batchScale: Float = self.batch == .mean ? 1 / Float(batch.batchRows) : 1
        let klTerm = settings.beta == 1 ? kl : kl * settings.beta
        var loss = (reconstructionTerm * pixelScale + klTerm + totalCorrelation * settings.gamma) * batchScale
        let rows = Double(max(x.shape[0], 1))
        var modelTerms = [Self.termNames.totalCorrelation: Double(totalCorrelation.item) / rows]
        loss = ExtraLossTerm.adding(model.extraLossTerms(output, labels: batch.labels), to: loss, figures: &modelTerms, batchRows: batch.batchRows,
                                    share: batch.share, batchScale: batchScale)
        let (discriminatorLoss, accuracy) = prepareDiscriminatorStep(codes: group.z.detached(), using: &batch.noise.generator)
        modelTerms[Self.termNames.discriminatorLoss] = discriminatorLoss
        modelTerms[Self.termNames.discriminatorAccuracy] = accuracy
        return ObjectiveTerms(loss: loss, figures: BatchFigures(loss: Double(loss.item), reconstruction: Double(reconstructionTerm.item),
                                                                kl: [.init(name: group.group.name, value: Double(kl.item), estimator: .closedForm)],
                                                                modelTerms: modelTerms))
    }

    /// The discriminator's loss −½ [mean log D_0(z) + mean log D_1(z̃)] on `codes` [B, d] (no
    /// gradient history) and a shuffle z̃ drawn from `generator`, kept for `finishStep`; returns
    /// it and the share of the 2B codes classified right. z̃ shuffles `codes` themselves, or with
    /// `.previousBatch` the codes of the previous call (a run's first batch, or one whose row
    /// count differs from the previous batch's, shuffles its own).
    @discardableResult
    public func prepareDiscriminatorStep(codes: Tensor, using generator: inout RandomGenerator) -> (loss: Double, accuracy: Double) {
        var source = codes
        if settings.discriminatorShuffle == .previousBatch {
            if let previousCodes, previousCodes.shape == codes.shape { source = previousCodes }
            previousCodes = Tensor(shape: codes.shape, scalars: codes.scalars)
        }
        let shuffled = Self.permutedDimensions(source, using: &generator)
        let both = logits(Tensor(shape: [2 * codes.shape[0], codes.shape[1]], scalars: codes.scalars + shuffled.scalars), trainable: true)
        let labels = [Int](repeating: 0, count: codes.shape[0]) + [Int](repeating: 1, count: codes.shape[0])
        let loss = softmaxCrossEntropy(logits: both, labels: labels)
        pendingLoss = loss
        var right = 0
        for row in 0..<labels.count where (both.pointer[row * 2 + 1] > both.pointer[row * 2] ? 1 : 0) == labels[row] { right += 1 }
        return (Double(loss.item), Double(right) / Double(labels.count))
    }

    /// The discriminator's step on the last batch's loss.
    public func finishStep() {
        guard let loss = pendingLoss, let optimizer else { return }
        pendingLoss = nil
        optimizer.zeroGradients()
        loss.backward()
        optimizer.step()
    }

    /// The discriminator's weights ("discriminator.<layer>.weight" / ".bias") and its Adam's
    /// buffers ("discriminator_adam.<name>") and step ("discriminator_adam_step").
    public var state: [String: [Float]] {
        var state: [String: [Float]] = [:]
        for (index, layer) in layers.enumerated() {
            state["discriminator.\(index).weight"] = Array(layer.weight.storage.buffer)
            state["discriminator.\(index).bias"] = Array(layer.bias!.storage.buffer)
        }
        if let optimizer {
            let saved = optimizer.state
            for (name, values) in saved.buffers { state["discriminator_adam." + name] = values }
            state["discriminator_adam_step"] = [Float(saved.step)]
        }
        if let previousCodes { state[Self.previousCodesName] = previousCodes.scalars }
        return state
    }

    /// Restores what `state` gave, every entry checked against the discriminator's shapes.
    public func restore(state: [String: [Float]]) throws(ObjectiveStateError) {
        var current = self.state
        current[Self.previousCodesName] = nil
        for name in state.keys.sorted() where current[name] == nil && name != Self.previousCodesName {
            throw ObjectiveStateError(name: name, problem: "FactorVAE's discriminator has no such state")
        }
        var restoredCodes: Tensor?
        if let codes = state[Self.previousCodesName] {
            guard settings.discriminatorShuffle == .previousBatch else {
                throw ObjectiveStateError(name: Self.previousCodesName, problem: "kept only when the discriminator shuffles the previous batch's codes; the run shuffles the same batch's")
            }
            let latentSize = layers.first?.inputSize ?? 0
            guard latentSize > 0, !codes.isEmpty, codes.count % latentSize == 0 else {
                throw ObjectiveStateError(name: Self.previousCodesName, problem: "holds \(codes.count) values, expected a whole number of \(latentSize)-value codes")
            }
            guard codes.allSatisfy(\.isFinite) else { throw ObjectiveStateError(name: Self.previousCodesName, problem: "holds a value that is not finite") }
            restoredCodes = Tensor(shape: [codes.count / latentSize, latentSize], scalars: codes)
        }
        for name in current.keys.sorted() {
            guard let values = state[name] else { throw ObjectiveStateError(name: name, problem: "missing: the checkpoint lacks the discriminator's state") }
            guard values.count == current[name]!.count else {
                throw ObjectiveStateError(name: name, problem: "holds \(values.count) values, the discriminator \(settings.discriminatorLayers) x \(settings.discriminatorUnits) needs \(current[name]!.count)")
            }
        }
        let stepValue = state["discriminator_adam_step"]![0]
        guard stepValue >= 0, stepValue == stepValue.rounded() else { throw ObjectiveStateError(name: "discriminator_adam_step", problem: "expected a whole number >= 0, got \(stepValue)") }
        for (index, layer) in layers.enumerated() {
            for (tensor, name) in [(layer.weight, "discriminator.\(index).weight"), (layer.bias!, "discriminator.\(index).bias")] {
                state[name]!.withUnsafeBufferPointer { tensor.pointer.update(from: $0.baseAddress!, count: tensor.count) }
            }
        }
        var buffers: [String: [Float]] = [:]
        for (name, values) in state where name.hasPrefix("discriminator_adam.") { buffers[String(name.dropFirst("discriminator_adam.".count))] = values }
        do { try optimizer?.restore(OptimizerState(step: Int(stepValue), buffers: buffers)) } catch {
            throw ObjectiveStateError(name: "discriminator_adam", problem: error.message)
        }
        previousCodes = restoredCodes
    }
}

/// Which codes FactorVAE's discriminator sees with their dimensions shuffled across rows, its
/// samples of Π_j q(z_j).
public enum DiscriminatorShuffle: String, Codable, CaseIterable, Sendable {
    /// The batch's own codes (disentanglement_lib's `shuffle_codes`).
    case sameBatch = "same-batch"
    /// The previous batch's codes: the two classes share no image, as with the second batch of
    /// Kim & Mnih's Algorithm 2.
    case previousBatch = "previous-batch"
}
