import CZlib
import Datasets
import Foundation
import Persistence
import Runs
import TensorCore
import Testing
import VAE
import VAEModels
import Visualization

/// A temporary folder holding a tiny MNIST-format dataset (8x8 bar images) and room for runs.
final class Workspace {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)")
    var data: URL { root.appendingPathComponent("data") }

    init() {
        try! FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        write(split: "train", count: 200, seed: 1)
        write(split: "t10k", count: 50, seed: 2)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func write(split: String, count: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for _ in 0..<count {
            let label = Int(generator.next() % 4)
            for row in 0..<8 {
                for column in 0..<8 {
                    let on = [row == 2, row == 5, column == 2, column == 5][label]
                    pixels.append(on ? 200 + UInt8(generator.next() % 56) : UInt8(generator.next() % 20))
                }
            }
            labels.append(UInt8(label))
        }
        func word(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
        gzipped(word(0x803) + word(count) + word(8) + word(8) + pixels, "\(split)-images-idx3-ubyte.gz")
        gzipped(word(0x801) + word(count) + labels, "\(split)-labels-idx1-ubyte.gz")
    }

    func gzipped(_ bytes: [UInt8], _ name: String) {
        let handle = gzopen(data.appendingPathComponent(name).path, "wb")!
        _ = bytes.withUnsafeBytes { gzwrite(handle, $0.baseAddress, UInt32($0.count)) }
        gzclose(handle)
    }

    var catalog: DatasetCatalog { DatasetCatalog(dataDirectory: data) }

    func folder(_ name: String) -> RunFolder { RunFolder(root.appendingPathComponent(name)) }

    /// The folder `name` after an uninterrupted run of `configuration(epochs:)`.
    func finishedRun(_ name: String, epochs: Int) throws -> RunFolder {
        let folder = folder(name)
        _ = try TrainingSession.start(configuration: Self.configuration(epochs: epochs), folder: folder, catalog: catalog, blasThreads: 1)
            .run(reporter: SilentReporter()) { false }
        return folder
    }

    /// The folder `name` after a run of `configuration` that stopped when its stop check was asked
    /// for the (`stopAfter` + 1)th time (before every batch and at each epoch's start), closed, and
    /// was resumed to its end; with where the first session stopped.
    func interruptedThenResumed(_ name: String, configuration: TrainingConfiguration, stopAfter calls: Int) throws
        -> (folder: RunFolder, stopped: TrainingSession.Outcome) {
        let folder = folder(name)
        var asked = 0
        let first = try TrainingSession.start(configuration: configuration, folder: folder, catalog: catalog, blasThreads: 1)
        let stopped = try first.run(reporter: SilentReporter()) { asked += 1; return asked > calls }
        first.close()
        _ = try TrainingSession.resume(folder: folder, catalog: catalog, epochs: nil, blasThreads: 1).run(reporter: SilentReporter()) { false }
        return (folder, stopped)
    }

    static func configuration(epochs: Int) -> TrainingConfiguration {
        TrainingConfiguration(preset: "test", model: .mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 2)),
                              learningRate: 3e-3, batchSize: 32, epochs: epochs, seed: 9, imagesEvery: 2, evaluationBatchSize: 20)
    }
}

final class SilentReporter: TrainingReporter {
    var epochs: [Int] = []
    func started(_ session: TrainingSession) {}
    func batch(epoch: Int, done: Int, total: Int, runningLoss: Double) {}
    func epochFinished(_ row: MetricsRow, figures: [(name: String, value: Double)], session: TrainingSession) { epochs.append(row.epoch) }
}

@Suite(.serialized) struct TrainingSessionTests {
    @Test func aRunFolderHoldsConfigurationMetricsModelCheckpointAndPictures() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let folder = workspace.folder("new")
        let session = try TrainingSession.start(configuration: Workspace.configuration(epochs: 3), folder: folder,
                                                catalog: workspace.catalog, blasThreads: 1)
        #expect(try session.run(reporter: SilentReporter()) { false } == .finished)

