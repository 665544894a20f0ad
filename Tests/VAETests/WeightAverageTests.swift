import Foundation
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels

/// The weights' moving average: its recurrence by hand, what a trainer evaluates with it, and
/// its state through a checkpoint.
@Suite(.serialized) struct WeightAverageTests {
    init() { StandardModelKinds.register() }

    static func configuration() -> TrainingConfiguration {
        var configuration = TrainerTests.configuration(epochs: 3)
        configuration.weightAverage = 0.9
        return configuration
    }

    @Test func theAverageStartsAtTheFirstStepsWeightsAndFollowsTheWarmedUpDecay() {
        let parameter = Tensor(shape: [2], scalars: [1, 2])
        let average = WeightAverage(decay: 0.9, parameters: [parameter])
        average.exchange()  // before the first step: nothing to exchange
        #expect(parameter.scalars == [1, 2] && average.averages.isEmpty)
        average.update(afterStep: 1)
        #expect(average.averages == [[1, 2]])
        parameter.pointer.update(from: [3, 6], count: 2)
        average.update(afterStep: 2)  // d_2 = min(0.9, 3 / 12) = 0.25
        let second: [Float] = [0.25 * 1 + 0.75 * 3, 0.25 * 2 + 0.75 * 6]
        #expect(average.averages == [second])
        parameter.pointer.update(from: [5, 10], count: 2)
        average.update(afterStep: 3)  // d_3 = 4 / 13
        let d3: Float = 4.0 / 13
        let third: [Float] = [d3 * 2.5 + (1 - d3) * 5, d3 * 5 + (1 - d3) * 10]
        #expect(zip(average.averages[0], third).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(average.decay(afterStep: 1000) == 0.9 && average.decay(afterStep: 80) == 0.9 && average.decay(afterStep: 79) < 0.9)
        let averaged = average.averages[0]
        average.exchange()
        #expect(parameter.scalars == averaged && average.averages == [[5, 10]])
        average.exchange()
        #expect(parameter.scalars == [5, 10] && average.averages == [averaged])
    }

    @Test func aTrainerEvaluatesTheAverageAndKeepsTrainingTheLiveWeights() throws {
        BLAS.setThreadCount(1)
        let trainer = try Trainer(configuration: Self.configuration(), train: TrainerTests.train, test: TrainerTests.test)
        _ = try #require(try trainer.trainEpoch())
        let live = trainer.model.parameters.map(\.scalars)
        let averages = try #require(trainer.weightAverage).averages
        #expect(averages.count == live.count && averages != live)
        let (inside, test) = trainer.withAveragedWeights { (trainer.model.parameters.map(\.scalars), trainer.evaluateTest(epoch: 1)) }
        #expect(inside == averages && trainer.model.parameters.map(\.scalars) == live)
        #expect(test.loss != trainer.evaluateTest(epoch: 1).loss, "the averaged weights were evaluated")

        // Without an average, the block sees the live weights.
        let plain = try Trainer(configuration: TrainerTests.configuration(epochs: 3), train: TrainerTests.train, test: TrainerTests.test)
        _ = try #require(try plain.trainEpoch())
        #expect(plain.weightAverage == nil && plain.withAveragedWeights { plain.model.parameters.map(\.scalars) } == plain.model.parameters.map(\.scalars))
    }

    @Test func aResumedRunRestoresTheAverageAndEndsWithTheSameNumbers() throws {
        BLAS.setThreadCount(1)
        let configuration = Self.configuration()
        let uninterrupted = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let expected = try TrainerTests.trainAll(uninterrupted)

        let (file, resumed, losses) = try TrainerTests.interruptedAndResumed(configuration, stopAfter: 3)
        let count = uninterrupted.model.parameters.count
        #expect(Set(file.tensors.keys.filter { $0.hasPrefix("weight_average.") }) == Set((0..<count).map { "weight_average.\($0)" }))
        #expect(losses == expected.map(\.loss))
        #expect(resumed.weightAverage?.averages == uninterrupted.weightAverage?.averages)
        #expect(resumed.withAveragedWeights { resumed.evaluateTest(epoch: 3).loss } == uninterrupted.withAveragedWeights { uninterrupted.evaluateTest(epoch: 3).loss })

        func refusal(_ edit: (inout SafeTensorsFile) -> Void, configuration: TrainingConfiguration = configuration) throws -> String {
            var edited = file
            edit(&edited)
            if configuration != Self.configuration() { edited.metadata.removeValue(forKey: "training_configuration") }
            let fresh = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
            return try #require(throws: CheckpointError.self) { try TrainingCheckpoint.restore(fresh, from: edited, fileName: "checkpoint") }.localizedDescription
        }
        let missing = try refusal { $0.tensors.removeValue(forKey: "weight_average.1") }
        #expect(missing.contains("weight_average.1") && missing.contains("missing"), "\(missing)")
        let none = try refusal { $0.tensors = $0.tensors.filter { !$0.key.hasPrefix("weight_average.") } }
        #expect(none.contains("weight_average: missing"), "\(none)")
        let short = try refusal { $0.tensors["weight_average.0"] = .init(shape: [3], values: [0, 0, 0]) }
        #expect(short.contains("weight_average.0: holds 3 values"), "\(short)")
        let infinite = try refusal { $0.tensors["weight_average.2"]!.values[0] = .infinity }
        #expect(infinite.contains("weight_average.2: holds inf at index 0"), "\(infinite)")
        let misnamed = try refusal { $0.tensors["weight_average.x"] = .init(shape: [1], values: [0]) }
        #expect(misnamed.contains("weight_average.x: expected weight_average.N"), "\(misnamed)")
        let unasked = try refusal({ _ in }, configuration: TrainerTests.configuration(epochs: 3))
        #expect(unasked.contains("weight_average: present, but the run's configuration averages no weights"), "\(unasked)")
    }

    @Test func aDecayOutsideZeroToOneIsRefusedNamingTheSetting() {
        for decay in [0, 1, -0.5, 1.5, .nan] {
            var configuration = TrainerTests.configuration()
            configuration.weightAverage = decay
            #expect(configuration.problems.contains { $0.setting == .weightAverage && $0.message.contains("between 0 and 1") }, "\(decay)")
        }
        var fine = TrainerTests.configuration()
        fine.weightAverage = 0.999
        #expect(fine.problems.isEmpty)
    }
}

