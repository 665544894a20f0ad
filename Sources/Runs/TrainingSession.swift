import Datasets
import Foundation
import Persistence
import SafeTensors
import TensorCore
import VAE
import VAEModels
import Visualization

/// What a training session tells the person watching it.
public protocol TrainingReporter: AnyObject {
    /// The session is about to train its first batch (fresh or resumed).
    func started(_ session: TrainingSession)
    /// A batch finished: `done` of `total` batches of `epoch` (from 1), with the epoch's mean
    /// loss per image so far.
    func batch(epoch: Int, done: Int, total: Int, runningLoss: Double)
    /// An epoch finished, was evaluated and written: its line of `metrics.csv`.
    /// `figures`: the model's own figures on the validation images (the affine kind's classifier accuracy), if any.
    func epochFinished(_ row: MetricsRow, figures: [(name: String, value: Double)], session: TrainingSession)
}

/// A training run tied to its folder: trains epoch by epoch, and after each epoch evaluates the
/// test set and writes the metrics, the model, the checkpoint and the pictures (atomically), so
/// an interrupted run loses at most the batches since the last write, and `resume` continues
/// with the same numbers.
public final class TrainingSession {
    /// The run folder written.
    public let folder: RunFolder
    /// The trainer, holding the model, the optimizer and the progress.
    public let trainer: Trainer
    /// What `config.json` records.
    public let record: RunRecord
    /// The finished epochs' figures, as `metrics.csv` holds them.
    public private(set) var rows: [MetricsRow]
    /// Where a resumed session started (nil for a new one).
    public let resumedFrom: TrainingProgress?
    /// How the dataset was read (files, decoding speed or cache), for the console.
    public let datasetReport: String
    /// What was done to the folder before training (a restart, leftovers removed), for the console.
    public let notes: [String]
    /// This process's hold on the folder: one writer per run folder (nil in a process of a
    /// group other than rank 0, which writes nothing).
    private let lock: FolderLock?
    /// The processes training together (see `ProcessGroup`); nil for one process.
    public let processGroup: (any ProcessGroup)?
    /// Whether this process writes the run folder: rank 0 of a group, or the only process.
    public var isWriter: Bool { (processGroup?.rank ?? 0) == 0 }
    /// Draws the samples picture logged to TensorBoard beside the reconstructions (nil: none),
    /// given the model; the command sets it (prior samples need the latent tools).
    public var samplePicture: ((any VariationalModel) -> Picture?)?
    /// About how many points of each per-step figure the TensorBoard log gets over the run
    /// (see ``RunEventLog/stepInterval(totalSteps:points:)``).
    public var stepLogPoints = RunEventLog.stepPoints

    /// How `run` ended.
    public enum Outcome: Equatable {
        case finished
        /// Early stopping ended the run after `epoch`: no lower validation loss for the patience's
        /// epochs; the best model (of `bestEpoch`) is in `best.safetensors`.
        case stoppedEarly(epoch: Int, bestEpoch: Int)
        /// Stopped between batches; the checkpoint holds the position.
        case interrupted(epoch: Int, batch: Int)
    }

    init(folder: RunFolder, lock: FolderLock?, trainer: Trainer, record: RunRecord, rows: [MetricsRow], resumedFrom: TrainingProgress?,
         datasetReport: String, notes: [String]) {
        self.lock = lock
        self.processGroup = trainer.processGroup
        self.notes = notes
        self.datasetReport = datasetReport
        self.folder = folder
        self.trainer = trainer
        self.record = record
        self.rows = rows
        self.resumedFrom = resumedFrom
    }