        let record = try folder.readRecord()
        #expect(record.configuration == Workspace.configuration(epochs: 3))
        #expect(record.datasetSHA256.count == 4)
        #expect(record.datasetSHA256.values.allSatisfy { $0.count == 64 })
        let rows = try folder.readMetrics()
        #expect(rows.map(\.epoch) == [1, 2, 3])
        #expect(rows.allSatisfy { $0.testLoss.isFinite && $0.seconds >= 0 && $0.imagesPerSecond > 0 })
        let metricsText = try String(contentsOf: folder.metrics, encoding: .utf8)
        #expect(metricsText.hasPrefix("epoch,train_loss,test_loss,test_loss_mean,"))

        // Pictures every 2 epochs and after the last: 8 test digits above 8 reconstructions.
        let pictures = try FileManager.default.contentsOfDirectory(atPath: folder.reconstructions.path).sorted()
        #expect(pictures == ["epoch-002.png", "epoch-003.png"])
        let picture = try Picture.read(from: folder.reconstruction(epoch: 3))
        #expect(picture.width == (8 * 8 + 9) * 2 && picture.height == (2 * 8 + 3) * 2)
        #expect(FileManager.default.fileExists(atPath: folder.learningCurves.path))
        #expect(FileManager.default.fileExists(atPath: folder.learningCurvesSVG.path))

