import Datasets
import NN

/// How the encoder parameterises the spread of q(z | x) = N(μ, diag σ²).
public enum VarianceHead: String, Codable, CaseIterable, Sendable {
    /// The head outputs v = log σ²; σ = exp(v / 2) (designs A, C, D and the PyTorch example).
    case logVariance = "log-variance"
    /// The head outputs s; σ = softplus(s) = log(1 + eˢ) (design B).
    case softplusStandardDeviation = "softplus-std"
    /// The head outputs σ itself, unconstrained; the KL uses log σ² (design E's linear z_sigma).
    case standardDeviation = "std"
}

/// The decoder's likelihood p(x | z) and so the reconstruction term -log p(x | z).
public enum Likelihood: String, Codable, CaseIterable, Sendable {
    /// Bernoulli with logits ℓ: -log p = Σ_pixels BCE(ℓ, x), computed from the logits (stable).
    case bernoulli
    /// Gaussian around the mean sigmoid(ℓ): the squared error Σ_pixels (sigmoid(ℓ) - x)²
    /// (a Gaussian with σ² = 1/2, constants dropped).
    case gaussian
}

/// The architecture of an MLP VAE. Encoder: the image's C·H·W values -> hidden... (activation)
/// -> μ and the spread head, each `latentSize` wide. Decoder: latent -> reversed hidden...
/// (activation) -> C·H·W (logits). With one hidden layer the parameters carry PyTorch's example
/// names (`fc1`, `fc21`, `fc22`, `fc3`, `fc4`).
public struct ModelConfiguration: Codable, Equatable, Sendable {
    /// The images' shape.
    public var imageShape: ImageShape
    /// The encoder's hidden layer sizes; the decoder's are the same, reversed.
    public var hiddenSizes: [Int]
    /// The dimension of z.
    public var latentSize: Int
    /// The activation after each hidden layer.
    public var activation: Activation
    /// How the encoder's spread head gives σ.
    public var varianceHead: VarianceHead
    /// p(x | z): Bernoulli or Gaussian.
    public var likelihood: Likelihood
    /// "pytorch" (uniform ±1/√fan_in for weight and bias) or "glorot" (Keras: Glorot uniform, zero bias).
    public var initializer: String
    /// K for a conditional VAE (the label's one-hot joins the encoder's input and z), nil for
    /// an unconditional one.
    public var conditionClasses: Int?

    /// An MLP VAE's architecture; see the properties. `validate()` checks it.
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

    /// C · H · W.
    public var inputSize: Int { imageShape.count }

    enum CodingKeys: String, CodingKey { case imageShape, inputSize, hiddenSizes, latentSize, activation, varianceHead, likelihood, initializer, conditionClasses }

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
        varianceHead = try c.decode(VarianceHead.self, forKey: .varianceHead)
        likelihood = try c.decode(Likelihood.self, forKey: .likelihood)
        initializer = try c.decode(String.self, forKey: .initializer)
        conditionClasses = try c.decodeIfPresent(Int.self, forKey: .conditionClasses)
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageShape, forKey: .imageShape)
        try c.encode(hiddenSizes, forKey: .hiddenSizes)
        try c.encode(latentSize, forKey: .latentSize)
        try c.encode(activation, forKey: .activation)
        try c.encode(varianceHead, forKey: .varianceHead)
        try c.encode(likelihood, forKey: .likelihood)
        try c.encode(initializer, forKey: .initializer)
        try c.encodeIfPresent(conditionClasses, forKey: .conditionClasses)
    }

    /// The `cvae-mnist` preset: design A (784-512-2, ReLU) conditioned on MNIST's 10 digits. The
    /// 2-d latent leaves the digit's identity to the label: with 8 or 20 dimensions the encoder
    /// writes the identity into z as well, and prior samples follow z more than the label (the
    /// classifier then finds 80% and 54% of a class's samples in it at worst, against 96% here).
    public static var conditionalDigits: ModelConfiguration {
        var configuration = ModelConfiguration(hiddenSizes: [512], latentSize: 2)
        configuration.conditionClasses = 10
        return configuration
    }

    /// The sizes as a dash-separated string, e.g. "784-400-20".
    public var architectureName: String {
        ([inputSize] + hiddenSizes + [latentSize]).map(String.init).joined(separator: "-")
    }
}