    /// A new run in `folder` (created; it must be absent or empty). The model is fitted to the
    /// dataset's image shape (an MLP takes any C x H x W; the affine kind any grey H x W). The session
    /// holds the folder's lock until it goes away; a second writer gets `.inUse`.
    ///
    /// With a `processGroup`, this is rank 0's call; the other ranks call `joinGroup`.
    public static func start(configuration given: TrainingConfiguration, folder: RunFolder, catalog: DatasetCatalog,
                             blasThreads: Int, processGroup: (any ProcessGroup)? = nil) throws(RunError) -> TrainingSession {
        if let problem = given.problemsBeforeFitting.first { throw .invalidConfiguration(problem) }
        switch try folder.state() {
        case .absent, .empty: break
        case .resumable: throw .alreadyARun(path: folder.url.path)
        case .restartable: throw .restartable(path: folder.url.path)
        case let .foreign(example): throw .notEmpty(path: folder.url.path, example: example)
        }
        let data = try loadData(given, catalog: catalog)
        var configuration = given
        configuration.model = given.model.fitted(to: data.train.shape)
        if configuration.model.conditionClasses != nil {  // a conditional model takes the dataset's classes
            guard data.train.isLabelled && data.train.classCount >= 2 else {
                throw .dataset("a conditional model needs labels: the training images in \(data.folder) have \(data.train.isLabelled ? "one class" : "no labels") (an image folder is labelled by its subfolders)")
            }
            var counts = [Int](repeating: 0, count: data.train.classCount)
            for label in data.train.labels { counts[label] += 1 }
            if let empty = counts.firstIndex(of: 0) {
                let name = data.train.classNames.indices.contains(empty) ? data.train.classNames[empty] : "\(empty)"
                throw .dataset("a conditional model learns every class from its images, but class '\(name)' has no training images in \(data.folder) (an empty class folder?); fill it or remove it")
            }
            do { configuration.model = try configuration.model.conditioned(on: data.train.classCount) } catch {
                throw .invalidConfiguration(error)
            }
        }
        guard configuration.model.imageShape == data.train.shape else {
            throw .dataset("the \(configuration.model.kind) model draws \(configuration.model.imageShape.channels == 1 ? "grey" : "colour") images, but the dataset in \(data.folder) has \(data.train.shape) images; read it in grey")
        }
        if let problem = configuration.problems.first { throw .invalidConfiguration(problem) }
        try checkSplits(configuration, data: data)
        var record = RunRecord(configuration: configuration, datasetFolder: data.folder, datasetSHA256: data.checksums, blasThreads: blasThreads,
                               classNames: data.train.classNames)
        let trainer = try makeTrainer(record.configuration, data: data, processGroup: processGroup)
        try loadInitialWeights(into: trainer)
        record.klEstimators = Dictionary(uniqueKeysWithValues: trainer.model.klEstimators(on: data.test).map { ($0.group, $0.estimator.rawValue) })
        let lock = try folder.lock()
        // Checked again under the lock: another process may have started a run here meanwhile.
        switch try folder.state(holdingLock: true) {
        case .absent, .empty: break
        case .resumable, .restartable: throw .alreadyARun(path: folder.url.path)
        case let .foreign(example): throw .notEmpty(path: folder.url.path, example: example)
        }
        let removed = removeTemporaryFiles(in: folder.url)
        // The record first: a process killed between the two leaves a run that restarts, not a
        // folder holding only an empty reconstructions/ that a restart would refuse as foreign.
        try folder.writeRecord(record)
        try folder.create()
        try shareState(record: record, trainer: trainer)
        return TrainingSession(folder: folder, lock: lock, trainer: trainer, record: record, rows: [], resumedFrom: nil, datasetReport: data.report,
                               notes: removed.isEmpty ? [] : ["removed \(removed.count) temporary file(s) a killed writer left"])
    }

    /// Rank 0's half of a group's start: the record (configuration, dataset checksums) and the
    /// trainer's whole state (model, optimizer, progress: a checkpoint's bytes) go to every other
    /// rank, so that all begin from the same point whatever their folders hold.
    static func shareState(record: RunRecord, trainer: Trainer) throws(RunError) {
        guard let processGroup = trainer.processGroup else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var recordBytes: [UInt8]
        do { recordBytes = try Array(encoder.encode(record)) } catch { throw .cannotWrite(path: "the run record for the other processes", reason: "\(error)") }
        processGroup.broadcast(&recordBytes, from: 0)
        var state = [UInt8](TrainingCheckpoint.checkpointFile(trainer).encoded())
        processGroup.broadcast(&state, from: 0)
    }

