import Datasets
import NN
import TensorCore
import VAE

/// An MLP VAE with several stochastic layers (see `HierarchicalMLPConfiguration`): the IWAE
/// paper's two-layer model and its generalisation (`.chain` wiring), and the VampPrior paper's
/// two-level HVAE (`.skip` wiring).
///
/// The latent groups are listed top first, "z2", "z1" for two layers. Each group's prior is
/// p(zᵢ | zᵢ₊₁); the top's is N(0, I) or the learned prior.
/// - Chain: sampling goes bottom-up, z₁ ~ q(z₁ | x), then z₂ ~ q(z₂ | z₁); with `.noise`, the ε
///   of z₁ is drawn before that of z₂.
/// - Skip: sampling goes top-down, z₂ ~ q(z₂ | x), then z₁ ~ q(z₁ | x, z₂); the ε of z₂ is drawn
///   first.
///
/// The latent tools act on the top group: `encode` gives q(z_top | x) (the chain passes the
/// lower groups' posterior means up), `decode` takes the lower groups at their prior means given
/// the top.
///
/// Checkpoint keys: `inference.N.*` (q of layer N + 1, bottom first; with skips, `inference.0` is
/// q(z₁ | x, z₂)'s joint trunk after `inferenceBranches`), `generative.N.*` (p(z_{N+1} | z_{N+2})),
/// `decoder.*` (p(x | z₁), or p(x | z₁, z₂)'s joint trunk after `decoderBranches`), each a trunk
/// of `hidden.K` layers with the heads `mean` and `spread` (the decoder: `output`); the branches'
/// `first` (x, or z₁) and `second` (z₂) layers; a learned prior's `learnedPrior.*`.
public final class HierarchicalMLPVAE: Module, VariationalModel, LearnedPriorHolder, LowerGroupDecoding {
    /// q(zᵢ | ·) (q(z₁ | ·) first), bottom first.
    public let inference: [GaussianEncoder]
    /// p(zᵢ | zᵢ₊₁) for every layer but the top, bottom first.
    public let generative: [GaussianEncoder]
    /// p(x | z₁) (or, with skips, p(x | z₁, z₂)'s joint trunk)'s parameters.
    public let decoder: Decoder
    /// The decoder's output to p(x | ·).
    public let likelihood: LikelihoodHead
    /// With skips: q(z₁ | x, z₂)'s branches from x and z₂.
    public let inferenceBranches: BranchJoin?
    /// With skips: p(x | z₁, z₂)'s branches from z₁ and z₂.
    public let decoderBranches: BranchJoin?
    /// The top group's learned prior (nil for N(0, I)).
    public let learnedPrior: LearnedPrior?
    /// The architecture.
    public let configuration: HierarchicalMLPConfiguration

