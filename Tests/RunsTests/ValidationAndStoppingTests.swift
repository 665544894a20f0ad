import Foundation
import Runs
import SafeTensors
import TensorCore
import Testing
import VAE

/// Runs with a validation share: the validation loss per epoch, the best model kept beside the
/// last, early stopping, and a plateau schedule with clipping that resumes to the same numbers.
@Suite(.serialized) struct ValidationAndStoppingTests {
    static func configuration(epochs: Int, patience: Int? = nil, learningRate: Float = 3e-3,
                              schedule: LearningRateSchedule = .constant) -> TrainingConfiguration {
        var configuration = Workspace.configuration(epochs: epochs)
        configuration.validationShare = 0.2
        configuration.patience = patience
        configuration.learningRate = learningRate
        configuration.schedule = schedule
        return configuration
    }

    @Test func theBestModelIsTheEpochOfLowestValidationLossAndIsKeptBesideTheLast() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let folder = workspace.folder("validated")
        let session = try TrainingSession.start(configuration: Self.configuration(epochs: 4), folder: folder, catalog: workspace.catalog, blasThreads: 1)
        #expect(session.trainer.train.count == 160 && session.trainer.validation?.count == 40)
        #expect(try session.run(reporter: SilentReporter()) { false } == .finished)
        let rows = try folder.readMetrics()
        let losses = rows.map { $0.extra["validation_loss"]! }
        #expect(losses.allSatisfy(\.isFinite) && rows.allSatisfy { $0.extra["learning_rate"] == 3e-3 })
        let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
        let file = try SafeTensorsFile.read(from: folder.best)
        #expect(file.metadata["epoch"] == String(best))
        #expect(abs(Double(file.metadata["validation_loss"]!)! - losses[best - 1]) < 1e-3 * abs(losses[best - 1]))
        #expect(session.trainer.monitor.bestEpoch == best)
        // The validation loss is the model's own evaluation of the held-out images, as vae eval would compute it.
        var generator = RandomGenerator(seed: 9 ^ (0x7A11_0000 &+ 4))
        let held = session.trainer.validationEvaluated!
        let again = session.trainer.model.evaluate(images: held.pixels, targets: held.pixels, labels: held.labels, batchSize: 20, using: &generator)
        #expect(abs(again.loss - losses[3]) < 1e-3)
    }

    @Test func earlyStoppingEndsTheRunAndAResumeDoesNotTrainFurther() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let folder = workspace.folder("stopping")
        // A rate this high makes the validation loss wander: the run stops well before 30 epochs.
        let configuration = Self.configuration(epochs: 30, patience: 2, learningRate: 0.05)
        let outcome = try TrainingSession.start(configuration: configuration, folder: folder, catalog: workspace.catalog, blasThreads: 1)
            .run(reporter: SilentReporter()) { false }
        guard case let .stoppedEarly(epoch, bestEpoch) = outcome else { Issue.record("expected an early stop, got \(outcome)"); return }
        let losses = try folder.readMetrics().map { $0.extra["validation_loss"]! }
        #expect(losses.count == epoch && epoch < 30 && epoch == bestEpoch + 2)
        #expect(losses[..<bestEpoch].min() == losses[bestEpoch - 1] && losses[bestEpoch...].allSatisfy { $0 >= losses[bestEpoch - 1] })
        let model = try Data(contentsOf: folder.model)
        let resumed = try TrainingSession.resume(folder: folder, catalog: workspace.catalog, epochs: 40, blasThreads: 1)
        #expect(try resumed.run(reporter: SilentReporter()) { false } == .stoppedEarly(epoch: epoch, bestEpoch: bestEpoch))
        #expect(try Data(contentsOf: folder.model) == model && (try folder.readMetrics().count) == epoch)
    }

    @Test func aPlateauScheduleWithClippingResumesToTheSameNumbers() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        var configuration = Self.configuration(epochs: 10, learningRate: 0.05, schedule: .plateau(factor: 0.5, patience: 0, minimum: 0))
        configuration.gradientClipNorm = 250
        configuration.optimizer = .adamw
        configuration.weightDecay = 1e-3
        let whole = workspace.folder("whole")
        _ = try TrainingSession.start(configuration: configuration, folder: whole, catalog: workspace.catalog, blasThreads: 1)
            .run(reporter: SilentReporter()) { false }
        let (parted, stopped) = try workspace.interruptedThenResumed("parted", configuration: configuration, stopAfter: 14)
        #expect(stopped == .interrupted(epoch: 3, batch: 1))

        let expected = try whole.readMetrics(), found = try parted.readMetrics()
        let rates = expected.map { $0.extra["learning_rate"]! }
        #expect(Set(rates).count > 1, "the plateau schedule reduced the rate at least once: \(rates), \(expected.map { $0.extra["validation_loss"]! }) \(expected.map { $0.extra["gradient_norm"]! }) \(expected.map { $0.extra["clipped_share"]! })")
        #expect(expected.allSatisfy { $0.extra["gradient_norm"]! > 0 && (0...1).contains($0.extra["clipped_share"]!) })
        #expect(expected.contains { $0.extra["clipped_share"]! > 0 }, "some steps were clipped")
        for column in ["learning_rate", "validation_loss", "gradient_norm", "clipped_share"] {
            #expect(found.map { $0.extra[column] } == expected.map { $0.extra[column] }, "\(column)")
        }
        #expect(found.map(\.testLoss) == expected.map(\.testLoss))
        #expect(try Data(contentsOf: parted.model) == Data(contentsOf: whole.model))
        #expect(try Data(contentsOf: parted.best) == Data(contentsOf: whole.best))
    }

    @Test func aCosineRunRefusesARaisedEpochCountOnResume() throws {
        let workspace = Workspace()
        let folder = workspace.folder("cosine")
        let session = try TrainingSession.start(configuration: Self.configuration(epochs: 2, schedule: .cosine(warmupEpochs: 0.5, minimum: 0)),
                                                folder: folder, catalog: workspace.catalog, blasThreads: 1)
        _ = try session.run(reporter: SilentReporter()) { false }
        session.close()
        #expect {
            try TrainingSession.resume(folder: folder, catalog: workspace.catalog, epochs: 3, blasThreads: 1)
        } throws: { ($0 as? RunError)?.localizedDescription.contains("fixes its cosine") == true }
    }

    @Test func aMetricsTableLeavesEmptyTheColumnsAnEarlierEpochLacks() throws {
        let old = MetricsRow(epoch: 1, trainLoss: 1, testLoss: 2, testLossMean: 3, reconstruction: 4, kl: 5, testReconstruction: 6, testKL: 7,
                             seconds: 8, imagesPerSecond: 9, evaluationSeconds: 10)
        var new = old
        new.epoch = 2
        new.extra = ["learning_rate": 0.001]
        let text = MetricsTable.encode([old, new])
        #expect(text.split(separator: "\n")[1].hasSuffix(",10.000,"))
        #expect(try MetricsTable.decode(text) == [old, new])
    }
}
