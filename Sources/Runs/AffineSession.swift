import Datasets
import Foundation
import Optimizers
import Persistence
import SafeTensors
import TensorCore
import VAE

/// What a design-B run folder records about how it was made (`config.json`).
public struct AffineRunRecord: Codable, Equatable, Sendable {
    public var tool = "vae"
    public var version = ToolVersion.current
    public var kind = "affine"
    public var affineConfiguration: AffineTrainingConfiguration
    public var datasetFolder: String
    public var datasetSHA256: [String: String]
    public var blasThreads: Int
}

/// One line of a design-B run's `metrics.csv`.
public struct AffineMetricsRow: Equatable, Sendable {
    public static let header = "epoch,train_loss,train_mse,train_ce,train_kl,validation_mse,validation_accuracy,seconds,images_per_second"
    public var epoch: Int
    public var summary: [Double]

    var line: String { ([String(epoch)] + summary.map { String(format: "%.6g", $0) }).joined(separator: ",") }
}

/// A design-B training run tied to its folder: after every epoch it evaluates the validation
/// images and writes `metrics.csv`, `model.safetensors` (metadata `affine_configuration`) and
/// `checkpoint.safetensors` (model, Adam's state, the generator), all atomically. Resuming
/// continues from the last finished epoch with the same numbers.
public final class AffineSession {
    public let folder: RunFolder
    public let trainer: AffineTrainer
    public let record: AffineRunRecord
    public let test: ImageDataset
    public private(set) var rows: [AffineMetricsRow]

    init(folder: RunFolder, trainer: AffineTrainer, record: AffineRunRecord, test: ImageDataset, rows: [AffineMetricsRow]) {
        (self.folder, self.trainer, self.record, self.test, self.rows) = (folder, trainer, record, test, rows)
    }

    public static func start(configuration: AffineTrainingConfiguration, folder: RunFolder, catalog: DatasetCatalog,
                             blasThreads: Int) throws(RunError) -> AffineSession {
        if let problem = configuration.problems.first { throw .invalidFile(path: "the options", reason: problem) }
        if folder.holdsRun { throw .alreadyARun(path: folder.url.path) }
        let (train, test, dataFolder, checksums) = try load(configuration, catalog: catalog)
        try folder.create()
        let record = AffineRunRecord(affineConfiguration: configuration, datasetFolder: dataFolder, datasetSHA256: checksums, blasThreads: blasThreads)
        try write(record, to: folder)
        return AffineSession(folder: folder, trainer: AffineTrainer(configuration: configuration, train: train), record: record, test: test, rows: [])
    }