    /// A model of `configuration` with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture.
    public init(_ configuration: HierarchicalMLPConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification(configuration).validate()
        let initializer = Initializer(rawValue: configuration.initializer)!
        let (layers, activation, unit, head) = (configuration.layers, configuration.activation, configuration.hiddenUnit, configuration.varianceHead)
        let image = configuration.imageShape.count
        let likelihood = LikelihoodHead(configuration.likelihood, imageShape: configuration.imageShape)
        func gaussian(_ input: Int, _ hidden: [Int], _ latent: Int, using generator: inout RandomGenerator) -> GaussianEncoder {
            GaussianEncoder(inputSize: input, hiddenSizes: hidden, latentSize: latent, activation: activation, unit: unit,
                            varianceHead: head, initializer: initializer, using: &generator)
        }
        switch configuration.wiring {
        case .chain:
            var below = image
            var inference: [GaussianEncoder] = []
            for layer in layers {
                inference.append(gaussian(below, layer.hiddenSizes, layer.latentSize, using: &generator))
                below = layer.latentSize
            }
            self.inference = inference
            generative = (0..<(layers.count - 1)).map { index in
                gaussian(layers[index + 1].latentSize, layers[index + 1].hiddenSizes.reversed(), layers[index].latentSize, using: &generator)
            }
            decoder = Decoder(latentSize: layers[0].latentSize, hiddenSizes: layers[0].hiddenSizes.reversed(), outputSize: likelihood.outputSize,
                              activation: activation, unit: unit, initializer: initializer, using: &generator)
            (inferenceBranches, decoderBranches) = (nil, nil)
        case .skip:
            let (bottom, top) = (layers[0], layers[1])
            let branch = bottom.hiddenSizes[0], joint = Array(bottom.hiddenSizes.dropFirst())
            inferenceBranches = BranchJoin(firstSize: image, secondSize: top.latentSize, width: branch, activation: activation, unit: unit,
                                           initializer: initializer, using: &generator)
            inference = [gaussian(2 * branch, joint, bottom.latentSize, using: &generator),
                         gaussian(image, top.hiddenSizes, top.latentSize, using: &generator)]
            generative = [gaussian(top.latentSize, top.hiddenSizes.reversed(), bottom.latentSize, using: &generator)]
            decoderBranches = BranchJoin(firstSize: bottom.latentSize, secondSize: top.latentSize, width: branch, activation: activation,
                                         unit: unit, initializer: initializer, using: &generator)
            decoder = Decoder(latentSize: 2 * branch, hiddenSizes: joint, outputSize: likelihood.outputSize, activation: activation, unit: unit,
                              initializer: initializer, using: &generator)
        }
        self.likelihood = likelihood
        learnedPrior = configuration.prior.kind == .normal ? nil
            : LearnedPrior(configuration.prior, latentSize: configuration.latentSize, inputSize: image, using: &generator)
        self.configuration = configuration
    }

    public var latentSize: Int { configuration.latentSize }
    public var imageShape: ImageShape { configuration.imageShape }
    public var condition: ModelCondition { .none }
    public var specification: ModelSpecification { ModelSpecification(configuration) }

    /// "z2", "z1" for two layers: top first.
    public var latentGroups: [LatentGroup] {
        configuration.layers.enumerated().reversed().map { LatentGroup(name: "z\($0.offset + 1)", size: $0.element.latentSize) }
    }

    /// p(z_top): N(0, I), the learned mixture, or the VampPrior through q(z_top | x).
    public var prior: any LatentDistribution {
        guard let learnedPrior else { return StandardNormal(dimension: latentSize) }
        return learnedPrior.distribution { self.encode($0, condition: nil) }
    }

