import Datasets
import NN
import TensorCore
import VAE

/// The architecture of an MLP VAE (the kind "mlp"). Encoder: the image's C·H·W values ->
/// hidden... (activation) -> μ and the spread head, each `latentSize` wide. Decoder: latent ->
/// reversed hidden... (activation) -> the likelihood's parameters (C·H·W logits for the
/// Bernoulli and the Gaussians). With one hidden layer the parameters carry PyTorch's example
/// names (`fc1`, `fc21`, `fc22`, `fc3`, `fc4`).
public struct MLPConfiguration: ConfigurableArchitecture {
    /// The images' shape.
    public var imageShape: ImageShape
    /// The encoder's hidden layer sizes; the decoder's are the same, reversed.
    public var hiddenSizes: [Int]
    /// The dimension of z.
    public var latentSize: Int
    /// The activation after each hidden layer.
    public var activation: Activation
    /// What each hidden layer computes: dense, or gated (activation(h) ⊙ σ(g), the VampPrior
    /// paper's gated layers).
    public var hiddenUnit: HiddenUnit = .dense
    /// How the encoder's spread head gives σ.
    public var varianceHead: VarianceHead
    /// p(x | z).
    public var likelihood: Likelihood
    /// "pytorch" (uniform ±1/√fan_in for weight and bias) or "glorot" (Keras: Glorot uniform, zero bias).
    public var initializer: String
    /// K for a conditional VAE (the label's one-hot joins the encoder's input and z), nil for
    /// an unconditional one.
    public var conditionClasses: Int?
    /// p(z): N(0, I), a learned mixture, or the VampPrior.
    public var prior: PriorSettings = .normal
    /// q(z | x): the diagonal Gaussian, or the Gaussian through an inverse autoregressive flow.
    public var posterior: PosteriorSettings = .gaussian

    /// An MLP VAE's architecture; see the properties. `problems` checks it.
    public init(imageShape: ImageShape = .mnist, hiddenSizes: [Int], latentSize: Int, activation: Activation = .relu,
                varianceHead: VarianceHead = .logVariance, likelihood: Likelihood = .bernoulli,
                initializer: Initializer = .pytorchDefault) {
        self.imageShape = imageShape
        self.hiddenSizes = hiddenSizes
        self.latentSize = latentSize
        self.activation = activation
        self.varianceHead = varianceHead
        self.likelihood = likelihood
        self.initializer = initializer.rawValue
    }

    /// A grey model of `inputSize` values (a square image when the size is a square, else one row).
    public init(inputSize: Int, hiddenSizes: [Int], latentSize: Int, activation: Activation = .relu,
                varianceHead: VarianceHead = .logVariance, likelihood: Likelihood = .bernoulli,
                initializer: Initializer = .pytorchDefault) {
        self.init(imageShape: ImageShape.square(count: inputSize) ?? .grey(height: 1, width: inputSize), hiddenSizes: hiddenSizes,
                  latentSize: latentSize, activation: activation, varianceHead: varianceHead, likelihood: likelihood, initializer: initializer)
    }

    public static let kind = "mlp"
    public static let kindDescription = "MLP VAE"
    public static var presets: [Preset] { MLPPresets.all }

    /// C · H · W.
    public var inputSize: Int { imageShape.count }

    /// "MLP 784-400-20 on 1x28x28 images, relu, log-variance head, bernoulli likelihood".
    public var summary: String {
        "MLP \(architectureName) on \(imageShape) images, \(hiddenUnit.summary(activation: activation)), \(varianceHead.rawValue) head, \(likelihood) likelihood"
            + (prior.kind == .normal ? "" : ", \(prior) prior") + (posterior.kind == .gaussian ? "" : ", \(posterior) posterior")
    }

    public func fitted(to shape: ImageShape) -> MLPConfiguration {
        var configuration = self
        configuration.imageShape = shape
        return configuration
    }