        // model.safetensors carries the architecture and evaluates to the last row's z = μ loss.
        let file = try SafeTensorsFileReader.read(folder.model)
        guard let configuration = try #require(try TrainingCheckpoint.modelSpecification(in: file, fileName: folder.model.path)).architecture(as: MLPConfiguration.self) else { Issue.record("expected an MLP"); return }
        var generator = RandomGenerator(seed: 0)
        let model = try MLPVAE(configuration, using: &generator)
        try model.load(file, fileName: folder.model.path)
        let test = session.trainer.test
        var noise = Trainer.evaluationGenerator(seed: 9, epoch: 3)
        let result = model.evaluate(images: test.pixels, targets: test.pixels, batchSize: 20, using: &noise)
        #expect(abs(result.lossMean - rows.last!.testLossMean) < 1e-4)  // the CSV keeps 4 decimals
        #expect(abs(result.loss - rows.last!.testLoss) < 1e-4)
    }

    @Test func aRunWithAWeightAverageSavesTheAverageAsItsModelAndResumesToTheSameFiles() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        var configuration = Workspace.configuration(epochs: 3)
        configuration.weightAverage = 0.95
        let whole = workspace.folder("whole")
        let session = try TrainingSession.start(configuration: configuration, folder: whole, catalog: workspace.catalog, blasThreads: 1)
        _ = try session.run(reporter: SilentReporter()) { false }
        // model.safetensors holds the average (it evaluates to the last row's figures); the
        // checkpoint holds the live weights the optimizer trains, and the average beside them.
        let model = try SafeTensorsFileReader.read(whole.model), checkpoint = try SafeTensorsFileReader.read(whole.checkpoint)
        let names = model.tensors.keys.sorted()
        #expect(names.contains { model.tensors[$0]!.values != checkpoint.tensors[$0]!.values })
        #expect(checkpoint.tensors.keys.contains("weight_average.0"))
        let evaluated = session.trainer.withAveragedWeights { session.trainer.model.parameters.map(\.scalars) }
        let reloaded = try Trainer(configuration: configuration, train: session.trainer.train, test: session.trainer.test)
        try reloaded.model.load(model, fileName: "model")
        #expect(reloaded.model.parameters.map(\.scalars) == evaluated)
        var noise = Trainer.evaluationGenerator(seed: configuration.seed, epoch: 3)
        let result = reloaded.model.evaluate(images: session.trainer.test.pixels, targets: session.trainer.test.pixels, batchSize: 20, using: &noise)
        #expect(abs(result.loss - (try whole.readMetrics()).last!.testLoss) < 1e-4)

        let (parted, stopped) = try workspace.interruptedThenResumed("parted", configuration: configuration, stopAfter: 11)
        #expect(stopped == .interrupted(epoch: 2, batch: 2))
        let (partedRows, wholeRows) = (try parted.readMetrics(), try whole.readMetrics())
        #expect(partedRows.map(\.trainLoss) == wholeRows.map(\.trainLoss))
        #expect(partedRows.map(\.testLoss) == wholeRows.map(\.testLoss))
        #expect(try Data(contentsOf: parted.model) == Data(contentsOf: whole.model))
    }

    @Test func startingInAFolderThatHoldsARunChangesNothing() throws {
        let workspace = Workspace()
        let folder = workspace.folder("taken")
        let first = try TrainingSession.start(configuration: Workspace.configuration(epochs: 1), folder: folder, catalog: workspace.catalog, blasThreads: 1)
        let before = try Data(contentsOf: folder.configuration)
        // While the first session holds the folder, a second writer is told who has it.
        #expect(throws: RunError.inUse(path: folder.url.path, process: getpid())) {
            try TrainingSession.start(configuration: Workspace.configuration(epochs: 2), folder: folder, catalog: workspace.catalog, blasThreads: 1)
        }
        #expect(throws: RunError.inUse(path: folder.url.path, process: getpid())) {
            try TrainingSession.resume(folder: folder, catalog: workspace.catalog, epochs: nil, blasThreads: 1)
        }
        // Stopped before its first checkpoint, it is restartable (by resume), not overwritten.
        first.close()
        #expect(throws: RunError.restartable(path: folder.url.path)) {
            try TrainingSession.start(configuration: Workspace.configuration(epochs: 2), folder: folder, catalog: workspace.catalog, blasThreads: 1)
        }
        #expect(try Data(contentsOf: folder.configuration) == before)
        _ = try TrainingSession.resume(folder: folder, catalog: workspace.catalog, epochs: nil, blasThreads: 1).run(reporter: SilentReporter()) { false }
        #expect(throws: RunError.alreadyARun(path: folder.url.path)) {
            try TrainingSession.start(configuration: Workspace.configuration(epochs: 2), folder: folder, catalog: workspace.catalog, blasThreads: 1)
        }
    }

    @Test func anInterruptedRunResumesToTheSameNumbers() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let whole = try workspace.finishedRun("whole", epochs: 3)

        let parted = workspace.folder("parted")
        var batches = 0
        let first = try TrainingSession.start(configuration: Workspace.configuration(epochs: 3), folder: parted, catalog: workspace.catalog, blasThreads: 1)
        let outcome = try first.run(reporter: SilentReporter()) {
            batches += 1
            // Asked before every batch and at each epoch boundary: 8 calls for epoch 1 (7 batches),
            // then the boundary and 3 batches of epoch 2; the 13th call stops.
            return batches > 12
        }
        #expect(outcome == .interrupted(epoch: 2, batch: 3))
        first.close()
        #expect(try parted.readMetrics().count == 1)

        let reporter = SilentReporter()
        let second = try TrainingSession.resume(folder: parted, catalog: workspace.catalog, epochs: nil, blasThreads: 1)
        #expect(second.resumedFrom?.completedEpochs == 1 && second.resumedFrom?.batchesDone == 3)
        #expect(try second.run(reporter: reporter) { false } == .finished)
        #expect(reporter.epochs == [2, 3])

        let expected = try whole.readMetrics(), found = try parted.readMetrics()
        #expect(found.map(\.trainLoss) == expected.map(\.trainLoss))
        #expect(found.map(\.testLoss) == expected.map(\.testLoss))
        #expect(found.map(\.testLossMean) == expected.map(\.testLossMean))
        #expect(try Data(contentsOf: parted.model) == Data(contentsOf: whole.model))
    }

    @Test func metricsNeverRunAheadOfTheModelAndCheckpointAndAreRestoredFromIt() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let whole = try workspace.finishedRun("whole", epochs: 2)
        // metrics.csv cannot be written (a folder stands in its place, as a full disk would refuse it).
        let failing = workspace.folder("failing")
        let session = try TrainingSession.start(configuration: Workspace.configuration(epochs: 2), folder: failing, catalog: workspace.catalog, blasThreads: 1)
        try FileManager.default.createDirectory(at: failing.metrics, withIntermediateDirectories: false)
        #expect(throws: RunError.self) { try session.run(reporter: SilentReporter()) { false } }
        session.close()
        // The model and the checkpoint of epoch 1 were committed before the metrics' write.
        #expect(FileManager.default.fileExists(atPath: failing.model.path) && FileManager.default.fileExists(atPath: failing.checkpoint.path))
        try FileManager.default.removeItem(at: failing.metrics)
        let resumed = try TrainingSession.resume(folder: failing, catalog: workspace.catalog, epochs: nil, blasThreads: 1)
        #expect(resumed.resumedFrom?.completedEpochs == 1)
        #expect(resumed.notes.contains { $0.contains("restored from the checkpoint") }, "\(resumed.notes)")
        #expect(try resumed.run(reporter: SilentReporter()) { false } == .finished)
        #expect(try failing.readMetrics().map(\.testLoss) == whole.readMetrics().map(\.testLoss))
        #expect(try failing.readMetrics().map(\.trainLoss) == whole.readMetrics().map(\.trainLoss))
    }

    @Test func aConditionalModelOnAFolderWithAnEmptyClassIsRefusedNamingTheClass() throws {
        let workspace = Workspace()
        let images = workspace.root.appendingPathComponent("images")
        for (name, count) in [("circles", 6), ("squares", 0), ("stars", 6)] {
            let folder = images.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for index in 0..<count {
                try Picture(width: 8, height: 8, pixels: (0..<64).map { UInt8(($0 * 5 + index * 40) % 256) }).writePNG(to: folder.appendingPathComponent("\(index).png"))
            }
        }
        var configuration = Workspace.configuration(epochs: 1)
        configuration.dataset = "folder"
        configuration.imageFolder = ImageFolderOptions(path: images.path, testShare: 0.25)
        configuration.model = try configuration.model.conditioned(on: 2)
        #expect { try TrainingSession.start(configuration: configuration, folder: workspace.folder("c"), catalog: workspace.catalog, blasThreads: 1) } throws: { error in
            error.localizedDescription.contains("class 'squares' has no training images")
        }
        #expect(!workspace.folder("c").exists)
    }

    @Test func aPictureImportedForAFolderModelGoesThroughTheFoldersOwnTransform() throws {
        let workspace = Workspace()
        let images = workspace.root.appendingPathComponent("pictures")
        var files: [URL] = []
        for (split, count) in [("train", 6), ("test", 2)] {
            let folder = images.appendingPathComponent(split)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for index in 0..<count {
                let url = folder.appendingPathComponent("\(index).png")
                try Picture(width: 12, height: 9, channels: 3, pixels: (0..<324).map { UInt8(($0 * 11 + index * 29) % 256) }).writePNG(to: url)
                files.append(url)
            }
        }
        var configuration = Workspace.configuration(epochs: 1)
        configuration.dataset = "folder"
        configuration.imageFolder = ImageFolderOptions(path: images.path, height: 4, width: 4, centreCrop: true, quantize: true)
        let run = workspace.folder("folder-run")
        _ = try TrainingSession.start(configuration: configuration, folder: run, catalog: workspace.catalog, blasThreads: 1)
            .run(reporter: SilentReporter()) { false }
        let loaded = try LoadedModel.load(path: run.url.path, preset: configuration)
        let test = try loaded.images(.test, catalog: workspace.catalog)
        #expect(test.shape == ImageShape(channels: 3, height: 4, width: 4))
        // vae encode --image and the explorer's upload: the same values the folder gave.
        let imported = try loaded.importPicture(Data(contentsOf: files[6]), path: files[6].path)
        #expect(imported.values == Array(test.image(0)) && imported.shape == test.shape)
        #expect(imported.description.contains("centre crop, resize to 4x4 (area), colour, 8-bit levels"), "\(imported.description)")
    }

    @Test func resumingSomethingThatIsNotARunSaysWhy() throws {
        let workspace = Workspace()
        #expect(throws: RunError.notARun(path: workspace.folder("missing").url.path, reason: "no such folder")) {
            try TrainingSession.resume(folder: workspace.folder("missing"), catalog: workspace.catalog, epochs: nil, blasThreads: 1)
        }
        try FileManager.default.createDirectory(at: workspace.folder("empty").url, withIntermediateDirectories: true)
        #expect(throws: RunError.notARun(path: workspace.folder("empty").url.path, reason: "it is empty; start a new run there instead")) {
            try TrainingSession.resume(folder: workspace.folder("empty"), catalog: workspace.catalog, epochs: nil, blasThreads: 1)
        }
    }

    @Test func anMLPPresetTakesTheDatasetsImageShape() throws {
        let workspace = Workspace()
        var configuration = Workspace.configuration(epochs: 1)
        configuration.model = configuration.model.fitted(to: .mnist)  // a 784-input preset; the workspace's images are 8x8
        let session = try TrainingSession.start(configuration: configuration, folder: workspace.folder("f"), catalog: workspace.catalog, blasThreads: 1)
        #expect(session.trainer.model.imageShape == .grey(height: 8, width: 8))
        #expect(try workspace.folder("f").readRecord().configuration.model.imageShape == .grey(height: 8, width: 8))
    }

    @Test func anUnknownDatasetIsRejectedBeforeAnythingIsWritten() throws {
        let workspace = Workspace()
        var configuration = Workspace.configuration(epochs: 1)
        configuration.dataset = "cifar-11"
        do {
            _ = try TrainingSession.start(configuration: configuration, folder: workspace.folder("f"), catalog: workspace.catalog, blasThreads: 1)
            Issue.record("expected an error")
        } catch {
            #expect(error.localizedDescription.contains("unknown dataset 'cifar-11'"))
            #expect(!workspace.folder("f").exists)
        }
    }

    @Test func metricsTableRoundTrips() throws {
        let rows = [MetricsRow(epoch: 1, trainLoss: 163.1894, testLoss: 127.2893, testLossMean: 118.8929, reconstruction: 147.081,
                               kl: 16.1083, testReconstruction: 105.7868, testKL: 21.5026, seconds: 1.454, imagesPerSecond: 41252,
                               evaluationSeconds: 0.133)]
        #expect(try MetricsTable.decode(MetricsTable.encode(rows)) == rows)
        // A model's own columns follow the usual ones, in name order, and read back.
        var extended = rows
        extended[0].extra = ["validation_accuracy": 0.9125, "train_classifier_cross_entropy": 0.5571]
        let text = MetricsTable.encode(extended)
        #expect(text.hasPrefix(MetricsRow.header + ",train_classifier_cross_entropy,validation_accuracy\n"))
        #expect(try MetricsTable.decode(text) == extended)
        // An editor's CRLF line ends read the same.
        #expect(try MetricsTable.decode(text.replacingOccurrences(of: "\n", with: "\r\n")) == extended)
        // Anything else names the line and what is wrong with it.
        #expect(throws: MetricsTableError(line: 2, reason: "expected 12 comma-separated fields, found 2")) {
            try MetricsTable.decode(MetricsRow.header + ",extra\n1,2\n")
        }
        #expect(throws: MetricsTableError.self) { try MetricsTable.decode("epoch,loss\n1,2\n") }
        let damaged = MetricsTable.encode(extended + [extended[0]]).replacingOccurrences(of: "\n1,", with: "\n1,x")
        #expect(throws: MetricsTableError(line: 2, reason: "field 2 ('x163.1894') is not a number")) { try MetricsTable.decode(damaged) }
        var third = extended[0]
        third.epoch = 3
        #expect(throws: MetricsTableError(line: 3, reason: "expected epoch 2 in the first field, found '3'")) {
            try MetricsTable.decode(MetricsTable.encode(extended + [third]))
        }
    }
}

import SafeTensors
enum SafeTensorsFileReader {
    static func read(_ url: URL) throws -> SafeTensorsFile { try SafeTensorsFile.read(from: url) }
}

/// The run folder's lock against the processes this one starts (the MPI ranks, the tests'
/// tools): a child forked while the lock is held shares its open file description until it
/// runs `exec`.
@Suite struct FolderLockTests {
    @Test func aReleasedLockIsFreeWhileAChildForkedMeanwhileStillRuns() throws {
        let folder = Workspace().folder("forked").url
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lock = try FolderLock(folder)
        let child = fork()
        if child == 0 {
            usleep(2_000_000)  // holds a copy of the lock's descriptor without running exec
            _exit(0)
        }
        #expect(child > 0)
        lock.release()
        #expect(FolderLock.holder(of: folder) == nil)
        #expect(throws: Never.self) { _ = try FolderLock(folder) }
        kill(child, SIGKILL)
        var status: Int32 = 0
        waitpid(child, &status, 0)
    }
}