    /// A rank other than 0 joins the group's run: it takes rank 0's record and state (see
    /// `shareState`), reads the same dataset from its own `catalog` (refused when its files differ
    /// from rank 0's) and trains its shard of every batch; it writes nothing.
    public static func joinGroup(_ processGroup: any ProcessGroup, folder: RunFolder, catalog: DatasetCatalog) throws(RunError) -> TrainingSession {
        precondition(processGroup.rank != 0 && processGroup.size > 1, "rank 0 starts or resumes the run; the others join it")
        var recordBytes: [UInt8] = []
        processGroup.broadcast(&recordBytes, from: 0)
        let record = try RunFolder.decodeRecord(Data(recordBytes), file: "rank 0's run record")
        let data = try loadData(record.configuration, catalog: catalog)
        if data.checksums != record.datasetSHA256 {
            throw .dataset("rank \(processGroup.rank): the dataset files in \(data.folder) differ from rank 0's (SHA-256); every rank must read the same data")
        }
        let trainer = try makeTrainer(record.configuration, data: data, processGroup: processGroup)
        var state: [UInt8] = []
        processGroup.broadcast(&state, from: 0)
        do {
            let file = try SafeTensorsFile.decode(Data(state), file: "rank 0's training state")
            try TrainingCheckpoint.restore(trainer, from: file, fileName: "rank 0's training state")
        } catch {
            throw .checkpoint("rank \(processGroup.rank): \(error.localizedDescription)")
        }
        return TrainingSession(folder: folder, lock: nil, trainer: trainer, record: record, rows: [], resumedFrom: nil,
                               datasetReport: data.report, notes: [])
    }

