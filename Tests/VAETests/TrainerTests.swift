import Datasets
import Foundation
import NN
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels

@Suite(.serialized) struct TrainerTests {
    /// Reading a specification needs its kind registered, as a program reading files does.
    init() { StandardModelKinds.register() }

    static let train = SyntheticDigits.make(count: 300, seed: 10)
    static let test = SyntheticDigits.make(count: 100, seed: 11)

    static func configuration(epochs: Int = 3, binarization: Binarization = .none, batchSize: Int = 32) -> TrainingConfiguration {
        TrainingConfiguration(preset: "test", binarization: binarization,
                              model: .mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [32], latentSize: 4)),
                              learningRate: 3e-3, batchSize: batchSize, epochs: epochs, seed: 5, evaluationBatchSize: 64)
    }

    static func trainAll(_ trainer: Trainer) throws -> [EpochSummary] {
        var summaries: [EpochSummary] = []
        while !trainer.isFinished { summaries.append(try #require(try trainer.trainEpoch())) }
        return summaries
    }

    /// A run of `configuration` that trains one epoch and stops after `batches` batches of the
    /// second; its checkpoint file (encoded and read back) and a fresh trainer restored from it,
    /// which trains on to the end, appending each epoch's loss to the first epoch's.
    static func interruptedAndResumed(_ configuration: TrainingConfiguration, stopAfter batches: Int) throws
        -> (file: SafeTensorsFile, resumed: Trainer, losses: [Double]) {
        let interrupted = try Trainer(configuration: configuration, train: train, test: test)
        var losses = [try #require(try interrupted.trainEpoch()).loss]
        var done = 0
        #expect(try interrupted.trainEpoch(shouldStop: { done == batches }, onBatch: { _, _, _ in done += 1 }) == nil)
        #expect(interrupted.progress.batchesDone == batches)
        let file = try SafeTensorsFile.decode(TrainingCheckpoint.checkpointFile(interrupted).encoded(), file: "checkpoint")
        let resumed = try Trainer(configuration: configuration, train: train, test: test)
        try TrainingCheckpoint.restore(resumed, from: file, fileName: "checkpoint")
        while !resumed.isFinished { losses.append(try #require(try resumed.trainEpoch()).loss) }
        return (file, resumed, losses)
    }

    @Test func whatACallerGetsWrongIsAThrownErrorNotATrap() {
        var bad = Self.configuration()
        bad.batchSize = 0
        #expect(throws: TrainerSetupError.invalidConfiguration(ConfigurationProblem(.batchSize, "must be positive, got 0"))) {
            try Trainer(configuration: bad, train: Self.train, test: Self.test)
        }
        let wrongShape = SyntheticDigits.make(count: 10, seed: 1)
        var other = Self.configuration()
        other.model = .mlp(MLPConfiguration(inputSize: 49, hiddenSizes: [8], latentSize: 2))
        #expect(throws: TrainerSetupError.self) { try Trainer(configuration: other, train: wrongShape, test: wrongShape) }
        var conditional = Self.configuration()
        conditional.model = .mlp({ var m = MLPConfiguration(inputSize: 64, hiddenSizes: [8], latentSize: 2); m.conditionClasses = 10; return m }())
        let unlabelled = ImageDataset(pixels: Self.train.pixels, shape: Self.train.shape, labels: [], classNames: [])
        #expect(throws: TrainerSetupError.labels("the model is conditioned on 10 classes; the training images have no labels")) {
            try Trainer(configuration: conditional, train: unlabelled, test: Self.test)
        }
    }

    @Test func aFullEpochReturnsItsSummary() throws {
        let trainer = try Trainer(configuration: Self.configuration(epochs: 1), train: Self.train, test: Self.test)
        let summary = try trainer.trainFullEpoch()
        #expect(summary.epoch == 1 && trainer.isFinished)
    }

    @Test func trainingLowersTheTestLoss() throws {
        BLAS.setThreadCount(1)
        let trainer = try Trainer(configuration: Self.configuration(epochs: 15), train: Self.train, test: Self.test)
        let before = trainer.evaluateTest(epoch: 0)
        let summaries = try Self.trainAll(trainer)
        let after = trainer.evaluateTest(epoch: 15)
        #expect(summaries.last!.loss < summaries.first!.loss)
        #expect(after.loss < 0.8 * before.loss, "test loss \(before.loss) -> \(after.loss)")
        #expect(after.lossMean <= after.loss + 1)
    }

    @Test func theLastPartialBatchIsKept() throws {
        let trainer = try Trainer(configuration: Self.configuration(epochs: 1, batchSize: 128), train: Self.train, test: Self.test)
        #expect(trainer.batchesPerEpoch == 3)  // 128 + 128 + 44
        var batches = 0
        _ = try trainer.trainEpoch(onBatch: { _, _, _ in batches += 1 })
        #expect(batches == 3)
        #expect(trainer.progress.completedEpochs == 1)
    }

    @Test func theSameSeedGivesTheSameNumbers() throws {
        BLAS.setThreadCount(1)
        let first = try Self.trainAll(try Trainer(configuration: Self.configuration(binarization: .dynamic), train: Self.train, test: Self.test))
        let second = try Self.trainAll(try Trainer(configuration: Self.configuration(binarization: .dynamic), train: Self.train, test: Self.test))
        #expect(first.map(\.loss) == second.map(\.loss))
        var other = Self.configuration(binarization: .dynamic)
        other.seed = 6
        let third = try Self.trainAll(try Trainer(configuration: other, train: Self.train, test: Self.test))
        #expect(first.map(\.loss) != third.map(\.loss))
    }

    @Test(arguments: [Binarization.none, .dynamic])
    func resumingFromAMidEpochCheckpointEndsWithTheSameNumbers(binarization: Binarization) throws {
        BLAS.setThreadCount(1)
        let configuration = Self.configuration(epochs: 3, binarization: binarization)
        let uninterrupted = try Trainer(configuration: configuration, train: Self.train, test: Self.test)
        let expected = try Self.trainAll(uninterrupted)

        // Stop in the middle of epoch 2, save the checkpoint, restore it into a fresh trainer.
        let (_, resumed, losses) = try Self.interruptedAndResumed(configuration, stopAfter: 4)
        #expect(losses == expected.map(\.loss))
        #expect(resumed.model.parameters.map(\.scalars) == uninterrupted.model.parameters.map(\.scalars))
        #expect(resumed.evaluateTest(epoch: 3) == uninterrupted.evaluateTest(epoch: 3))
    }

    /// A stop asked after an epoch's shuffle was drawn but before its first batch (a signal
    /// in that gap) leaves the epoch unbegun: the resumed run draws the same shuffle.
    @Test func aStopBetweenTheShuffleAndTheFirstBatchResumesToTheSameNumbers() throws {
        BLAS.setThreadCount(1)
        let configuration = Self.configuration(epochs: 3, binarization: .dynamic)
        let expected = try Self.trainAll(try Trainer(configuration: configuration, train: Self.train, test: Self.test))
        let interrupted = try Trainer(configuration: configuration, train: Self.train, test: Self.test)
        var losses = [try #require(try interrupted.trainEpoch()).loss]
        var asked = 0  // asked at the epoch's start (no), then before its first batch (yes)
        #expect(try interrupted.trainEpoch(shouldStop: { asked += 1; return asked == 2 }) == nil)
        #expect(asked == 2 && interrupted.progress.batchesDone == 0 && interrupted.progress.generator == interrupted.progress.epochStartGenerator)
        let file = try SafeTensorsFile.decode(TrainingCheckpoint.checkpointFile(interrupted).encoded(), file: "checkpoint")
        let resumed = try Trainer(configuration: configuration, train: Self.train, test: Self.test)
        try TrainingCheckpoint.restore(resumed, from: file, fileName: "checkpoint")
        while !resumed.isFinished { losses.append(try #require(try resumed.trainEpoch()).loss) }
        #expect(losses == expected.map(\.loss))
    }

    @Test func aDivergingLossStopsWithTheEpochAndBatch() throws {
        var configuration = Self.configuration(epochs: 2)
        configuration.optimizer = .sgd
        configuration.learningRate = 1e30
        let trainer = try Trainer(configuration: configuration, train: Self.train, test: Self.test)
        let error = try #require(throws: NonFiniteLossError.self) { _ = try Self.trainAll(trainer) }
        #expect(error.epoch == 1)
        #expect(error.batch >= 2)
        #expect(error.localizedDescription.contains("epoch 1, batch \(error.batch)"))
    }

    @Test func thresholdBinarisationMakesZerosAndOnes() throws {
        let trainer = try Trainer(configuration: Self.configuration(binarization: .threshold), train: Self.train, test: Self.test)
        #expect(trainer.train.pixels.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(trainer.test.pixels.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(zip(trainer.train.pixels, Self.train.pixels).allSatisfy { ($0 == 1) == ($1 >= 0.5) })
    }

    @Test func staticBinarisationDrawsOnceWithPixelProbabilities() throws {
        let trainer = try Trainer(configuration: Self.configuration(binarization: .fixedSample), train: Self.train, test: Self.test)
        let again = try Trainer(configuration: Self.configuration(binarization: .fixedSample), train: Self.train, test: Self.test)
        #expect(trainer.train.pixels == again.train.pixels)
        #expect(trainer.train.pixels.allSatisfy { $0 == 0 || $0 == 1 })
        // The mean of the draws follows the mean intensity.
        let meanDraw = trainer.train.pixels.reduce(0, +) / Float(trainer.train.pixels.count)
        let meanIntensity = Self.train.pixels.reduce(0, +) / Float(Self.train.pixels.count)
        #expect(abs(meanDraw - meanIntensity) < 0.01)
        // Dynamic binarisation keeps grey training images (drawn per batch) and a fixed test draw.
        let dynamic = try Trainer(configuration: Self.configuration(binarization: .dynamic), train: Self.train, test: Self.test)
        #expect(dynamic.train.pixels == Self.train.pixels)
        #expect(dynamic.test.pixels.allSatisfy { $0 == 0 || $0 == 1 })
    }
}

/// Training on images packed one bit per pixel (dSprites' form) is training on the same images as floats.
@Suite struct PackedImageTrainingTests {
    init() { StandardModelKinds.register() }

    @Test func aPackedTrainingSetTrainsToTheSameNumbersAsItsFloats() throws {
        BLAS.setThreadCount(1)
        var values = TrainerTests.train.pixels
        Binarization.threshold(&values)
        let floats = TrainerTests.train.replacingPixels(values), packed = try #require(floats.packed())
        #expect(packed.isPacked && packed.count == floats.count && packed.pixels == floats.pixels)
        #expect(packed.meanImage == floats.meanImage && packed.subset([5, 2, 9]).pixels == floats.subset([5, 2, 9]).pixels)
        #expect(packed.image(7) == floats.image(7))
        let configuration = TrainerTests.configuration(epochs: 2)
        let fromFloats = try TrainerTests.trainAll(try Trainer(configuration: configuration, train: floats, test: TrainerTests.test))
        let fromBits = try TrainerTests.trainAll(try Trainer(configuration: configuration, train: packed, test: TrainerTests.test))
        #expect(fromFloats.map(\.loss) == fromBits.map(\.loss) && fromFloats.map(\.loss).allSatisfy(\.isFinite))
        // Grey values do not pack.
        #expect(TrainerTests.train.packed() == nil)
    }
}
