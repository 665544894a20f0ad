import ArgumentParser
import Datasets
import Foundation
import LatentTools
import MessagePassing
import NN
import Optimizers
import Runs
import Persistence
import Synchronization
import TensorCore
import VAE
import VAEModels
import Visualization

/// Set by SIGINT or SIGTERM (see `stopOnSignals`); long loops check it between their steps.
let interruptRequested = Atomic<Bool>(false)

/// Ctrl-C (SIGINT) and SIGTERM (kill, systemd, schedulers) set `interruptRequested`, so the work
/// in progress stops at its next step and reports what it has; a second one stops at once. A
/// parent may have started us with these signals blocked (the mask is inherited): they are
/// unblocked first.
func stopOnSignals() {
    var stops = sigset_t()
    sigemptyset(&stops)
    sigaddset(&stops, SIGINT)
    sigaddset(&stops, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &stops, nil)
    for number in [SIGINT, SIGTERM] {
        signal(number) { received in
            interruptRequested.store(true, ordering: .relaxed)
            signal(received, SIG_DFL)
        }
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a VAE on a named dataset or a folder of your own images, and write a run folder.",
        discussion: """
        Presets: \(Preset.all.map(\.name).joined(separator: ", ")) (pytorch-example is the default). \
        `vae presets` prints each one's summary and resolved settings; every setting can be overridden by the \
        options below.

        The MLP presets take images of any shape: with --images FOLDER the model's input is the folder's C x H x W. \
        The run folder gets config.json, metrics.csv (epoch, train_loss, test_loss, test_loss_mean, recon, kl, \
        test_recon, test_kl, seconds, images_per_second, eval_seconds), model.safetensors, checkpoint.safetensors, \
        reconstructions/epoch-N.png and learning-curves.png/.svg. Ctrl-C writes a checkpoint and stops; \
        `vae train --resume RUN` continues with the same numbers.

        Under `mpirun -np N`, the N processes train one model: each takes a shard of every batch, the gradients \
        are summed with MPI's all-reduce (across machines bucket by bucket while the backward pass still runs), and \
        rank 0 writes the run folder (same seed and batch, the same numbers up to the order of float sums). Example: mpirun -np 2 vae \
        train --preset conv-mnist --out runs/conv-2. Across machines, or network namespaces on one, see \
        scripts/mpirun-hosts.sh.
        """)

    @Option(help: "Start from this preset (default pytorch-example).") var preset: String?
    @Option(help: "The run folder to create (default: runs/<preset>-<date>-<time>, so runs never overwrite each other).")
    var out: String?
    @Option(help: "Continue the run in this folder from its checkpoint. --epochs (to raise the count), --blas-threads and --data-dir may change; any other option must agree with the run's record or is refused.")
    var resume: String?

    @OptionGroup(title: "Data") var data: DataOptions
    @OptionGroup(title: "Training") var training: TrainingOptions
    @OptionGroup(title: "Models (MLP and convolutional)") var mlp: MLPOptions
    @OptionGroup(title: "Likelihood (every model kind whose decoder can give it)") var likelihood: LikelihoodOptions
    @OptionGroup(title: "Convolutional models") var convolutional: ConvolutionalOptions
    @OptionGroup(title: "Objective") var objective: ObjectiveOptions
    @OptionGroup(title: "Affine-transform models (affine presets)") var affine: AffineOptions
    @OptionGroup(title: "Hierarchical conv models (hierarchical-colour)") var hierarchy: HierarchyOptions
    @OptionGroup(title: "VQ-VAE models (vq-mnist, vq-colour)") var quantization: QuantizationOptions
    @Option(parsing: .unconditional, help: "OpenBLAS and elementwise threads (2 helps only when the other core is idle).") var blasThreads = 1
    @OptionGroup(title: "Several processes (under mpirun)") var processes: ProcessOptions
    @Option(help: "Start from the weights in this safetensors file (every parameter, the model's shapes) instead of the seed's draw.")
    var initialWeights: String?

    /// The preset with the options applied.
    func resolvedConfiguration() throws -> TrainingConfiguration {
        guard var configuration = Preset.named(presetName)?.configuration else {
            throw ValidationError("unknown preset '\(presetName)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
        }
        training.apply(to: &configuration)
        if let dataset = data.dataset { configuration.dataset = dataset.rawValue }
        if let folder = data.folder(seed: configuration.seed) {
            configuration.imageFolder = folder
            configuration.dataset = "folder"
        }
        try applyModelOptions(to: &configuration)
        configuration.schedule = try training.resolvedSchedule(from: configuration.schedule, stagesGiven: objective.scheduleStages != nil)
        if configuration.optimizer == .adamw && configuration.weightDecay == nil { configuration.weightDecay = Adam.defaultWeightDecay }
        do {
            if let chosen = try likelihood.chosen() { configuration.model = try configuration.model.withLikelihood(chosen) }
            if training.conditional && configuration.model.conditionClasses == nil {
                // The class count is fitted to the dataset when the run starts; 2 stands in until then.
                configuration.model = try configuration.model.conditioned(on: 2)
            }
        } catch let problem as ConfigurationProblem { throw ValidationError(OptionNames.message(problem)) }
        if let initialWeights {
            let url = URL(fileURLWithPath: initialWeights)
            let digest: String
            do { digest = try SHA256.hex(ofFile: url) } catch {
                throw ValidationError("--initial-weights \(initialWeights) cannot be read: \(plainDescription(of: error))")
            }
            configuration.initialWeights = InitialWeights(path: url.path, sha256: digest)
        }
        if let problem = configuration.problemsBeforeFitting.first ?? configuration.model.memoryProblem(availableBytes: ModelSpecification.availableBytes) {
            throw ValidationError(OptionNames.message(problem))
        }
        return configuration
    }

    /// The preset named, or the default one.
    var presetName: String { preset ?? "pytorch-example" }

    /// The options given that contradict `recorded`, a run's record: with --resume, the run
    /// being continued (where `epochsMayChange`); in a process of an mpirun job other than rank 0,
    /// rank 0's run. Options left out never contradict.
    func contradictions(with recorded: TrainingConfiguration, epochsMayChange: Bool) throws -> [Contradiction] {
        var found: [Contradiction] = []
        if let preset, preset != recorded.preset { found.append(.init("--preset", preset, recorded.preset)) }
        func check<Value: Equatable>(_ option: String, _ given: Value?, _ recorded: Value) {
            if let given, given != recorded { found.append(.init(option, "\(given)", "\(recorded)")) }
        }
        if !epochsMayChange { check("--epochs", training.epochs, recorded.epochs) }
        check("--seed", training.seed, recorded.seed)
        check("--batch-size", training.batchSize, recorded.batchSize)
        check("--learning-rate", training.learningRate, recorded.learningRate)
        check("--optimizer", training.optimizer?.rawValue, recorded.optimizer.rawValue)
        check("--binarization", training.binarization?.rawValue, recorded.binarization.rawValue)
        check("--images-every", training.imagesEvery, recorded.imagesEvery)
        check("--precision", training.precision?.rawValue, recorded.precision.rawValue)
        check("--output-bias", training.outputBias?.rawValue, recorded.outputBias.rawValue)
        check("--validation-share", training.validationShare, recorded.validationShare)
        if let patience = training.patience, patience != recorded.patience { found.append(.init("--patience", "\(patience)", recorded.patience.map(String.init) ?? "none")) }
        if let norm = training.clipGradientNorm, norm != recorded.gradientClipNorm {
            found.append(.init("--clip-gradient-norm", "\(norm)", recorded.gradientClipNorm.map { "\($0)" } ?? "none"))
        }
        if let decay = training.weightDecay, decay != recorded.weightDecay {
            found.append(.init("--weight-decay", "\(decay)", recorded.weightDecay.map { "\($0)" } ?? "none"))
        }
        if let average = training.weightAverage, average.decay != recorded.weightAverage {
            found.append(.init("--weight-average", average.description, recorded.weightAverage.map { "\($0)" } ?? "none"))
        }
        if training.conditional && recorded.model.conditionClasses == nil { found.append(.init("--conditional", "on", "an unconditional model")) }
        found += data.contradictions(with: recorded)
        if let initialWeights, initialWeights != recorded.initialWeights?.path {
            found.append(.init("--initial-weights", initialWeights, recorded.initialWeights?.path ?? "the seed's weights"))
        }
        // The model's and the objective's options, applied to the recorded ones, must change nothing.
        var applied = recorded
        try applyModelOptions(to: &applied)
        do {
            if let chosen = try likelihood.chosen() { applied.model = try applied.model.withLikelihood(chosen) }
        } catch let problem as ConfigurationProblem { throw ValidationError(OptionNames.message(problem)) }
        if applied.model != recorded.model {
            let option = mlp.givenOption ?? convolutional.givenOption ?? affine.givenOption ?? hierarchy.givenOption ?? (likelihood.likelihood != nil ? "likelihood" : "model")
            found.append(.init("--\(option)", "(a different model)", "the model \(recorded.model.summary)"))
        }
        if applied.objective != recorded.objective || applied.schedule != recorded.schedule {
            let option = objective.givenOption ?? affine.givenOption ?? "objective"
            found.append(.init("--\(option)", "(a different objective)", "\(recorded.makeObjective().summary), learning-rate schedule \(recorded.schedule.summary)"))
        } else if let option = training.givenScheduleOption,
                  try training.resolvedSchedule(from: recorded.schedule, stagesGiven: objective.scheduleStages != nil) != recorded.schedule {
            found.append(.init("--\(option)", "(a different learning-rate schedule)", recorded.schedule.summary))
        }
        return found
    }

    /// Refuses the options given that contradict `recorded` (see `contradictions`), naming each.
    func refuseContradictions(with recorded: TrainingConfiguration, epochsMayChange: Bool, what: String) throws {
        let found = try contradictions(with: recorded, epochsMayChange: epochsMayChange)
        guard !found.isEmpty else { return }
        throw CommandFailure("\(what): " + found.map(\.description).joined(separator: "; ")
                             + ". Leave such options out (the record's values apply), or start a new run.")
    }

    /// The options of the preset's model kind: each kind's own option group applies to it alone.
    func applyModelOptions(to configuration: inout TrainingConfiguration) throws {
        let model = configuration.model
        if model.architecture(as: HierarchicalConvolutionalConfiguration.self) == nil, let option = hierarchy.givenOption {
            throw ValidationError("--\(option) applies to the hierarchical conv presets (hierarchical-colour), not to \(presetName), a \(model.kindDescription) (\(model.kind))")
        }
        if model.architecture(as: VectorQuantizedConfiguration.self) == nil, let option = quantization.givenOption {
            throw ValidationError("--\(option) applies to the VQ-VAE presets (vq-mnist, vq-colour), not to \(presetName), a \(model.kindDescription) (\(model.kind))")
        }
        if var architecture = model.architecture(as: MLPConfiguration.self) {
            if let option = convolutional.givenOption { throw ValidationError("--\(option) applies to the convolutional presets, not to the MLP preset \(presetName)") }
            if let option = affine.givenOption { throw ValidationError("--\(option) applies to the affine presets (affine, affine-small), not to \(presetName)") }
            mlp.apply(to: &architecture)
            configuration.model = .mlp(architecture)
            try objective.apply(to: &configuration, explicitEpochs: training.epochs)
        } else if var architecture = model.architecture(as: ConvolutionalModelConfiguration.self) {
            if let option = affine.givenOption { throw ValidationError("--\(option) applies to the affine presets (affine, affine-small), not to \(presetName)") }
            if mlp.hiddenSizes != nil { throw ValidationError("--hidden-sizes applies to MLP presets; \(presetName) is convolutional: use --encoder-convolutions, --encoder-dense and the decoder options") }
            if let option = mlp.givenPriorOption { throw ValidationError("--\(option) applies to the MLP presets; \(presetName) is convolutional") }
            mlp.apply(to: &architecture)
            try convolutional.apply(to: &architecture)
            configuration.model = .convolutional(architecture)
            try objective.apply(to: &configuration, explicitEpochs: training.epochs)
        } else if var architecture = model.architecture(as: AffineModelConfiguration.self) {
            if let option = mlp.givenOption ?? convolutional.givenOption ?? objective.givenOption { throw ValidationError("--\(option) does not apply to the affine preset \(presetName)") }
            let weight = affine.klWeight ?? configuration.klWeightPerElement
            if let size = affine.decoderHiddenSize { architecture.decoderHiddenSize = size }
            if let form = affine.transformForm { architecture.transformForm = form }
            configuration.model = .affine(architecture)
            configuration.objective.beta = weight / Float(architecture.latentSize)
        } else if var architecture = model.architecture(as: HierarchicalMLPConfiguration.self) {
            if let option = convolutional.givenOption ?? affine.givenOption ?? mlp.givenSizeOrPosteriorOption {
                throw ValidationError("--\(option) does not apply to \(presetName), a \(model.kindDescription) (\(model.kind)): its layers are set by the preset")
            }
            mlp.apply(to: &architecture)
            configuration.model = ModelSpecification(architecture)
            try objective.apply(to: &configuration, explicitEpochs: training.epochs)
        } else if var architecture = model.architecture(as: HierarchicalConvolutionalConfiguration.self) {
            if let option = mlp.givenOption ?? convolutional.givenOption ?? affine.givenOption {
                throw ValidationError("--\(option) does not apply to \(presetName), a \(model.kindDescription) (\(model.kind)): use --channels, --latent-channels, --latent-resolutions, --groups-per-resolution, --cells-per-scale, --outer-cells and --output-kernel")
            }
            try hierarchy.apply(to: &architecture)
            configuration.model = ModelSpecification(architecture)
            try objective.apply(to: &configuration, explicitEpochs: training.epochs)
        } else if var architecture = model.architecture(as: VectorQuantizedConfiguration.self) {
            if let option = mlp.givenOption ?? convolutional.givenDenseOption ?? affine.givenOption {
                throw ValidationError("--\(option) does not apply to \(presetName), a \(model.kindDescription) (\(model.kind)): use --encoder-convolutions, --decoder-convolutions, --output-convolution and the VQ-VAE options")
            }
            try convolutional.apply(to: &architecture)
            try quantization.apply(to: &architecture)
            configuration.model = ModelSpecification(architecture)
            try objective.apply(to: &configuration, explicitEpochs: training.epochs)
        } else if let option = mlp.givenOption ?? convolutional.givenOption ?? affine.givenOption {
            throw ValidationError("--\(option) does not apply to \(presetName), a \(model.kindDescription) (\(model.kind))")
        } else {
            try objective.apply(to: &configuration, explicitEpochs: training.epochs)
        }
    }

    func validate() throws {
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1, got \(blasThreads)") }
        if resume == nil {
            try data.refuseFolderOptionsWithoutAFolder()
            _ = try resolvedConfiguration()
        }
    }

    func run() throws {
        // Under mpirun every rank runs this command; rank 0 writes, the others train their shards.
        let group: MPIProcessGroup? = MPIProcessGroup.isLaunchedByMPI ? MPIProcessGroup(sumPrecision: processes.gradientSums) : nil
        defer { group?.finish() }
        do { try train(group: group) } catch let exit as ExitCode {
            throw exit  // an interrupted run (130): its checkpoint is written; the job ends normally
        } catch {
            guard let group, group.size > 1 else { throw error }
            group.abort((error as? CommandFailure)?.description ?? "\(error)")
        }
    }

    /// The samples TensorBoard shows beside the reconstructions: 32 decoded prior draws (a
    /// conditional model's class grid), the same draws every epoch; none for a VQ-VAE, whose
    /// prior is fitted after training.
    static func samplePicture(_ model: any VariationalModel) -> Picture? {
        guard !(model is any DiscreteLatentModel), let explorer = try? LatentExplorer(model: model) else { return nil }
        var generator = RandomGenerator(seed: 1)
        if case .classes = model.condition { return explorer.classSampleGrid(columns: 8, temperature: 1, scale: 2, using: &generator) }
        return explorer.priorSampleGrid(count: 32, temperature: 1, columns: 8, scale: 2, using: &generator)
    }

    func train(group: MPIProcessGroup?) throws {
        BLAS.setThreadCount(blasThreads)
        let catalog = data.catalog
        let session: TrainingSession
        let worker = group.map { $0.size > 1 && $0.rank != 0 } ?? false
        do {
            if let group, worker {
                // Rank 0 checks the folder; this rank takes rank 0's record and state, and refuses
                // options of its own that differ from them.
                session = try TrainingSession.joinGroup(group, folder: RunFolder(URL(fileURLWithPath: resume ?? out ?? ".")), catalog: catalog)
                try refuseContradictions(with: session.record.configuration, epochsMayChange: false,
                                         what: "rank \(group.rank) was given options that differ from rank 0's run")
            } else if let resume {
                // A folder without a readable record is refused by `resume` itself, in its words.
                if let recorded = try? RunFolder(URL(fileURLWithPath: resume)).readRecord() {
                    try refuseContradictions(with: recorded.configuration, epochsMayChange: true,
                                             what: "--resume \(resume) continues the run as recorded, but these options contradict its record")
                }
                session = try TrainingSession.resume(folder: RunFolder(URL(fileURLWithPath: resume)), catalog: catalog, epochs: training.epochs,
                                                     blasThreads: blasThreads, processGroup: group)
            } else {
                let configuration = try resolvedConfiguration()
                let stamp = DateFormatter()
                stamp.dateFormat = "yyyyMMdd-HHmmss"
                let folder = RunFolder(URL(fileURLWithPath: out ?? "runs/\(configuration.preset)-\(stamp.string(from: Date()))"))
                session = try TrainingSession.start(configuration: configuration, folder: folder, catalog: catalog, blasThreads: blasThreads,
                                                    processGroup: group)
            }
        } catch let error as RunError {
            throw CommandFailure(commandMessage(for: error))
        }
        if let group { session.trainer.overlapsCommunication = processes.overlaps(in: group) }
        session.samplePicture = Self.samplePicture
        // A stop signal ends the run at the next batch with a checkpoint.
        stopOnSignals()
        for note in session.notes { print("note: \(note)") }
        let reporter: any TrainingReporter = worker ? QuietReporter() : ConsoleReporter(isTerminal: isatty(STDOUT_FILENO) == 1)
        let outcome: TrainingSession.Outcome
        do {
            outcome = try session.run(reporter: reporter) { interruptRequested.load(ordering: .relaxed) }
        } catch {
            (reporter as? ConsoleReporter)?.finishLine()
            throw CommandFailure(commandMessage(for: error))
        }
        (reporter as? ConsoleReporter)?.finishLine()
        if worker { return }  // rank 0 reports and writes
        if let group, group.size > 1 {
            let trainer = session.trainer
            let buckets = trainer.gradientBuckets?.buckets.count ?? 1
            let how = trainer.overlapsCommunication ? "in \(buckets) bucket\(buckets == 1 ? "" : "s") overlapping the backward pass" : "after the backward pass"
            print(String(format: "%d processes: gradients summed in %@ (%d values per step, %@) waited %.2f s of this process's training",
                         group.size, processes.gradientSums.rawValue, trainer.optimizer.parameters.count, how, trainer.communicationSeconds))
        }
        let folder = session.folder
        switch outcome {
        case .finished:
            print("done: \(folder.url.path)")
            print("  metrics         \(folder.metrics.path)")
            print("  model           \(folder.model.path)")
            print("  reconstructions \(folder.reconstructions.path)/")
            print("  learning curves \(folder.learningCurves.path)")
            try session.trainer.withAveragedWeights { try Normalize.finishTraining(session) }
        case let .stoppedEarly(epoch, bestEpoch):
            let patience = session.trainer.configuration.patience ?? 0
            print("stopped early after epoch \(epoch): no lower validation loss for \(patience) epoch\(patience == 1 ? "" : "s")")
            print("  best model      \(folder.best.path) (epoch \(bestEpoch))")
            print("  last model      \(folder.model.path)")
            print("  metrics         \(folder.metrics.path)")
            try session.trainer.withAveragedWeights { try Normalize.finishTraining(session) }
        case let .interrupted(epoch, batch):
            print("interrupted in epoch \(epoch) after batch \(batch); checkpoint written to \(folder.checkpoint.path)")
            print("continue with: vae train --resume \(folder.url.path)")
            throw ExitCode(130)
        }
    }
}

/// Settings every preset has.
struct TrainingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Training epochs.") var epochs: Int?
    @Option(parsing: .unconditional, help: "Random seed (weights, shuffling, noise, the held-out split).") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Images per batch.") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Learning rate.") var learningRate: Float?
    @Option(help: "The optimizer.") var optimizer: OptimizerKind?
    @Option(help: "Binarisation of the pixels.") var binarization: Binarization?
    @Option(parsing: .unconditional, help: "Write the reconstruction picture every N epochs.") var imagesEvery: Int?
    @Option(help: "Matrix-multiply operands: fp32, or bf16 (fp32 accumulation, master weights, optimizer state and losses).")
    var precision: Precision?
    @Flag(help: "Condition the model on the dataset's labels (a conditional VAE: the label's one-hot joins the encoder's features and z).")
    var conditional = false
    @Option(help: "How the decoder's last bias starts: drawn (by the initializer), or data-mean (the logits of the mean training image, clipped to [0.001, 0.999], as the IWAE paper's code starts it; for the discretised logistics, each component's location at the mean level).")
    var outputBias: OutputBiasStart?
    @Option(parsing: .unconditional, help: "Hold out this share of the training images (a seeded draw) as a validation set: its loss is in metrics.csv each epoch, and the epoch of lowest validation loss is kept as best.safetensors.")
    var validationShare: Double?
    @Option(parsing: .unconditional, help: "Early stopping: end training after N epochs in a row without a lower validation loss (needs --validation-share).")
    var patience: Int?
    @Option(parsing: .unconditional, help: "Scale each step's gradient down to this L2 norm (over every parameter) when it is larger.")
    var clipGradientNorm: Float?
    @Option(parsing: .unconditional, help: "AdamW's decoupled weight decay (with --optimizer adamw; default 0.01).")
    var weightDecay: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp("Keep an exponential moving average of the weights with this decay (0.999: about the last 1,000 steps) and evaluate, draw and save it as the model; the checkpoint keeps both. none: no average (a preset's switched off).", valueName: "decay"))
    var weightAverage: WeightAverageDecay?
    @Option(help: ArgumentHelp("The learning-rate schedule: constant; step (x --schedule-factor every --schedule-step epochs); cosine (a linear warm-up over --learning-rate-warmup epochs, then half a cosine down to --minimum-learning-rate); plateau (x --schedule-factor after more than --schedule-patience epochs without a lower validation loss, or training loss without --validation-share); iwae-paper (with --schedule-stages).", valueName: "schedule"))
    var schedule: LearningRateSchedule.Kind?
    @Option(parsing: .unconditional, help: "step: the epochs between reductions (default 10).") var scheduleStep: Int?
    @Option(parsing: .unconditional, help: "step and plateau: what the rate is multiplied by (default 0.1, PyTorch's).") var scheduleFactor: Double?
    @Option(parsing: .unconditional, help: "plateau: the epochs without improvement tolerated before a reduction (default 10, PyTorch's).") var schedulePatience: Int?
    @Option(parsing: .unconditional, help: "cosine: the epochs (fractional) of the linear warm-up from 0 (default 0).") var learningRateWarmup: Double?
    @Option(parsing: .unconditional, help: "cosine and plateau: the lowest rate (default 0).") var minimumLearningRate: Float?

    /// The schedule options given, by name.
    var givenScheduleOption: String? {
        [("schedule", schedule != nil), ("schedule-step", scheduleStep != nil), ("schedule-factor", scheduleFactor != nil),
         ("schedule-patience", schedulePatience != nil), ("learning-rate-warmup", learningRateWarmup != nil),
         ("minimum-learning-rate", minimumLearningRate != nil)].first(where: \.1)?.0
    }

    /// The schedule the options make of `current` (the preset's or the record's, perhaps the IWAE
    /// paper's from --schedule-stages): --schedule picks a kind (its settings at their defaults
    /// unless given); a kind's own settings alone change `current` when it is of that kind.
    func resolvedSchedule(from current: LearningRateSchedule, stagesGiven: Bool) throws -> LearningRateSchedule {
        let kind = schedule ?? current.kind
        if stagesGiven && kind != .iwaePaper { throw ValidationError("--schedule-stages sets the IWAE paper's schedule; leave out --schedule \(kind.rawValue)") }
        let owners: [(String, Bool, [LearningRateSchedule.Kind])] = [
            ("schedule-step", scheduleStep != nil, [.step]), ("schedule-factor", scheduleFactor != nil, [.step, .plateau]),
            ("schedule-patience", schedulePatience != nil, [.plateau]), ("learning-rate-warmup", learningRateWarmup != nil, [.cosine]),
            ("minimum-learning-rate", minimumLearningRate != nil, [.cosine, .plateau])]
        for (option, given, kinds) in owners where given && !kinds.contains(kind) {
            throw ValidationError("--\(option) applies to --schedule \(kinds.map(\.rawValue).joined(separator: " or ")), not to the \(kind.rawValue) schedule")
        }
        switch (kind, current) {
        case (.constant, _): return .constant
        case (.iwaePaper, .iwaePaper): return current
        case (.iwaePaper, _): throw ValidationError("--schedule iwae-paper takes its length from --schedule-stages N (1...8)")
        case let (.step, .step(every, factor)): return .step(every: scheduleStep ?? every, factor: scheduleFactor ?? factor)
        case (.step, _): return .step(every: scheduleStep ?? 10, factor: scheduleFactor ?? 0.1)
        case let (.cosine, .cosine(warmup, minimum)): return .cosine(warmupEpochs: learningRateWarmup ?? warmup, minimum: minimumLearningRate ?? minimum)
        case (.cosine, _): return .cosine(warmupEpochs: learningRateWarmup ?? 0, minimum: minimumLearningRate ?? 0)
        case let (.plateau, .plateau(factor, patience, minimum)):
            return .plateau(factor: scheduleFactor ?? factor, patience: schedulePatience ?? patience, minimum: minimumLearningRate ?? minimum)
        case (.plateau, _): return .plateau(factor: scheduleFactor ?? 0.1, patience: schedulePatience ?? 10, minimum: minimumLearningRate ?? 0)
        }
    }

    func apply(to configuration: inout TrainingConfiguration) {
        if let validationShare { configuration.validationShare = validationShare }
        if let patience { configuration.patience = patience }
        if let clipGradientNorm { configuration.gradientClipNorm = clipGradientNorm }
        if let weightDecay { configuration.weightDecay = weightDecay }
        if let weightAverage { configuration.weightAverage = weightAverage.decay }
        if let epochs { configuration.epochs = epochs }
        if let seed { configuration.seed = seed }
        if let batchSize { configuration.batchSize = batchSize }
        if let learningRate { configuration.learningRate = learningRate }
        if let optimizer { configuration.optimizer = optimizer }
        if let binarization { configuration.binarization = binarization }
        if let imagesEvery { configuration.imagesEvery = imagesEvery }
        if let precision { configuration.precision = precision }
        if let outputBias { configuration.outputBias = outputBias }
    }
}

