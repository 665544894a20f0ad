import Datasets
import Foundation
import NN
import Optimizers
import TensorCore

/// Training stopped because the loss stopped being a finite number.
public struct NonFiniteLossError: Error, LocalizedError, Equatable {
    /// The epoch (from 1).
    public let epoch: Int
    /// The batch within the epoch (from 1).
    public let batch: Int
    /// The loss's value (NaN or ±inf).
    public let value: Float
    /// The setting whose change may help.
    public var hint: Setting { .learningRate }
    /// Where it happened and a hint.
    public var errorDescription: String? {
        "the training loss became \(value) at epoch \(epoch), batch \(batch); a lower \(hint.name.replacingOccurrences(of: "the ", with: "")) may help"
    }
}

/// Why a trainer cannot be made from what a caller gave it.
public enum TrainerSetupError: Error, LocalizedError, Equatable {
    /// The configuration breaks a rule.
    case invalidConfiguration(ConfigurationProblem)
    /// The images are not of the shape the model draws.
    case imageShape(expected: ImageShape, train: ImageShape, test: ImageShape)
    /// A conditional model was given images without labels, or labels beyond its classes.
    case labels(String)
    /// The images do not fit the likelihood (values that are not 8-bit levels).
    case data(ConfigurationProblem)

    /// What is wrong and what was expected.
    public var errorDescription: String? {
        switch self {
        case let .invalidConfiguration(problem): "invalid training configuration: \(problem.message)"
        case let .imageShape(expected, train, test):
            "the model draws \(expected) images, but the training images are \(train) and the test images \(test)"
        case let .labels(problem): problem
        case let .data(problem): problem.message
        }
    }
}

/// Where training stands: enough to continue an interrupted run with the same numbers.
/// Saved inside the training checkpoint.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Epochs finished.
    public var completedEpochs = 0
    /// Batches finished within the epoch in progress (0 at an epoch boundary).
    public var batchesDone = 0
    /// The generator at the start of the epoch in progress (the shuffle is drawn from it).
    public var epochStartGenerator: [UInt64]
    /// The generator now.
    public var generator: [UInt64]
    /// Running sums over the epoch in progress, for its averages.
    public var reconstructionSum = 0.0
    /// Σ of the per-image KL so far (every group).
    public var klSum = 0.0
    /// Images trained on so far.
    public var imagesSeen = 0
    /// Training seconds so far.
    public var secondsSoFar = 0.0
    /// Running sums of the model's own loss terms (unweighted, one value per batch), by name.
    public var extraSums: [String: Double]?
    /// Running sums of each latent group's KL, by name (a model of several groups only).
    public var groupKLSums: [String: Double]?
    /// With gradient clipping: the sum of the steps' gradient norms (before clipping) so far.
    public var gradientNormSum: Double?
    /// With gradient clipping: the steps whose gradient was scaled down so far.
    public var clippedSteps: Int?
    /// The best epoch, early stopping and the plateau schedule's state (nil: before the first
    /// epoch ended, or a checkpoint written before monitors existed).
    public var monitor: TrainingMonitor?

    /// Adds one batch's figures (summed over every process) for `images` images.
    mutating func add(_ figures: BatchFigures, images: Int) {
        reconstructionSum += figures.reconstruction
        klSum += figures.totalKL
        for (name, value) in figures.modelTerms { extraSums = (extraSums ?? [:]).merging([name: value], uniquingKeysWith: +) }
        if figures.kl.count > 1 {
            for group in figures.kl { groupKLSums = (groupKLSums ?? [:]).merging([group.name: group.value], uniquingKeysWith: +) }
        }
        imagesSeen += images
        batchesDone += 1
    }

    /// The epoch's mean loss per image so far (reconstruction + KL).
    public var runningLoss: Double { (reconstructionSum + klSum) / Double(max(imagesSeen, 1)) }
}

