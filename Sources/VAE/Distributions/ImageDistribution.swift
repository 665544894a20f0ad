import Foundation
import NN
import TensorCore

/// The decoder's distribution p(x | z) over images, one per row of a batch: the likelihood.
/// Images are rows of C · H · W values in [0, 1] (planar); the distributions' parameters come
/// from the decoder's output and, for some, from parameters of the model's own (`LikelihoodHead`).
public protocol ImageDistribution {
    /// log p(x) per image, [batch], in nats, every constant included (differentiable in the
    /// distribution's parameters).
    func logProbability(_ x: Tensor) -> Tensor
    /// The reconstruction term training minimises: Σ over the images of −log p(x), leaving out
    /// `omittedConstant` per image where the likelihood has a constant (a scalar, differentiable).
    func negativeLogLikelihood(_ x: Tensor) -> Tensor
    /// log p(x) + `negativeLogLikelihood` per image: the constant the reconstruction term leaves
    /// out (0 unless a likelihood says otherwise), so that −log p(x) = term − constant.
    var omittedConstant: Double { get }
    /// The mean image E[x | z] in [0, 1], [batch, C · H · W]: what pictures show.
    var mean: Tensor { get }
    /// Whether x takes discrete values (then −log₂ p(x) is a code length in bits, and bits per
    /// dimension are comparable between models); false for a density.
    var isDiscrete: Bool { get }
}

extension ImageDistribution {
    public var omittedConstant: Double { 0 }

    public func negativeLogLikelihood(_ x: Tensor) -> Tensor { -logProbability(x).sum() }
}

/// Independent Bernoulli pixels with logits ℓ: p(x_j = 1) = σ(ℓ_j); log p(x) = −Σ_j BCE(ℓ_j, x_j),
/// computed from the logits (stable). It is a distribution over binary images; grey levels in
/// (0, 1) enter as soft targets (the cross-entropy of PyTorch's example), for which log p is not
/// a normalised log-likelihood.
public struct Bernoulli: ImageDistribution {
    /// ℓ, [batch, D].
    public let logits: Tensor

    /// Bernoulli pixels with logits ℓ [batch, D].
    public init(logits: Tensor) { self.logits = logits }

    public func logProbability(_ x: Tensor) -> Tensor { bernoulliLogLikelihood(logits: logits, targets: x) }
    public func negativeLogLikelihood(_ x: Tensor) -> Tensor { binaryCrossEntropy(logits: logits, targets: x, reduction: .sum) }
    /// σ(ℓ).
    public var mean: Tensor { logits.sigmoid() }
    public var isDiscrete: Bool { true }
}

/// A Gaussian around the mean m with fixed variance σ² = ½ per value:
/// −log p(x) = Σ_j (m_j − x_j)² + (D/2) log π. The reconstruction term is the squared error, and
/// `omittedConstant` is −(D/2) log π.
public struct FixedVarianceGaussian: ImageDistribution {
    /// m, [batch, D].
    public let mean: Tensor

    /// A Gaussian around `mean` [batch, D] with σ² = ½.
    public init(mean: Tensor) { self.mean = mean }

    public func logProbability(_ x: Tensor) -> Tensor {
        -meanSquaredError(predictions: mean, targets: x, reduction: .none).sum(alongAxis: 1) + Float(omittedConstant)
    }
    public func negativeLogLikelihood(_ x: Tensor) -> Tensor { meanSquaredError(predictions: mean, targets: x, reduction: .sum) }
    public var omittedConstant: Double { -Double(mean.shape[1]) / 2 * Foundation.log(Double.pi) }
    public var isDiscrete: Bool { false }
}

/// A Gaussian around the mean m with a learned log-variance v, one per value or one per channel
/// (a calibrated decoder: Rybkin, Daniilidis & Levine 2021):
/// log p(x) = −½ Σ_j ((x_j − m_j)² e^{−v_j} + v_j + log 2π).
public struct LearnedVarianceGaussian: ImageDistribution {
    /// m, [batch, D].
    public let mean: Tensor
    /// v: [D] (per value) or [C] (per channel, planar).
    public let logVariance: Tensor

    /// A Gaussian around `mean` [batch, D] with log-variance `logVariance` ([D] or [C]).
    public init(mean: Tensor, logVariance: Tensor) { (self.mean, self.logVariance) = (mean, logVariance) }

    public func logProbability(_ x: Tensor) -> Tensor { gaussianLogLikelihood(means: mean, logVariance: logVariance, targets: x) }
    public var isDiscrete: Bool { false }
}

/// PixelCNN++'s discretised logistic per sub-pixel, or its mixture of K logistics with channel
/// coupling (Salimans et al. 2017; NVAE, VDVAE), over 8-bit levels k / 255: see
/// `discretizedLogisticLogLikelihood`. The parameters are the decoder's planar output
/// [batch, P · H · W] in the channel order of `DiscretizedLogisticLayout`.
public struct DiscretizedLogistic: ImageDistribution {
    /// The decoder's output, [batch, P · H · W].
    public let parameters: Tensor
    /// Which output channel holds which parameter.
    public let layout: DiscretizedLogisticLayout

    /// The distribution with `parameters` laid out as `layout` says.
    public init(parameters: Tensor, layout: DiscretizedLogisticLayout) { (self.parameters, self.layout) = (parameters, layout) }

    public func logProbability(_ x: Tensor) -> Tensor { discretizedLogisticLogLikelihood(parameters: parameters, targets: x, layout: layout) }
    /// The mean of the continuous logistic (mixture), clipped to [0, 1] (see `discretizedLogisticMean`).
    public var mean: Tensor { discretizedLogisticMean(parameters: parameters, layout: layout) }
    public var isDiscrete: Bool { true }
}