/// A convolutional VAE's layers (see `ConvolutionalModelConfiguration`).
struct ConvolutionalOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Encoder convolutions, comma-separated channels:kernel:stride:padding, e.g. 32:3:2:1,64:3:2:1.")
    var encoderConvolutions: String?
    @Option(parsing: .unconditional, help: "Encoder dense sizes after the flatten, comma-separated (empty: none), e.g. 16.") var encoderDense: String?
    @Option(parsing: .unconditional, help: "Decoder dense sizes before the projection to the starting grid, comma-separated (empty: none).") var decoderDense: String?
    @Option(parsing: .unconditional, help: "Channels of the decoder's starting grid (its size follows from the layers).") var decoderChannels: Int?
    @Option(parsing: .unconditional, help: "Decoder transposed convolutions, channels:kernel:stride:padding, e.g. 64:3:2:1,32:3:2:1 (output paddings are derived).")
    var decoderConvolutions: String?
    @Option(parsing: .unconditional, help: "The output transposed convolution to the image's channels, kernel:stride:padding, e.g. 3:1:1.") var outputConvolution: String?

    var givenOption: String? {
        [("encoder-convolutions", encoderConvolutions != nil), ("encoder-dense", encoderDense != nil), ("decoder-dense", decoderDense != nil),
         ("decoder-channels", decoderChannels != nil), ("decoder-convolutions", decoderConvolutions != nil),
         ("output-convolution", outputConvolution != nil)].first(where: \.1)?.0
    }

    func validate() throws {
        var configuration = ConvolutionalModelConfiguration.kerasExample(latentSize: 2)
        try apply(to: &configuration)
    }

    static func layers(_ text: String, option: String) throws -> [ConvolutionLayer] {
        guard let layers = ConvolutionLayer.list(text) else {
            throw ValidationError("--\(option) takes comma-separated channels:kernel:stride:padding such as 32:3:2:1,64:3:2:1; got '\(text)'")
        }
        return layers
    }

    static func sizes(_ text: String, option: String) throws -> [Int] {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        let sizes = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard sizes.allSatisfy({ $0 != nil }) else { throw ValidationError("--\(option) takes comma-separated integers such as 16 or 512,256; got '\(text)'") }
        return sizes.map { $0! }
    }

    /// An option of the dense layers and the decoder's starting grid (which a VQ-VAE has not).
    var givenDenseOption: String? {
        [("encoder-dense", encoderDense != nil), ("decoder-dense", decoderDense != nil), ("decoder-channels", decoderChannels != nil)].first(where: \.1)?.0
    }

    /// The convolutions of a VQ-VAE: the encoder's, the decoder's and the output's.
    func apply(to model: inout VectorQuantizedConfiguration) throws {
        if let encoderConvolutions { model.encoderConvolutions = try Self.layers(encoderConvolutions, option: "encoder-convolutions") }
        if let decoderConvolutions { model.decoderConvolutions = try Self.layers(decoderConvolutions, option: "decoder-convolutions") }
        if let outputConvolution { model.outputConvolution = try Self.outputLayer(outputConvolution, channels: model.imageShape.channels) }
    }

    static func outputLayer(_ text: String, channels: Int) throws -> ConvolutionLayer {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, parts.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--output-convolution takes kernel:stride:padding such as 3:1:1; got '\(text)'")
        }
        return ConvolutionLayer(channels: channels, kernel: parts[0]!, stride: parts[1]!, padding: parts[2]!)
    }

    func apply(to model: inout ConvolutionalModelConfiguration) throws {
        if let encoderConvolutions { model.encoderConvolutions = try Self.layers(encoderConvolutions, option: "encoder-convolutions") }
        if let encoderDense { model.encoderDenseSizes = try Self.sizes(encoderDense, option: "encoder-dense") }
        if let decoderDense { model.decoderDenseSizes = try Self.sizes(decoderDense, option: "decoder-dense") }
        if let decoderChannels { model.decoderChannels = decoderChannels }
        if let decoderConvolutions { model.decoderConvolutions = try Self.layers(decoderConvolutions, option: "decoder-convolutions") }
        if let outputConvolution { model.outputConvolution = try Self.outputLayer(outputConvolution, channels: model.imageShape.channels) }
    }
}

