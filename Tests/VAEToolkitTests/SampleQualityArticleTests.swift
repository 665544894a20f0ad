import Foundation
import Testing
import VAEToolkit

/// The code of the DocC article "Measuring sample quality", run as written on a small model
/// trained here (one epoch) and with fewer samples.
@Suite struct SampleQualityArticleTests {
    @Test func theArticlesScoringCodeRuns() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("article-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try DatasetCatalog().loadSplits(.mnist)
        var configuration = Preset.named("pytorch-example")!.configuration
        configuration.epochs = 1
        configuration.model = .mlp(MLPConfiguration(inputSize: 784, hiddenSizes: [32], latentSize: 4))
        let trainer = try Trainer(configuration: configuration, train: data.train.prefix(5000), test: data.test)
        _ = try trainer.trainFullEpoch()
        try TrainingCheckpoint.modelFile(trainer.model).write(to: folder.appendingPathComponent("model.safetensors"))

        // The article's code, from here on (with the model file and 1,000 samples).
        let loaded = try LoadedModel.load(path: folder.appendingPathComponent("model.safetensors").path,
                                          preset: Preset.named("pytorch-example")!.configuration)
        let catalog = DatasetCatalog()
        let train = try loaded.images(.train, catalog: catalog)
        let test = try loaded.imagesAndFolder(.test, catalog: catalog, binarised: false).images
        let codes = loaded.model.encode(images: train.pixels)
        let mixture = GaussianMixture.fit(rows: codes.means, dimension: codes.size, components: 10, seed: 1)
        var generator = RandomGenerator(seed: 1)
        let images = loaded.model.decode(latents: mixture.latents(count: 1000, temperature: 1, using: &generator))
        let network = try #require(try FeatureNetwork.loadShipped(forDataset: "mnist"))
        let quality = SampleQuality(real: network.featuresAndPredictions(images: test.pixels).features,
                                    generated: network.featuresAndPredictions(images: images).features,
                                    dimension: network.featureSize, using: &generator)
        #expect(quality.frechetDistance > 0 && quality.precisionRecall.precision > 0 && quality.generatedCount == 1000)
    }
}
