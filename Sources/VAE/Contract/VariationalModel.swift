import Datasets
import Foundation
import NN
import TensorCore

/// What a model is conditioned on besides the image: nothing, or one of K classes (given to it as
/// a one-hot vector [batch, K]).
public enum ModelCondition: Codable, Equatable, Sendable {
    case none
    case classes(Int)

    /// K, or 0 for an unconditional model.
    public var classCount: Int {
        switch self {
        case .none: 0
        case let .classes(count): count
        }
    }

    /// [features, y] for a conditional model (features [batch, F], y the one-hot [batch, K]; the
    /// result [batch, F + K]), the features alone otherwise. A condition must come exactly when
    /// the model has one (a programmer error otherwise: the commands check labels first).
    public func joined(_ features: Tensor, _ condition: Tensor?) -> Tensor {
        switch self {
        case .none:
            precondition(condition == nil, "this model is unconditional: no condition may be given")
            return features
        case let .classes(count):
            guard let condition else { preconditionFailure("this model is conditioned on \(count) classes: a one-hot label is needed") }
            precondition(condition.shape == [features.shape[0], count],
                         "the condition must be one-hot rows [\(features.shape[0]), \(count)], got \(condition.shape)")
            return Tensor.concatenated([features, condition])
        }
    }
}

/// One stochastic layer of a model: a named group of latent values.
public struct LatentGroup: Equatable, Sendable {
    /// The group's name in reports and `metrics.csv` ("z" for a one-group model; "z1", "z2", ...).
    public let name: String
    /// Its dimension.
    public let size: Int

    /// A group `name` of `size` values.
    public init(name: String, size: Int) {
        precondition(size > 0, "a latent group needs at least one dimension")
        (self.name, self.size) = (name, size)
    }
}

/// Where the ε of reparameterised draws comes from: one seeded generator, drawn for the whole
/// batch of every process, of which this process keeps its shard's rows (so N processes draw
/// what one would). A model asks for its groups' noise in group order, [rows, size] each.
public final class NoiseSource {
    /// The generator the draws advance.
    public var generator: RandomGenerator
    /// With a shard: the rows of the whole batch, and this process's rows of it.
    public var shard: (batchRows: Int, rows: Range<Int>)?

    /// Draws from `generator`; with `shard`, for a batch of `batchRows` rows of which this
    /// process holds `rows`.
    public init(generator: RandomGenerator, shard: (batchRows: Int, rows: Range<Int>)? = nil) {
        (self.generator, self.shard) = (generator, shard)
    }

    /// ε ~ N(0, I) of shape [rows, columns]. With a shard, `rows` is k times this process's share
    /// of the batch (k samples per image): the draw is k times the whole batch, and this
    /// process's k · share rows come back.
    public func normal(rows: Int, columns: Int) -> Tensor {
        guard let shard, shard.rows.count != shard.batchRows else { return Tensor.randomNormal([rows, columns], using: &generator) }
        precondition(rows % max(shard.rows.count, 1) == 0, "a shard of \(shard.rows.count) rows cannot take \(rows) rows of noise")
        let perImage = rows / max(shard.rows.count, 1)
        let all = Tensor.randomNormal([shard.batchRows * perImage, columns], using: &generator)
        let first = shard.rows.lowerBound * perImage * columns
        return Tensor(shape: [rows, columns], scalars: Array(all.scalars[first..<(first + rows * columns)]))
    }
}

/// How a forward pass picks each group's z.
public enum LatentSampling {
    /// Every z at its posterior's mean (evaluation with z = μ, reconstructions).
    case mean
    /// Reparameterised draws with noise from the source.
    case noise(NoiseSource)
}

/// One latent group's part of a forward pass: q(z_i | ·), p(z_i | ·) and the z_i used.
public struct LatentGroupOutput {
    /// The group.
    public let group: LatentGroup
    /// The posterior q(z_i | x, z_above).
    public let posterior: any ReparameterizedDistribution
    /// The prior p(z_i | z_above) (for the top group, p(z_top), which may be learned).
    public let prior: any LatentDistribution
    /// The z_i used, [rows, size].
    public let z: Tensor
    /// The ε z_i was drawn with (nil when z_i is the posterior's mean).
    public let noise: Tensor?