/// The MLP VAE's architecture.
struct MLPOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Latent dimensions.") var latentSize: Int?
    @Option(parsing: .unconditional, help: "Hidden layer sizes of the encoder, comma-separated (the decoder mirrors them), e.g. 500,500.") var hiddenSizes: String?
    @Option(help: "The hidden layers' activation.") var activation: Activation?
    @Option(help: "How the encoder gives the spread.") var varianceHead: VarianceHead?
    @Option(help: ArgumentHelp("The MLP layers' units: dense, or gated (activation(h) x sigmoid(g), two linear maps per layer, as the VampPrior paper's models have them).", valueName: "unit"))
    var hiddenUnit: HiddenUnit?
    @Option(help: ArgumentHelp("The prior p(z) of an MLP model (of the top group of a hierarchical one): normal (N(0, I)), mog (an equally weighted mixture of --prior-components Gaussians with learned means and variances, default 10), or vamp (the VampPrior: the posterior at --prior-components learned pseudo-inputs, default 500). A learned prior's KL is estimated by Monte Carlo.", valueName: "prior"))
    var prior: PriorSettings.Kind?
    @Option(parsing: .unconditional, help: "The components of a mog prior, or the pseudo-inputs of a vamp prior.") var priorComponents: Int?
    @Option(help: ArgumentHelp("The posterior q(z | x) of an MLP model: gaussian, or iaf (the Gaussian through --flow-steps inverse autoregressive flow steps, Kingma et al. 2016; its KL is estimated by Monte Carlo).", valueName: "posterior"))
    var posterior: PosteriorSettings.Kind?
    @Option(parsing: .unconditional, help: "An IAF posterior's steps (default 2).") var flowSteps: Int?
    @Option(parsing: .unconditional, help: "An IAF step's hidden units, and the width of the encoder's context (default 4 x the latent size, at least 64).") var flowHidden: Int?
    @Option(help: ArgumentHelp("How the model's weights and biases start: pytorch (PyTorch's default: both uniform in ±1/sqrt(fan-in)), glorot (Glorot uniform, zero biases: Keras's and TensorFlow's default, as disentanglement_lib's models start), or he (He normal weights, the VampPrior paper's). Default: the preset's.", valueName: "initializer"))
    var initializer: Initializer?

    var givenOption: String? {
        [("latent-size", latentSize != nil), ("hidden-sizes", hiddenSizes != nil), ("activation", activation != nil),
         ("variance-head", varianceHead != nil), ("hidden-unit", hiddenUnit != nil), ("prior", prior != nil), ("prior-components", priorComponents != nil),
         ("posterior", posterior != nil), ("flow-steps", flowSteps != nil), ("flow-hidden", flowHidden != nil),
         ("initializer", initializer != nil)].first(where: \.1)?.0
    }

    /// The options of the MLP kinds alone (prior, posterior, units), when given.
    var givenPriorOption: String? {
        [("prior", prior != nil), ("prior-components", priorComponents != nil), ("hidden-unit", hiddenUnit != nil), ("posterior", posterior != nil),
         ("flow-steps", flowSteps != nil), ("flow-hidden", flowHidden != nil)].first(where: \.1)?.0
    }

    /// The options a hierarchical MLP does not take (its sizes are per layer; its posterior is Gaussian), when given.
    var givenSizeOrPosteriorOption: String? {
        [("latent-size", latentSize != nil), ("hidden-sizes", hiddenSizes != nil), ("posterior", posterior != nil), ("flow-steps", flowSteps != nil),
         ("flow-hidden", flowHidden != nil)].first(where: \.1)?.0
    }

    func validate() throws {
        _ = try sizes()
        if let priorComponents, !(1...10_000).contains(priorComponents) { throw ValidationError("--prior-components must be 1...10000, got \(priorComponents)") }
        if priorComponents != nil && (prior == nil || prior == .normal) { throw ValidationError("--prior-components goes with --prior mog or --prior vamp") }
        if (flowSteps != nil || flowHidden != nil) && posterior != .iaf { throw ValidationError("--flow-steps and --flow-hidden go with --posterior iaf") }
    }

    func sizes() throws -> [Int]? {
        guard let hiddenSizes else { return nil }
        let sizes = hiddenSizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--hidden-sizes must be comma-separated integers such as 400 or 500,500; got '\(hiddenSizes)'")
        }
        return sizes.map { $0! }
    }

    /// The options a convolutional model shares with the MLP (all but --hidden-sizes and the MLP's own).
    func apply(to model: inout ConvolutionalModelConfiguration) {
        if let initializer { model.initializer = initializer.rawValue }
        if let latentSize { model.latentSize = latentSize }
        if let activation { model.activation = activation }
        if let varianceHead { model.varianceHead = varianceHead }
    }

    /// The options a hierarchical MLP shares with the MLP: the start, the activation, the heads, the units and the prior.
    func apply(to model: inout HierarchicalMLPConfiguration) {
        if let initializer { model.initializer = initializer.rawValue }
        if let activation { model.activation = activation }
        if let varianceHead { model.varianceHead = varianceHead }
        if let hiddenUnit { model.hiddenUnit = hiddenUnit }
        if let prior { model.prior = PriorSettings(kind: prior, components: priorComponents) }
    }

    func apply(to model: inout MLPConfiguration) {
        if let initializer { model.initializer = initializer.rawValue }
        if let latentSize { model.latentSize = latentSize }
        if let sizes = try? sizes() { model.hiddenSizes = sizes }
        if let activation { model.activation = activation }
        if let varianceHead { model.varianceHead = varianceHead }
        if let hiddenUnit { model.hiddenUnit = hiddenUnit }
        if let prior { model.prior = PriorSettings(kind: prior, components: priorComponents) }
        if let posterior {
            model.posterior = posterior == .gaussian ? .gaussian : .iaf(steps: flowSteps ?? 2, hiddenSize: flowHidden ?? max(64, 4 * model.latentSize))
        }
    }
}

