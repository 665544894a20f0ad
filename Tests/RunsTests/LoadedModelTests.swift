import Datasets
import Foundation
import Runs
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels

@Suite(.serialized) struct LoadedModelTests {
    /// A workspace holding one finished 1-epoch run.
    static func trainedRun() throws -> (Workspace, RunFolder) {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let folder = workspace.folder("run")
        let session = try TrainingSession.start(configuration: Workspace.configuration(epochs: 1), folder: folder,
                                                catalog: workspace.catalog, blasThreads: 1)
        _ = try session.run(reporter: SilentReporter()) { false }
        return (workspace, folder)
    }

    @Test func aRunFolderLoadsWithItsConfigurationDataAndOutputPlace() throws {
        let (workspace, folder) = try Self.trainedRun()
        let loaded = try LoadedModel.load(path: folder.url.path, preset: Preset.all[0].configuration)
        #expect(loaded.configuration == Workspace.configuration(epochs: 1))
        #expect(loaded.epoch == 1 && loaded.model.imageShape == .grey(height: 8, width: 8))
        #expect(loaded.defaultOutput("samples.png") == folder.url.appendingPathComponent("samples.png"))
        let test = try loaded.images(.test, catalog: workspace.catalog)
        #expect(test.count == 50 && test.valuesPerImage == 64)

        // The model file alone loads too, and puts pictures beside itself.
        let bare = try LoadedModel.load(path: folder.model.path, preset: Preset.all[0].configuration)
        #expect(bare.configuration.model == loaded.configuration.model)
        #expect(bare.defaultOutput("samples.png").lastPathComponent == "model-samples.png")
    }

    @Test func aModelFileWhoseArchitectureIsImpossibleIsRefusedNamingIt() throws {
        let (workspace, folder) = try Self.trainedRun()
        _ = workspace
        var file = try SafeTensorsFile.read(from: folder.model)
        let bare = folder.url.appendingPathComponent("edited.safetensors")
        // Metadata claiming a latent size of 0 (the tensors are left as they are).
        file.metadata["model_specification"] = file.metadata["model_specification"]!.replacingOccurrences(of: #""latentSize":[0-9]+"#, with: #""latentSize":0"#, options: .regularExpression)
        file.metadata["model_configuration"] = nil
        try file.write(to: bare)
        #expect { try LoadedModel.load(path: bare.path, preset: Preset.all[0].configuration) } throws: { error in
            "\(error.localizedDescription)".contains("model_specification: the latent size must be positive, got 0")
        }
        // PyTorch's names with shapes that give no hidden units.
        let empty = SafeTensorsFile(tensors: ["fc1.weight": .init(shape: [0, 784], values: []), "fc21.weight": .init(shape: [2, 0], values: [])])
        try empty.write(to: bare)
        #expect { try LoadedModel.load(path: bare.path, preset: Preset.all[0].configuration) } throws: { error in
            "\(error.localizedDescription)".contains("the hidden sizes must all be positive, got [0]")
        }
        // A recorded architecture too large for memory is refused before anything is allocated.
        file = try SafeTensorsFile.read(from: folder.model)
        file.metadata["model_configuration"] = nil
        file.metadata["model_specification"] = file.metadata["model_specification"]!.replacingOccurrences(of: "\"hiddenSizes\":[", with: "\"hiddenSizes\":[900000000,")
        try file.write(to: bare)
        #expect { try LoadedModel.load(path: bare.path, preset: Preset.all[0].configuration) } throws: { error in
            "\(error.localizedDescription)".contains("GB of memory to train")
        }
    }

    @Test func aMissingPathIsNamed() {
        #expect(throws: RunError.notFound(path: "/nonexistent/run", expected: "a training run's folder or a .safetensors model file")) {
            try LoadedModel.load(path: "/nonexistent/run", preset: Preset.all[0].configuration)
        }
    }

    @Test func aModelThatDoesNotFitTheRecordedArchitectureIsRejectedNamingTheTensor() throws {
        let (workspace, folder) = try Self.trainedRun()
        defer { withExtendedLifetime(workspace) {} }
        var record = try folder.readRecord()
        guard var model = record.configuration.model.architecture(as: MLPConfiguration.self) else { Issue.record("expected an MLP run"); return }
        model.latentSize = 3
        record.configuration.model = .mlp(model)
        try folder.writeRecord(record)
        do {
            _ = try LoadedModel.load(path: folder.url.path, preset: Preset.all[0].configuration)
            Issue.record("a 2-d model loaded as a 3-d one")
        } catch {
            let message = error.localizedDescription
            #expect(message.contains(folder.model.path) && message.contains("does not fit the 64-16-3 architecture"))
            #expect(message.contains("fc21.weight") && message.contains("[3, 16]") && message.contains("[2, 16]"))
        }
    }

    @Test func aFileThatIsNotAModelIsRejectedNamingIt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("hello".utf8).write(to: url)
        do {
            _ = try LoadedModel.load(path: url.path, preset: Preset.all[0].configuration)
            Issue.record("a text file loaded as a model")
        } catch {
            #expect(error.localizedDescription.contains(url.path))
        }
    }

    @Test func aDatasetOfAnotherImageSizeIsRefused() throws {
        let (workspace, folder) = try Self.trainedRun()
        var record = try folder.readRecord()
        let architecture = MLPConfiguration(inputSize: 784, hiddenSizes: [16], latentSize: 2)
        record.configuration.model = .mlp(architecture)
        // A 784-input model (written here) against the workspace's 8x8 images.
        var generator = RandomGenerator(seed: 1)
        let model = try MLPVAE(architecture, using: &generator)
        try TrainingCheckpoint.modelFile(model).write(to: folder.model)
        try folder.writeRecord(record)
        let loaded = try LoadedModel.load(path: folder.url.path, preset: Preset.all[0].configuration)
        do {
            _ = try loaded.images(.test, catalog: workspace.catalog)
            Issue.record("8x8 images were accepted by a 784-input model")
        } catch {
            #expect(error.localizedDescription.contains("takes 1x28x28 images") && error.localizedDescription.contains("has 1x8x8"))
        }
    }
}