    /// A group's posterior, prior, z and noise.
    public init(group: LatentGroup, posterior: any ReparameterizedDistribution, prior: any LatentDistribution, z: Tensor, noise: Tensor?) {
        (self.group, self.posterior, self.prior, self.z, self.noise) = (group, posterior, prior, z, noise)
    }

    /// KL(q || p) per row and how it was obtained (closed form where there is one).
    public func klDivergence(preferClosedForm: Bool = true) -> (value: Tensor, estimator: KLEstimator) {
        KLDivergence.estimate(posterior: posterior, prior: prior, z: z, noise: noise, preferClosedForm: preferClosedForm)
    }

    /// log p(z_i) − log q(z_i) per row, the group's share of an importance weight.
    public var logPriorMinusLogPosterior: Tensor {
        guard let noise else { return prior.logProbability(z) - posterior.logProbability(z) }
        return -KLDivergence.logRatio(posterior: posterior, prior: prior, z: z, noise: noise)
    }
}

/// One forward pass: every latent group (top first), and the likelihood p(x | z) it decodes to.
/// With k samples per image, every tensor has rows · k rows (row r · k + i is image r's i-th).
public struct ModelOutput {
    /// The latent groups, top first.
    public let groups: [LatentGroupOutput]
    /// p(x | z).
    public let likelihood: any ImageDistribution
    /// k, the samples per image.
    public let samplesPerImage: Int

    /// The groups, the likelihood and the samples per image.
    public init(groups: [LatentGroupOutput], likelihood: any ImageDistribution, samplesPerImage: Int = 1) {
        precondition(!groups.isEmpty, "a model has at least one latent group")
        (self.groups, self.likelihood, self.samplesPerImage) = (groups, likelihood, samplesPerImage)
    }

    /// The top group's z (a one-group model's only z).
    public var z: Tensor { groups[0].z }

    /// The top group's posterior as a diagonal Gaussian (every model of this toolkit so far has
    /// one; a programmer error otherwise).
    public var posterior: DiagonalGaussian {
        guard let gaussian = groups[0].posterior as? DiagonalGaussian else { preconditionFailure("the top posterior is not a diagonal Gaussian") }
        return gaussian
    }

    /// log p(x | z) + Σ_i (log p(z_i) − log q(z_i)) per row, [rows · k]: the log importance weight
    /// of each sample (its mean over samples is the ELBO; its log-mean-exp the IWAE bound).
    public func logImportanceWeights(_ x: Tensor) -> Tensor {
        var logWeights = likelihood.logProbability(samplesPerImage == 1 ? x : x.repeatingRows(samplesPerImage))
        for group in groups { logWeights = logWeights + group.logPriorMinusLogPosterior }
        return logWeights
    }
}

/// A model's own loss term beyond the ELBO, already weighted, with its unweighted value for
/// reporting. Either a batch mean (the affine kind's classifier), added to the loss as it is, or
/// a sum over the batch's images (a VQ-VAE's commitment loss), which the objective scales as it
/// scales its own terms (by 1 / B under a batch-mean objective).
public struct ExtraLossTerm {
    /// The term's name in logs and `metrics.csv` (lower case, words joined by "_").
    public let name: String
    /// The weighted term over the batch, a scalar tensor added to the loss.
    public let weighted: Tensor
    /// The unweighted value, for reports: the batch mean, or (summed over the images) the sum.
    public let value: Double
    /// Whether the term is a sum over the batch's images (false: a batch mean).
    public let isSumOverImages: Bool

    /// A term `name` adding `weighted` to the loss, reported as `value`; a batch mean unless
    /// `isSumOverImages`.
    public init(name: String, weighted: Tensor, value: Double, isSumOverImages: Bool = false) {
        (self.name, self.weighted, self.value, self.isSumOverImages) = (name, weighted, value, isSumOverImages)
    }