/// The decoder's likelihood p(x | z), for any kind whose decoder can give it.
struct LikelihoodOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The decoder's likelihood: bernoulli (on logits), gaussian (fixed variance 1/2), gaussian-learned (a learned variance), discretised-logistic (PixelCNN++'s, for 8-bit images), logistic-mixture (of --mixture-components logistics with channel coupling).", valueName: "likelihood"))
    var likelihood: Likelihood.Name?
    @Option(parsing: .unconditional, help: "Components of --likelihood logistic-mixture (default 10).") var mixtureComponents: Int?
    @Option(help: "What shares a learned variance with --likelihood gaussian-learned (default pixel).") var learnedVariance: LearnedVariance?

    func validate() throws { _ = try chosen() }

    /// The likelihood asked for, or nil.
    func chosen() throws -> Likelihood? {
        if mixtureComponents != nil && likelihood != .logisticMixture { throw ValidationError("--mixture-components applies to --likelihood logistic-mixture") }
        if learnedVariance != nil && likelihood != .gaussianLearned { throw ValidationError("--learned-variance applies to --likelihood gaussian-learned") }
        guard let likelihood else { return nil }
        let chosen = Likelihood(likelihood, components: mixtureComponents, variance: learnedVariance)
        if let problem = chosen.problems.first { throw ValidationError(OptionNames.message(problem)) }
        return chosen
    }
}