    /// q(z_top | x): with skips, q(z₂ | x) itself; in a chain, with every lower group at its
    /// posterior mean.
    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        if configuration.wiring == .skip { return inference[1](x) }
        var posterior = inference[0](x)
        for layer in inference.dropFirst() { posterior = layer(posterior.mean) }
        return posterior
    }

    /// p(x | ·) with the lower groups at their prior means given `z` (the top group).
    public func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution { decode(z, lowerGroups: .priorMeans) }

    /// p(x | ·) with the lower groups at their prior means given `z` (the top group), or drawn
    /// from their priors at a temperature, top first.
    public func decode(_ z: Tensor, lowerGroups: LowerGroups) -> any ImageDistribution {
        var below = z
        for layer in generative.reversed() { below = lowerGroups.z(from: layer(below)) }
        return imageDistribution(bottom: below, top: z)
    }

    /// p(x | every group), the groups top first (z_L, ..., z₁): the decoder reads z₁ (and, with
    /// skips, z₂).
    public func decode(groups: [Tensor]) -> any ImageDistribution {
        precondition(groups.count == latentGroups.count, "one code per group, top first: \(latentGroups.count) groups, got \(groups.count)")
        return imageDistribution(bottom: groups[groups.count - 1], top: groups[0])
    }

    /// p(x | z₁), or with skips p(x | z₁, z₂).
    func imageDistribution(bottom: Tensor, top: Tensor) -> any ImageDistribution {
        guard let decoderBranches else { return likelihood(decoder.logits(bottom)) }
        return likelihood(decoder.logits(decoderBranches(bottom, top)))
    }

    /// Draws through q (bottom-up in a chain, top-down with skips), then each group's prior from
    /// the group above.
    public func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput {
        precondition(samples >= 1, "a forward pass takes at least one sample per image")
        func draw(_ posterior: DiagonalGaussian) -> (z: Tensor, noise: Tensor?) {
            guard case let .noise(source) = sampling else { return (posterior.mean, nil) }
            let noise = source.normal(rows: posterior.rows, columns: posterior.dimension)
            return (posterior.sample(noise: noise), noise)
        }
        let groups = latentGroups
        if let inferenceBranches {
            let topPosterior = inference[1](x).repeatingRows(samples)
            let top = draw(topPosterior)
            let bottomPosterior = inference[0](inferenceBranches(x, top.z, repeatingFirst: samples))
            let bottom = draw(bottomPosterior)
            return ModelOutput(groups: [LatentGroupOutput(group: groups[0], posterior: topPosterior, prior: prior, z: top.z, noise: top.noise),
                                        LatentGroupOutput(group: groups[1], posterior: bottomPosterior, prior: generative[0](top.z), z: bottom.z, noise: bottom.noise)],
                               likelihood: imageDistribution(bottom: bottom.z, top: top.z), samplesPerImage: samples)
        }
        var posteriors: [DiagonalGaussian] = [], zs: [Tensor] = [], noises: [Tensor?] = []
        var input = x
        for (index, layer) in inference.enumerated() {
            let posterior = index == 0 ? layer(input).repeatingRows(samples) : layer(input)
            let (z, noise) = draw(posterior)
            posteriors.append(posterior)
            zs.append(z)
            noises.append(noise)
            input = z
        }
        let top = inference.count - 1
        let outputs = (0...top).reversed().map { index in
            let prior: any LatentDistribution = index == top ? self.prior : generative[index](zs[index + 1])
            return LatentGroupOutput(group: groups[top - index], posterior: posteriors[index], prior: prior, z: zs[index], noise: noises[index])
        }
        return ModelOutput(groups: outputs, likelihood: imageDistribution(bottom: zs[0], top: zs[top]), samplesPerImage: samples)
    }
}

/// Two inputs, each through its own hidden layer of `width` units, joined side by side:
/// [unit(first(a)), unit(second(b))], [batch, 2 · width] (the VampPrior HVAE's q(z₁ | x, z₂) and
/// p(x | z₁, z₂) inputs).
public final class BranchJoin: Module {
    /// The first input's layer.
    public let first: Linear
    /// The second input's layer.
    public let second: Linear
    /// The activation of both branches.
    public let activation: Activation
    /// What both branches compute.
    public let unit: HiddenUnit

    /// Branches from `firstSize` and `secondSize` inputs to `width` units each.
    public init(firstSize: Int, secondSize: Int, width: Int, activation: Activation, unit: HiddenUnit, initializer: Initializer,
                using generator: inout RandomGenerator) {
        first = Linear(inputSize: firstSize, outputSize: unit.linearOutputs(width: width), initializer: initializer, using: &generator)
        second = Linear(inputSize: secondSize, outputSize: unit.linearOutputs(width: width), initializer: initializer, using: &generator)
        (self.activation, self.unit) = (activation, unit)
    }

    /// a [batch, firstSize], b [batch · k, secondSize] -> [batch · k, 2 · width]: the first
    /// branch runs once per row of a and its output is repeated k times (row r · k + i is row r's
    /// i-th copy, as `repeatingRows`), so an image's branch is not recomputed for each of its k
    /// samples; differentiable.
    public func callAsFunction(_ a: Tensor, _ b: Tensor, repeatingFirst k: Int = 1) -> Tensor {
        let firstBranch = unit(first, a, activation: activation)
        return Tensor.concatenated([k == 1 ? firstBranch : firstBranch.repeatingRows(k), unit(second, b, activation: activation)])
    }
}

extension HierarchicalMLPVAE: DataStartedOutputBias {
    /// Starts the decoder's output bias (p(x | z₁), or p(x | z₁, z₂)'s trunk) at the likelihood's
    /// outputs for the mean image.
    public func startOutputBias(atMeanImage means: [Float]) throws(ConfigurationProblem) {
        try decoder.startOutputBias(atMeanImage: means, channels: imageShape.channels, likelihood: likelihood.likelihood)
    }
}
