import Foundation
import Runs
import SafeTensors
import TensorCore
import Testing
import VAE

@Suite(.serialized) struct AffineSessionTests {
    static let configuration = AffineTrainingConfiguration(
        preset: "test", model: AffineModelConfiguration(imageWidth: 8, imageHeight: 8, encoderHiddenSizes: [16], contentSize: 3,
                                                        decoderHiddenSize: 8, classifierHiddenSize: 8, classes: 4),
        learningRate: 3e-3, batchSize: 32, epochs: 2, seed: 4, validationFraction: 0.1, klWeight: 0.01)

    @Test func aResumedRunEndsWithTheSameModelAsAnUninterruptedOne() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let whole = workspace.folder("whole"), parts = workspace.folder("parts")
        let session = try AffineSession.start(configuration: Self.configuration, folder: whole, catalog: workspace.catalog, blasThreads: 1)
        #expect(try session.run(shouldStop: { false }, onBatch: { _, _, _, _ in }, onEpoch: { _, _ in }))
        var first = Self.configuration
        first.epochs = 1
        let start = try AffineSession.start(configuration: first, folder: parts, catalog: workspace.catalog, blasThreads: 1)
        #expect(try start.run(shouldStop: { false }, onBatch: { _, _, _, _ in }, onEpoch: { _, _ in }))
        let resumed = try AffineSession.resume(folder: parts, catalog: workspace.catalog, epochs: 2)
        #expect(resumed.trainer.completedEpochs == 1)
        #expect(try resumed.run(shouldStop: { false }, onBatch: { _, _, _, _ in }, onEpoch: { _, _ in }))
        let (a, b) = (try SafeTensorsFile.read(from: whole.model), try SafeTensorsFile.read(from: parts.model))
        #expect(a.metadata == b.metadata)
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted())
        for key in a.tensors.keys { #expect(a.tensors[key]!.values == b.tensors[key]!.values, "\(key)") }
        #expect(try Data(contentsOf: whole.model) == Data(contentsOf: parts.model))
        #expect(try String(contentsOf: parts.metrics, encoding: .utf8).split(separator: "\n").count == 3)
        let loaded = try LoadedAffineModel.load(path: whole.url.path)
        #expect(loaded.model.configuration == Self.configuration.model)
        // A run of the other kind is named as such.
        #expect(throws: RunError.self) { try LoadedAffineModel.load(path: workspace.root.appendingPathComponent("nowhere").path) }
    }
}