/// What is minimised beyond the plain ELBO.
struct ObjectiveOptions: ParsableArguments {
    @Option(help: "elbo, iwae (the importance-weighted bound with --samples k), beta-tcvae (the KL split into mutual information, total correlation weighted by --beta, and dimension-wise KL), dip-vae (the ELBO and DIP-VAE's covariance penalty), annealed-vae (--beta times |KL - C|, the capacity C rising to --capacity), or factor-vae (the ELBO and --gamma times a discriminator's estimate of the total correlation).")
    var objective: ObjectiveSettings.Kind?
    @Option(parsing: .unconditional, help: "Importance samples k per image for --objective iwae.") var samples: Int?
    @Option(parsing: .unconditional, help: "KL weight beta (beta-VAE); 1 is the ELBO.") var beta: Float?
    @Option(parsing: .unconditional, help: "Raise the KL weight linearly from 0 to beta over this many epochs.") var warmupEpochs: Int?
    @Option(parsing: .unconditional, help: "Free bits: at least this many nats of KL per latent dimension go unpenalised (batch mean).") var freeBits: Float?
    @Flag(inversion: .prefixedNo, help: "Balance the latent groups' KLs during the warm-up (NVAE's KL balancing; needs --warmup-epochs).")
    var klBalancing: Bool?
    @Option(parsing: .unconditional, help: "beta-tcvae: the weight of the index-code mutual information (default 1).") var alpha: Float?
    @Option(parsing: .unconditional, help: "beta-tcvae: the weight of the dimension-wise KL (default 1); factor-vae: the weight of the total correlation (the paper's 35 for dSprites).") var gamma: Float?
    @Option(help: "beta-tcvae: how q(z) is estimated from the batch, mss (minibatch-stratified, the default) or mws (minibatch-weighted).")
    var tcEstimator: TotalCorrelationEstimator?
    @Option(help: "dip-vae: i (the covariance of the posterior means, the default) or ii (of the aggregate posterior).") var dipVariant: DIPVariant?
    @Option(parsing: .unconditional, help: "dip-vae: lambda_od, the weight of the off-diagonal covariances (default 10).") var lambdaOd: Float?
    @Option(parsing: .unconditional, help: "dip-vae: lambda_d / lambda_od (default 10).") var lambdaDFactor: Float?
    @Option(parsing: .unconditional, help: "annealed-vae: the capacity C in nats (default 25).") var capacity: Float?
    @Option(parsing: .unconditional, help: "annealed-vae: the epochs over which C rises from 0 (fractional; default 1).") var capacityEpochs: Double?
    @Option(parsing: .unconditional, help: "factor-vae: the discriminator's hidden layers (default 6).") var discriminatorLayers: Int?
    @Option(parsing: .unconditional, help: "factor-vae: the discriminator's units per hidden layer (default 1000).") var discriminatorUnits: Int?
    @Option(parsing: .unconditional, help: "factor-vae: the discriminator's Adam learning rate (default 0.0001; betas 0.5 and 0.9).") var discriminatorLearningRate: Float?
    @Option(help: "factor-vae: whose codes the discriminator sees shuffled: same-batch (the batch's own, disentanglement_lib's; the default) or previous-batch (another batch's, as Kim & Mnih's Algorithm 2).")
    var discriminatorShuffle: DiscriminatorShuffle?
    @Option(help: ArgumentHelp("factor-vae: how the discriminator's weights and biases start: pytorch (PyTorch's default; the default), glorot (Glorot uniform, zero biases, as TensorFlow's dense layers in disentanglement_lib start) or he (He normal weights).", valueName: "initializer"))
    var discriminatorInitializer: Initializer?
    @Option(help: "The IWAE paper's learning-rate schedule with this many stages (3^i epochs at rate x 10^(-i/7), i < N); sets the epochs.")
    var scheduleStages: Int?

