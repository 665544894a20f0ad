import ArgumentParser
import Datasets
import Foundation
import Runs
import SafeTensors
import TensorCore
import VAE

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a run folder or a safetensors model on the test set.",
        discussion: """
        Prints the negative ELBO per test image (reconstruction + KL, in nats) with one sampled z per image and with \
        z = mu. A run folder brings its configuration; a model file written by this tool carries its architecture; \
        for a file made elsewhere (PyTorch names fc1, fc21, fc22, fc3, fc4) the layer sizes are read off the tensor \
        shapes and the rest (activation, variance head, likelihood, binarisation) comes from --preset.
        """)

    @Argument(help: "A run folder written by `vae train`, or a .safetensors model file.") var path: String
    @Option(help: "Preset giving the settings a foreign model file cannot carry (default pytorch-example).") var preset: String?
    @Flag(help: "Print the figures as one JSON object.") var json = false
    @Option(help: "A folder holding the dataset's IDX files.") var dataDir: String?
    @Option(help: "Seed for the sampled z (default: the one the run's last evaluation used, so the figures match metrics.csv).")
    var seed: UInt64?
    @Option(help: "Images per evaluation batch.") var batchSize = 1000
    @Option(help: "OpenBLAS threads.") var blasThreads = 1

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        if let preset, Preset.named(preset) == nil {
            throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        BLAS.setThreadCount(blasThreads)
        let loaded: LoadedModel
        let test: ImageDataset
        do {
            loaded = try LoadedModel.load(path: path, preset: Preset.named(preset ?? "pytorch-example")!.configuration)
            test = try loaded.images(.test, catalog: DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) }))
        } catch { throw CommandFailure(error.localizedDescription) }
        let (model, configuration, modelURL) = (loaded.model, loaded.configuration, loaded.modelFile)
        var noise: RandomGenerator
        if let seed {
            noise = RandomGenerator(seed: seed)
        } else if let epoch = loaded.epoch {
            noise = Trainer.evaluationGenerator(seed: configuration.seed, epoch: epoch)
        } else {
            noise = RandomGenerator(seed: configuration.seed)
        }
        let started = Date()
        let result = model.evaluate(images: test.pixels, targets: test.pixels, batchSize: batchSize, using: &noise)
        let seconds = Date().timeIntervalSince(started)
        if json {
            let object: [String: Any] = [
                "model": modelURL.path, "architecture": configuration.model.architectureName,
                "likelihood": configuration.model.likelihood.rawValue, "binarization": configuration.binarization.rawValue,
                "dataset": configuration.dataset, "images": result.images,
                "test_loss": result.loss, "test_loss_mean": result.lossMean,
                "recon": result.reconstruction, "recon_mean": result.reconstructionMean, "kl": result.kl, "seconds": seconds,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(modelURL.path): \(configuration.model.architectureName) \(configuration.model.activation.rawValue), \(configuration.model.likelihood.rawValue) likelihood, binarisation \(configuration.binarization.rawValue)")
            print("\(configuration.dataset) test set, \(result.images) images; loss per image in nats (reconstruction + KL):")
            print(String(format: "  test loss, sampled z  %.4f  (recon %.4f + kl %.4f)", result.loss, result.reconstruction, result.kl))
            print(String(format: "  test loss, z = mu     %.4f  (recon %.4f + kl %.4f)", result.lossMean, result.reconstructionMean, result.kl))
            print(String(format: "  %.2f s", seconds))
        }
    }
}
