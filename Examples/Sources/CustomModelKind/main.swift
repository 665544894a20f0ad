// A model kind of your own, in your own package: an MLP VAE whose encoder has a skip connection
// (h2 = relu(W2 h1 + b2) + h1). It registers once, and the toolkit's trainer, run folders,
// evaluation and pictures serve it unchanged. Run it from the Examples folder:
//
//     swift run -c release CustomModelKind [epochs] [run folder]
//
// It trains on MNIST, writes the run folder (config.json, metrics.csv, model.safetensors, ...),
// loads the model back from it, prints the test ELBO and the importance-weighted bound, and
// writes custom-samples.png.
//
// The documentation's tutorial shows this file in steps, cut at its `/// The model:`,
// `let arguments`, `session.close()` and `} catch {` lines (scripts/tutorial-steps.py).
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

/// The model: the encoder's second layer adds its input back (a skip connection); the decoder
/// is a plain MLP ending in the likelihood's head.
final class SkipVAE: Module, VariationalModel {
    let first: Linear, second: Linear, mean: Linear, spread: Linear
    let decoder: MultilayerPerceptron
    let likelihood: LikelihoodHead
    let architecture: SkipArchitecture

    init(_ architecture: SkipArchitecture, using generator: inout RandomGenerator) {
        let (input, hidden, latent) = (architecture.imageShape.count, architecture.hiddenSize, architecture.latentSize)
        first = Linear(inputSize: input, outputSize: hidden, using: &generator)
        second = Linear(inputSize: hidden, outputSize: hidden, using: &generator)
        mean = Linear(inputSize: hidden, outputSize: latent, using: &generator)
        spread = Linear(inputSize: hidden, outputSize: latent, using: &generator)
        likelihood = LikelihoodHead(architecture.likelihood, imageShape: architecture.imageShape)
        decoder = MultilayerPerceptron(sizes: [latent, hidden, likelihood.outputSize], activation: .relu, using: &generator)
        self.architecture = architecture
    }

    var latentSize: Int { architecture.latentSize }
    var imageShape: ImageShape { architecture.imageShape }
    var condition: ModelCondition { .none }
    var specification: ModelSpecification { ModelSpecification(architecture) }

    func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        let h1 = first(x).relu()
        let h2 = second(h1).relu() + h1
        return DiagonalGaussian(mean: mean(h2), logVariance: spread(h2))
    }

    func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution { likelihood(decoder(z)) }
}

let arguments = Array(CommandLine.arguments.dropFirst())
let epochs = arguments.first.flatMap { Int($0) } ?? 1
let runFolder = URL(fileURLWithPath: arguments.count > 1 ? arguments[1] : ".build/custom-run")

do {
    // One line makes the kind readable wherever the toolkit reads model files and run folders.
    ModelKinds.register(SkipArchitecture.self)

    // Train it as `vae train` trains any kind: a run folder with metrics, checkpoints and pictures.
    var configuration = TrainingConfiguration(preset: "skip-mlp", model: ModelSpecification(SkipArchitecture()), epochs: epochs)
    configuration.imagesEvery = epochs
    let session = try TrainingSession.start(configuration: configuration, folder: RunFolder(runFolder), catalog: DatasetCatalog(), blasThreads: 1)
    final class Printer: TrainingReporter {
        func started(_ session: TrainingSession) { print("training \(session.record.configuration.model.summary), \(session.trainer.model.parameterCount) parameters") }
        func batch(epoch: Int, done: Int, total: Int, runningLoss: Double) {}
        func epochFinished(_ row: MetricsRow, figures: [(name: String, value: Double)], session: TrainingSession) {
            print(String(format: "epoch %d: train %.2f, test %.2f nats per image", row.epoch, row.trainLoss, row.testLoss))
        }
    }
    _ = try session.run(reporter: Printer(), shouldStop: { false })
    session.close()

    // Load it back from the folder, as the latent tools do, and evaluate it.
    let loaded = try LoadedModel.load(path: runFolder.path, preset: configuration)
    let test = try loaded.images(.test, catalog: DatasetCatalog()).prefix(500)
    var generator = RandomGenerator(seed: 1)
    let elbo = loaded.model.evaluate(images: test.pixels, targets: test.pixels, batchSize: 250, using: &generator)
    let bound = loaded.model.importanceWeightedBound(images: test.pixels, samples: 100, using: &generator)
    print(String(format: "loaded a %@ model: on 500 test images the ELBO is %.2f and the IWAE bound (k = 100) %.2f nats",
                 loaded.model.specification.kind, -elbo.loss, bound.logLikelihood))

    // Samples from the prior, as `vae sample` draws them.
    let grid = try LatentExplorer(model: loaded.model).priorSampleGrid(count: 64, temperature: 1, columns: 8, scale: 2, using: &generator)
    try grid.writePNG(to: URL(fileURLWithPath: "custom-samples.png"))
    print("wrote custom-samples.png")
} catch {
    print("error: \(error.localizedDescription)")
    exit(1)
}
