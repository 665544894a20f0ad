import ArgumentParser
import Datasets
import Foundation
import NN
import Runs
import Synchronization
import TensorCore
import VAE

/// Set by SIGINT; the training loop checks it between batches.
let interruptRequested = Atomic<Bool>(false)

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a VAE on MNIST-like data and write a run folder.",
        discussion: """
        Presets (every setting can be overridden by the options below):
        \(Preset.all.map { "  \($0.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n"))
        \(AffinePreset.all.map { "  \($0.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n"))

        The run folder gets config.json, metrics.csv (epoch, train_loss, test_loss, test_loss_mean, recon, kl, \
        test_recon, test_kl, seconds, images_per_second, eval_seconds), model.safetensors, checkpoint.safetensors, \
        reconstructions/epoch-N.png and learning-curves.png/.svg. Ctrl-C writes a checkpoint and stops; \
        `vae train --resume RUN` continues with the same numbers.
        """)

    @Option(help: "Start from this preset.") var preset = "pytorch-example"
    @Option(help: "The run folder to create (default: runs/<preset>-<date>-<time>, so runs never overwrite each other).")
    var out: String?
    @Option(help: "Continue the run in this folder from its checkpoint (only --epochs, --blas-threads and --data-dir apply).")
    var resume: String?

    @Option(help: "Training epochs.") var epochs: Int?
    @Option(help: "Random seed (weights, shuffling, noise).") var seed: UInt64?
    @Option(help: "Images per batch.") var batchSize: Int?
    @Option(help: "Learning rate.") var learningRate: Float?
    @Option(help: "Latent dimensions.") var latentSize: Int?
    @Option(help: "Hidden layer sizes of the encoder, comma-separated (the decoder mirrors them), e.g. 500,500.")
    var hiddenSizes: String?
    @Option(help: "Activation: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")).") var activation: String?
    @Option(help: "Variance head: \(VarianceHead.allCases.map(\.rawValue).joined(separator: ", ")).") var varianceHead: String?
    @Option(help: "Likelihood: \(Likelihood.allCases.map(\.rawValue).joined(separator: ", ")).") var likelihood: String?
    @Option(help: "Optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).") var optimizer: String?
    @Option(help: "Binarisation: \(Binarization.allCases.map(\.rawValue).joined(separator: ", ")).") var binarization: String?
    @Option(help: "Dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).") var dataset: String?
    @Option(help: "A folder holding the dataset's IDX files.") var dataDir: String?
    @Option(help: "Write the reconstruction picture every N epochs.") var imagesEvery: Int?
    @Option(help: "Objective: elbo or iwae (the importance-weighted bound with --samples k).") var objective: String?
    @Option(help: "Importance samples k per image for --objective iwae.") var samples: Int?
    @Option(help: "KL weight beta (beta-VAE); 1 is the ELBO.") var beta: Float?
    @Option(help: "Raise the KL weight linearly from 0 to beta over this many epochs.") var warmupEpochs: Int?
    @Option(help: "Free bits: at least this many nats of KL per latent dimension go unpenalised (batch mean).") var freeBits: Float?
    @Option(help: "The IWAE paper's learning-rate schedule with this many stages (3^i epochs at rate x 10^(-i/7), i < N); sets the epochs.")
    var scheduleStages: Int?
    @Option(help: "Design B (affine presets): the coordinate decoder's hidden size H.") var decoderHiddenSize: Int?
    @Option(help: "Design B: the weight on the per-element mean KL (default 5 / (16 batch), the design's effective weight).") var klWeight: Float?
    @Option(help: "Design B: how the transform acts, column (A [u v 1]^T, with translation) or row (the design's code).") var transformForm: String?
    @Option(help: "OpenBLAS and elementwise threads (2 helps only when the other core is idle).") var blasThreads = 1

    func parse<T: RawRepresentable>(_ value: String?, _ name: String, as type: T.Type, allCases: [T]) throws -> T?
    where T.RawValue == String {
        guard let value else { return nil }
        guard let parsed = T(rawValue: value) else {
            throw ValidationError("--\(name) must be one of \(allCases.map(\.rawValue).joined(separator: ", ")); got '\(value)'")
        }
        return parsed
    }

    /// The preset with the options applied.
    func resolvedConfiguration() throws -> TrainingConfiguration {
        guard var configuration = Preset.named(preset)?.configuration else {
            throw ValidationError("unknown preset '\(preset)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
        }
        if let epochs { configuration.epochs = epochs }
        if let seed { configuration.seed = seed }
        if let batchSize { configuration.batchSize = batchSize }
        if let learningRate { configuration.learningRate = learningRate }
        if let latentSize { configuration.model.latentSize = latentSize }
        if let hiddenSizes {
            let sizes = hiddenSizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--hidden-sizes must be comma-separated integers such as 400 or 500,500; got '\(hiddenSizes)'")
            }
            configuration.model.hiddenSizes = sizes.map { $0! }
        }
        if let value = try parse(activation, "activation", as: Activation.self, allCases: Activation.allCases) { configuration.model.activation = value }
        if let value = try parse(varianceHead, "variance-head", as: VarianceHead.self, allCases: VarianceHead.allCases) { configuration.model.varianceHead = value }
        if let value = try parse(likelihood, "likelihood", as: Likelihood.self, allCases: Likelihood.allCases) { configuration.model.likelihood = value }
        if let value = try parse(optimizer, "optimizer", as: OptimizerKind.self, allCases: OptimizerKind.allCases) { configuration.optimizer = value }
        if let value = try parse(binarization, "binarization", as: Binarization.self, allCases: Binarization.allCases) { configuration.binarization = value }
        if let value = try parse(dataset, "dataset", as: DatasetName.self, allCases: DatasetName.allCases) { configuration.dataset = value.rawValue }
        if let imagesEvery { configuration.imagesEvery = imagesEvery }
        if let value = try parse(objective, "objective", as: Objective.Kind.self, allCases: Objective.Kind.allCases) { configuration.objective.kind = value }
        if let samples { configuration.objective.samples = samples }
        if let beta { configuration.objective.beta = beta }
        if let warmupEpochs { configuration.objective.warmupEpochs = warmupEpochs }
        if let freeBits { configuration.objective.freeBits = freeBits }
        if let scheduleStages {
            guard (1...8).contains(scheduleStages) else { throw ValidationError("--schedule-stages must be 1...8, got \(scheduleStages)") }
            configuration.schedule = .iwaePaper(stages: scheduleStages)
            if let epochs, epochs != configuration.schedule.epochs {
                throw ValidationError("--schedule-stages \(scheduleStages) takes \(configuration.schedule.epochs!) epochs; leave out --epochs \(epochs)")
            }
            configuration.epochs = configuration.schedule.epochs!
        }
        if let problem = configuration.problems.first { throw ValidationError(problem) }
        return configuration
    }

    /// The affine preset with the options applied (design B), or nil for the other presets.
    func resolvedAffineConfiguration() throws -> AffineTrainingConfiguration? {
        guard var configuration = AffinePreset.named(preset)?.configuration else { return nil }
        let foreign: [(String, Bool)] = [("latent-size", latentSize != nil), ("hidden-sizes", hiddenSizes != nil), ("activation", activation != nil),
                                         ("variance-head", varianceHead != nil), ("likelihood", likelihood != nil), ("optimizer", optimizer != nil),
                                         ("binarization", binarization != nil), ("objective", objective != nil), ("beta", beta != nil),
                                         ("samples", samples != nil), ("warmup-epochs", warmupEpochs != nil), ("free-bits", freeBits != nil),
                                         ("schedule-stages", scheduleStages != nil)]
        if let (name, _) = foreign.first(where: \.1) { throw ValidationError("--\(name) does not apply to the design-B preset \(preset)") }
        if let epochs { configuration.epochs = epochs }
        if let seed { configuration.seed = seed }
        if let batchSize { configuration.batchSize = batchSize }
        if let learningRate { configuration.learningRate = learningRate }
        if let decoderHiddenSize { configuration.model.decoderHiddenSize = decoderHiddenSize }
        if let klWeight { configuration.klWeight = klWeight }
        if let value = try parse(transformForm, "transform-form", as: AffineForm.self, allCases: AffineForm.allCases) { configuration.model.transformForm = value }
        if let value = try parse(dataset, "dataset", as: DatasetName.self, allCases: DatasetName.allCases) { configuration.dataset = value.rawValue }
        if let problem = configuration.problems.first { throw ValidationError(problem) }
        return configuration
    }

    func validate() throws {
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        if resume == nil, try resolvedAffineConfiguration() == nil { _ = try resolvedConfiguration() }
        if AffinePreset.named(preset) == nil && (decoderHiddenSize != nil || klWeight != nil || transformForm != nil) {
            throw ValidationError("--decoder-hidden-size, --kl-weight and --transform-form apply to the design-B presets (affine, affine-small)")
        }
    }

    func run() throws {
        BLAS.setThreadCount(blasThreads)
        let catalog = DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        if let resume, AffineSession.readRecord(RunFolder(URL(fileURLWithPath: resume))) != nil {
            return try AffineTraining.run(resume: RunFolder(URL(fileURLWithPath: resume)), catalog: catalog, epochs: epochs)
        }
        if resume == nil, let affine = try resolvedAffineConfiguration() {
            return try AffineTraining.run(configuration: affine, out: out, catalog: catalog, blasThreads: blasThreads)
        }
        let session: TrainingSession
        do {
            if let resume {
                session = try TrainingSession.resume(folder: RunFolder(URL(fileURLWithPath: resume)), catalog: catalog,
                                                     epochs: epochs, blasThreads: blasThreads)
            } else {
                let configuration = try resolvedConfiguration()
                let stamp = DateFormatter()
                stamp.dateFormat = "yyyyMMdd-HHmmss"
                let folder = RunFolder(URL(fileURLWithPath: out ?? "runs/\(configuration.preset)-\(stamp.string(from: Date()))"))
                session = try TrainingSession.start(configuration: configuration, folder: folder, catalog: catalog, blasThreads: blasThreads)
            }
        } catch {
            throw CommandFailure(error.localizedDescription)
        }
        signal(SIGINT) { _ in
            interruptRequested.store(true, ordering: .relaxed)
            signal(SIGINT, SIG_DFL)  // a second Ctrl-C stops at once
        }
        let reporter = ConsoleReporter(isTerminal: isatty(STDOUT_FILENO) == 1)
        let outcome: TrainingSession.Outcome
        do {
            outcome = try session.run(reporter: reporter) { interruptRequested.load(ordering: .relaxed) }
        } catch {
            reporter.finishLine()
            throw CommandFailure(error.localizedDescription)
        }
        reporter.finishLine()
        let folder = session.folder
        switch outcome {
        case .finished:
            print("done: \(folder.url.path)")
            print("  metrics         \(folder.metrics.path)")
            print("  model           \(folder.model.path)")
            print("  reconstructions \(folder.reconstructions.path)/")
            print("  learning curves \(folder.learningCurves.path)")
        case let .interrupted(epoch, batch):
            print("interrupted in epoch \(epoch) after batch \(batch); checkpoint written to \(folder.checkpoint.path)")
            print("continue with: vae train --resume \(folder.url.path)")
            throw ExitCode(130)
        }
    }
}