/// The figures of one finished training epoch (train part; evaluation is separate).
public struct EpochSummary: Sendable {
    /// The epoch (from 1).
    public let epoch: Int
    /// Mean per-image negative ELBO (reconstruction + KL) over the epoch's batches, as the
    /// PyTorch example prints it.
    public let loss: Double
    /// The reconstruction term's mean per image.
    public let reconstruction: Double
    /// The KL term's mean per image (every group).
    public let kl: Double
    /// Each latent group's KL, mean per image, by name (a model of several groups only).
    public let groupKL: [String: Double]
    /// The epoch's training seconds.
    public let seconds: Double
    /// Training throughput.
    public let imagesPerSecond: Double
    /// The model's own loss terms (unweighted), mean per batch, by name (the affine kind's classifier).
    public let extraTerms: [String: Double]
    /// The learning rate of the epoch's last step.
    public let learningRate: Double
    /// With gradient clipping: the mean gradient norm (before clipping) and the share of the
    /// steps that were clipped.
    public let gradientClipping: (meanNorm: Double, clippedShare: Double)?
}

/// Trains any `VariationalModel` by minibatch gradient descent on an `Objective`, one epoch at a
/// time, with a single seeded generator for the shuffle, the binarisation draws and the
/// reparameterisation noise. With a validation share, that share of the training images (from
/// one seeded permutation) is held out of training.
public final class Trainer {
    /// The run's configuration.
    public let configuration: TrainingConfiguration
    /// The model trained.
    public let model: any VariationalModel
    /// What is minimised (made from the configuration unless given).
    public let objective: any Objective
    /// The optimizer over the model's parameters.
    public let optimizer: any Optimizer
    /// Training images as the model sees them (already binarised unless binarisation is dynamic).
    public let train: ImageDataset
    /// The held-out share of the training images (nil without a validation share), as read.
    public let validation: ImageDataset?
    /// The held-out images as evaluated: binarised as the test images are.
    public let validationEvaluated: ImageDataset?
    /// Test images as evaluated (binarised once, with a fixed draw for dynamic binarisation).
    public let test: ImageDataset
    /// Where training stands (epochs, batches, generator), as a checkpoint saves it.
    public private(set) var progress: TrainingProgress
    /// The run's random stream (shuffles, binarisation, ε).
    private let noise: NoiseSource
    /// Wall seconds spent in `optimizer.step()` so far (for benchmarks).
    public var optimizerSeconds = 0.0
    /// The processes training this model together (nil: this process alone). See `ProcessGroup`.
    public let processGroup: (any ProcessGroup)?
    /// Wall seconds spent summing gradients across the group so far, beyond what overlapped the
    /// backward pass (for benchmarks).
    public var communicationSeconds = 0.0
    /// With a process group: whether gradients are summed in buckets started during the backward
    /// pass (`GradientBuckets`, the default) or in one sum after it.
    public var overlapsCommunication = true
    /// The gradient buckets of a process group (nil without one).
    package private(set) var gradientBuckets: GradientBuckets?
    /// The figures of the last optimizer step (for a per-step log).
    public private(set) var lastStep = StepFigures()
    /// The parameters' moving average, with `configuration.weightAverage` (nil without).
    /// `model` always holds the live weights the optimizer trains; `withAveragedWeights` lends
    /// it the average.
    public let weightAverage: WeightAverage?

    /// One optimizer step's figures.
    public struct StepFigures: Equatable, Sendable {
        /// The step's number over the whole run, from 1.
        public var step = 0
        /// The batch's mean loss per image (reconstruction + KL), as `train_loss` averages it.
        public var loss = 0.0
        /// The learning rate the step used.
        public var learningRate: Float = 0
        /// The gradient's norm before clipping (nil without clipping).
        public var gradientNorm: Float?
    }

