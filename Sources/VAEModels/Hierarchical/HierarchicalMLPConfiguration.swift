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
///
/// With `wiring` `.skip` (two layers), the VampPrior paper's HVAE (Tomczak & Welling 2018, §3.3
/// and its code's `HVAE_2level`): inference is top-down, q(z₂ | x) q(z₁ | x, z₂), and the image
/// depends on both groups, p(x | z₁, z₂); p(z₁ | z₂) is as in the chain. Layer 1's hidden sizes
/// [b, j...] then give q(z₁ | x, z₂) and p(x | z₁, z₂) two branches of b units, one per input,
/// joined and followed by the layers j....
///
/// The top group's prior is N(0, I) or learned (`prior`): a mixture, or the VampPrior through
/// q(z_top | x).
public struct HierarchicalMLPConfiguration: ModelArchitecture {
    /// How the stochastic layers connect.
    public enum Wiring: String, Codable, CaseIterable, Sendable {
        /// The IWAE paper's chain: q(z₁ | x) q(z₂ | z₁) ..., p(z_L) ... p(z₁ | z₂) p(x | z₁).
        case chain
        /// The VampPrior paper's two-level HVAE: q(z₂ | x) q(z₁ | x, z₂), p(z₂) p(z₁ | z₂) p(x | z₁, z₂).
        case skip
    }

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
    /// What each hidden layer computes: dense, or gated (activation(h) ⊙ σ(g)).
    public var hiddenUnit: HiddenUnit = .dense
    /// How the layers connect.
    public var wiring: Wiring = .chain
    /// p(z_top): N(0, I), a learned mixture, or the VampPrior.
    public var prior: PriorSettings = .normal
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

    /// The IWAE paper's two-layer model as its authors' code builds it (`yburda/iwae`,
    /// `experiments.py`): 784 → 200-200 tanh → z₁ (100) → 100-100 tanh → z₂ (50), and the mirror.
    /// Its deterministic layers are twice as wide as the paper's text gives them
    /// (``iwaePaperTwoLayer``); the code produced the paper's figures.
    public static var iwaeCodeTwoLayer: HierarchicalMLPConfiguration {
        HierarchicalMLPConfiguration(layers: [StochasticLayer(hiddenSizes: [200, 200], latentSize: 100),
                                              StochasticLayer(hiddenSizes: [100, 100], latentSize: 50)])
    }