    var givenOption: String? {
        [("objective", objective != nil), ("samples", samples != nil), ("beta", beta != nil), ("warmup-epochs", warmupEpochs != nil),
         ("free-bits", freeBits != nil), ("kl-balancing", klBalancing != nil), ("alpha", alpha != nil), ("gamma", gamma != nil),
         ("tc-estimator", tcEstimator != nil), ("dip-variant", dipVariant != nil), ("lambda-od", lambdaOd != nil), ("lambda-d-factor", lambdaDFactor != nil),
         ("capacity", capacity != nil), ("capacity-epochs", capacityEpochs != nil), ("schedule-stages", scheduleStages != nil),
         ("discriminator-layers", discriminatorLayers != nil), ("discriminator-units", discriminatorUnits != nil),
         ("discriminator-learning-rate", discriminatorLearningRate != nil), ("discriminator-shuffle", discriminatorShuffle != nil),
         ("discriminator-initializer", discriminatorInitializer != nil)].first(where: \.1)?.0
    }

    func apply(to configuration: inout TrainingConfiguration, explicitEpochs: Int?) throws {
        if let objective { configuration.objective.kind = objective }
        if let samples { configuration.objective.samples = samples }
        if let beta { configuration.objective.beta = beta }
        if let warmupEpochs { configuration.objective.warmupEpochs = warmupEpochs }
        if let freeBits { configuration.objective.freeBits = freeBits }
        if let klBalancing { configuration.objective.klBalancing = klBalancing }
        if let alpha { configuration.objective.alpha = alpha }
        if let gamma { configuration.objective.gamma = gamma }
        if let tcEstimator { configuration.objective.estimator = tcEstimator }
        if let dipVariant { configuration.objective.dipVariant = dipVariant }
        if let lambdaOd { configuration.objective.lambdaOffDiagonal = lambdaOd }
        if let lambdaDFactor { configuration.objective.lambdaDiagonalFactor = lambdaDFactor }
        if let capacity { configuration.objective.capacity = capacity }
        if let capacityEpochs { configuration.objective.capacityEpochs = capacityEpochs }
        if let discriminatorLayers { configuration.objective.discriminatorLayers = discriminatorLayers }
        if let discriminatorUnits { configuration.objective.discriminatorUnits = discriminatorUnits }
        if let discriminatorLearningRate { configuration.objective.discriminatorLearningRate = discriminatorLearningRate }
        if let discriminatorShuffle { configuration.objective.discriminatorShuffle = discriminatorShuffle }
        if let discriminatorInitializer { configuration.objective.discriminatorInitializer = discriminatorInitializer }
        if let scheduleStages {
            guard (1...8).contains(scheduleStages) else { throw ValidationError("--schedule-stages must be 1...8, got \(scheduleStages)") }
            configuration.schedule = .iwaePaper(stages: scheduleStages)
            if let explicitEpochs, explicitEpochs != configuration.schedule.epochs {
                throw ValidationError("--schedule-stages \(scheduleStages) takes \(configuration.schedule.epochs!) epochs; leave out --epochs \(explicitEpochs)")
            }
            configuration.epochs = configuration.schedule.epochs!
        }
    }
}