    /// A fresh model from the configuration's seed. `train` and `test` hold values in [0, 1] of
    /// the model's image shape (labelled, for a conditional model). Throws when the configuration
    /// is invalid or the images do not fit the model or its likelihood.
    ///
    /// With a `processGroup` of N > 1 processes, each built from the same configuration and data,
    /// every process draws the same shuffle and noise from the same seed, takes its shard
    /// (`ProcessGroup.shard`) of each global batch, and the gradients are summed before the
    /// optimizer step, so the N processes train one model, the one a single process would train
    /// up to the order of floating-point sums. Objectives whose batch loss is not a sum over
    /// images (free bits, IWAE's k-sample draws) are refused with N > 1.
    public init(configuration: TrainingConfiguration, train: ImageDataset, test: ImageDataset,
                processGroup: (any ProcessGroup)? = nil, objective: (any Objective)? = nil) throws(TrainerSetupError) {
        if let problem = configuration.problems.first { throw .invalidConfiguration(problem) }
        let trainingImages = train.count - Int((Double(train.count) * configuration.validationShare).rounded())
        let objective = objective ?? configuration.makeObjective(datasetSize: trainingImages)
        if let processGroup, processGroup.size > 1, !objective.isSumOverImages {
            throw .invalidConfiguration(ConfigurationProblem(.objective, "\(objective.summary) is not a sum over images, so several processes (MPI) cannot share its batches; train it in one"))
        }
        self.processGroup = (processGroup?.size ?? 1) > 1 ? processGroup : nil
        if let processGroup, processGroup.size > 1 {
            // Every process needs at least one image of every batch, the last partial one included.
            let processes = processGroup.size, batch = configuration.batchSize
            guard batch >= processes else {
                throw .invalidConfiguration(ConfigurationProblem(.batchSize, "\(batch) is smaller than the \(processes) processes sharing each batch; every process needs at least one image: use a batch of at least \(processes)"))
            }
            let trainCount = trainingImages
            let last = trainCount % batch
            if last > 0, last < processes {
                throw .invalidConfiguration(ConfigurationProblem(.batchSize, "\(batch) leaves a last batch of \(last) of the \(trainCount) training images, fewer than the \(processes) processes sharing it; choose a batch size whose remainder is 0 or at least \(processes)"))
            }
        }
        let shape = configuration.model.imageShape
        guard train.shape == shape && test.shape == shape else { throw .imageShape(expected: shape, train: train.shape, test: test.shape) }
        if let classes = configuration.model.conditionClasses {
            for (name, set) in [("training", train), ("test", test)] where !set.isLabelled || set.classCount > classes {
                throw .labels("the model is conditioned on \(classes) classes; the \(name) images have \(set.isLabelled ? "\(set.classCount) classes" : "no labels")")
            }
        }
        for (name, set) in [("training", train), ("test", test)] {
            if let problem = configuration.model.likelihood.dataProblem(set, split: name) { throw .data(problem) }
        }
        self.configuration = configuration
        self.objective = objective
        var generator = RandomGenerator(seed: configuration.seed)
        let built: any VariationalModel
        do { built = try configuration.model.makeModel(using: &generator) } catch { throw .invalidConfiguration(error) }
        model = built
        if self.processGroup != nil, built is any DiscreteLatentModel {
            throw .invalidConfiguration(ConfigurationProblem(.objective, "a \(configuration.model.kindDescription) keeps its codebook's usage averages and restarts in each process, so several processes (MPI) would drift apart; train it in one"))
        }
        objective.prepare(for: built)
        if test.count > 0 {
            // One forward pass without gradients (evaluation mode: no state changes) shows the objective the model's groups.
            let labels = test.isLabelled && built.usesLabels ? [test.labels[0]] : []
            let probe = withoutGradients {
                built.forward(Tensor(shape: [1, shape.count], scalars: Array(test.image(0))), condition: built.conditionTensor(labels: labels), sampling: .mean, samples: 1)
            }
            if let problem = objective.problem(for: built, probe: probe) { throw .invalidConfiguration(problem) }
        }
        optimizer = Self.makeOptimizer(configuration, parameters: model.parameters)
        var kept = train, held: ImageDataset? = nil
        if configuration.validationShare > 0 {
            var split = RandomGenerator(seed: configuration.seed ^ 0x5B11_7000)
            let order = split.permutation(train.count)
            let heldCount = Int((Double(train.count) * configuration.validationShare).rounded())
            kept = train.subset(order[..<(train.count - heldCount)])
            held = train.subset(order[(train.count - heldCount)...])
        }
        validation = held
        validationEvaluated = held.map { Self.testImages($0, configuration: configuration) }
        self.train = Self.prepare(kept, binarization: configuration.binarization, seed: configuration.seed, split: 1)
        self.test = Self.testImages(test, configuration: configuration)
        if configuration.outputBias == .dataMean {
            guard let startable = model as? any DataStartedOutputBias else {
                throw .invalidConfiguration(ConfigurationProblem(.outputBias, "data-mean needs a model whose decoder ends in a bias it can start at the data; the \(configuration.model.kindDescription) (\(configuration.model.kind)) has none"))
            }
            do { try startable.startOutputBias(atMeanImage: self.train.meanImage) } catch { throw .invalidConfiguration(error) }
        }
        noise = NoiseSource(generator: generator)
        progress = TrainingProgress(epochStartGenerator: generator.stateWords, generator: generator.stateWords)
        if let group = self.processGroup { gradientBuckets = GradientBuckets(pack: optimizer.parameters, group: group) }
        weightAverage = configuration.weightAverage.map { WeightAverage(decay: $0, parameters: built.parameters) }
    }