    /// `loss` plus `terms`, each reported in `figures` by name as its share of the whole batch's
    /// mean per image (so that the processes' figures add up): a batch-mean term of a shard counts
    /// with the shard's share of the batch, and a sum over images is scaled by `batchScale` (the
    /// objective's 1 / B or 1) and reported divided by the batch's rows.
    public static func adding(_ terms: [ExtraLossTerm], to loss: Tensor, figures: inout [String: Double], batchRows: Int, share: Float,
                              batchScale: Float) -> Tensor {
        var total = loss
        for term in terms {
            if term.isSumOverImages {
                total = total + (batchScale == 1 ? term.weighted : term.weighted * batchScale)
                figures[term.name] = term.value / Double(max(batchRows, 1))
            } else {
                total = total + (share == 1 ? term.weighted : term.weighted * share)
                figures[term.name] = term.value * Double(share)
            }
        }
        return total
    }
}

/// The contract every VAE implements, one stochastic layer or several.
///
/// A model is an ordered list of latent groups, top first (`latentGroups`): `forward` returns for
/// each group q(z_i | ·), p(z_i | ·) and the z_i it used, and the likelihood p(x | z). The ELBO is
/// E log p(x | z) − Σ_i KL_i; the importance-weighted bound uses log p(x, z) − log q(z | x) summed
/// over the groups. A one-group model implements `encode` and `decode` and gets `forward` (with
/// the prior N(0, I)) from the protocol.
///
/// The latent tools and the explorer act on the top group: `encode` gives its posterior, and
/// `decode` decodes a top-group z (a hierarchical model takes the lower groups at their prior
/// means). Images enter and leave as [batch, C · H · W] rows (`imageShape`: C x H x W, planar);
/// a conditional model takes the one-hot condition y [batch, K] (nil otherwise).
public protocol VariationalModel: Module {
    /// The top group's dimension (the only group's, for a one-group model).
    var latentSize: Int { get }
    /// The latent groups, top first (default: one group "z" of `latentSize`).
    var latentGroups: [LatentGroup] { get }
    /// The shape of the images the model encodes and decodes (C x H x W, planar rows).
    var imageShape: ImageShape { get }
    /// What the model is conditioned on besides the image: nothing, or one of K classes.
    var condition: ModelCondition { get }
    /// What rebuilds the model (its kind and architecture), saved with its weights.
    var specification: ModelSpecification { get }
    /// p(z_top), the top group's prior (default N(0, I)); it may hold learned parameters.
    var prior: any LatentDistribution { get }

    /// q(z_top | x, y): images x [batch, C · H · W] (and the condition) -> the top group's
    /// posterior [batch, latentSize]. Differentiable in x and in the model's parameters.
    func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian
    /// p(x | z_top, y): top-group codes z [batch, latentSize] (and the condition) -> the
    /// likelihood. Differentiable in z and in the parameters.
    func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution
    /// The whole pass with `samples` draws per image (every output has batch · samples rows,
    /// image r's draws adjacent): each group's posterior, prior and z, and the likelihood.
    /// With `.noise`, group i draws its ε as [rows, size_i], in group order.
    func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput
    /// The model's own loss terms for a batch (default none). `labels` holds the batch's labels
    /// (empty for an unlabelled dataset).
    func extraLossTerms(_ output: ModelOutput, labels: [Int]) -> [ExtraLossTerm]
    /// The model's own figures on a dataset (default none), e.g. the affine kind's classifier accuracy.
    func figures(on dataset: ImageDataset) -> [(name: String, value: Double)]
    /// Whether training passes the batch's labels (default: for a conditional model only).
    var usesLabels: Bool { get }
    /// Decoding at other sizes, or with a learned transform switched off, when the model can
    /// (default nil: it decodes at its image size only).
    var rendering: (any AdjustableRendering)? { get }
}

extension VariationalModel {
    public var latentGroups: [LatentGroup] { [LatentGroup(name: "z", size: latentSize)] }
    public var prior: any LatentDistribution { StandardNormal(dimension: latentSize) }
    public func extraLossTerms(_ output: ModelOutput, labels: [Int]) -> [ExtraLossTerm] { [] }
    public func figures(on dataset: ImageDataset) -> [(name: String, value: Double)] { [] }
    public var usesLabels: Bool { condition != .none }
    public var rendering: (any AdjustableRendering)? { nil }

    /// One group: q(z | x) from `encode`, repeated for k samples; z = μ + σ ε (or μ); p(z) =
    /// `prior`; p(x | z) from `decode`.
    public func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput {
        forwardOneGroup(posterior: encode(x, condition: condition), condition: condition, sampling: sampling, samples: samples)
    }

