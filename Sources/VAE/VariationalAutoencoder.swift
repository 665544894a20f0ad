import Datasets
import NN
import TensorCore

/// An MLP variational autoencoder (Kingma & Welling): encoder q(z | x), decoder p(x | z),
/// prior N(0, I), z = μ + σ ⊙ ε with ε ~ N(0, I) (the reparameterisation trick).
///
/// Checkpoint keys: with one hidden layer, PyTorch's example names, so a PyTorch user can load
/// the file into that model: `fc1` (encoder hidden), `fc21` (μ), `fc22` (spread), `fc3`
/// (decoder hidden), `fc4` (output), each `.weight` [out, in] and `.bias`. With more layers,
/// `encoder.hidden.N`, `encoder.mean`, `encoder.spread`, `decoder.hidden.N`, `decoder.output`.
public final class VariationalAutoencoder: Module, VariationalModel {
    /// q(z | x).
    public let encoder: GaussianEncoder
    /// p(x | z).
    public let decoder: Decoder
    /// The architecture.
    public let configuration: ModelConfiguration

    /// A model of `configuration`'s architecture with weights drawn from `generator`.
    /// - Throws: `ConfigurationProblem` naming what is wrong with an invalid architecture.
    public init(_ configuration: ModelConfiguration, using generator: inout RandomGenerator) throws(ConfigurationProblem) {
        try ModelSpecification.mlp(configuration).validate()
        let initializer = Initializer(rawValue: configuration.initializer)!
        let classes = configuration.conditionClasses ?? 0
        encoder = GaussianEncoder(
            inputSize: configuration.inputSize + classes, hiddenSizes: configuration.hiddenSizes, latentSize: configuration.latentSize,
            activation: configuration.activation, varianceHead: configuration.varianceHead, initializer: initializer,
            using: &generator)
        decoder = Decoder(
            latentSize: configuration.latentSize + classes, hiddenSizes: configuration.hiddenSizes.reversed(),
            outputSize: configuration.inputSize, activation: configuration.activation, initializer: initializer,
            using: &generator)
        self.configuration = configuration
    }

    public override func namedParameters() -> [(key: String, tensor: Tensor)] {
        let keys = super.namedParameters()
        guard configuration.hiddenSizes.count == 1 else { return keys }
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
    public var specification: ModelSpecification { .mlp(configuration) }

    /// q(z | x) or, conditional, q(z | x, y) with the one-hot y [batch, K] appended to x.
    public func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        encoder(self.condition.joined(x, condition))
    }

    /// p(x | z) or, conditional, p(x | z, y) with the one-hot y appended to z.
    public func decode(_ z: Tensor, condition: Tensor?) -> ImageLikelihood {
        ImageLikelihood(kind: configuration.likelihood, parameters: .logits(decoder.logits(self.condition.joined(z, condition))))
    }
}
