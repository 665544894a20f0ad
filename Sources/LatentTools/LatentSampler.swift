import Foundation
import TensorCore
import VAE

/// Where latent vectors for new images come from: the prior, or a density fitted afterwards to
/// the training set's codes. A VAE's prior samples are worse than its reconstructions because
/// the aggregate posterior q(z) = E_x q(z | x) does not fill N(0, I); a density fitted to q(z)
/// draws from where the decoder was trained (Dai & Wipf 2019; Ghosh et al. 2020).
public protocol LatentSampler {
    /// The latent dimension.
    var latentSize: Int { get }
    /// `count` latent vectors [count · latentSize] at `temperature` (1: the density itself; below
    /// 1: the noise scaled towards each mode).
    func latents(count: Int, temperature: Float, using generator: inout RandomGenerator) -> [Float]
}

/// The samplers `vae sample`, `vae score` and the explorer offer.
public enum SamplerKind: String, CaseIterable, Codable, Sendable {
    /// The model's prior: z ~ N(0, T² I), or a learned prior.
    case prior
    /// A Gaussian mixture fitted by EM to the training set's posterior means (`GaussianMixture`).
    case gmm
    /// A second VAE trained on the training set's posterior means (`TwoStageVAE`).
    case twoStage = "two-stage"

    /// The file a fitted sampler is saved in (in the run folder), nil for the prior.
    public var fileName: String? {
        switch self {
        case .prior: nil
        case .gmm: "sampler-gmm.safetensors"
        case .twoStage: "sampler-two-stage.safetensors"
        }
    }

    /// "the model's prior", "a Gaussian mixture fitted to the training set's posterior means", ...
    public var summary: String {
        switch self {
        case .prior: "the model's prior"
        case .gmm: "a Gaussian mixture fitted to the training set's posterior means"
        case .twoStage: "a second-stage VAE trained on the training set's posterior means"
        }
    }
}

/// The model's prior as a sampler: N(0, I) (z = T ε), or a learned prior that can be drawn
/// from (a mixture or the VampPrior: a component, then its mean plus T σ ε).
public struct PriorSampler: LatentSampler {
    /// The latent dimension.
    public let latentSize: Int
    /// The learned prior, evaluated once (nil: N(0, I)).
    let learned: (any DrawableDistribution)?

    /// N(0, I) over `latentSize` dimensions.
    public init(latentSize: Int) {
        precondition(latentSize > 0, "a latent space needs a dimension")
        self.latentSize = latentSize
        learned = nil
    }

    /// The prior of `model`'s top group.
    public init(model: any VariationalModel) {
        latentSize = model.latentSize
        let prior = withoutGradients { model.prior }
        learned = prior is StandardNormal ? nil : prior as? any DrawableDistribution
    }

    public func latents(count: Int, temperature: Float, using generator: inout RandomGenerator) -> [Float] {
        precondition(count > 0 && temperature >= 0, "need count > 0 and temperature >= 0")
        if let learned { return withoutGradients { learned.draw(count: count, temperature: temperature, using: &generator).scalars } }
        var z = [Float](repeating: 0, count: count * latentSize)
        z.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: temperature) }
        return z
    }
}

/// A fitted sampler file that cannot be used, naming the file and what is wrong.
public struct SamplerFileError: Error, LocalizedError, CustomStringConvertible {
    /// The file's path.
    public let path: String
    /// What is wrong.
    public let reason: String
    /// A file named with what is wrong.
    public init(path: String, reason: String) { (self.path, self.reason) = (path, reason) }
    /// "PATH: REASON".
    public var description: String { "\(path): \(reason)" }
    /// The same as `description`.
    public var errorDescription: String? { description }
}
