import Datasets
import Foundation
import NN
import TensorCore

/// Which distribution p(x | z) a model's decoder gives, chosen per model (`--likelihood`).
///
/// Saved in the architecture: the parameterless ones as their name (`"bernoulli"`), the others
/// as an object (`{"kind": "logistic-mixture", "components": 10}`).
public enum Likelihood: Hashable, Sendable, CustomStringConvertible {
    /// Bernoulli pixels on the decoder's logits (`Bernoulli`).
    case bernoulli
    /// A Gaussian around σ(logits) with σ² = ½ (`FixedVarianceGaussian`).
    case gaussian
    /// A Gaussian around σ(logits) with a learned log-variance per value or per channel
    /// (`LearnedVarianceGaussian`).
    case learnedGaussian(LearnedVariance)
    /// PixelCNN++'s per-channel discretised logistic for 8-bit images (`DiscretizedLogistic`).
    case discretizedLogistic
    /// The discretised logistic mixture of K components with channel coupling (NVAE, VDVAE).
    case logisticMixture(components: Int)

    /// The names, as the command line and the files write them.
    public enum Name: String, CaseIterable, Codable, Sendable {
        case bernoulli
        case gaussian
        case gaussianLearned = "gaussian-learned"
        case discretisedLogistic = "discretised-logistic"
        case logisticMixture = "logistic-mixture"
    }

    /// The mixture's default component count (as NVAE and VDVAE use).
    public static let defaultComponents = 10

    /// The likelihood `name`, with `components` (for the mixture; default 10) and `variance` (for
    /// the learned Gaussian; default per value).
    public init(_ name: Name, components: Int? = nil, variance: LearnedVariance? = nil) {
        switch name {
        case .bernoulli: self = .bernoulli
        case .gaussian: self = .gaussian
        case .gaussianLearned: self = .learnedGaussian(variance ?? .perValue)
        case .discretisedLogistic: self = .discretizedLogistic
        case .logisticMixture: self = .logisticMixture(components: components ?? Self.defaultComponents)
        }
    }

    /// The name alone.
    public var name: Name {
        switch self {
        case .bernoulli: .bernoulli
        case .gaussian: .gaussian
        case .learnedGaussian: .gaussianLearned
        case .discretizedLogistic: .discretisedLogistic
        case .logisticMixture: .logisticMixture
        }
    }

    /// "bernoulli", "gaussian-learned (per channel)", "logistic-mixture (10 components)".
    public var description: String {
        switch self {
        case let .learnedGaussian(variance): "\(name.rawValue) (\(variance.description))"
        case let .logisticMixture(components): "\(name.rawValue) (\(components) components)"
        default: name.rawValue
        }
    }

    /// Whether it is a distribution over 8-bit levels (whose data must be k / 255).
    public var modelsEightBitLevels: Bool {
        switch self {
        case .discretizedLogistic, .logisticMixture: true
        default: false
        }
    }

    /// The decoder's output channels per pixel for images of `channels` channels: C for the
    /// Bernoulli and the Gaussians, 2C for the discretised logistic, K (1 + 2C + C(C−1)/2) for
    /// the mixture.
    public func parameterChannels(imageChannels channels: Int) -> Int {
        switch self {
        case .bernoulli, .gaussian, .learnedGaussian: channels
        case .discretizedLogistic: DiscretizedLogisticLayout.single(channels: channels).parameterChannels
        case let .logisticMixture(components): DiscretizedLogisticLayout.mixture(channels: channels, components: components).parameterChannels
        }
    }

    /// Problems with the setting, one each (empty when valid).
    public var problems: [ConfigurationProblem] {
        if case let .logisticMixture(components) = self, !(1...64).contains(components) {
            return [ConfigurationProblem(.mixtureComponents, "must be 1...64, got \(components)")]
        }
        return []
    }
}

/// Which values share a learned log-variance.
public enum LearnedVariance: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// One log-variance per value (pixel and channel).
    case perValue = "pixel"
    /// One per image channel.
    case perChannel = "channel"

    /// "per pixel" or "per channel".
    public var description: String { "per \(rawValue)" }
}

