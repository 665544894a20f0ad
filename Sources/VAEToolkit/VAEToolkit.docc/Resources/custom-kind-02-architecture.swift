// A model kind of your own, in your own package: an MLP VAE whose encoder has a skip connection
// (h2 = relu(W2 h1 + b2) + h1). It registers once, and the toolkit's trainer, run folders,
// evaluation and pictures serve it unchanged. Run it from the Examples folder:
//
//     swift run -c release CustomModelKind [epochs] [run folder]
//
// It trains on MNIST, writes the run folder (config.json, metrics.csv, model.safetensors, ...),
// loads the model back from it, prints the test ELBO and the importance-weighted bound, and
// writes custom-samples.png.
import Foundation
import VAEToolkit

/// The kind's architecture: what is saved in config.json and model files as
/// {"kind": "skip-mlp", "configuration": {...}}, and what rebuilds the model.
struct SkipArchitecture: ModelArchitecture {
    static let kind = "skip-mlp"
    static let kindDescription = "MLP VAE with a skip connection"

    var imageShape = ImageShape.mnist
    var hiddenSize = 256
    var latentSize = 16
    var likelihood = Likelihood.bernoulli

    var architectureName: String { "\(imageShape.count)-\(hiddenSize)+\(hiddenSize)-\(latentSize)" }
    var approximateParameterCount: Double { Double(imageShape.count * hiddenSize * 2 + hiddenSize * hiddenSize + 3 * hiddenSize * latentSize) }

    var problems: [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        if hiddenSize <= 0 { found.append(ConfigurationProblem(Setting("the hidden size"), "must be positive, got \(hiddenSize)")) }
        if latentSize <= 0 { found.append(ConfigurationProblem(.latentSize, "must be positive, got \(latentSize)")) }
        return found
    }

    // The kind takes any image shape and any likelihood its decoder can give.
    func fitted(to shape: ImageShape) -> SkipArchitecture { var copy = self; copy.imageShape = shape; return copy }
    func withLikelihood(_ likelihood: Likelihood) throws(ConfigurationProblem) -> SkipArchitecture { var copy = self; copy.likelihood = likelihood; return copy }

    func makeModel(using generator: inout RandomGenerator) throws(ConfigurationProblem) -> any VariationalModel {
        SkipVAE(self, using: &generator)
    }
}
