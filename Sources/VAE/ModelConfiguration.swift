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

/// The architecture of an MLP VAE. Encoder: input -> hidden... (activation) -> μ and the spread
/// head, each `latentSize` wide. Decoder: latent -> reversed hidden... (activation) -> input
/// (logits). With one hidden layer the parameters carry PyTorch's example names
/// (`fc1`, `fc21`, `fc22`, `fc3`, `fc4`).
public struct ModelConfiguration: Codable, Equatable, Sendable {
    public var inputSize: Int
    public var hiddenSizes: [Int]
    public var latentSize: Int
    public var activation: Activation
    public var varianceHead: VarianceHead
    public var likelihood: Likelihood
    /// "pytorch" (uniform ±1/√fan_in for weight and bias) or "glorot" (Keras: Glorot uniform, zero bias).
    public var initializer: String

    public init(inputSize: Int = 784, hiddenSizes: [Int], latentSize: Int, activation: Activation = .relu,
                varianceHead: VarianceHead = .logVariance, likelihood: Likelihood = .bernoulli,
                initializer: Initializer = .pytorchDefault) {
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.latentSize = latentSize
        self.activation = activation
        self.varianceHead = varianceHead
        self.likelihood = likelihood
        self.initializer = initializer.rawValue
    }

    /// The sizes as a dash-separated string, e.g. "784-400-20".
    public var architectureName: String {
        ([inputSize] + hiddenSizes + [latentSize]).map(String.init).joined(separator: "-")
    }
}
