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

/// A diagonal Gaussian posterior q(z | x) = N(μ, diag σ²), kept in the encoder's own spread
/// parameterisation (see `VarianceHead`). Shapes: mean and spread [batch, latent].
public struct DiagonalGaussian {
    /// μ, [batch, latent].
    public let mean: Tensor
    /// The raw spread head: log σ², the softplus argument, or σ itself.
    public let spread: Tensor
    /// How `spread` maps to σ.
    public let head: VarianceHead

    /// A posterior from the encoder's two heads.
    public init(mean: Tensor, spread: Tensor, head: VarianceHead) {
        precondition(mean.shape == spread.shape, "mean \(mean.shape) and spread \(spread.shape) must have one shape")
        (self.mean, self.spread, self.head) = (mean, spread, head)
    }

    /// σ, [batch, latent] (differentiable).
    public var standardDeviation: Tensor {
        switch head {
        case .logVariance: (spread * 0.5).exp()
        case .softplusStandardDeviation: spread.softplus()
        case .standardDeviation: spread
        }
    }

    /// log σ², [batch, latent] (differentiable).
    public var logVariance: Tensor {
        switch head {
        case .logVariance: spread
        case .softplusStandardDeviation: spread.softplus().log() * 2
        case .standardDeviation: spread.squared().log()
        }
    }

    /// z = μ + σ ⊙ ε for noise ε [batch, latent] (the reparameterisation trick); nil gives z = μ.
    public func sample(noise: Tensor?) -> Tensor {
        guard let noise else { return mean }
        return mean + standardDeviation * noise
    }

    /// KL(q || N(0, I)) = ½ Σ_d (μ_d² + σ_d² − log σ_d² − 1), in closed form, reduced over the
    /// batch as asked (`.none`: [batch]).
    public func klDivergence(reduction: Reduction) -> Tensor {
        switch head {
        case .logVariance: gaussianKLDivergence(mean: mean, logVariance: spread, reduction: reduction)
        case .softplusStandardDeviation: gaussianKLDivergence(mean: mean, standardDeviation: spread.softplus(), reduction: reduction)
        case .standardDeviation: gaussianKLDivergence(mean: mean, standardDeviation: spread, reduction: reduction)
        }
    }

    /// log q(z | x) per row, [batch]: −½ Σ_d ((z_d − μ_d)² / σ_d² + log σ_d² + log 2π).
    public func logDensity(_ z: Tensor) -> Tensor {
        let logVariance = self.logVariance
        let standardised = (z - mean).squared() / logVariance.exp()
        return (standardised + logVariance + Float(Foundation.log(2 * Double.pi))).sum(alongAxis: 1) * -0.5
    }

    /// The same posterior with every row repeated k times ([batch · k, latent], row r · k + i is
    /// image r's i-th copy).
    public func repeatingRows(_ k: Int) -> DiagonalGaussian {
        DiagonalGaussian(mean: mean.repeatingRows(k), spread: spread.repeatingRows(k), head: head)
    }
}

/// The decoder's p(x | z) for a batch: Bernoulli with logits ℓ, or Gaussian with mean m and
/// σ² = ½ (so −log p = Σ (m − x)² + (D/2) log π). Shapes: [batch, C · H · W].
public struct ImageLikelihood {
    /// What the decoder's output is.
    public enum Parameters {
        /// Logits ℓ: Bernoulli p = sigmoid(ℓ); for a Gaussian, the mean is sigmoid(ℓ).
        case logits(Tensor)
        /// The Gaussian mean itself (a decoder that ends in its own sigmoid).
        case mean(Tensor)
    }

    /// Bernoulli or Gaussian.
    public let kind: Likelihood
    /// The decoder's output.
    public let parameters: Parameters

    /// A likelihood of `kind` from the decoder's output; a Bernoulli takes logits.
    public init(kind: Likelihood, parameters: Parameters) {
        if case .mean = parameters { precondition(kind == .gaussian, "a Bernoulli likelihood takes logits") }
        (self.kind, self.parameters) = (kind, parameters)
    }

    /// The mean image E[x | z] in [0, 1], for pictures.
    public var mean: Tensor {
        switch parameters {
        case let .logits(logits): logits.sigmoid()
        case let .mean(mean): mean
        }
    }

