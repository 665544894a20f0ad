import Foundation
import LatentTools
import Runs
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels

/// Design B trains through the one session, run folder and checkpoint every model kind uses.
@Suite(.serialized) struct DesignBRunTests {
    static var configuration: TrainingConfiguration {
        var configuration = TrainingConfiguration.affine(
            name: "test", model: AffineModelConfiguration(imageWidth: 8, imageHeight: 8, encoderHiddenSizes: [16], contentSize: 3,
                                                          decoderHiddenSize: 8, classifierHiddenSize: 8, classes: 4),
            batchSize: 32, epochs: 2, klWeight: 0.01, learningRate: 3e-3, seed: 4)
        configuration.validationShare = 0.1
        configuration.dataset = "mnist"
        return configuration
    }

    @Test func aRunInterruptedMidEpochResumesToTheSameModel() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let whole = workspace.folder("whole"), parts = workspace.folder("parts")
        #expect(try TrainingSession.start(configuration: Self.configuration, folder: whole, catalog: workspace.catalog, blasThreads: 1)
            .run(reporter: SilentReporter()) { false } == .finished)
        var calls = 0
        let first = try TrainingSession.start(configuration: Self.configuration, folder: parts, catalog: workspace.catalog, blasThreads: 1)
        let outcome = try first.run(reporter: SilentReporter()) {
            calls += 1
            return calls > 3  // stop inside the first epoch
        }
        guard case .interrupted(epoch: 1, batch: _) = outcome else { Issue.record("expected a mid-epoch stop, got \(outcome)"); return }
        first.close()
        let resumed = try TrainingSession.resume(folder: parts, catalog: workspace.catalog, epochs: nil, blasThreads: 1)
        #expect(resumed.trainer.progress.batchesDone > 0)
        #expect(try resumed.run(reporter: SilentReporter()) { false } == .finished)
        #expect(try Data(contentsOf: whole.model) == Data(contentsOf: parts.model))
        let metrics = try whole.readMetrics()
        #expect(metrics.count == 2 && metrics[1].extra.keys.sorted() == ["learning_rate", "train_classifier_cross_entropy", "validation_accuracy", "validation_loss", "validation_reconstruction_mse"])
        #expect(try whole.readRecord().classNames == (0...9).map(String.init))
        // The run loads as any run does, for evaluation and every latent tool.
        let loaded = try LoadedModel.load(path: whole.url.path, preset: Preset.named("affine-small")!.configuration)
        #expect(loaded.model is AffineVAE && loaded.configuration.model == Self.configuration.model)
        let explorer = try LatentExplorer(model: loaded.model)
        var generator = RandomGenerator(seed: 1)
        let samples = explorer.priorSampleGrid(count: 4, temperature: 1, columns: 4, scale: 1, using: &generator)
        #expect(samples.width == 4 * 8 + 5 && samples.channels == 1)
    }

    @Test func aMissingRunIsNamedAsMissing() {
        let workspace = Workspace()
        let path = workspace.root.appendingPathComponent("nowhere").path
        #expect(throws: RunError.notFound(path: path, expected: "a training run's folder or a .safetensors model file")) {
            try LoadedModel.load(path: path, preset: Self.configuration)
        }
    }
}