    /// Continues the run in `folder` from its checkpoint; `epochs` may raise the epoch count. A
    /// run that stopped before its first checkpoint restarts from epoch 1 with its recorded
    /// settings (the notes say so).
    ///
    /// With a `processGroup` (of any size: the run's position does not depend on it), this is
    /// rank 0's call; the other ranks call `joinGroup`.
    public static func resume(folder: RunFolder, catalog: DatasetCatalog, epochs: Int?, blasThreads: Int,
                              processGroup: (any ProcessGroup)? = nil) throws(RunError) -> TrainingSession {
        switch try folder.state() {
        case .absent: throw .notARun(path: folder.url.path, reason: "no such folder")
        case .empty: throw .notARun(path: folder.url.path, reason: "it is empty; start a new run there instead")
        case let .foreign(example): throw .notARun(path: folder.url.path, reason: "it has no config.json (it holds \(example) ...)")
        case .resumable, .restartable: break
        }
        let lock = try folder.lock()
        var record = try folder.readRecord()
        if let epochs {
            guard epochs > 0 else { throw .invalidConfiguration(ConfigurationProblem(.epochs, "must be positive, got \(epochs)")) }
            guard epochs >= record.configuration.epochs else {
                throw .invalidConfiguration(ConfigurationProblem(.epochs, "of the run in \(folder.url.path) was set to \(record.configuration.epochs) epoch\(record.configuration.epochs == 1 ? "" : "s"); resuming can keep or raise that count, not lower it to \(epochs) (nothing was changed)"))
            }
            if epochs != record.configuration.epochs && record.configuration.schedule.dependsOnEpochCount {
                throw .invalidConfiguration(ConfigurationProblem(.epochs, "of the run in \(folder.url.path) fixes its \(record.configuration.schedule.summary) schedule's length (\(record.configuration.epochs) epochs); raising it would change the rates of the steps still to come (nothing was changed)"))
            }
            record.configuration.epochs = epochs
            if let problem = record.configuration.problems.first { throw .invalidConfiguration(problem) }
        }
        let data = try loadData(record.configuration, catalog: catalog)
        if data.checksums != record.datasetSHA256 {
            throw .dataset("the dataset files in \(data.folder) differ from the ones this run started with (SHA-256 recorded in \(folder.configuration.path)); resuming would not reproduce the run")
        }
        guard data.train.shape == record.configuration.model.imageShape else {
            throw .dataset("the run's model takes \(record.configuration.model.imageShape) images, the dataset in \(data.folder) has \(data.train.shape)")
        }
        if let classes = record.configuration.model.conditionClasses, data.train.classCount != classes || !data.train.isLabelled {
            throw .dataset("the run's model is conditioned on \(classes) classes, the dataset in \(data.folder) has \(data.train.isLabelled ? "\(data.train.classCount)" : "no labels")")
        }
        let trainer = try makeTrainer(record.configuration, data: data, processGroup: processGroup)
        var notes: [String] = []
        var rows: [MetricsRow] = []
        if FileManager.default.fileExists(atPath: folder.checkpoint.path) {
            let file: SafeTensorsFile
            do { file = try SafeTensorsFile.read(from: folder.checkpoint) } catch { throw .checkpoint(error.localizedDescription) }
            do {
                try TrainingCheckpoint.restore(trainer, from: file, fileName: folder.checkpoint.path)
            } catch {
                throw .checkpoint(error.localizedDescription)
            }
            rows = try folder.readMetrics().filter { $0.epoch <= trainer.progress.completedEpochs }
            if rows.count < trainer.progress.completedEpochs, let table = file.metadata[Self.metricsKey],
               let recorded = try? MetricsTable.decode(table), recorded.count == trainer.progress.completedEpochs {
                // metrics.csv is written after the checkpoint: a failed write (a full disk) left it behind.
                rows = recorded
                do { try MetricsTable.write(rows, to: folder.metrics) } catch { throw .cannotWrite(path: folder.metrics.path, reason: error.reason) }
                notes.append("metrics.csv lacked the last epoch's line (its write had failed); it was restored from the checkpoint")
            }
            guard rows.count == trainer.progress.completedEpochs else {
                throw .invalidFile(path: folder.metrics.path, reason: "it has \(rows.count) line(s) for the \(trainer.progress.completedEpochs) epoch(s) the checkpoint has finished")
            }
        } else {
            notes.append("the run stopped before its first checkpoint; restarting it from epoch 1 with its recorded settings")
            try loadInitialWeights(into: trainer)
        }
        let removed = removeTemporaryFiles(in: folder.url) + removeTemporaryFiles(in: folder.reconstructions)
        if !removed.isEmpty { notes.append("removed \(removed.count) temporary file(s) a killed writer left") }
        record.blasThreads = blasThreads
        try folder.create()
        try folder.writeRecord(record)
        try shareState(record: record, trainer: trainer)
        let session = TrainingSession(folder: folder, lock: lock, trainer: trainer, record: record, rows: rows, resumedFrom: trainer.progress,
                                      datasetReport: data.report, notes: notes)
        try session.rewriteMissingPictures()
        return session
    }

    /// Loads the configuration's initial weights, if it names any, into the trainer's model:
    /// the file must be the one recorded (same SHA-256) and hold every parameter with the
    /// model's shape and finite values.
    static func loadInitialWeights(into trainer: Trainer) throws(RunError) {
        guard let initial = trainer.configuration.initialWeights else { return }
        let data: Data
        do { data = try readFile(URL(fileURLWithPath: initial.path), maximumBytes: 1 << 34) } catch {
            throw .invalidFile(path: initial.path, reason: "the initial weights cannot be read: \(error.localizedDescription)")
        }
        let digest = SHA256.hex(data)
        guard digest == initial.sha256 else {
            throw .invalidFile(path: initial.path, reason: "the initial weights changed since the run started (SHA-256 \(digest), recorded \(initial.sha256))")
        }
        do {
            try trainer.model.load(SafeTensorsFile.decode(data, file: initial.path), fileName: initial.path)
        } catch {
            throw .unreadableModel(error)
        }
    }

    /// A trainer for the configuration, refusing splits without images.
    static func makeTrainer(_ configuration: TrainingConfiguration, data: LoadedDataset,
                            processGroup: (any ProcessGroup)? = nil) throws(RunError) -> Trainer {
        try checkSplits(configuration, data: data)
        do { return try Trainer(configuration: configuration, train: data.train, test: data.test, processGroup: processGroup) } catch {
            switch error {
            case let .invalidConfiguration(problem): throw .invalidConfiguration(problem)
            case .imageShape, .labels: throw .dataset("\(error.localizedDescription) (in \(data.folder))")
            case let .data(problem): throw .unfitData(problem, folder: data.folder)
            }
        }
    }