    /// A one-group pass with the given posterior q(z | x) (one row per image): repeated for k
    /// samples, z = g(ε) (or the posterior's mean), p(z) = `prior`, p(x | z) from `decode`. A model
    /// whose posterior is not `encode`'s Gaussian (a flow) passes its own.
    public func forwardOneGroup<Posterior: ReparameterizedDistribution>(posterior single: Posterior, condition: Tensor?, sampling: LatentSampling,
                                                                        samples: Int) -> ModelOutput {
        precondition(samples >= 1, "a forward pass takes at least one sample per image")
        let posterior = samples == 1 ? single : single.repeatingRows(samples)
        var noise: Tensor? = nil
        if case let .noise(source) = sampling { noise = source.normal(rows: posterior.rows, columns: latentSize) }
        let z = noise.map { posterior.sample(noise: $0) } ?? posterior.mean
        let likelihood = decode(z, condition: samples == 1 ? condition : condition?.repeatingRows(samples))
        let group = LatentGroupOutput(group: latentGroups[0], posterior: posterior, prior: prior, z: z, noise: noise)
        return ModelOutput(groups: [group], likelihood: likelihood, samplesPerImage: samples)
    }

    /// Values per image, C · H · W.
    public var inputSize: Int { imageShape.count }

    /// Encodes x [batch, C·H·W], draws z = μ + σ ε (z = μ when `noise` is nil) and decodes it:
    /// a one-group pass with the noise given.
    public func forward(_ x: Tensor, condition: Tensor? = nil, noise: Tensor?) -> ModelOutput {
        let posterior = encode(x, condition: condition)
        let z = posterior.sample(noise: noise)
        let group = LatentGroupOutput(group: latentGroups[0], posterior: posterior, prior: prior, z: z, noise: noise)
        return ModelOutput(groups: [group], likelihood: decode(z, condition: condition))
    }

    /// How the objectives get each group's KL(q || p): in closed form (a Gaussian to N(0, I) or
    /// to a Gaussian) or by Monte Carlo (a learned mixture, the VampPrior), top first; probed with
    /// one forward pass on the first two of `images`.
    public func klEstimators(on images: ImageDataset) -> [(group: String, estimator: KLEstimator)] {
        precondition(images.count >= 1 && images.shape == imageShape, "the probe needs images of the model's shape")
        let rows = min(2, images.count)
        return withoutGradients {
            let x = Tensor(shape: [rows, inputSize], scalars: Array(images.pixels[0..<(rows * inputSize)]))
            let labels = condition == .none ? nil : conditionTensor(labels: Array(images.labels.prefix(rows)))
            let output = forward(x, condition: labels, sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 0))), samples: 1)
            return output.groups.map { ($0.group.name, $0.klDivergence().estimator) }
        }
    }

    /// The one-hot condition [rows, K] for `labels`, or nil for an unconditional model.
    public func conditionTensor(labels: [Int]) -> Tensor? {
        guard case let .classes(count) = condition else { return nil }
        precondition(labels.allSatisfy { (0..<count).contains($0) }, "labels must lie in 0..<\(count)")
        var values = [Float](repeating: 0, count: labels.count * count)
        for (row, label) in labels.enumerated() { values[row * count + label] = 1 }
        return Tensor(shape: [labels.count, count], scalars: values)
    }
}

/// A model that decodes at sizes other than its training size, or with a learned transform
/// switched off (the affine kind's coordinate decoder, whose transform normalises the image).
public protocol AdjustableRendering {
    /// The images' size in training (height and width).
    var trainingSize: (height: Int, width: Int) { get }
    /// The sizes per side it renders at.
    var sizes: ClosedRange<Int> { get }
    /// Whether a learned transform can be switched off (`transformOn: false`).
    var hasSwitchableTransform: Bool { get }
    /// The top group's dimensions that hold the transform's parameters (nil without one).
    var transformDimensions: Range<Int>? { get }
    /// Top-group codes [count, latentSize] decoded at `height` x `width`, transform on or off:
    /// mean images [count, C · height · width] in [0, 1].
    func render(latents: [Float], height: Int, width: Int, transformOn: Bool) -> [Float]
}