/// The hierarchical conv kind's own settings (see `HierarchicalConvolutionalConfiguration`).
struct HierarchyOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Hidden channels of both towers.") var channels: Int?
    @Option(parsing: .unconditional, help: "Channels of every latent group.") var latentChannels: Int?
    @Option(parsing: .unconditional, help: "The latent groups' resolutions, top (coarsest) first, each dividing the image size by a power of two, e.g. 4,8,16.")
    var latentResolutions: String?
    @Option(parsing: .unconditional, help: "Latent groups at each resolution, e.g. 1,1,2.") var groupsPerResolution: String?
    @Option(parsing: .unconditional, help: "Residual cells per scale and per group in both towers, at and between the latent resolutions.") var cellsPerScale: Int?
    @Option(parsing: .unconditional, help: "Residual cells per scale at the scales finer than the finest latent resolution, in both towers.") var outerCells: Int?
    @Option(parsing: .unconditional, help: "The output convolution's kernel (odd: 1, 3, ...).") var outputKernel: Int?

    var givenOption: String? {
        [("channels", channels != nil), ("latent-channels", latentChannels != nil), ("latent-resolutions", latentResolutions != nil),
         ("groups-per-resolution", groupsPerResolution != nil), ("cells-per-scale", cellsPerScale != nil), ("outer-cells", outerCells != nil),
         ("output-kernel", outputKernel != nil)].first(where: \.1)?.0
    }

    func apply(to model: inout HierarchicalConvolutionalConfiguration) throws {
        if let channels { model.channels = channels }
        if let latentChannels { model.latentChannels = latentChannels }
        if let latentResolutions { model.latentResolutions = try parseIntegers(latentResolutions, option: "latent-resolutions") }
        if let groupsPerResolution { model.groupsPerResolution = try parseIntegers(groupsPerResolution, option: "groups-per-resolution") }
        if let cellsPerScale { model.cellsPerScale = cellsPerScale }
        if let outerCells { model.outerCells = outerCells }
        if let outputKernel { model.outputKernel = outputKernel }
    }
}

/// The VQ-VAE kind's own settings.
struct QuantizationOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "K, the codes in the codebook.") var codebookSize: Int?
    @Option(parsing: .unconditional, help: "D, the values per code (the channels of the encoder's grid).") var codeDimension: Int?
    @Option(parsing: .unconditional, help: "beta, the commitment loss's weight.") var commitment: Float?
    @Option(help: ArgumentHelp("How the codebook learns: ema (exponential moving averages of the encoder outputs assigned to each code) or loss (the codebook loss, by the optimizer).", valueName: "rule"))
    var codebookUpdate: CodebookUpdate?
    @Option(parsing: .unconditional, help: "The moving averages' decay, in [0, 1).") var codebookDecay: Float?
    @Option(parsing: .unconditional, help: "Restart a code used by fewer encoder outputs per batch than this (as a moving average) at a poorly quantised output; 0 never restarts.")
    var deadCodeThreshold: Float?

    var givenOption: String? {
        [("codebook-size", codebookSize != nil), ("code-dimension", codeDimension != nil), ("commitment", commitment != nil),
         ("codebook-update", codebookUpdate != nil), ("codebook-decay", codebookDecay != nil), ("dead-code-threshold", deadCodeThreshold != nil)].first(where: \.1)?.0
    }

    func apply(to model: inout VectorQuantizedConfiguration) throws {
        if let codebookSize { model.codebookSize = codebookSize }
        if let codeDimension { model.codeDimension = codeDimension }
        if let commitment { model.commitment = commitment }
        if let codebookUpdate { model.codebookUpdate = codebookUpdate }
        if let codebookDecay { model.decay = codebookDecay }
        if let deadCodeThreshold { model.deadCodeThreshold = deadCodeThreshold }
    }
}