    static func checkSplits(_ configuration: TrainingConfiguration, data: LoadedDataset) throws(RunError) {
        guard data.train.count > 0, data.test.count > 0 else {
            throw .dataset("the dataset in \(data.folder) has \(data.train.count) train and \(data.test.count) test images; training needs both splits non-empty")
        }
        if configuration.validationShare > 0 {
            let held = Int((Double(data.train.count) * configuration.validationShare).rounded())
            guard held > 0, held < data.train.count else {
                throw .dataset("the validation share \(configuration.validationShare) of \(data.train.count) train images leaves \(held == 0 ? "no validation" : "no training") images")
            }
        }
    }

    /// After a kill during an epoch's pictures: the model is still the one that epoch ended
    /// with (the checkpoint is written first), so its missing pictures are drawn again.
    func rewriteMissingPictures() throws(RunError) {
        guard isWriter else { return }
        let progress = trainer.progress
        guard progress.batchesDone == 0, progress.completedEpochs > 0 else { return }
        let epoch = progress.completedEpochs
        let picture = folder.reconstruction(epoch: epoch)
        do {
            if picturesDue(after: epoch) && !FileManager.default.fileExists(atPath: picture.path) {
                try trainer.withAveragedWeights { reconstructionPicture() }.writePNG(to: picture)
            }
            if !FileManager.default.fileExists(atPath: folder.learningCurves.path) || !FileManager.default.fileExists(atPath: folder.learningCurvesSVG.path) {
                let curves = learningCurves()
                try curves.write(to: folder.learningCurves)
                try curves.write(to: folder.learningCurvesSVG)
            }
        } catch {
            throw .cannotWrite(path: folder.url.path, reason: plainDescription(of: error))
        }
    }

    /// Gives up the folder's lock (also done when the session goes away); the session must not
    /// write afterwards.
    public func close() { lock?.release() }

    /// Both splits of the configuration's dataset (a named one or an image folder), with the
    /// folder they came from and the SHA-256 of its files.
    static func loadData(_ configuration: TrainingConfiguration, catalog: DatasetCatalog) throws(RunError) -> LoadedDataset {
        let model = configuration.model
        let modelBytes: @Sendable (ImageShape) -> (bytes: Double, what: String)? = { shape in
            let parameters = model.fitted(to: shape).approximateParameterCount
            return (parameters * ModelSpecification.trainingBytesPerParameter, String(format: "the model of about %.3g parameters needs to train", parameters))
        }
        do { return try catalog.loadSplits(dataset: configuration.dataset, folder: configuration.imageFolder, otherBytes: modelBytes) } catch {
            throw .dataset(error.localizedDescription)
        }
    }

    /// Trains until the configured epoch count or until `shouldStop()` returns true between
    /// batches (then the checkpoint records the position and `.interrupted` comes back).
    public func run(reporter: TrainingReporter, shouldStop: () -> Bool) throws(RunError) -> Outcome {
        // A finished run (resumed to look at it) logs nothing: no new event file.
        let events = trainer.isFinished ? nil : try openEventLog()
        reporter.started(self)
        while !trainer.isFinished {
            let epoch = trainer.progress.completedEpochs + 1
            let summary: EpochSummary?
            do {
                summary = try trainer.trainEpoch(shouldStop: shouldStop) { done, total, loss in
                    events?.step(trainer.lastStep)
                    reporter.batch(epoch: epoch, done: done, total: total, runningLoss: loss)
                }
            } catch {
                events?.finish(.failure, step: trainer.lastStep.step)
                try flush(events)
                let kept = FileManager.default.fileExists(atPath: folder.checkpoint.path) ? folder.checkpoint.path : nil
                throw .nonFiniteLoss(error, keptCheckpoint: kept)
            }
            guard let summary else {
                try flush(events)
                try writeCheckpoint()
                return .interrupted(epoch: epoch, batch: trainer.progress.batchesDone)
            }
            // Evaluated, drawn and saved: the weights' moving average where the run keeps one.
            let end = try trainer.withAveragedWeights { () throws(RunError) in try endEpoch(summary, events: events) }
            try writeEpochFiles(epoch: summary.epoch, model: end.modelFile, picture: end.picture)
            trainer.withAveragedWeights { reporter.epochFinished(end.row, figures: end.figures, session: self) }
        }
        let monitor = trainer.monitor
        if monitor.stoppedEarly, let best = monitor.bestEpoch { return .stoppedEarly(epoch: trainer.progress.completedEpochs, bestEpoch: best) }
        return .finished
    }