    public func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        try MLPVAE(self, using: &generator)
    }

    public var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if !imageShape.isValid { found.append(ConfigurationProblem(.imageShape, "must be 1 or 3 channels of 1...4096 pixels each way, got \(imageShape)")) }
        if hiddenSizes.isEmpty { found.append(ConfigurationProblem(.hiddenSizes, "need at least one size")) }
        if hiddenSizes.contains(where: { $0 <= 0 }) { found.append(ConfigurationProblem(.hiddenSizes, "must all be positive, got \(hiddenSizes)")) }
        if latentSize <= 0 { found.append(ConfigurationProblem(.latentSize, "must be positive, got \(latentSize)")) }
        if let problem = StandardChecks.conditionProblem(conditionClasses) { found.append(problem) }
        if let problem = StandardChecks.initializerProblem(initializer) { found.append(problem) }
        if let problem = prior.problem { found.append(problem) }
        if let problem = posterior.problem { found.append(problem) }
        if prior.kind == .vamp && conditionClasses != nil {
            found.append(ConfigurationProblem(.prior, "vamp needs an unconditional model: its pseudo-inputs pass through the encoder, which a conditional model gives a label too"))
        }
        return found
    }

    /// The weights and biases of its layers (a gated layer counts twice: its value and its gate)
    /// and a learned prior's parameters (an IAF's are left out).
    public var approximateParameterCount: Double {
        let input = Double(imageShape.count), classes = conditionClasses ?? 0
        let output = Double(likelihood.parameterChannels(imageChannels: imageShape.channels) * imageShape.height * imageShape.width)
        let sizes = hiddenSizes.map(Double.init)
        let gate = hiddenUnit == .gated ? StandardChecks.chain([input + Double(classes)] + sizes)
            + StandardChecks.chain([Double(latentSize + classes)] + sizes.reversed()) : 0  // the gates' weights and biases
        let learnedPrior = Double(prior.parameterCount(latentSize: latentSize, inputSize: imageShape.count))
        return gate + learnedPrior + StandardChecks.chain([input + Double(classes)] + sizes) + 2 * StandardChecks.chain([sizes.last ?? 1, Double(latentSize)])
            + StandardChecks.chain([Double(latentSize + classes)] + sizes.reversed() + [output])
    }

    enum CodingKeys: String, CodingKey { case imageShape, inputSize, hiddenSizes, latentSize, activation, hiddenUnit, varianceHead, likelihood, initializer, conditionClasses, prior, posterior }

    /// Reads a configuration; files written before images had shapes give `inputSize`, read as a
    /// grey square image.
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let shape = try c.decodeIfPresent(ImageShape.self, forKey: .imageShape) {
            imageShape = shape
        } else {
            let size = try c.decode(Int.self, forKey: .inputSize)
            imageShape = ImageShape.square(count: size) ?? .grey(height: 1, width: max(size, 0))
        }
        hiddenSizes = try c.decode([Int].self, forKey: .hiddenSizes)
        latentSize = try c.decode(Int.self, forKey: .latentSize)
        activation = try c.decode(Activation.self, forKey: .activation)
        hiddenUnit = try c.decodeIfPresent(HiddenUnit.self, forKey: .hiddenUnit) ?? .dense
        varianceHead = try c.decode(VarianceHead.self, forKey: .varianceHead)
        likelihood = try c.decode(Likelihood.self, forKey: .likelihood)
        initializer = try c.decode(String.self, forKey: .initializer)
        conditionClasses = try c.decodeIfPresent(Int.self, forKey: .conditionClasses)
        prior = try c.decodeIfPresent(PriorSettings.self, forKey: .prior) ?? .normal
        posterior = try c.decodeIfPresent(PosteriorSettings.self, forKey: .posterior) ?? .gaussian
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageShape, forKey: .imageShape)
        try c.encode(hiddenSizes, forKey: .hiddenSizes)
        try c.encode(latentSize, forKey: .latentSize)
        try c.encode(activation, forKey: .activation)
        if hiddenUnit != .dense { try c.encode(hiddenUnit, forKey: .hiddenUnit) }  // files of dense layers stay as they were
        try c.encode(varianceHead, forKey: .varianceHead)
        try c.encode(likelihood, forKey: .likelihood)
        try c.encode(initializer, forKey: .initializer)
        try c.encodeIfPresent(conditionClasses, forKey: .conditionClasses)
        if prior != .normal { try c.encode(prior, forKey: .prior) }  // files of a fixed prior stay as they were
        if posterior != .gaussian { try c.encode(posterior, forKey: .posterior) }
    }

    /// The `cvae-mnist` preset: the 784-512-2 ReLU MLP of `design-a` conditioned on MNIST's 10 digits. The
    /// 2-d latent leaves the digit's identity to the label: with 8 or 20 dimensions the encoder
    /// writes the identity into z as well, and prior samples follow z more than the label (the
    /// classifier then finds 80% and 54% of a class's samples in it at worst, against 96% here).
    public static var conditionalDigits: MLPConfiguration {
        var configuration = MLPConfiguration(hiddenSizes: [512], latentSize: 2)
        configuration.conditionClasses = 10
        return configuration
    }

    /// The VampPrior paper's one-layer VAE on MNIST (Tomczak & Welling 2018, its code's `VAE`):
    /// gated layers 784 → 300 → 300 (no activation) → z (40), log-variance heads clamped to
    /// [−6, 2], the mirror decoder to 784 Bernoulli logits, He-normal weights, and the VampPrior
    /// with 500 pseudo-inputs.
    public static var vampPriorVAE: MLPConfiguration {
        var configuration = MLPConfiguration(hiddenSizes: [300, 300], latentSize: 40, activation: .identity, varianceHead: .clampedLogVariance,
                                             initializer: .heNormal)
        configuration.hiddenUnit = .gated
        configuration.prior = PriorSettings(kind: .vamp)
        return configuration
    }

    /// The sizes as a dash-separated string, e.g. "784-400-20".
    public var architectureName: String {
        ([inputSize] + hiddenSizes + [latentSize]).map(String.init).joined(separator: "-")
    }
}

extension Setting {
    /// An MLP's hidden layer sizes.
    public static let hiddenSizes = Setting("the hidden sizes")
}

/// Checks and counts the toolkit's kinds share.
enum StandardChecks {
    static func initializerProblem(_ name: String) -> ConfigurationProblem? {
        guard Initializer(rawValue: name) == nil else { return nil }
        return ConfigurationProblem(.initializer, "must be one of \(Initializer.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
    }

    static func conditionProblem(_ classes: Int?) -> ConfigurationProblem? {
        guard let classes, !(2...1000).contains(classes) else { return nil }
        return ConfigurationProblem(.condition, "must be 2...1000 classes, got \(classes)")
    }

    /// The weights and biases of dense layers of `sizes`, in floating point.
    static func chain(_ sizes: [Double]) -> Double {
        zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    }
}
