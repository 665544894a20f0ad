import Datasets
import Foundation
import SafeTensors
import TensorCore
import VAE
import Visualization

/// What a training session tells the person watching it.
public protocol TrainingReporter: AnyObject {
    func started(_ session: TrainingSession)
    func batch(epoch: Int, done: Int, total: Int, runningLoss: Double)
    func epochFinished(_ row: MetricsRow, session: TrainingSession)
}

/// A training run tied to its folder: trains epoch by epoch, and after each epoch evaluates the
/// test set and writes the metrics, the model, the checkpoint and the pictures (atomically), so
/// an interrupted run loses at most the batches since the last write, and `resume` continues
/// with the same numbers.
public final class TrainingSession {
    public let folder: RunFolder
    public let trainer: Trainer
    public let record: RunRecord
    public private(set) var rows: [MetricsRow]
    /// Where a resumed session started (nil for a new one).
    public let resumedFrom: TrainingProgress?

    public enum Outcome: Equatable {
        case finished
        /// Stopped between batches; the checkpoint holds the position.
        case interrupted(epoch: Int, batch: Int)
    }

    init(folder: RunFolder, trainer: Trainer, record: RunRecord, rows: [MetricsRow], resumedFrom: TrainingProgress?) {
        self.folder = folder
        self.trainer = trainer
        self.record = record
        self.rows = rows
        self.resumedFrom = resumedFrom
    }

    /// A new run in `folder` (created; it must not hold a run already).
    public static func start(configuration: TrainingConfiguration, folder: RunFolder, catalog: DatasetCatalog,
                             blasThreads: Int) throws(RunError) -> TrainingSession {
        if let problem = configuration.problems.first { throw .invalidFile(path: "the options", reason: problem) }
        if folder.holdsRun { throw .alreadyARun(path: folder.url.path) }
        let (train, test, dataFolder, checksums) = try loadData(dataset: configuration.dataset, inputSize: configuration.model.inputSize, catalog: catalog)
        try folder.create()
        let record = RunRecord(configuration: configuration, datasetFolder: dataFolder, datasetSHA256: checksums, blasThreads: blasThreads)
        try folder.writeRecord(record)
        let trainer = Trainer(configuration: configuration, train: train, test: test)
        return TrainingSession(folder: folder, trainer: trainer, record: record, rows: [], resumedFrom: nil)
    }