    /// Runs `body` with the model's parameters set to their moving average (the live values
    /// back afterwards, however `body` ends); without an average, or before the first step,
    /// simply runs it. What a run evaluates, draws and saves as its model goes through here.
    public func withAveragedWeights<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        weightAverage?.exchange()
        defer { weightAverage?.exchange() }
        return try body()
    }

    static func makeOptimizer(_ configuration: TrainingConfiguration, parameters: [Tensor]) -> any Optimizer {
        switch configuration.optimizer {
        case .adam: Adam(parameters: parameters, learningRate: configuration.learningRate, epsilon: configuration.optimizerEpsilon ?? 1e-8)
        case .adamw:
            Adam(parameters: parameters, learningRate: configuration.learningRate, epsilon: configuration.optimizerEpsilon ?? 1e-8,
                 weightDecay: configuration.weightDecay ?? Adam.defaultWeightDecay)
        case .rmsprop: RMSprop(parameters: parameters, learningRate: configuration.learningRate, epsilon: configuration.optimizerEpsilon ?? 1e-8)
        case .rmspropKeras: RMSprop.keras(parameters: parameters, learningRate: configuration.learningRate)
        case .sgd: SGD(parameters: parameters, learningRate: configuration.learningRate)
        }
    }

    /// The test images as a run with `configuration` evaluates them: binarised like the training
    /// images, except that dynamic binarisation uses one fixed draw (the same for every run), so
    /// test figures are comparable between epochs and runs.
    public static func testImages(_ test: ImageDataset, configuration: TrainingConfiguration) -> ImageDataset {
        let dynamic = configuration.binarization == .dynamic
        return prepare(test, binarization: dynamic ? .fixedSample : configuration.binarization,
                       seed: dynamic ? 0xB1A5_ED : configuration.seed, split: 2)
    }

    /// The images with a fixed binarisation applied (threshold, or one seeded Bernoulli draw);
    /// grey and dynamic images are left as they are.
    static func prepare(_ dataset: ImageDataset, binarization: Binarization, seed: UInt64, split: UInt64) -> ImageDataset {
        // Packed images are 0 or 1 already: every binarisation leaves them as they are.
        if dataset.isPacked { return dataset }
        var pixels = dataset.pixels
        switch binarization {
        case .none, .dynamic: return dataset
        case .threshold: Binarization.threshold(&pixels)
        case .fixedSample:
            var generator = RandomGenerator(seed: seed ^ (0x57A7_1C00 &+ split))
            var uniforms = [Float](repeating: 0, count: pixels.count)
            uniforms.withUnsafeMutableBufferPointer { generator.fillUniform($0) }
            pixels.withUnsafeMutableBufferPointer { p in
                uniforms.withUnsafeBufferPointer { Binarization.sample(p.baseAddress!, uniforms: $0.baseAddress!, count: p.count) }
            }
        }
        return dataset.replacingPixels(pixels)
    }

    /// Batches per epoch, the last one partial when the images do not divide evenly.
    public var batchesPerEpoch: Int { (train.count + configuration.batchSize - 1) / configuration.batchSize }
    /// Whether training is over: every configured epoch done, or stopped early.
    public var isFinished: Bool { progress.completedEpochs >= configuration.epochs || monitor.stoppedEarly }
    /// The best epoch, early stopping and the plateau schedule's state.
    public var monitor: TrainingMonitor { progress.monitor ?? TrainingMonitor() }

    /// Optimizer steps done over the whole run.
    public var stepsDone: Int { steps(at: progress) }

    /// The optimizer steps taken by a run at `progress`.
    func steps(at progress: TrainingProgress) -> Int { progress.completedEpochs * batchesPerEpoch + progress.batchesDone }

    /// The learning rate of the next step: the schedule's at the run's position.
    public var currentLearningRate: Float {
        configuration.schedule.learningRate(base: configuration.learningRate, step: stepsDone,
                                            stepsPerEpoch: batchesPerEpoch, epochs: configuration.epochs, plateauScale: monitor.plateauScale)
    }

    /// Continues the epoch in progress until it ends (returns its summary) or `shouldStop`
    /// returns true between batches (returns nil; `progress` then says where to resume).
    /// `onBatch(done, total, runningLoss)` is called after every batch. Subnormal numbers are
    /// flushed to zero meanwhile (see `SubnormalFlushing`), and matrix multiplies run in the
    /// configuration's precision.
    public func trainEpoch(shouldStop: () -> Bool = { false },
                           onBatch: (_ done: Int, _ total: Int, _ loss: Double) -> Void = { _, _, _ in }) throws(NonFiniteLossError) -> EpochSummary? {
        try withPrecision(configuration.precision) { () throws(NonFiniteLossError) -> EpochSummary? in
            try SubnormalFlushing.withSubnormalsFlushedToZero { () throws(NonFiniteLossError) -> EpochSummary? in
                try trainBatches(shouldStop: shouldStop, onBatch: onBatch)
            }
        }
    }

    /// Trains one whole epoch (or the rest of one a checkpoint stopped in) and returns its summary.
    public func trainFullEpoch(onBatch: (_ done: Int, _ total: Int, _ loss: Double) -> Void = { _, _, _ in })
        throws(NonFiniteLossError) -> EpochSummary {
        guard let summary = try trainEpoch(onBatch: onBatch) else { preconditionFailure("an epoch that may not stop stopped") }
        return summary
    }

    /// The training step, batch after batch: the objective's terms, backward, the gradients
    /// summed over the processes and clipped, the scheduled rate, the optimizer's step, the
    /// figures added.
    private func trainBatches(shouldStop: () -> Bool,
                              onBatch: (_ done: Int, _ total: Int, _ loss: Double) -> Void) throws(NonFiniteLossError) -> EpochSummary? {
        precondition(!isFinished, "training already ran its \(configuration.epochs) epochs")
        // A stop asked for at an epoch's start is honoured before its shuffle is drawn, so the
        // checkpoint's generator is the one the epoch starts from.
        if progress.batchesDone == 0 && stopAsked(shouldStop) { return nil }
        var batches = epochBatches()
        let started = Date(), secondsBefore = progress.secondsSoFar
        // A stop is honoured between batches, before the next one's draws.
        while batches.hasNext, !stopAsked(shouldStop), let batch = batches.next() {
            optimizer.zeroGradients()
            let terms = objective.terms(model, batch, epochs: epochsDone)
            let figures = terms.figures.summed(over: processGroup)
            guard figures.loss.isFinite else { throw NonFiniteLossError(epoch: progress.completedEpochs + 1, batch: progress.batchesDone + 1, value: Float(figures.loss)) }
            if let buckets = gradientBuckets, overlapsCommunication {
                buckets.begin()
                terms.loss.backward(afterEachNode: buckets.finished)
                timed(&communicationSeconds) { buckets.finish() }
            } else {
                terms.loss.backward()
                timed(&communicationSeconds) { processGroup?.sumGradients(of: optimizer.parameters) }
            }
            lastStep.gradientNorm = nil
            if let maximum = configuration.gradientClipNorm {
                let norm = optimizer.parameters.clipGradientNorm(to: maximum)
                lastStep.gradientNorm = norm
                progress.gradientNormSum = (progress.gradientNormSum ?? 0) + Double(norm)
                progress.clippedSteps = (progress.clippedSteps ?? 0) + (norm > maximum ? 1 : 0)
            }
            optimizer.learningRate = currentLearningRate
            timed(&optimizerSeconds) { optimizer.step() }
            objective.finishStep()
            progress.add(figures, images: batch.batchRows)
            weightAverage?.update(afterStep: stepsDone)
            lastStep.step = stepsDone
            lastStep.loss = (figures.reconstruction + figures.totalKL) / Double(batch.batchRows)
            lastStep.learningRate = optimizer.learningRate
            onBatch(progress.batchesDone, batchesPerEpoch, progress.runningLoss)
        }
        progress.secondsSoFar = secondsBefore + Date().timeIntervalSince(started)
        // Stopped after the shuffle was drawn but before the epoch's first batch: the epoch has
        // not begun, so the stream goes back to its start, from which a resume draws it again.
        if progress.batchesDone == 0 { noise.generator = RandomGenerator(state: progress.epochStartGenerator) }
        progress.generator = noise.generator.stateWords
        return progress.batchesDone == batchesPerEpoch ? finishEpoch() : nil
    }

    /// The epoch's batches from where training stands: at an epoch's start the shuffle is drawn
    /// from the run's generator (its state kept as the epoch's start); a resumed epoch draws it
    /// again from that state.
    private func epochBatches() -> BatchSource {
        if progress.batchesDone == 0 { progress.epochStartGenerator = noise.generator.stateWords }
        var start = RandomGenerator(state: progress.epochStartGenerator)
        let order = progress.batchesDone == 0 ? noise.generator.permutation(train.count) : start.permutation(train.count)
        return BatchSource(images: train, order: order, batchSize: configuration.batchSize, from: progress.batchesDone,
                           dynamicBinarization: configuration.binarization == .dynamic, model: model, processGroup: processGroup, noise: noise)
    }

    /// Epochs done, fractional (2.5: half-way through the third), for warm-ups.
    private var epochsDone: Double { Double(progress.completedEpochs) + Double(progress.batchesDone) / Double(batchesPerEpoch) }

    /// The finished epoch's summary; progress moves to the next epoch's start.
    private func finishEpoch() -> EpochSummary {
        let n = Double(progress.imagesSeen)
        let summary = EpochSummary(
            epoch: progress.completedEpochs + 1, loss: progress.runningLoss,
            reconstruction: progress.reconstructionSum / n, kl: progress.klSum / n, groupKL: (progress.groupKLSums ?? [:]).mapValues { $0 / n },
            seconds: progress.secondsSoFar, imagesPerSecond: n / max(progress.secondsSoFar, 1e-9),
            extraTerms: (progress.extraSums ?? [:]).mapValues { $0 / Double(batchesPerEpoch) },
            learningRate: Double(optimizer.learningRate),
            gradientClipping: progress.gradientNormSum.map { ($0 / Double(batchesPerEpoch), Double(progress.clippedSteps ?? 0) / Double(batchesPerEpoch)) })
        progress = TrainingProgress(completedEpochs: progress.completedEpochs + 1,
                                    epochStartGenerator: noise.generator.stateWords, generator: noise.generator.stateWords, monitor: progress.monitor)
        return summary
    }

    /// Adds the wall seconds `body` takes to `total`.
    private func timed(_ total: inout Double, _ body: () -> Void) {
        let started = BLAS.now()
        body()
        total += BLAS.now() - started
    }

    /// Whether to stop: this process's answer alone, or with a group, any process's (every
    /// process must stop at the same batch, or the others would wait for it forever).
    private func stopAsked(_ shouldStop: () -> Bool) -> Bool {
        guard let processGroup else { return shouldStop() }
        return processGroup.any(shouldStop())
    }

    /// The test figures after `epoch` epochs, with noise from a generator of its own (so
    /// evaluating never changes the training stream), in the run's precision.
    /// With a process group, each process evaluates its share of the batches and the figures
    /// are combined (every process gets the same result).
    public func evaluateTest(epoch: Int) -> EvaluationResult {
        var evaluationGenerator = Self.evaluationGenerator(seed: configuration.seed, epoch: epoch)
        return evaluate(test, using: &evaluationGenerator)
    }

    /// The model's figures on `images` in the run's precision, each process of a group taking
    /// its share of the batches and the figures combined.
    private func evaluate(_ images: ImageDataset, using generator: inout RandomGenerator) -> EvaluationResult {
        let shard = processGroup.map { (index: $0.rank, count: $0.size) } ?? (0, 1)
        let part = withPrecision(configuration.precision) {
            model.evaluate(images: images.pixels, targets: images.pixels, labels: images.labels, batchSize: configuration.evaluationBatchSize,
                           shard: shard, using: &generator)
        }
        return part.combined(over: processGroup)
    }

    /// The held-out images' figures after `epoch` epochs (nil without a validation share), as
    /// `evaluateTest` computes the test set's, with noise of its own.
    public func evaluateValidation(epoch: Int) -> EvaluationResult? {
        guard let validationEvaluated else { return nil }
        var generator = RandomGenerator(seed: configuration.seed ^ (0x7A11_0000 &+ UInt64(epoch)))
        return evaluate(validationEvaluated, using: &generator)
    }

    /// Records the figures of the epoch that just finished (its training loss and, with a
    /// validation share, the validation loss) in the monitor: the best epoch, early stopping
    /// (`configuration.patience`), the plateau schedule's scale (see `TrainingMonitor`).
    /// Call once per epoch, after `trainEpoch` returned its summary and before the checkpoint.
    @discardableResult
    public func recordEpoch(_ summary: EpochSummary, validationLoss: Double?) -> TrainingMonitor.Verdict {
        precondition(summary.epoch == progress.completedEpochs && progress.batchesDone == 0, "record the epoch that just finished")
        var monitor = self.monitor
        let verdict = monitor.record(epoch: summary.epoch, validationLoss: validationLoss, trainingLoss: summary.loss,
                                     patience: configuration.patience, schedule: configuration.schedule, base: configuration.learningRate)
        progress.monitor = monitor
        return verdict
    }

    /// The generator of the test evaluation after `epoch` epochs of a run with `seed` (also used
    /// by `vae eval`, so it reproduces the run's sampled-z figure exactly).
    public static func evaluationGenerator(seed: UInt64, epoch: Int) -> RandomGenerator {
        RandomGenerator(seed: seed ^ (0xE7A1_0000 &+ UInt64(epoch)))
    }

    /// Puts back the state saved in a checkpoint (model values, optimizer state, progress),
    /// after checking that the progress is one this run can be at.
    /// `weightAverages`: the parameters' moving averages (`WeightAverage.averages`; empty before
    /// the first step, and without an average).
    public func restore(progress: TrainingProgress, optimizerState: OptimizerState, weightAverages: [[Float]] = []) throws(TrainingStateError) {
        if let problem = problems(of: progress) { throw TrainingStateError(field: problem.field, problem: problem.text) }
        do { try optimizer.restore(optimizerState) } catch { throw TrainingStateError(field: "optimizer", problem: error.description) }
        let steps = steps(at: progress)
        if let weightAverage {
            if steps > 0 && weightAverages.isEmpty {
                throw TrainingStateError(field: WeightAverage.stateName, problem: "missing: the run averages its weights (decay \(weightAverage.decay)) and is \(steps) steps in")
            }
            if steps == 0 && !weightAverages.isEmpty { throw TrainingStateError(field: WeightAverage.stateName, problem: "present before the first step") }
            if let (index, problem) = weightAverage.restore(weightAverages) { throw TrainingStateError(field: "\(WeightAverage.stateName).\(index)", problem: problem) }
        } else if !weightAverages.isEmpty {
            throw TrainingStateError(field: WeightAverage.stateName, problem: "present, but the run's configuration averages no weights")
        }
        self.progress = progress
        noise.generator = RandomGenerator(state: progress.generator)
    }

    /// What is impossible about `progress` for this run, if anything.
    func problems(of progress: TrainingProgress) -> (field: String, text: String)? {
        let batches = batchesPerEpoch
        guard (0...configuration.epochs).contains(progress.completedEpochs) else {
            return ("completedEpochs", "expected 0...\(configuration.epochs) (the run's epochs), got \(progress.completedEpochs)")
        }
        guard (0..<batches).contains(progress.batchesDone) else {
            return ("batchesDone", "expected 0...\(batches - 1) (an epoch has \(batches) batches), got \(progress.batchesDone)")
        }
        if progress.completedEpochs == configuration.epochs && progress.batchesDone != 0 {
            return ("batchesDone", "a finished run is at batch 0, got \(progress.batchesDone)")
        }
        for (name, words) in [("generator", progress.generator), ("epochStartGenerator", progress.epochStartGenerator)] {
            guard words.count == 4, words.contains(where: { $0 != 0 }) else {
                return (name, "expected four 64-bit words, not all zero (a xoshiro256** state), got \(words)")
            }
        }
        let expectedImages = progress.batchesDone * configuration.batchSize
        guard progress.imagesSeen == expectedImages else {
            return ("imagesSeen", "expected \(expectedImages) after \(progress.batchesDone) batches of \(configuration.batchSize), got \(progress.imagesSeen)")
        }
        let sums = [("reconstructionSum", progress.reconstructionSum), ("klSum", progress.klSum), ("secondsSoFar", progress.secondsSoFar)]
            + (progress.extraSums ?? [:]).sorted { $0.key < $1.key }.map { ("extraSums." + $0.key, $0.value) }
            + (progress.groupKLSums ?? [:]).sorted { $0.key < $1.key }.map { ("groupKLSums." + $0.key, $0.value) }
        if let (name, value) = sums.first(where: { !$0.1.isFinite }) { return (name, "expected a finite number, got \(value)") }
        if progress.secondsSoFar < 0 { return ("secondsSoFar", "expected a number >= 0, got \(progress.secondsSoFar)") }
        if let sum = progress.gradientNormSum, !(sum.isFinite && sum >= 0) { return ("gradientNormSum", "expected a finite number >= 0, got \(sum)") }
        if let clipped = progress.clippedSteps, !(0...progress.batchesDone).contains(clipped) {
            return ("clippedSteps", "expected 0...\(progress.batchesDone) (the batches done), got \(clipped)")
        }
        if let monitor = progress.monitor {
            if let (field, text) = monitor.problem(completedEpochs: progress.completedEpochs) { return ("monitor.\(field)", text) }
            if monitor.stoppedEarly && progress.batchesDone != 0 { return ("batchesDone", "a run that stopped early is at batch 0, got \(progress.batchesDone)") }
        }
        return nil
    }
}

/// A checkpoint's training state is impossible for the run it claims to belong to.
public struct TrainingStateError: Error, LocalizedError, Equatable {
    /// The field of `training_progress` at fault ("optimizer": the optimizer's state;
    /// "weight_average…": the weights' moving average).
    public let field: String
    /// What is wrong with it.
    public let problem: String
    /// "training_progress.FIELD: PROBLEM".
    public var errorDescription: String? {
        field == "optimizer" || field.hasPrefix(WeightAverage.stateName) ? "\(field): \(problem)" : "training_progress.\(field): \(problem)"
    }
}