    /// The VampPrior paper's two-level HVAE on MNIST: gated layers of 300 units (no activation),
    /// q(z₂ | x): x → 300 → 300 → z₂ (40); q(z₁ | x, z₂): branches x → 300 and z₂ → 300, joined,
    /// → 300 → z₁ (40); p(z₁ | z₂): z₂ → 300 → 300 → z₁; p(x | z₁, z₂): branches z₁ → 300 and
    /// z₂ → 300, joined, → 300 → 784 Bernoulli logits; log-variance heads clamped to [−6, 2];
    /// He-normal weights; the VampPrior with 500 pseudo-inputs on z₂.
    public static var vampPriorHVAE: HierarchicalMLPConfiguration {
        var configuration = HierarchicalMLPConfiguration(layers: [StochasticLayer(hiddenSizes: [300, 300], latentSize: 40),
                                                                  StochasticLayer(hiddenSizes: [300, 300], latentSize: 40)],
                                                         activation: .identity, varianceHead: .clampedLogVariance, initializer: .heNormal)
        configuration.hiddenUnit = .gated
        configuration.wiring = .skip
        configuration.prior = PriorSettings(kind: .vamp)
        return configuration
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

    /// "hierarchical MLP 784-100-100-[100]-50-50-[50] on 1x28x28 images, 2 stochastic layers, tanh, log-variance heads, bernoulli likelihood".
    public var summary: String {
        "hierarchical MLP \(architectureName) on \(imageShape) images, \(layers.count) stochastic layers"
            + (wiring == .skip ? " wired with skips (q(z2 | x) q(z1 | x, z2), p(x | z1, z2))" : "")
            + ", \(hiddenUnit.summary(activation: activation)), \(varianceHead.rawValue) heads, \(likelihood) likelihood" + (prior.kind == .normal ? "" : ", \(prior) prior")
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
        if wiring == .skip {
            if layers.count != 2 { found.append(ConfigurationProblem(.stochasticLayers, "skip wiring is the two-level HVAE: it needs 2 layers, got \(layers.count)")) }
            if let bottom = layers.first, bottom.hiddenSizes.count < 2 {
                found.append(ConfigurationProblem(.stochasticLayers, "skip wiring: layer 1 needs a branch width and at least one joint layer ([b, j, ...]), got \(bottom.hiddenSizes)"))
            }
        }
        if let problem = prior.problem { found.append(problem) }
        if Initializer(rawValue: initializer) == nil {
            found.append(ConfigurationProblem(.initializer, "must be one of \(Initializer.allCases.map(\.rawValue).joined(separator: ", ")), got '\(initializer)'"))
        }
        return found
    }

    /// The weights and biases of every layer (a gated layer counts twice: its value and its gate),
    /// and a learned prior's parameters.
    public var approximateParameterCount: Double {
        let gate = hiddenUnit == .gated ? 2.0 : 1.0
        func chain(_ sizes: [Double]) -> Double { zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 } }
        func trunk(_ sizes: [Double]) -> Double { gate * chain(sizes) }
        let output = Double(likelihood.parameterChannels(imageChannels: imageShape.channels) * imageShape.height * imageShape.width)
        let image = Double(imageShape.count)
        var total = 0.0
        if wiring == .skip, layers.count == 2, layers[0].hiddenSizes.count >= 2 {
            let bottom = layers[0].hiddenSizes.map(Double.init), top = layers[1].hiddenSizes.map(Double.init)
            let (z1, z2, branch) = (Double(layers[0].latentSize), Double(layers[1].latentSize), bottom[0])
            let joint = [2 * branch] + bottom.dropFirst()
            total += trunk([image] + top) + 2 * chain([top.last!, z2])                                       // q(z2 | x)
            total += trunk([image, branch]) + trunk([z2, branch]) + trunk(joint) + 2 * chain([joint.last!, z1])  // q(z1 | x, z2)
            total += trunk([z2] + top.reversed()) + 2 * chain([top.first!, z1])                              // p(z1 | z2)
            total += trunk([z1, branch]) + trunk([z2, branch]) + trunk(joint) + chain([joint.last!, output])   // p(x | z1, z2)
        } else {
            var below = image
            for (index, layer) in layers.enumerated() {
                let hidden = layer.hiddenSizes.map(Double.init), latent = Double(layer.latentSize)
                total += trunk([below] + hidden) + 2 * chain([hidden.last ?? 1, latent])  // q(z_i | below)
                total += index == 0 ? trunk([latent] + hidden.reversed()) + chain([hidden.first ?? 1, output])
                    : trunk([latent] + hidden.reversed()) + 2 * chain([hidden.first ?? 1, below])
                below = latent
            }
        }
        return total + Double(prior.parameterCount(latentSize: latentSize, inputSize: imageShape.count))
    }

    enum CodingKeys: String, CodingKey { case imageShape, layers, activation, hiddenUnit, wiring, varianceHead, likelihood, initializer, prior }

    /// Reads an architecture; `hiddenUnit`, `wiring` and `prior` may be absent (dense, chain, N(0, I)).
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageShape = try c.decode(ImageShape.self, forKey: .imageShape)
        layers = try c.decode([StochasticLayer].self, forKey: .layers)
        activation = try c.decode(Activation.self, forKey: .activation)
        hiddenUnit = try c.decodeIfPresent(HiddenUnit.self, forKey: .hiddenUnit) ?? .dense
        wiring = try c.decodeIfPresent(Wiring.self, forKey: .wiring) ?? .chain
        varianceHead = try c.decode(VarianceHead.self, forKey: .varianceHead)
        likelihood = try c.decode(Likelihood.self, forKey: .likelihood)
        initializer = try c.decode(String.self, forKey: .initializer)
        prior = try c.decodeIfPresent(PriorSettings.self, forKey: .prior) ?? .normal
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageShape, forKey: .imageShape)
        try c.encode(layers, forKey: .layers)
        try c.encode(activation, forKey: .activation)
        if hiddenUnit != .dense { try c.encode(hiddenUnit, forKey: .hiddenUnit) }
        if wiring != .chain { try c.encode(wiring, forKey: .wiring) }
        try c.encode(varianceHead, forKey: .varianceHead)
        try c.encode(likelihood, forKey: .likelihood)
        try c.encode(initializer, forKey: .initializer)
        if prior != .normal { try c.encode(prior, forKey: .prior) }
    }
}

extension Setting {
    /// A hierarchical model's stochastic layers.
    public static let stochasticLayers = Setting("the stochastic layers")
}