    /// Continues the run in `folder` from its checkpoint; `epochs` may raise the epoch count.
    public static func resume(folder: RunFolder, catalog: DatasetCatalog, epochs: Int?, blasThreads: Int) throws(RunError) -> TrainingSession {
        guard folder.exists else { throw .notARun(path: folder.url.path, reason: "no such folder") }
        var record = try folder.readRecord()
        if let epochs {
            guard epochs > 0 else { throw .invalidFile(path: "the options", reason: "--epochs must be positive, got \(epochs)") }
            record.configuration.epochs = epochs
        }
        guard FileManager.default.fileExists(atPath: folder.checkpoint.path) else {
            throw .notARun(path: folder.url.path, reason: "it has no checkpoint.safetensors to resume from")
        }
        let (train, test, dataFolder, checksums) = try loadData(dataset: record.configuration.dataset, inputSize: record.configuration.model.inputSize, catalog: catalog)
        if checksums != record.datasetSHA256 {
            throw .dataset("the dataset files in \(dataFolder) differ from the ones this run started with (SHA-256 recorded in \(folder.configuration.path)); resuming would not reproduce the run")
        }
        let trainer = Trainer(configuration: record.configuration, train: train, test: test)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: folder.checkpoint) } catch { throw .checkpoint(error.localizedDescription) }
        do {
            try TrainingCheckpoint.restore(trainer, from: file, fileName: folder.checkpoint.path)
        } catch {
            throw .checkpoint(error.localizedDescription)
        }
        let rows = try folder.readMetrics().filter { $0.epoch <= trainer.progress.completedEpochs }
        record.blasThreads = blasThreads
        try folder.writeRecord(record)
        return TrainingSession(folder: folder, trainer: trainer, record: record, rows: rows, resumedFrom: trainer.progress)
    }

    /// Both splits of `dataset`, checked to have `inputSize` pixels per image, with the folder
    /// they came from and the SHA-256 of its files.
    static func loadData(dataset: String, inputSize: Int, catalog: DatasetCatalog) throws(RunError)
        -> (ImageDataset, ImageDataset, String, [String: String]) {
        guard let name = DatasetName(rawValue: dataset) else {
            throw .dataset("unknown dataset '\(dataset)'; known: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let loaded: (ImageDataset, ImageDataset, URL)
        do {
            loaded = (try catalog.load(name, split: .train), try catalog.load(name, split: .test), catalog.locate(name)!)
        } catch {
            throw .dataset(error.localizedDescription)
        }
        let (train, test, folder) = loaded
        guard train.pixelsPerImage == inputSize, test.pixelsPerImage == inputSize else {
            throw .dataset("the model expects \(inputSize) pixels per image, but \(name.rawValue) in \(folder.path) has \(train.rows)x\(train.columns) images (\(train.pixelsPerImage) pixels)")
        }
        do {
            var checksums: [String: String] = [:]
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            where file.hasPrefix("train-") || file.hasPrefix("t10k-") {
                checksums[file] = try SHA256.hex(ofFile: folder.appendingPathComponent(file))
            }
            return (train, test, folder.path, checksums)
        } catch {
            throw .dataset("cannot read the dataset: \(error.localizedDescription)")
        }
    }

    /// Trains until the configured epoch count or until `shouldStop()` returns true between
    /// batches (then the checkpoint records the position and `.interrupted` comes back).
    public func run(reporter: TrainingReporter, shouldStop: () -> Bool) throws(RunError) -> Outcome {
        reporter.started(self)
        while !trainer.isFinished {
            let epoch = trainer.progress.completedEpochs + 1
            let summary: EpochSummary?
            do {
                summary = try trainer.trainEpoch(shouldStop: shouldStop) { done, total, loss in
                    reporter.batch(epoch: epoch, done: done, total: total, runningLoss: loss)
                }
            } catch {
                let kept = FileManager.default.fileExists(atPath: folder.checkpoint.path) ? folder.checkpoint.path : nil
                throw .nonFiniteLoss(error.description, keptCheckpoint: kept)
            }
            guard let summary else {
                try writeCheckpoint()
                return .interrupted(epoch: epoch, batch: trainer.progress.batchesDone)
            }
            let evaluationStarted = Date()
            let test = trainer.evaluateTest(epoch: summary.epoch)
            let row = MetricsRow(
                epoch: summary.epoch, trainLoss: summary.loss, testLoss: test.loss, testLossMean: test.lossMean,
                reconstruction: summary.reconstruction, kl: summary.kl, testReconstruction: test.reconstruction, testKL: test.kl,
                seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond,
                evaluationSeconds: Date().timeIntervalSince(evaluationStarted))
            rows.append(row)
            try writeEpochFiles(epoch: summary.epoch)
            reporter.epochFinished(row, session: self)
        }
        return .finished
    }

    func writeCheckpoint() throws(RunError) {
        do {
            try TrainingCheckpoint.checkpointFile(trainer).write(to: folder.checkpoint)
        } catch {
            throw .cannotWrite(path: folder.checkpoint.path, reason: error.localizedDescription)
        }
    }

    func writeEpochFiles(epoch: Int) throws(RunError) {
        do {
            try MetricsTable.write(rows, to: folder.metrics)
        } catch {
            throw .cannotWrite(path: folder.metrics.path, reason: error.reason)
        }
        do {
            try TrainingCheckpoint.modelFile(trainer.model, extra: ["epoch": String(epoch)]).write(to: folder.model)
        } catch {
            throw .cannotWrite(path: folder.model.path, reason: error.localizedDescription)
        }
        try writeCheckpoint()
        let configuration = trainer.configuration
        do {
            if epoch % configuration.imagesEvery == 0 || epoch == configuration.epochs {
                try reconstructionPicture().writePNG(to: folder.reconstruction(epoch: epoch))
            }
            let curves = learningCurves()
            try curves.write(to: folder.learningCurves)
            try curves.write(to: folder.learningCurvesSVG)
        } catch {
            throw .cannotWrite(path: folder.url.path, reason: error.localizedDescription)
        }
    }

    /// The first 8 test images (top row) above their reconstructions with z = μ (bottom row),
    /// enlarged 2x.
    public func reconstructionPicture(count: Int = 8) -> GreyImage {
        let test = trainer.test
        let shown = min(count, test.count), size = test.pixelsPerImage
        let originals = Array(test.pixels[0..<(shown * size)])
        var noSampling: RandomGenerator? = nil
        let decoded = trainer.model.reconstruct(images: originals, using: &noSampling)
        return ImageGrid.make(images: originals + decoded, imageWidth: test.columns, imageHeight: test.rows,
                              rows: 2, columns: shown, scale: 2)
    }

    /// The learning curves so far (see `LearningCurves`).
    public func learningCurves() -> PlotRow {
        let configuration = trainer.configuration
        return LearningCurves.figure(rows, title: "\(configuration.preset): \(configuration.model.architectureName) on \(configuration.dataset)")
    }
}
