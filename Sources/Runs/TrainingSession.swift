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
    /// `figures`: the model's own figures on the validation images (design B's accuracy), if any.
    func epochFinished(_ row: MetricsRow, figures: [(name: String, value: Double)], session: TrainingSession)
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
    /// How the dataset was read (files, decoding speed or cache), for the console.
    public let datasetReport: String

    public enum Outcome: Equatable {
        case finished
        /// Stopped between batches; the checkpoint holds the position.
        case interrupted(epoch: Int, batch: Int)
    }

    init(folder: RunFolder, trainer: Trainer, record: RunRecord, rows: [MetricsRow], resumedFrom: TrainingProgress?, datasetReport: String) {
        self.datasetReport = datasetReport
        self.folder = folder
        self.trainer = trainer
        self.record = record
        self.rows = rows
        self.resumedFrom = resumedFrom
    }

    /// A new run in `folder` (created; it must not hold a run already). The model is fitted to
    /// the dataset's image shape (an MLP takes any C x H x W; design B any grey H x W).
    public static func start(configuration given: TrainingConfiguration, folder: RunFolder, catalog: DatasetCatalog,
                             blasThreads: Int) throws(RunError) -> TrainingSession {
        if let problem = given.problems.first { throw .invalidConfiguration(problem) }
        if folder.holdsRun { throw .alreadyARun(path: folder.url.path) }
        let data = try loadData(given, catalog: catalog)
        var configuration = given
        configuration.model = given.model.fitted(to: data.train.shape)
        guard configuration.model.imageShape == data.train.shape else {
            throw .dataset("the \(configuration.model.kind) model draws \(configuration.model.imageShape.channels == 1 ? "grey" : "colour") images, but the dataset in \(data.folder) has \(data.train.shape) images; read it in grey")
        }
        if let problem = configuration.problems.first { throw .invalidConfiguration(problem) }
        try folder.create()
        let record = RunRecord(configuration: configuration, datasetFolder: data.folder, datasetSHA256: data.checksums, blasThreads: blasThreads,
                               classNames: data.train.classNames)
        try folder.writeRecord(record)
        let trainer = Trainer(configuration: configuration, train: data.train, test: data.test)
        return TrainingSession(folder: folder, trainer: trainer, record: record, rows: [], resumedFrom: nil, datasetReport: data.report)
    }

    /// Continues the run in `folder` from its checkpoint; `epochs` may raise the epoch count.
    public static func resume(folder: RunFolder, catalog: DatasetCatalog, epochs: Int?, blasThreads: Int) throws(RunError) -> TrainingSession {
        guard folder.exists else { throw .notARun(path: folder.url.path, reason: "no such folder") }
        var record = try folder.readRecord()
        if let epochs {
            guard epochs > 0 else { throw .invalidConfiguration("the epoch count must be positive, got \(epochs)") }
            record.configuration.epochs = epochs
        }
        guard FileManager.default.fileExists(atPath: folder.checkpoint.path) else {
            throw .notARun(path: folder.url.path, reason: "it has no checkpoint.safetensors to resume from")
        }
        let data = try loadData(record.configuration, catalog: catalog)
        if data.checksums != record.datasetSHA256 {
            throw .dataset("the dataset files in \(data.folder) differ from the ones this run started with (SHA-256 recorded in \(folder.configuration.path)); resuming would not reproduce the run")
        }
        guard data.train.shape == record.configuration.model.imageShape else {
            throw .dataset("the run's model takes \(record.configuration.model.imageShape) images, the dataset in \(data.folder) has \(data.train.shape)")
        }
        let trainer = Trainer(configuration: record.configuration, train: data.train, test: data.test)
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
        return TrainingSession(folder: folder, trainer: trainer, record: record, rows: rows, resumedFrom: trainer.progress, datasetReport: data.report)
    }

    /// Both splits of the configuration's dataset (a named one or an image folder), with the
    /// folder they came from and the SHA-256 of its files.
    static func loadData(_ configuration: TrainingConfiguration, catalog: DatasetCatalog) throws(RunError) -> LoadedDataset {
        do { return try catalog.loadSplits(dataset: configuration.dataset, folder: configuration.imageFolder) } catch {
            throw .dataset(error.localizedDescription)
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
            var row = MetricsRow(
                epoch: summary.epoch, trainLoss: summary.loss, testLoss: test.loss, testLossMean: test.lossMean,
                reconstruction: summary.reconstruction, kl: summary.kl, testReconstruction: test.reconstruction, testKL: test.kl,
                seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond,
                evaluationSeconds: Date().timeIntervalSince(evaluationStarted))
            let figures = trainer.validation.map { trainer.model.figures(on: $0) } ?? []
            for (name, value) in summary.extraTerms { row.extra["train_" + MetricsRow.columnName(name)] = value }
            for figure in figures { row.extra["validation_" + MetricsRow.columnName(figure.name)] = figure.value }
            rows.append(row)
            try writeEpochFiles(epoch: summary.epoch)
            reporter.epochFinished(row, figures: figures, session: self)
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
    /// enlarged 2x, grey or colour as the images are.
    public func reconstructionPicture(count: Int = 8) -> Picture {
        let test = trainer.test.prefix(count)
        var noSampling: RandomGenerator? = nil
        let decoded = trainer.model.reconstruct(images: test.pixels, labels: test.labels, using: &noSampling)
        return ImageGrid.make(images: test.pixels + decoded, shape: test.shape, rows: 2, columns: test.count, scale: 2)
    }

    /// The learning curves so far (see `LearningCurves`).
    public func learningCurves() -> PlotRow {
        let configuration = trainer.configuration
        let dataset = configuration.imageFolder.map { URL(fileURLWithPath: $0.path).lastPathComponent } ?? configuration.dataset
        return LearningCurves.figure(rows, title: "\(configuration.preset): \(configuration.model.architectureName) on \(dataset)")
    }
}