extension Likelihood: Codable {
    enum CodingKeys: String, CodingKey { case kind, components, variance }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let name = try? single.decode(Name.self) {
            self.init(name)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(Name.self, forKey: .kind)
        self.init(name, components: try container.decodeIfPresent(Int.self, forKey: .components),
                  variance: try container.decodeIfPresent(LearnedVariance.self, forKey: .variance))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .bernoulli, .gaussian, .discretizedLogistic:
            var container = encoder.singleValueContainer()
            try container.encode(name)
        case let .learnedGaussian(variance):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .kind)
            try container.encode(variance, forKey: .variance)
        case let .logisticMixture(components):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .kind)
            try container.encode(components, forKey: .components)
        }
    }
}

extension Likelihood {
    /// Why `images` do not fit this likelihood, or nil when they do: the discretised logistics
    /// model 8-bit levels k / 255, and refuse other values (a resized image, or a Gaussian's
    /// grey levels); the first value off a level is named by image and position.
    public func dataProblem(_ images: ImageDataset, split: String) -> ConfigurationProblem? {
        guard modelsEightBitLevels else { return nil }
        let width = images.shape.count
        for (index, value) in images.pixels.enumerated() {
            let level = (value * 255).rounded()
            if !(abs(value * 255 - level) <= 1e-3 && (0...255).contains(level)) {
                return ConfigurationProblem(.likelihood, "\(name.rawValue) models 8-bit levels k/255, but \(split) image \(index / width) has \(value) at value \(index % width); give images of 8-bit levels (an image folder read with its values quantised to them), or choose bernoulli or a gaussian likelihood")
            }
        }
        return nil
    }
}

/// The last stage of every decoder: turns the decoder's output [batch, P · H · W] into the
/// likelihood's distribution, and holds the likelihood's own learned parameters (the learned
/// Gaussian's log-variance, key `logVariance`; none for the others, so their checkpoints do not
/// change). P is `Likelihood.parameterChannels`; the output is planar (channel-major per image).
public final class LikelihoodHead: Module {
    /// The distribution made.
    public let likelihood: Likelihood
    /// The images' shape.
    public let imageShape: ImageShape
    /// The learned Gaussian's log-variance, [C · H · W] or [C], starting at 0 (σ = 1).
    public let logVariance: Tensor?

    /// A head making `likelihood` for images of `imageShape`.
    public init(_ likelihood: Likelihood, imageShape: ImageShape) {
        (self.likelihood, self.imageShape) = (likelihood, imageShape)
        switch likelihood {
        case .learnedGaussian(.perValue): logVariance = Tensor.zeros([imageShape.count], requiresGradient: true)
        case .learnedGaussian(.perChannel): logVariance = Tensor.zeros([imageShape.channels], requiresGradient: true)
        default: logVariance = nil
        }
    }

    /// Values the decoder must output per image: P · H · W.
    public var outputSize: Int { likelihood.parameterChannels(imageChannels: imageShape.channels) * imageShape.height * imageShape.width }

    /// The distribution p(x | z) from the decoder's output [batch, P · H · W]; Bernoulli and
    /// Gaussians read it as logits (their mean is σ(logits)).
    public func callAsFunction(_ output: Tensor) -> any ImageDistribution {
        precondition(output.rank == 2 && output.shape[1] == outputSize, "the decoder gives \(output.shape), the likelihood needs [batch, \(outputSize)]")
        switch likelihood {
        case .bernoulli: return Bernoulli(logits: output)
        case .gaussian: return FixedVarianceGaussian(mean: output.sigmoid())
        case .learnedGaussian: return LearnedVarianceGaussian(mean: output.sigmoid(), logVariance: logVariance!)
        case .discretizedLogistic:
            return DiscretizedLogistic(parameters: output, layout: .single(channels: imageShape.channels))
        case let .logisticMixture(components):
            return DiscretizedLogistic(parameters: output, layout: .mixture(channels: imageShape.channels, components: components))
        }
    }
}