/// A user-facing failure: the message is printed as `error: ...` and the exit status is 1.
/// Progress on the console: a bar with rate and ETA on a terminal, one line per epoch otherwise.
final class ConsoleReporter: TrainingReporter {
    let isTerminal: Bool
    private var epochStarted = Date()
    private var lastDraw = Date.distantPast
    private var barShown = false

    init(isTerminal: Bool) { self.isTerminal = isTerminal }

    func started(_ session: TrainingSession) {
        let configuration = session.trainer.configuration
        let model = configuration.model
        print("training \(configuration.preset): \(model.architectureName) \(model.activation.rawValue), \(model.varianceHead.rawValue) head, \(model.likelihood.rawValue) likelihood, \(session.trainer.model.parameterCount) parameters")
        print("data \(configuration.dataset) (\(session.trainer.train.count) train / \(session.trainer.test.count) test, binarisation \(configuration.binarization.rawValue)); \(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), \(configuration.epochs) epochs, seed \(configuration.seed)")
        if configuration.objective != .elbo || configuration.schedule != .constant {
            print("objective \(configuration.objective.summary); learning-rate schedule \(configuration.schedule.summary)")
        }
        print(BLAS.tuneForProcessor() + ", \(BLAS.threadCount) thread\(BLAS.threadCount == 1 ? "" : "s")")
        if let progress = session.resumedFrom {
            print("resumed at epoch \(progress.completedEpochs + 1), batch \(progress.batchesDone + 1)")
        }
        print("run folder: \(session.folder.url.path)")
        fflush(nil)
        epochStarted = Date()
    }

    func batch(epoch: Int, done: Int, total: Int, runningLoss: Double) {
        if done == 1 { epochStarted = Date() }
        guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(epochStarted)
        let fraction = Double(done) / Double(total)
        let width = 30, filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        let rate = done > 1 ? Double(done - 1) / max(elapsed, 1e-9) : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        print(String(format: "\repoch %d [%@] %d/%d  loss %.2f  %.0f batches/s  ETA %.0fs ", epoch, bar, done, total, runningLoss, rate, eta),
              terminator: "")
        fflush(nil)
        barShown = true
    }

    func epochFinished(_ row: MetricsRow, session: TrainingSession) {
        finishLine()
        print(String(format: "epoch %3d  train %.2f  test %.2f (z = mu %.2f)  recon %.2f  kl %.2f  %.2f s  %.0f images/s",
                     row.epoch, row.trainLoss, row.testLoss, row.testLossMean, row.reconstruction, row.kl, row.seconds, row.imagesPerSecond))
        fflush(nil)  // one line per epoch, also when the output is a pipe or a file
    }

    func finishLine() {
        if barShown {
            print("\r" + String(repeating: " ", count: 100) + "\r", terminator: "")
            barShown = false
        }
    }
}
