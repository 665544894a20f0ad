import Datasets
import NN
import TensorCore
import VAE

/// An MLP variational autoencoder (Kingma & Welling 2014), the kind "mlp": encoder q(z | x),
/// decoder p(x | z), prior N(0, I), z = μ + σ ⊙ ε with ε ~ N(0, I) (the reparameterisation trick).
///
/// Checkpoint keys: with one dense hidden layer, PyTorch's example names, so a PyTorch user can load
/// the file into that model: `fc1` (encoder hidden), `fc21` (μ), `fc22` (spread), `fc3`
/// (decoder hidden), `fc4` (output), each `.weight` [out, in] and `.bias`. With more layers,
/// `encoder.hidden.N`, `encoder.mean`, `encoder.spread`, `decoder.hidden.N`, `decoder.output`.
/// A learned-variance Gaussian adds `likelihood.logVariance`; a learned prior `learnedPrior.*`.
public final class MLPVAE: Module, VariationalModel, LearnedPriorHolder {
    /// q(z | x).
    public let encoder: GaussianEncoder
    /// p(x | z)'s parameters.
    public let decoder: Decoder
    /// The decoder's output to p(x | z), with the likelihood's own parameters.
    public let likelihood: LikelihoodHead
    /// The learned prior's parameters (nil for N(0, I)).
    public let learnedPrior: LearnedPrior?
    /// An IAF posterior's flow (nil for the Gaussian).
    public let flow: InverseAutoregressiveFlow?
    /// The layer from the encoder's trunk to the flow's context h (nil for the Gaussian).
    public let flowContext: Linear?
    /// The architecture.
    public let configuration: MLPConfiguration

    /// A model of `configuration`'s architecture with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture.
    public init(_ configuration: MLPConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification(configuration).validate()
        let initializer = Initializer(rawValue: configuration.initializer)!
        let classes = configuration.conditionClasses ?? 0
        encoder = GaussianEncoder(
            inputSize: configuration.inputSize + classes, hiddenSizes: configuration.hiddenSizes, latentSize: configuration.latentSize,
            activation: configuration.activation, unit: configuration.hiddenUnit, varianceHead: configuration.varianceHead,
            initializer: initializer, using: &generator)
        likelihood = LikelihoodHead(configuration.likelihood, imageShape: configuration.imageShape)
        decoder = Decoder(
            latentSize: configuration.latentSize + classes, hiddenSizes: configuration.hiddenSizes.reversed(),
            outputSize: likelihood.outputSize, activation: configuration.activation, unit: configuration.hiddenUnit,
            initializer: initializer, using: &generator)
        learnedPrior = configuration.prior.kind == .normal ? nil
            : LearnedPrior(configuration.prior, latentSize: configuration.latentSize, inputSize: configuration.inputSize, using: &generator)
        let posterior = configuration.posterior
        if posterior.kind == .iaf {
            flowContext = Linear(inputSize: configuration.hiddenSizes.last!, outputSize: posterior.flowHiddenSize, initializer: initializer, using: &generator)
            flow = InverseAutoregressiveFlow(steps: posterior.flowSteps, dimension: configuration.latentSize, hiddenSize: posterior.flowHiddenSize,
                                             contextSize: posterior.flowHiddenSize, using: &generator)
        } else {
            (flowContext, flow) = (nil, nil)
        }
        self.configuration = configuration
    }

    public override func namedParameters() -> [(key: String, tensor: Tensor)] {
        let keys = super.namedParameters()
        guard configuration.hiddenSizes.count == 1, configuration.hiddenUnit == .dense else { return keys }
        let renamed = [
            "encoder.hidden.0": "fc1", "encoder.mean": "fc21", "encoder.spread": "fc22",
            "decoder.hidden.0": "fc3", "decoder.output": "fc4",
        ]
        return keys.map { entry in
            let dot = entry.key.lastIndex(of: ".")!
            let layer = String(entry.key[..<dot]), field = entry.key[dot...]
            return (renamed[layer].map { $0 + field } ?? entry.key, entry.tensor)
        }
    }

    public var latentSize: Int { configuration.latentSize }
    public var imageShape: ImageShape { configuration.imageShape }
    public var condition: ModelCondition { configuration.conditionClasses.map { .classes($0) } ?? .none }
    public var specification: ModelSpecification { ModelSpecification(configuration) }

    /// N(0, I), or the learned mixture, or the VampPrior through this model's encoder.
    public var prior: any LatentDistribution {
        guard let learnedPrior else { return StandardNormal(dimension: latentSize) }
        return learnedPrior.distribution { self.encoder($0) }
    }

    /// q(z | x) or, conditional, q(z | x, y) with the one-hot y [batch, K] appended to x. With an
    /// IAF posterior, the Gaussian whose mean is the flow's code at ε = 0 (the code the latent
    /// tools draw) and whose spread is the base Gaussian's.
    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        guard flow != nil else { return encoder(self.condition.joined(x, condition)) }
        let posterior = flowPosterior(x, condition: condition)
        return DiagonalGaussian(mean: posterior.mean, logVariance: posterior.base.logVariance)
    }

    /// The IAF posterior of x: the encoder's Gaussian, its context h (a linear layer on the
    /// trunk), and the flow.
    public func flowPosterior(_ x: Tensor, condition: Tensor?) -> FlowPosterior {
        guard let flow, let flowContext else { preconditionFailure("the model has no flow") }
        let features = encoder.features(self.condition.joined(x, condition))
        return FlowPosterior(base: encoder.gaussian(features: features), context: flowContext(features), flow: flow)
    }

    /// The one-group pass, with the flow posterior when the model has one.
    public func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput {
        guard flow != nil else {
            return forwardOneGroup(posterior: encoder(self.condition.joined(x, condition)), condition: condition, sampling: sampling, samples: samples)
        }
        return forwardOneGroup(posterior: flowPosterior(x, condition: condition), condition: condition, sampling: sampling, samples: samples)
    }

    /// p(x | z) or, conditional, p(x | z, y) with the one-hot y appended to z.
    public func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        likelihood(decoder.logits(self.condition.joined(z, condition)))
    }
}

extension MLPVAE: DataStartedOutputBias {
    /// Starts the decoder's output bias at the likelihood's outputs for the mean image.
    public func startOutputBias(atMeanImage means: [Float]) throws(ConfigurationProblem) {
        try decoder.startOutputBias(atMeanImage: means, channels: imageShape.channels, likelihood: likelihood.likelihood)
    }
}