    /// Continues the run in `folder` from its last finished epoch; `epochs` may raise the epoch count.
    public static func resume(folder: RunFolder, catalog: DatasetCatalog, epochs: Int? = nil) throws(RunError) -> AffineSession {
        guard var record = readRecord(folder) else { throw .notARun(path: folder.url.path, reason: "it has no design-B config.json") }
        if let epochs {
            guard epochs > 0 else { throw .invalidFile(path: "the options", reason: "--epochs must be positive, got \(epochs)") }
            record.affineConfiguration.epochs = epochs
            try write(record, to: folder)
        }
        let (train, test, _, _) = try load(record.affineConfiguration, catalog: catalog)
        let trainer = AffineTrainer(configuration: record.affineConfiguration, train: train)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: folder.checkpoint) } catch { throw .checkpoint(error.localizedDescription) }
        guard let epochs = file.metadata["epoch"].flatMap(Int.init),
              let words = file.metadata["generator"]?.split(separator: ",").compactMap({ UInt64($0) }), words.count == 4,
              let step = file.metadata["optimizer_step"].flatMap(Int.init) else {
            throw .checkpoint("\(folder.checkpoint.path) lacks the epoch, generator or optimizer step")
        }
        var buffers: [String: [Float]] = [:]
        for (name, tensor) in file.tensors where name.hasPrefix("optimizer.") { buffers[String(name.dropFirst(10))] = tensor.values }
        do {
            try trainer.model.load(file, fileName: folder.checkpoint.path)
            try trainer.restore(epochs: epochs, generatorState: words, optimizerState: OptimizerState(step: step, buffers: buffers))
        } catch { throw .checkpoint("\(folder.checkpoint.path): \(error.localizedDescription)") }
        var rows: [AffineMetricsRow] = []
        if let text = try? String(contentsOf: folder.metrics, encoding: .utf8) {
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: ",").compactMap { Double($0) }
                if fields.count == 9, Int(fields[0]) <= epochs { rows.append(AffineMetricsRow(epoch: Int(fields[0]), summary: Array(fields.dropFirst()))) }
            }
        }
        return AffineSession(folder: folder, trainer: trainer, record: record, test: test, rows: rows)
    }

    /// The record of a design-B run folder, or nil when the folder holds something else.
    public static func readRecord(_ folder: RunFolder) -> AffineRunRecord? {
        FileManager.default.contents(atPath: folder.configuration.path).flatMap { try? JSONDecoder().decode(AffineRunRecord.self, from: $0) }
    }

    static func write(_ record: AffineRunRecord, to folder: RunFolder) throws(RunError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try writeAtomically(try encoder.encode(record), to: folder.configuration) } catch {
            throw .cannotWrite(path: folder.configuration.path, reason: error.localizedDescription)
        }
    }

    static func load(_ configuration: AffineTrainingConfiguration, catalog: DatasetCatalog) throws(RunError)
        -> (ImageDataset, ImageDataset, String, [String: String]) {
        try TrainingSession.loadData(dataset: configuration.dataset, inputSize: configuration.model.inputSize, catalog: catalog)
    }

    /// The model file of a design-B model, with its architecture in the metadata.
    public static func modelFile(_ model: AffineVAE, epoch: Int) -> SafeTensorsFile {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]  // the same model gives the same bytes
        let data = (try? encoder.encode(model.configuration)) ?? Data()
        return model.stateDictionary(metadata: [TrainingCheckpoint.formatKey: TrainingCheckpoint.formatValue,
                                                "affine_configuration": String(decoding: data, as: UTF8.self), "epoch": String(epoch)])
    }

    /// Trains to the configured epoch count, or until `shouldStop` between batches (the files then
    /// hold the last finished epoch; returns false). `onEpoch` sees each finished epoch's row.
    public func run(shouldStop: () -> Bool, onBatch: (Int, Int, Int, Double) -> Void, onEpoch: (AffineMetricsRow, AffineEvaluation) -> Void) throws(RunError) -> Bool {
        while !trainer.isFinished {
            let epoch = trainer.completedEpochs + 1
            let summary: AffineEpochSummary?
            do {
                summary = try trainer.trainEpoch(shouldStop: shouldStop) { done, total, loss in onBatch(epoch, done, total, loss) }
            } catch {
                throw .nonFiniteLoss(error.description, keptCheckpoint: FileManager.default.fileExists(atPath: folder.checkpoint.path) ? folder.checkpoint.path : nil)
            }
            guard let summary else { return false }
            let validation = trainer.model.evaluate(trainer.validation)
            let row = AffineMetricsRow(epoch: summary.epoch, summary: [summary.loss, summary.reconstructionMSE, summary.crossEntropy, summary.kl,
                                                                         validation.reconstructionMSE, validation.accuracy, summary.seconds, summary.imagesPerSecond])
            rows.append(row)
            try writeEpochFiles(epoch: summary.epoch)
            onEpoch(row, validation)
        }
        return true
    }

    func writeEpochFiles(epoch: Int) throws(RunError) {
        let text = ([AffineMetricsRow.header] + rows.map(\.line)).joined(separator: "\n") + "\n"
        do {
            try writeAtomically(Data(text.utf8), to: folder.metrics)
            try Self.modelFile(trainer.model, epoch: epoch).write(to: folder.model)
            var checkpoint = Self.modelFile(trainer.model, epoch: epoch)
            let state = trainer.optimizer.state
            for (name, values) in state.buffers { checkpoint.tensors["optimizer." + name] = .init(shape: [values.count], values: values) }
            checkpoint.metadata["optimizer_step"] = String(state.step)
            checkpoint.metadata["generator"] = trainer.generatorState.map(String.init).joined(separator: ",")
            try checkpoint.write(to: folder.checkpoint)
        } catch {
            throw .cannotWrite(path: folder.url.path, reason: error.localizedDescription)
        }
    }
}
