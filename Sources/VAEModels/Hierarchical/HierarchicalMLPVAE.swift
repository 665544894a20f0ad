import Datasets
import NN
import TensorCore
import VAE

/// An MLP VAE with several stochastic layers (see `HierarchicalMLPConfiguration`): the IWAE
/// paper's two-layer model and its generalisation.
///
/// The latent groups are listed top first, "z2", "z1" for two layers. Sampling goes bottom-up:
/// z₁ ~ q(z₁ | x), then z₂ ~ q(z₂ | z₁); each group's prior is p(zᵢ | zᵢ₊₁), the top's N(0, I).
/// With `.noise`, the ε of z₁ is drawn before that of z₂. The latent tools act on the top group:
/// `encode` passes the lower groups' posterior means up, `decode` passes their prior means down.
///
/// Checkpoint keys: `inference.N.*` (q of layer N + 1, bottom first), `generative.N.*`
/// (p(z_{N+1} | z_{N+2})), `decoder.*` (p(x | z₁)), each a trunk of `hidden.K` layers with the
/// heads `mean` and `spread` (the decoder: `output`).
public final class HierarchicalMLPVAE: Module, VariationalModel {
    /// q(zᵢ | zᵢ₋₁) (q(z₁ | x) first), bottom first.
    public let inference: [GaussianEncoder]
    /// p(zᵢ | zᵢ₊₁) for every layer but the top, bottom first.
    public let generative: [GaussianEncoder]
    /// p(x | z₁)'s parameters.
    public let decoder: Decoder
    /// The decoder's output to p(x | z₁).
    public let likelihood: LikelihoodHead
    /// The architecture.
    public let configuration: HierarchicalMLPConfiguration

    /// A model of `configuration` with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture.
    public init(_ configuration: HierarchicalMLPConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification(configuration).validate()
        let initializer = Initializer(rawValue: configuration.initializer)!
        let layers = configuration.layers
        var below = configuration.imageShape.count
        var inference: [GaussianEncoder] = []
        for layer in layers {
            inference.append(GaussianEncoder(inputSize: below, hiddenSizes: layer.hiddenSizes, latentSize: layer.latentSize,
                                             activation: configuration.activation, varianceHead: configuration.varianceHead,
                                             initializer: initializer, using: &generator))
            below = layer.latentSize
        }
        self.inference = inference
        generative = (0..<(layers.count - 1)).map { index in
            GaussianEncoder(inputSize: layers[index + 1].latentSize, hiddenSizes: layers[index + 1].hiddenSizes.reversed(),
                            latentSize: layers[index].latentSize, activation: configuration.activation,
                            varianceHead: configuration.varianceHead, initializer: initializer, using: &generator)
        }
        likelihood = LikelihoodHead(configuration.likelihood, imageShape: configuration.imageShape)
        decoder = Decoder(latentSize: layers[0].latentSize, hiddenSizes: layers[0].hiddenSizes.reversed(), outputSize: likelihood.outputSize,
                          activation: configuration.activation, initializer: initializer, using: &generator)
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

    /// q(z_top | x) with every lower group at its posterior mean.
    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        var posterior = inference[0](x)
        for layer in inference.dropFirst() { posterior = layer(posterior.mean) }
        return posterior
    }

    /// p(x | z₁) with z₁ (and every group between) at its prior mean given `z` (the top group).
    public func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        var below = z
        for layer in generative.reversed() { below = layer(below).mean }
        return likelihood(decoder.logits(below))
    }

    /// Bottom-up draws through q, then each group's prior from the group above.
    public func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput {
        precondition(samples >= 1, "a forward pass takes at least one sample per image")
        var posteriors: [DiagonalGaussian] = [], zs: [Tensor] = [], noises: [Tensor?] = []
        var input = x
        for (index, layer) in inference.enumerated() {
            let posterior = index == 0 ? layer(input).repeatingRows(samples) : layer(input)
            var noise: Tensor? = nil
            if case let .noise(source) = sampling { noise = source.normal(rows: posterior.rows, columns: posterior.dimension) }
            let z = posterior.sample(noise: noise)
            posteriors.append(posterior)
            zs.append(z)
            noises.append(noise)
            input = z
        }
        let top = inference.count - 1
        let groups = latentGroups
        let outputs = (0...top).reversed().map { index in
            let prior: any LatentDistribution = index == top ? StandardNormal(dimension: zs[index].shape[1]) : generative[index](zs[index + 1])
            return LatentGroupOutput(group: groups[top - index], posterior: posteriors[index], prior: prior, z: zs[index], noise: noises[index])
        }
        return ModelOutput(groups: outputs, likelihood: likelihood(decoder.logits(zs[0])), samplesPerImage: samples)
    }
}