    /// What an epoch's end makes of the model as it is: its metrics row, the model's own
    /// figures on the validation set, the reconstruction picture when one is due, and its file.
    struct EpochEnd {
        var row: MetricsRow
        var figures: [(name: String, value: Double)]
        var picture: Picture?
        var modelFile: SafeTensorsFile
    }

    /// Evaluates the model after the epoch `summary` describes, records the epoch with the
    /// trainer (the validation monitor, the schedule), logs it to `events` and writes the best
    /// model when the validation loss improved.
    func endEpoch(_ summary: EpochSummary, events: RunEventLog?) throws(RunError) -> EpochEnd {
        let evaluationStarted = Date()
        let test = trainer.evaluateTest(epoch: summary.epoch)
        // A model of discrete codes: its reconstruction error and codebook use on the test images.
        let codeFigures = (trainer.model as? any DiscreteLatentModel).map { model in withoutGradients { model.codeFigures(on: trainer.test) } } ?? []
        var row = MetricsRow(
            epoch: summary.epoch, trainLoss: summary.loss, testLoss: test.loss, testLossMean: test.lossMean,
            reconstruction: summary.reconstruction, kl: summary.kl, testReconstruction: test.reconstruction, testKL: test.kl,
            seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond,
            evaluationSeconds: Date().timeIntervalSince(evaluationStarted))
        let figures = trainer.validation.map { trainer.model.figures(on: $0) } ?? []
        let validation = trainer.evaluateValidation(epoch: summary.epoch)
        let verdict = trainer.recordEpoch(summary, validationLoss: validation?.loss)
        row.extra["learning_rate"] = summary.learningRate
        if let validation { row.extra["validation_loss"] = validation.loss }
        if let clipping = summary.gradientClipping {
            row.extra["gradient_norm"] = clipping.meanNorm
            row.extra["clipped_share"] = clipping.clippedShare
        }
        for (name, value) in summary.extraTerms { row.extra["train_" + MetricsRow.columnName(name)] = value }
        for (name, value) in codeFigures { row.extra["test_" + MetricsRow.columnName(name)] = value }
        if summary.groupKL.count > 1 {
            for (name, value) in summary.groupKL { row.extra["kl_" + MetricsRow.columnName(name)] = value }
            for (group, value) in zip(trainer.model.latentGroups, test.groupKL ?? []) { row.extra["test_kl_" + MetricsRow.columnName(group.name)] = value }
        }
        if trainer.configuration.model.likelihood.modelsEightBitLevels {
            // A distribution over 8-bit levels: the test loss is a code length, in bits per value.
            row.extra["test_bits_per_dim"] = test.loss / (Double(trainer.model.inputSize) * log(2.0))
        }
        for figure in figures { row.extra["validation_" + MetricsRow.columnName(figure.name)] = figure.value }
        rows.append(row)
        let picture = isWriter && picturesDue(after: summary.epoch) ? reconstructionPicture() : nil
        if let events {
            let step = trainer.stepsDone
            events.epoch(row, step: step)
            do {
                if let picture { try events.picture("reconstructions", picture, step: step) }
                if picture != nil, let samples = samplePicture?(trainer.model) { try events.picture("samples", samples, step: step) }
            } catch {
                throw .cannotWrite(path: events.url.path, reason: plainDescription(of: error))
            }
            if trainer.isFinished { events.finish(.success, step: step) }
            // Before the checkpoint: a run killed between the two logs this epoch again on
            // resume, after a START that drops the first copy.
            try flush(events)
        }
        if verdict.improved, let validation { try writeBestModel(epoch: summary.epoch, validationLoss: validation.loss) }
        return EpochEnd(row: row, figures: figures, picture: picture, modelFile: TrainingCheckpoint.modelFile(trainer.model, extra: ["epoch": String(summary.epoch)]))
    }