/// The affine kind's own settings.
struct AffineOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "The coordinate decoder's hidden size H.") var decoderHiddenSize: Int?
    @Option(parsing: .unconditional, help: "The weight on the per-element mean KL (the preset's by default).") var klWeight: Float?
    @Option(help: "How the transform acts: column (A [u v 1]^T, with translation) or row (the design's code).") var transformForm: AffineForm?

    var givenOption: String? {
        [("decoder-hidden-size", decoderHiddenSize != nil), ("kl-weight", klWeight != nil), ("transform-form", transformForm != nil)].first(where: \.1)?.0
    }

    func validate() throws {
        if let klWeight, !(klWeight >= 0 && klWeight.isFinite) { throw ValidationError("--kl-weight must be a number >= 0, got \(klWeight)") }
    }
}

/// A user-facing failure: the message is printed as `error: ...` and the exit status is 1.
/// How the processes of an mpirun job sum their gradients. Neither changes the run's record: like
/// the thread count, they may differ between a run and its resumption.
struct ProcessOptions: ParsableArguments {
    @Option(help: "The number format gradients are summed in across processes: fp32, or bf16, which sends half the bytes and rounds each process's gradients and every partial sum to bfloat16 (about 3 significant digits).")
    var gradientSums: Precision = .fp32
    @Option(help: "Sum each bucket of gradients as soon as the backward pass has finished it, overlapping communication with computation (on), or all of them in one call after it (off); auto: on when the processes span several machines, off on one, where a sum is a memory copy that the handing-over would only delay.")
    var overlap: Overlap = .auto

    enum Overlap: String, ExpressibleByArgument, CaseIterable { case auto, on, off }

    /// Whether `group` sums gradients during the backward pass.
    func overlaps(in group: MPIProcessGroup) -> Bool {
        switch overlap {
        case .on: true
        case .off: false
        case .auto: !group.isOneMachine
        }
    }
}

/// The reporter of an mpirun rank other than 0: rank 0 speaks for the job.
final class QuietReporter: TrainingReporter {
    func started(_ session: TrainingSession) {}
    func batch(epoch: Int, done: Int, total: Int, runningLoss: Double) {}
    func epochFinished(_ row: MetricsRow, figures: [(name: String, value: Double)], session: TrainingSession) {}
}

/// Progress on the console: a bar with rate and ETA on a terminal, one line per epoch otherwise.
final class ConsoleReporter: TrainingReporter {
    let isTerminal: Bool
    private var epochStarted = Date()
    private var lastDraw = Date.distantPast
    private var barShown = false
    private var collapseWatch = CollapseWatch()

    init(isTerminal: Bool) { self.isTerminal = isTerminal }

    func started(_ session: TrainingSession) {
        let configuration = session.trainer.configuration
        print("training \(configuration.preset): \(configuration.model.summary), \(session.trainer.model.parameterCount) parameters")
        print("data \(session.datasetReport)")
        let validation = session.trainer.validation.map { " / \($0.count) validation" } ?? ""
        print("\(session.trainer.train.count) train\(validation) / \(session.trainer.test.count) test images, binarisation \(configuration.binarization.rawValue); \(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), \(configuration.epochs) epoch\(configuration.epochs == 1 ? "" : "s"), seed \(configuration.seed), \(configuration.precision.rawValue)")
        if configuration.objective != .elbo || configuration.schedule != .constant {
            print("objective \(session.trainer.objective.summary); learning-rate schedule \(configuration.schedule.summary)")
        }
        if configuration.outputBias == .dataMean && session.resumedFrom == nil {
            print("output bias started at the mean training image (data-mean)")
        }
        if let estimators = session.record.klEstimators, estimators.values.contains(KLEstimator.monteCarlo.rawValue) {
            let groups = session.trainer.model.latentGroups.map(\.name)
            print("KL estimated by " + groups.map { "\($0): \(estimators[$0] ?? "?")" }.joined(separator: ", ") + " (a learned prior or a flow posterior has no closed-form KL; recorded in config.json)")
        }
        print(BLAS.tuneForProcessor() + ", \(BLAS.threadCount) thread\(BLAS.threadCount == 1 ? "" : "s")"
              + (configuration.model.kind == ConvolutionalModelConfiguration.kind ? "; oneDNN \(OneDNN.threadCount) OpenMP thread\(OneDNN.threadCount == 1 ? "" : "s"), \(OneDNN.waitPolicyDescription)" : ""))
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

    func epochFinished(_ row: MetricsRow, figures: [(name: String, value: Double)], session: TrainingSession) {
        finishLine()
        var line = String(format: "epoch %3d  train %.2f  test %.2f (z = mu %.2f)  recon %.2f  kl %.2f  %.2f s  %.0f images/s",
                          row.epoch, row.trainLoss, row.testLoss, row.testLossMean, row.reconstruction, row.kl, row.seconds, row.imagesPerSecond)
        if let loss = row.extra["validation_loss"] {
            line += String(format: "  validation %.2f", loss)
            if session.trainer.monitor.bestEpoch == row.epoch { line += " (best)" }
        }
        if !figures.isEmpty { line += "  validation " + figures.map { String(format: "%@ %.5g", $0.name, $0.value) }.joined(separator: ", ") }
        if session.trainer.configuration.schedule != .constant, let rate = row.extra["learning_rate"] { line += String(format: "  lr %.3g", rate) }
        if let norm = row.extra["gradient_norm"], let share = row.extra["clipped_share"] {
            line += String(format: "  gradient norm %.3g (%.0f%% clipped)", norm, share * 100)
        }
        print(line)
        let trainer = session.trainer
        let groups = trainer.model.latentGroups
        let groupKL = groups.count > 1 ? groups.compactMap { row.extra["test_kl_" + MetricsRow.columnName($0.name)] } : nil
        let warning = withoutGradients { CollapseCheck.warning(model: trainer.model, test: trainer.test, testKL: row.testKL, groupKL: groupKL, epoch: row.epoch) }
        if let line = collapseWatch.observe(warning, epoch: row.epoch) { print(line) }
        fflush(nil)  // one line per epoch, also when the output is a pipe or a file
    }

    func finishLine() {
        if barShown {
            print("\r" + String(repeating: " ", count: 100) + "\r", terminator: "")
            barShown = false
        }
    }
}