    /// −log p(x | z) with the Gaussian's constant dropped: Σ BCE(ℓ, x) or Σ (m − x)², reduced as asked.
    public func negativeLogLikelihood(_ x: Tensor, reduction: Reduction) -> Tensor {
        switch (kind, parameters) {
        case let (.bernoulli, .logits(logits)): binaryCrossEntropy(logits: logits, targets: x, reduction: reduction)
        case (.gaussian, _): meanSquaredError(predictions: mean, targets: x, reduction: reduction)
        case (.bernoulli, .mean): preconditionFailure("a Bernoulli likelihood takes logits")
        }
    }

    /// The constant log p(x | z) has beyond −Σ (m − x)² for D values: −(D/2) log π for the
    /// Gaussian with σ² = ½, 0 for the Bernoulli.
    public static func constant(_ kind: Likelihood, dimension: Int) -> Double {
        kind == .gaussian ? -Double(dimension) / 2 * Foundation.log(Double.pi) : 0
    }

    /// log p(x | z) per row, [batch], with its constant (differentiable).
    public func logLikelihoodPerRow(_ x: Tensor) -> Tensor {
        let perRow = -negativeLogLikelihood(x, reduction: .none).sum(alongAxis: 1)
        let constant = Self.constant(kind, dimension: x.shape[1])
        return constant == 0 ? perRow : perRow + Float(constant)
    }
}

/// One forward pass: the posterior, the latent code used, and the likelihood it decodes to.
public struct VAEOutput {
    /// q(z | x).
    public let posterior: DiagonalGaussian
    /// The latent codes decoded, [batch, latent].
    public let z: Tensor
    /// p(x | z).
    public let likelihood: ImageLikelihood
}

/// A model's own loss term beyond the ELBO (design B's classifier), already weighted, for the
/// batch (batch mean), with its unweighted value for reporting.
public struct ExtraLossTerm {
    /// The term's name in logs and `metrics.csv` (lower case, words joined by "_").
    public let name: String
    /// The weighted batch mean, a scalar tensor added to the loss.
    public let weighted: Tensor
    /// The unweighted value, for reports.
    public let value: Double
}

/// The contract every VAE implements: an encoder to a diagonal Gaussian posterior and a decoder
/// to an image likelihood, each given an optional condition (a one-hot [batch, K] for a
/// conditional model, nil otherwise), with the sizes a caller needs. Images enter and leave as
/// [batch, C · H · W] rows (`imageShape` gives C x H x W, planar).
public protocol VariationalModel: Module {
    /// The dimension of z.
    var latentSize: Int { get }
    /// The shape of the images the model encodes and decodes (C x H x W, planar rows).
    var imageShape: ImageShape { get }
    /// What the model is conditioned on besides the image: nothing, or one of K classes.
    var condition: ModelCondition { get }
    /// What rebuilds the model (its kind and architecture), saved with its weights.
    var specification: ModelSpecification { get }

    /// q(z | x, y): images x [batch, C · H · W] (and, for a conditional model, the one-hot
    /// condition y [batch, K]; nil otherwise) -> the posterior's mean and spread [batch, latent].
    /// Differentiable in x and in the model's parameters.
    func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian
    /// p(x | z, y): latent codes z [batch, latent] (and the condition, as for `encode`) -> the
    /// likelihood's parameters [batch, C · H · W]. Differentiable in z and in the parameters.
    func decode(_ z: Tensor, condition: Tensor?) -> ImageLikelihood
    /// The model's own loss terms for a batch (default none). `labels` holds the batch's labels
    /// (empty for an unlabelled dataset).
    func extraLossTerms(_ output: VAEOutput, labels: [Int]) -> [ExtraLossTerm]
    /// The model's own figures on a dataset (default none), e.g. design B's classifier accuracy.
    func figures(on dataset: ImageDataset) -> [(name: String, value: Double)]
    /// Whether training passes the batch's labels (default: for a conditional model only).
    var usesLabels: Bool { get }
}

extension VariationalModel {
    public func extraLossTerms(_ output: VAEOutput, labels: [Int]) -> [ExtraLossTerm] { [] }
    public func figures(on dataset: ImageDataset) -> [(name: String, value: Double)] { [] }
    public var usesLabels: Bool { condition != .none }

    /// Values per image, C · H · W.
    public var inputSize: Int { imageShape.count }

    /// Encodes x [batch, C·H·W], draws z = μ + σ ε (z = μ when `noise` is nil) and decodes it.
    public func forward(_ x: Tensor, condition: Tensor? = nil, noise: Tensor?) -> VAEOutput {
        let posterior = encode(x, condition: condition)
        let z = posterior.sample(noise: noise)
        return VAEOutput(posterior: posterior, z: z, likelihood: decode(z, condition: condition))
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
