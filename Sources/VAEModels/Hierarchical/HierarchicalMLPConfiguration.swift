import Datasets
import NN
import TensorCore
import VAE

/// The architecture of an MLP VAE with several stochastic layers (the kind "hierarchical-mlp"),
/// Burda et al.'s two-layer model of the IWAE paper ("Importance Weighted Autoencoders", 2016,
/// §5 and appendix) in its general form.
///
/// Layers are listed bottom (nearest the image) first; layer i has deterministic hidden sizes
/// and a latent size. With layers (h₁, z₁), (h₂, z₂):
/// - inference, bottom-up: x → h₁ → q(z₁ | x); z₁ → h₂ → q(z₂ | z₁);
/// - generation, the mirror: p(z₂) = N(0, I); z₂ → reversed h₂ → p(z₁ | z₂); z₁ → reversed h₁ →
///   p(x | z₁).
///
/// Every q and p(zᵢ | zᵢ₊₁) is a diagonal Gaussian with two linear heads (`varianceHead`).
public struct HierarchicalMLPConfiguration: ModelArchitecture {
    /// One stochastic layer: the deterministic layers below it and its latent size.
    public struct StochasticLayer: Codable, Equatable, Sendable {
        /// The hidden sizes between the layer below (or the image) and this layer's latent.
        public var hiddenSizes: [Int]
        /// The dimension of this layer's z.
        public var latentSize: Int

        /// A layer of `hiddenSizes` deterministic units and a `latentSize`-dimensional z.
        public init(hiddenSizes: [Int], latentSize: Int) { (self.hiddenSizes, self.latentSize) = (hiddenSizes, latentSize) }
    }

    /// The images' shape.
    public var imageShape: ImageShape
    /// The stochastic layers, bottom first.
    public var layers: [StochasticLayer]
    /// The activation after every hidden layer.
    public var activation: Activation
    /// How each Gaussian's spread head gives σ.
    public var varianceHead: VarianceHead
    /// p(x | z₁).
    public var likelihood: Likelihood
    /// "pytorch" or "glorot" (see `Initializer`).
    public var initializer: String

    /// A hierarchical architecture; see the properties. `problems` checks it.
    public init(imageShape: ImageShape = .mnist, layers: [StochasticLayer], activation: Activation = .tanh,
                varianceHead: VarianceHead = .logVariance, likelihood: Likelihood = .bernoulli, initializer: Initializer = .glorotUniform) {
        (self.imageShape, self.layers, self.activation, self.varianceHead, self.likelihood) = (imageShape, layers, activation, varianceHead, likelihood)
        self.initializer = initializer.rawValue
    }

    /// The IWAE paper's two-layer architecture: 784 → 100-100 tanh → z₁ (100) → 50-50 tanh → z₂ (50),
    /// and the mirror, Glorot-initialised, with a Bernoulli likelihood.
    public static var iwaePaperTwoLayer: HierarchicalMLPConfiguration {
        HierarchicalMLPConfiguration(layers: [StochasticLayer(hiddenSizes: [100, 100], latentSize: 100),
                                              StochasticLayer(hiddenSizes: [50, 50], latentSize: 50)])
    }

    public static let kind = "hierarchical-mlp"
    public static let kindDescription = "hierarchical MLP VAE"
    public static var presets: [Preset] { HierarchicalPresets.all }

    /// The top layer's latent size.
    public var latentSize: Int { layers.last?.latentSize ?? 0 }

    /// "784-100-100-[100]-50-50-[50]": the sizes bottom-up, each latent in brackets.
    public var architectureName: String {
        ([String(imageShape.count)] + layers.flatMap { $0.hiddenSizes.map(String.init) + ["[\($0.latentSize)]"] }).joined(separator: "-")
    }

    /// "hierarchical MLP 784-100-100-[100]-50-50-[50] on 1x28x28 images, tanh, log-variance heads, bernoulli likelihood".
    public var summary: String {
        "hierarchical MLP \(architectureName) on \(imageShape) images, \(layers.count) stochastic layers, \(activation.rawValue), \(varianceHead.rawValue) heads, \(likelihood) likelihood"
    }

    public func fitted(to shape: ImageShape) -> HierarchicalMLPConfiguration {
        var configuration = self
        configuration.imageShape = shape
        return configuration
    }

    /// Any likelihood: the decoder's output layer is sized by `LikelihoodHead`.
    public func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> HierarchicalMLPConfiguration {
        var configuration = self
        configuration.likelihood = likelihood
        return configuration
    }

    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        try HierarchicalMLPVAE(self, using: &generator)
    }

    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if !imageShape.isValid { found.append(ConfigurationProblem(.imageShape, "must be 1 or 3 channels of 1...4096 pixels each way, got \(imageShape)")) }
        if !(1...8).contains(layers.count) { found.append(ConfigurationProblem(.stochasticLayers, "must be 1...8 layers, got \(layers.count)")) }
        for (index, layer) in layers.enumerated() {
            if layer.hiddenSizes.isEmpty || layer.hiddenSizes.contains(where: { $0 <= 0 }) {
                found.append(ConfigurationProblem(.stochasticLayers, "layer \(index + 1): the hidden sizes must be one or more positive numbers, got \(layer.hiddenSizes)"))
            }
            if layer.latentSize <= 0 { found.append(ConfigurationProblem(.stochasticLayers, "layer \(index + 1): the latent size must be positive, got \(layer.latentSize)")) }
        }
        if Initializer(rawValue: initializer) == nil {
            found.append(ConfigurationProblem(.initializer, "must be one of \(Initializer.allCases.map(\.rawValue).joined(separator: ", ")), got '\(initializer)'"))
        }
        return found
    }

    /// The weights and biases of every layer.
    public var approximateParameterCount: Double {
        func chain(_ sizes: [Double]) -> Double { zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 } }
        let output = Double(likelihood.parameterChannels(imageChannels: imageShape.channels) * imageShape.height * imageShape.width)
        var total = 0.0, below = Double(imageShape.count)
        for (index, layer) in layers.enumerated() {
            let hidden = layer.hiddenSizes.map(Double.init), latent = Double(layer.latentSize)
            total += chain([below] + hidden) + 2 * chain([hidden.last ?? 1, latent])  // q(z_i | below)
            let target = index == 0 ? output : below
            total += index == 0 ? chain([latent] + hidden.reversed() + [target]) : chain([latent] + hidden.reversed()) + 2 * chain([hidden.first ?? 1, target])
            below = latent
        }
        return total
    }
}

extension Setting {
    /// A hierarchical model's stochastic layers.
    public static let stochasticLayers = Setting("the stochastic layers")
}
