import Datasets
import Foundation
import NN
import Optimizers
import TensorCore

/// Training stopped because the loss stopped being a finite number.
public struct NonFiniteLossError: Error, Equatable, CustomStringConvertible {
    /// The epoch (from 1).
    public let epoch: Int
    /// The batch within the epoch (from 1).
    public let batch: Int
    /// The loss's value (NaN or ±inf).
    public let value: Float
    /// Where it happened and a hint.
    public var description: String {
        "the training loss became \(value) at epoch \(epoch), batch \(batch); a lower learning rate may help"
    }
}

/// Why a trainer cannot be made from what a caller gave it.
public enum TrainerSetupError: Error, Equatable, CustomStringConvertible {
    /// The configuration breaks a rule (the message names it).
    case invalidConfiguration(String)
    /// The images are not of the shape the model draws.
    case imageShape(expected: ImageShape, train: ImageShape, test: ImageShape)
    /// A conditional model was given images without labels, or labels beyond its classes.
    case labels(String)

    /// What is wrong and what was expected.
    public var description: String {
        switch self {
        case let .invalidConfiguration(problem): "invalid training configuration: \(problem)"
        case let .imageShape(expected, train, test):
            "the model draws \(expected) images, but the training images are \(train) and the test images \(test)"
        case let .labels(problem): problem
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
    /// Σ of the per-image KL so far.
    public var klSum = 0.0
    /// Images trained on so far.
    public var imagesSeen = 0
    /// Training seconds so far.
    public var secondsSoFar = 0.0
    /// Running sums of the model's own loss terms (unweighted, one value per batch), by name.
    public var extraSums: [String: Double]?
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
    /// The KL term's mean per image.
    public let kl: Double
    /// The epoch's training seconds.
    public let seconds: Double
    /// Training throughput.
    public let imagesPerSecond: Double
    /// The model's own loss terms (unweighted), mean per batch, by name (design B's classifier).
    public let extraTerms: [String: Double]
}

/// Trains any `VariationalModel` by minibatch gradient descent on the negative ELBO, one
/// epoch at a time, with a single seeded generator for the shuffle, the binarisation draws and
/// the reparameterisation noise.
///
/// Per batch of B images: loss = s_b · (s_p · Σ -log p(x|z) + Σ KL), with s_b = 1 (batch sum) or
/// 1/B (batch mean) and s_p = 1 (pixel sum) or 1/pixels (pixel mean); z = μ + σ ε with one ε
/// per image; the model's own terms (`extraLossTerms`) are added to the batch loss. The last
/// partial batch is kept, as PyTorch's DataLoader does. With a validation share, that share of
/// the training images (from one seeded permutation) is held out of training.
public final class Trainer {
    /// The run's configuration.
    public let configuration: TrainingConfiguration
    /// The model trained.
    public let model: any VariationalModel
    /// The optimizer over the model's parameters.
    public let optimizer: any Optimizer
    /// Training images as the model sees them (already binarised unless binarisation is dynamic).
    public let train: ImageDataset
    /// The held-out share of the training images (nil without a validation share).
    public let validation: ImageDataset?
    /// Test images as evaluated (binarised once, with a fixed draw for dynamic binarisation).
    public let test: ImageDataset
    /// Where training stands (epochs, batches, generator), as a checkpoint saves it.
    public private(set) var progress: TrainingProgress
    private var generator: RandomGenerator
    private var permutation: [Int] = []
    /// Wall seconds spent in `optimizer.step()` so far (for benchmarks).
    public var optimizerSeconds = 0.0
    /// The processes training this model together (nil: this process alone). See `ProcessGroup`.
    public let processGroup: (any ProcessGroup)?
    /// Wall seconds spent summing gradients across the group so far (for benchmarks).
    public var communicationSeconds = 0.0

    /// A fresh model from the configuration's seed. `train` and `test` hold values in [0, 1] of
    /// the model's image shape (labelled, for a conditional model). Throws when the configuration
    /// is invalid or the images do not fit the model.
    ///
    /// With a `processGroup` of N > 1 processes, each built from the same configuration and data,
    /// every process draws the same shuffle and noise from the same seed, takes its shard
    /// (`ProcessGroup.shard`) of each global batch, and the gradients are summed before the
    /// optimizer step, so the N processes train one model, the one a single process would train
    /// up to the order of floating-point sums. Objectives whose batch loss is not a sum over
    /// images (free bits, IWAE's k-sample draws) are refused with N > 1.
    public init(configuration: TrainingConfiguration, train: ImageDataset, test: ImageDataset,
                processGroup: (any ProcessGroup)? = nil) throws(TrainerSetupError) {
        if let problem = configuration.problems.first { throw .invalidConfiguration(problem) }
        if let processGroup, processGroup.size > 1 {
            if configuration.objective.kind == .iwae { throw .invalidConfiguration("the IWAE objective is not supported over several processes (MPI); train it in one") }
            if configuration.objective.freeBits > 0 {
                throw .invalidConfiguration("free bits are not supported over several processes (MPI): their per-dimension batch mean spans every shard")
            }
        }
        self.processGroup = (processGroup?.size ?? 1) > 1 ? processGroup : nil
        let shape = configuration.model.imageShape
        guard train.shape == shape && test.shape == shape else { throw .imageShape(expected: shape, train: train.shape, test: test.shape) }
        if let classes = configuration.model.conditionClasses {
            for (name, set) in [("training", train), ("test", test)] where !set.isLabelled || set.classCount > classes {
                throw .labels("the model is conditioned on \(classes) classes; the \(name) images have \(set.isLabelled ? "\(set.classCount) classes" : "no labels")")
            }
        }
        self.configuration = configuration
        var generator = RandomGenerator(seed: configuration.seed)
        do { model = try configuration.model.makeModel(using: &generator) } catch { throw .invalidConfiguration(error.message) }
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
        self.train = Self.prepare(kept, binarization: configuration.binarization, seed: configuration.seed, split: 1)
        self.test = Self.testImages(test, configuration: configuration)
        self.generator = generator
        progress = TrainingProgress(epochStartGenerator: generator.stateWords, generator: generator.stateWords)
    }

    static func makeOptimizer(_ configuration: TrainingConfiguration, parameters: [Tensor]) -> any Optimizer {
        switch configuration.optimizer {
        case .adam: Adam(parameters: parameters, learningRate: configuration.learningRate, epsilon: configuration.optimizerEpsilon ?? 1e-8)
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
    /// Whether every configured epoch is done.
    public var isFinished: Bool { progress.completedEpochs >= configuration.epochs }

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

    private func trainBatches(shouldStop: () -> Bool,
                              onBatch: (_ done: Int, _ total: Int, _ loss: Double) -> Void) throws(NonFiniteLossError) -> EpochSummary? {
        precondition(!isFinished, "training already ran its \(configuration.epochs) epochs")
        let width = model.inputSize
        let labelled = train.isLabelled && model.usesLabels
        if progress.batchesDone == 0 {
            // A stop asked for at the epoch boundary is honoured before the shuffle is drawn, so
            // the checkpoint's generator is the one the next epoch starts from.
            if stopAsked(shouldStop) { return nil }
            progress.epochStartGenerator = generator.stateWords
            permutation = generator.permutation(train.count)
        } else if permutation.isEmpty {  // resumed mid-epoch: redraw this epoch's shuffle
            var start = RandomGenerator(state: progress.epochStartGenerator)
            permutation = start.permutation(train.count)
        }
        let batches = batchesPerEpoch, batchSize = configuration.batchSize
        let pixelScale: Float = configuration.reconstructionReduction == .mean ? 1 / Float(width) : 1
        optimizer.learningRate = configuration.schedule.learningRate(base: configuration.learningRate, epoch: progress.completedEpochs + 1)
        let started = Date()
        let secondsBefore = progress.secondsSoFar
        while progress.batchesDone < batches {
            // Every process of a group stops at the same batch, or the others would wait forever.
            if stopAsked(shouldStop) { break }
            let first = progress.batchesDone * batchSize
            let rows = min(batchSize, train.count - first)
            // This process's rows of the global batch (all of them alone).
            let shard = processGroup?.shard(of: rows) ?? 0..<rows
            let x = Tensor(shape: [shard.count, width], storage: TensorStorage(uninitializedCount: shard.count * width))
            train.pixels.withUnsafeBufferPointer { source in
                for (r, row) in shard.enumerated() {
                    (x.pointer + r &* width).update(from: source.baseAddress! + permutation[first + row] &* width, count: width)
                }
            }
            let labels = labelled ? shard.map { train.labels[permutation[first + $0]] } : []
            if configuration.binarization == .dynamic {
                // The whole batch's draws, so every process's generator stays where one process's would.
                let uniforms = TensorStorage(uninitializedCount: rows * width)
                generator.fillUniform(uniforms.buffer)
                Binarization.sample(x.pointer, uniforms: uniforms.pointer + shard.lowerBound * width, count: shard.count * width)
            }
            let batchScale: Float = configuration.batchReduction == .mean ? 1 / Float(rows) : 1
            optimizer.zeroGradients()
            let epochProgress = Double(progress.completedEpochs) + Double(progress.batchesDone) / Double(batches)
            let terms = objectiveTerms(x, labels: labels, rows: rows, shard: shard, pixelScale: pixelScale, epochProgress: epochProgress)
            // A batch-mean term of the shard counts with the shard's share of the batch.
            let shardShare = Float(shard.count) / Float(rows)
            var loss = terms.loss * batchScale
            for term in terms.extra { loss = loss + (shardShare == 1 ? term.weighted : term.weighted * shardShare) }
            var figures = [Double(loss.item), terms.reconstruction, terms.kl] + terms.extra.map { $0.value * Double(shardShare) }
            if let processGroup { processGroup.sum(&figures) }
            guard figures[0].isFinite else {
                throw NonFiniteLossError(epoch: progress.completedEpochs + 1, batch: progress.batchesDone + 1, value: Float(figures[0]))
            }
            loss.backward()
            if let processGroup {
                let started = BLAS.now()
                optimizer.parameters.settleGradients()
                processGroup.sum(optimizer.parameters.gradients, count: optimizer.parameters.count)
                communicationSeconds += BLAS.now() - started
            }
            let stepStarted = BLAS.now()
            optimizer.step()
            optimizerSeconds += BLAS.now() - stepStarted
            progress.reconstructionSum += figures[1]
            progress.klSum += figures[2]
            for (index, term) in terms.extra.enumerated() {
                progress.extraSums = (progress.extraSums ?? [:]).merging([term.name: figures[3 + index]], uniquingKeysWith: +)
            }
            progress.imagesSeen += rows
            progress.batchesDone += 1
            onBatch(progress.batchesDone, batches, (progress.reconstructionSum + progress.klSum) / Double(progress.imagesSeen))
        }
        progress.secondsSoFar = secondsBefore + Date().timeIntervalSince(started)
        progress.generator = generator.stateWords
        guard progress.batchesDone == batches else { return nil }
        let n = Double(progress.imagesSeen)
        let summary = EpochSummary(
            epoch: progress.completedEpochs + 1, loss: (progress.reconstructionSum + progress.klSum) / n,
            reconstruction: progress.reconstructionSum / n, kl: progress.klSum / n,
            seconds: progress.secondsSoFar, imagesPerSecond: n / max(progress.secondsSoFar, 1e-9),
            extraTerms: (progress.extraSums ?? [:]).mapValues { $0 / Double(batches) })
        progress = TrainingProgress(completedEpochs: progress.completedEpochs + 1,
                                    epochStartGenerator: generator.stateWords, generator: generator.stateWords)
        permutation = []
        return summary
    }

    /// The batch's objective (summed over its images, before the batch reduction) and, for the
    /// running figures, its reconstruction and KL sums in nats (unweighted; for IWAE the
    /// reconstruction is the mean over the k samples of -log p(x | z_i) and the KL the mean of
    /// log q(z_i | x) - log p(z_i), so their sum is the k-sample ELBO estimate).
    /// Whether to stop: this process's answer alone, or with a group, any process's (every
    /// process must stop at the same batch, or the others would wait for it forever).
    private func stopAsked(_ shouldStop: () -> Bool) -> Bool {
        guard let processGroup else { return shouldStop() }
        return processGroup.any(shouldStop())
    }

    /// `x` holds rows `shard` of a global batch of `rows` (all of them in one process); the noise
    /// is drawn for the whole batch, so the generator advances as one process's would.
    private func objectiveTerms(_ x: Tensor, labels: [Int], rows: Int, shard: Range<Int>, pixelScale: Float, epochProgress: Double)
        -> (loss: Tensor, reconstruction: Double, kl: Double, extra: [ExtraLossTerm]) {
        let objective = configuration.objective
        let condition = model.conditionTensor(labels: labels)
        switch objective.kind {
        case .elbo:
            var noise = Tensor.randomNormal([rows, model.latentSize], using: &generator)
            if shard.count != rows {
                let latent = model.latentSize
                noise = Tensor(shape: [shard.count, latent], scalars: Array(noise.scalars[(shard.lowerBound * latent)..<(shard.upperBound * latent)]))
            }
            let output = model.forward(x, condition: condition, noise: noise)
            let posterior = output.posterior
            let reconstruction = output.likelihood.negativeLogLikelihood(x, reduction: .sum)
            let kl = posterior.klDivergence(reduction: .sum)
            let weight = objective.klWeight(afterEpochs: epochProgress)
            var klTerm = kl
            if objective.freeBits > 0 {
                // Σ_d max(λ, KL_d) per image, KL_d the batch mean of dimension d's KL; times the batch size.
                let logVariance = posterior.logVariance
                let perDimension = ((posterior.mean.squared() + logVariance.exp() - logVariance - 1) * 0.5).mean(alongAxis: 0)
                klTerm = (perDimension + (Tensor(objective.freeBits) - perDimension).relu()).sum() * Float(shard.count)
            }
            let loss = reconstruction * pixelScale + (weight == 1 ? klTerm : klTerm * weight)
            return (loss, Double(reconstruction.item), Double(kl.item), model.extraLossTerms(output, labels: labels))
        case .iwae:
            let k = objective.samples
            let posterior = model.encode(x, condition: condition)
            let bound = model.importanceWeightedLogLikelihood(x: x, posterior: posterior, condition: condition, samples: k, using: &generator)
            return (-bound.logLikelihood.sum(), bound.reconstruction, bound.kl, [])
        }
    }

    /// The test figures after `epoch` epochs, with noise from a generator of its own (so
    /// evaluating never changes the training stream), in the run's precision.
    /// With a process group, each process evaluates its share of the batches and the figures
    /// are combined (every process gets the same result).
    public func evaluateTest(epoch: Int) -> EvaluationResult {
        var evaluationGenerator = Self.evaluationGenerator(seed: configuration.seed, epoch: epoch)
        let shard = processGroup.map { (index: $0.rank, count: $0.size) } ?? (0, 1)
        let part = withPrecision(configuration.precision) {
            model.evaluate(images: test.pixels, targets: test.pixels, labels: test.labels, batchSize: configuration.evaluationBatchSize,
                           shard: shard, using: &evaluationGenerator)
        }
        guard let processGroup else { return part }
        let n = Double(part.images)
        var sums = [n, part.loss * n, part.lossMean * n, part.reconstruction * n, part.reconstructionMean * n, part.kl * n]
        processGroup.sum(&sums)
        let total = max(sums[0], 1)
        return EvaluationResult(images: Int(sums[0]), loss: sums[1] / total, lossMean: sums[2] / total, reconstruction: sums[3] / total,
                                reconstructionMean: sums[4] / total, kl: sums[5] / total)
    }

    /// The generator of the test evaluation after `epoch` epochs of a run with `seed` (also used
    /// by `vae eval`, so it reproduces the run's sampled-z figure exactly).
    public static func evaluationGenerator(seed: UInt64, epoch: Int) -> RandomGenerator {
        RandomGenerator(seed: seed ^ (0xE7A1_0000 &+ UInt64(epoch)))
    }

    /// Puts back the state saved in a checkpoint (model values, optimizer state, progress),
    /// after checking that the progress is one this run can be at.
    public func restore(progress: TrainingProgress, optimizerState: OptimizerState) throws(TrainingStateError) {
        if let problem = problems(of: progress) { throw TrainingStateError(field: problem.field, problem: problem.text) }
        do { try optimizer.restore(optimizerState) } catch { throw TrainingStateError(field: "optimizer", problem: error.description) }
        self.progress = progress
        generator = RandomGenerator(state: progress.generator)
        permutation = []
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
        if let (name, value) = sums.first(where: { !$0.1.isFinite }) { return (name, "expected a finite number, got \(value)") }
        if progress.secondsSoFar < 0 { return ("secondsSoFar", "expected a number >= 0, got \(progress.secondsSoFar)") }
        return nil
    }
}

/// A checkpoint's training state is impossible for the run it claims to belong to.
public struct TrainingStateError: Error, Equatable, CustomStringConvertible {
    /// The field of `training_progress` at fault.
    public let field: String
    /// What is wrong with it.
    public let problem: String
    /// "training_progress.FIELD: PROBLEM".
    public var description: String { "training_progress.\(field): \(problem)" }
}
