import Datasets
import Foundation
import NN
import TensorCore

/// Which prior p(z) a model's top group has, saved in its architecture (`"prior"`).
public struct PriorSettings: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The kinds of prior.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// N(0, I), fixed.
        case normal
        /// An equally weighted mixture of K Gaussians with learned means and variances.
        case mog
        /// The VampPrior: the mixture of the posterior at K learned pseudo-inputs (Tomczak & Welling 2018).
        case vamp
    }

    /// The kind.
    public var kind: Kind
    /// K, the components or pseudo-inputs (unused for `.normal`).
    public var components: Int

    /// The fixed N(0, I).
    public static let normal = PriorSettings(kind: .normal, components: 0)
    /// The default K of a kind: 10 components for a mixture, the paper's 500 pseudo-inputs for the VampPrior.
    public static func defaultComponents(_ kind: Kind) -> Int {
        switch kind {
        case .normal: 0
        case .mog: 10
        case .vamp: 500
        }
    }

    /// A prior of `kind` with `components` (default: the kind's default).
    public init(kind: Kind, components: Int? = nil) {
        self.kind = kind
        self.components = kind == .normal ? 0 : (components ?? Self.defaultComponents(kind))
    }

    /// "normal", "mog (10 components)", "vamp (500 pseudo-inputs)".
    public var description: String {
        switch kind {
        case .normal: "normal"
        case .mog: "mog (\(components) components)"
        case .vamp: "vamp (\(components) pseudo-inputs)"
        }
    }

    /// The learned parameters for a `latentSize`-d group of a model of `inputSize`-value images:
    /// 2 K d for a mixture, K · inputSize for the VampPrior's pseudo-inputs, none for N(0, I).
    public func parameterCount(latentSize: Int, inputSize: Int) -> Int {
        switch kind {
        case .normal: 0
        case .mog: 2 * components * latentSize
        case .vamp: components * inputSize
        }
    }

    /// The problem with these settings, or nil: K in 1...10,000 for a learned prior.
    public var problem: ConfigurationProblem? {
        guard kind != .normal, !(1...10_000).contains(components) else { return nil }
        return ConfigurationProblem(.prior, "needs 1...10000 components, got \(components)")
    }
}

extension Setting {
    /// The top group's prior.
    public static let prior = Setting("the prior")
}

/// The learned parameters of a model's top-group prior (`PriorSettings`):
/// - a mixture: the means (drawn from N(0, 1)) and log-variances (0) of K components;
/// - the VampPrior: K pseudo-inputs u_k, each an image, kept in [0, 1] by hardtanh(0, 1) of their
///   raw values, which start at N(0.05, 0.01²) as the paper's MNIST code sets them
///   (`pseudoinputs_mean`, `pseudoinputs_std`). The prior is then (1/K) Σ_k q(z | u_k), through the
///   model's own encoder.
///
/// Checkpoint keys, under the model's property (the MLP's `learnedPrior`): `means` and
/// `logVariances`, or `pseudoInputs`.
public final class LearnedPrior: Module {
    /// The settings.
    public let settings: PriorSettings
    /// The mixture's means [K, d] (mog).
    public let means: Tensor?
    /// The mixture's log-variances [K, d] (mog).
    public let logVariances: Tensor?
    /// The pseudo-inputs' raw values [K, C · H · W] (vamp); `pseudoImages` clamps them.
    public let pseudoInputs: Tensor?

    /// The prior of `settings` (not `.normal`) for a `latentSize`-d group of a model of
    /// `inputSize`-value images, drawn from `generator`.
    public init(_ settings: PriorSettings, latentSize: Int, inputSize: Int, using generator: inout RandomGenerator) {
        precondition(settings.kind != .normal && settings.problem == nil, "a learned prior needs 1...10000 components")
        self.settings = settings
        let k = settings.components
        switch settings.kind {
        case .normal: preconditionFailure("N(0, I) has no parameters")
        case .mog:
            means = Tensor.randomNormal([k, latentSize], using: &generator, requiresGradient: true)
            logVariances = Tensor(shape: [k, latentSize], repeating: 0, requiresGradient: true)
            pseudoInputs = nil
        case .vamp:
            pseudoInputs = Tensor.randomNormal([k, inputSize], mean: 0.05, standardDeviation: 0.01, using: &generator, requiresGradient: true)
            (means, logVariances) = (nil, nil)
        }
    }

    /// The pseudo-inputs as images, hardtanh(u) = min(max(u, 0), 1), [K, C · H · W]: written
    /// relu(u) − relu(u − 1), which has hardtanh's gradient (1 inside, 0 outside).
    public var pseudoImages: Tensor? { pseudoInputs.map { $0.relu() - ($0 - Float(1)).relu() } }

    /// p(z): the mixture, with the VampPrior's components from `encode` applied to the pseudo-images.
    public func distribution(encode: (Tensor) -> DiagonalGaussian) -> MixtureOfGaussians {
        if let means, let logVariances { return MixtureOfGaussians(means: means, logVariances: logVariances) }
        let posterior = encode(pseudoImages!)
        return MixtureOfGaussians(means: posterior.mean, logVariances: posterior.logVariance)
    }
}

/// The capability of a model whose top-group prior may be learned (the MLP kinds): the tools
/// ask for it to show a VampPrior's pseudo-inputs.
public protocol LearnedPriorHolder {
    /// The learned prior's parameters, nil for N(0, I).
    var learnedPrior: LearnedPrior? { get }
}