    /// Whether the reconstruction picture of `epoch` is drawn: every `imagesEvery` epochs and
    /// after the last (the configured last, or the one early stopping ended on).
    func picturesDue(after epoch: Int) -> Bool {
        let configuration = trainer.configuration
        return epoch % configuration.imagesEvery == 0 || epoch == configuration.epochs || trainer.isFinished
    }

    /// Opens this session's event log (the writer alone): a new file, resuming at the run's step.
    func openEventLog() throws(RunError) -> RunEventLog? {
        guard isWriter else { return nil }
        do {
            let interval = RunEventLog.stepInterval(totalSteps: trainer.batchesPerEpoch * record.configuration.epochs, points: stepLogPoints)
            return try RunEventLog(folder: folder.url, record: record, resumedAfter: resumedFrom.map { _ in trainer.stepsDone }, stepInterval: interval)
        } catch {
            throw .cannotWrite(path: error.path, reason: error.reason)
        }
    }

    func flush(_ events: RunEventLog?) throws(RunError) {
        do { try events?.flush() } catch { throw .cannotWrite(path: error.path, reason: error.reason) }
    }

    /// The checkpoint's metadata entry holding the finished epochs' metrics table, so that a
    /// metrics.csv whose write failed after the checkpoint's is restored on resume.
    static let metricsKey = "metrics_csv"

    func writeCheckpoint() throws(RunError) {
        guard isWriter else { return }
        var file = TrainingCheckpoint.checkpointFile(trainer)
        file.metadata[Self.metricsKey] = MetricsTable.encode(rows)
        do {
            try file.write(to: folder.checkpoint)
        } catch {
            throw .cannotWrite(path: folder.checkpoint.path, reason: plainDescription(of: error))
        }
    }

    /// `best.safetensors`: the model as it is after `epoch`, the best by validation loss so far,
    /// with the epoch and the loss in its metadata. Written before the epoch's checkpoint, so a
    /// checkpoint never names a best epoch whose weights are not on disk (a run killed between
    /// the two trains the epoch again and writes the same file).
    func writeBestModel(epoch: Int, validationLoss: Double) throws(RunError) {
        guard isWriter else { return }
        try write(TrainingCheckpoint.modelFile(trainer.model, extra: ["epoch": String(epoch), "validation_loss": String(validationLoss)]), to: folder.best)
    }

    /// A model's file (`TrainingCheckpoint.modelFile`) at `url`.
    func write(_ file: SafeTensorsFile, to url: URL) throws(RunError) {
        do {
            try file.write(to: url)
        } catch {
            throw .cannotWrite(path: url.path, reason: plainDescription(of: error))
        }
    }

    /// An epoch's files, in the order that keeps the folder consistent after any failed write:
    /// the model (`model`: its file, the averaged weights where the run averages them), the
    /// checkpoint (holding the metrics table too), then metrics.csv, so metrics.csv never runs
    /// ahead of the model and checkpoint; then the pictures.
    func writeEpochFiles(epoch: Int, model: SafeTensorsFile, picture: Picture?) throws(RunError) {
        guard isWriter else { return }
        try write(model, to: folder.model)
        try writeCheckpoint()
        do {
            try MetricsTable.write(rows, to: folder.metrics)
        } catch {
            throw .cannotWrite(path: folder.metrics.path, reason: error.reason)
        }
        do {
            if let picture { try picture.writePNG(to: folder.reconstruction(epoch: epoch)) }
            let curves = learningCurves()
            try curves.write(to: folder.learningCurves)
            try curves.write(to: folder.learningCurvesSVG)
        } catch {
            throw .cannotWrite(path: folder.url.path, reason: plainDescription(of: error))
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
