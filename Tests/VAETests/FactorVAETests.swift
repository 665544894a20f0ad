import Foundation
import SafeTensors
import TensorCore
import NN
import Testing
import VAE
import VAEModels

/// FactorVAE: its discriminator learns the total correlation of codes, its state survives a
/// checkpoint, and its options belong to it alone.
@Suite(.serialized) struct FactorVAETests {
    init() { StandardModelKinds.register() }

    static func configuration(epochs: Int = 3) -> TrainingConfiguration {
        var configuration = TrainerTests.configuration(epochs: epochs)
        configuration.objective = ObjectiveSettings(kind: .factorVAE, gamma: 10, discriminatorLayers: 2, discriminatorUnits: 32, discriminatorLearningRate: 1e-3)
        return configuration
    }

    @Test func theDiscriminatorsLogOddsApproachTheTotalCorrelationOfCorrelatedCodes() throws {
        BLAS.setThreadCount(1)
        // Two codes with correlation ρ: TC = −½ log(1 − ρ²) nats.
        let rho: Float = 0.95, total = -0.5 * log(1 - Double(rho * rho))
        let objective = FactorVAEBound(settings: ObjectiveSettings(kind: .factorVAE, discriminatorLayers: 2, discriminatorUnits: 64, discriminatorLearningRate: 3e-3), seed: 1)
        var generator = RandomGenerator(seed: 2)
        let model = try TrainingConfiguration(preset: "t", model: .mlp(MLPConfiguration(inputSize: 4, hiddenSizes: [4], latentSize: 2))).model.makeModel(using: &generator)
        objective.prepare(for: model)
        func codes(_ rows: Int) -> Tensor {
            var normals = [Float](repeating: 0, count: rows * 2)
            normals.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
            var values: [Float] = []
            for row in 0..<rows {
                let (a, b) = (normals[2 * row], normals[2 * row + 1])
                values += [a, rho * a + (1 - rho * rho).squareRoot() * b]
            }
            return Tensor(shape: [rows, 2], scalars: values)
        }
        let first = objective.prepareDiscriminatorStep(codes: codes(256), using: &generator)
        objective.finishStep()
        var last = first
        for _ in 0..<1500 {
            last = objective.prepareDiscriminatorStep(codes: codes(256), using: &generator)
            objective.finishStep()
        }
        #expect(abs(first.loss - log(2)) < 0.1, "an untrained discriminator is near chance: \(first)")
        #expect(last.loss < 0.62 && last.accuracy > 0.6, "\(last)")
        let test = codes(4000), logOdds = objective.logits(test, trainable: false)
        let estimate = (0..<4000).reduce(0.0) { $0 + Double(logOdds.pointer[$1 * 2] - logOdds.pointer[$1 * 2 + 1]) } / 4000
        #expect(abs(estimate - total) < 0.25 * total, "log-odds \(estimate) against TC \(total)")
    }

    @Test func resumingAFactorVAERunRestoresItsDiscriminatorAndEndsWithTheSameNumbers() throws {
        BLAS.setThreadCount(1)
        let configuration = Self.configuration()
        let uninterrupted = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let expected = try TrainerTests.trainAll(uninterrupted)
        #expect(expected.allSatisfy { $0.loss.isFinite })

        let (file, resumed, losses) = try TrainerTests.interruptedAndResumed(configuration, stopAfter: 3)
        #expect(file.tensors.keys.contains("objective.discriminator.2.weight") && file.tensors.keys.contains("objective.discriminator_adam_step"))
        #expect(losses == expected.map(\.loss))
        #expect(resumed.objective.state == uninterrupted.objective.state, "the discriminator's weights or its Adam differ after the resume")

        // A checkpoint without the discriminator's state is refused, naming what is missing.
        var stripped = file
        stripped.tensors = stripped.tensors.filter { !$0.key.hasPrefix("objective.discriminator.0") }
        let fresh = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let error = try #require(throws: CheckpointError.self) { try TrainingCheckpoint.restore(fresh, from: stripped, fileName: "checkpoint") }
        #expect(error.localizedDescription.contains("objective.discriminator.0.bias") && error.localizedDescription.contains("missing"), "\(error.localizedDescription)")
    }

    @Test func shufflingThePreviousBatchShowsTheDiscriminatorThePreviousBatchsCodes() throws {
        BLAS.setThreadCount(1)
        var generator = RandomGenerator(seed: 3)
        let model = try TrainingConfiguration(preset: "t", model: .mlp(MLPConfiguration(inputSize: 4, hiddenSizes: [4], latentSize: 3))).model.makeModel(using: &generator)
        func codes(_ value: Float?) -> Tensor {
            var values = [Float](repeating: value ?? 0, count: 8 * 3)
            if value == nil { values.withUnsafeMutableBufferPointer { generator.fillNormal($0) } }
            return Tensor(shape: [8, 3], scalars: values)
        }
        let (constant, drawn) = (codes(0.5), codes(nil))
        var losses: [DiscriminatorShuffle: Double] = [:], expected = 0.0
        for shuffle in DiscriminatorShuffle.allCases {
            let objective = FactorVAEBound(settings: ObjectiveSettings(kind: .factorVAE, discriminatorLayers: 2, discriminatorUnits: 16, discriminatorShuffle: shuffle), seed: 1)
            objective.prepare(for: model)
            objective.prepareDiscriminatorStep(codes: constant, using: &generator)
            objective.finishStep()
            // Every shuffle of the constant codes is the constant codes: the loss the discriminator
            // should see next, with the drawn batch as class 0 and the previous batch as class 1.
            let both = objective.logits(Tensor(shape: [16, 3], scalars: drawn.scalars + constant.scalars), trainable: false)
            expected = Double(softmaxCrossEntropy(logits: both, labels: [Int](repeating: 0, count: 8) + [Int](repeating: 1, count: 8)).item)
            losses[shuffle] = objective.prepareDiscriminatorStep(codes: drawn, using: &generator).loss
        }
        #expect(abs(losses[.previousBatch]! - expected) < 1e-6, "\(losses) against \(expected)")
        #expect(abs(losses[.sameBatch]! - expected) > 1e-3, "the same batch's shuffle must differ: \(losses)")
    }

    @Test func resumingAPreviousBatchShuffleRestoresTheKeptCodes() throws {
        BLAS.setThreadCount(1)
        var configuration = Self.configuration()
        configuration.objective.discriminatorShuffle = .previousBatch
        let uninterrupted = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let expected = try TrainerTests.trainAll(uninterrupted)
        let (file, resumed, losses) = try TrainerTests.interruptedAndResumed(configuration, stopAfter: 3)
        #expect(file.tensors.keys.contains("objective.discriminator_previous_codes"))
        #expect(losses == expected.map(\.loss))
        let sameState = resumed.objective.state == uninterrupted.objective.state
        #expect(sameState, "the discriminator, its Adam or the kept codes differ after the resume")

        // Kept codes of the wrong length, or in a run that shuffles its own batch, are refused.
        let objective = FactorVAEBound(settings: configuration.objective, seed: 1)
        objective.prepare(for: resumed.model)
        var state = objective.state
        state["discriminator_previous_codes"] = [1, 2, 3]
        let wrongLength = try #require(throws: ObjectiveStateError.self) { try objective.restore(state: state) }
        #expect(wrongLength.problem.contains("holds 3 values, expected a whole number of 4-value codes"), "\(wrongLength.problem)")
        let own = FactorVAEBound(settings: Self.configuration().objective, seed: 1)
        own.prepare(for: resumed.model)
        state = own.state
        state["discriminator_previous_codes"] = [Float](repeating: 0, count: 8)
        let misplaced = try #require(throws: ObjectiveStateError.self) { try own.restore(state: state) }
        #expect(misplaced.problem.contains("shuffles the same batch's"), "\(misplaced.problem)")
    }

    /// The discriminator starts as its initializer says: PyTorch's default draws the biases too;
    /// Glorot uniform (disentanglement_lib's TensorFlow layers) starts them at zero, with weights
    /// within ±sqrt(6 / (fan-in + fan-out)), wider than PyTorch's ±1/sqrt(fan-in) here.
    @Test func theDiscriminatorStartsAsItsInitializerSays() throws {
        var generator = RandomGenerator(seed: 1)
        let model = try TrainingConfiguration(preset: "t", model: .mlp(MLPConfiguration(inputSize: 4, hiddenSizes: [4], latentSize: 2))).model.makeModel(using: &generator)
        func discriminator(_ initializer: Initializer) -> FactorVAEBound {
            let objective = FactorVAEBound(settings: ObjectiveSettings(kind: .factorVAE, discriminatorLayers: 2, discriminatorUnits: 64,
                                                                       discriminatorInitializer: initializer), seed: 3)
            objective.prepare(for: model)
            return objective
        }
        let glorot = discriminator(.glorotUniform), pytorch = discriminator(.pytorchDefault)
        for layer in glorot.layers {
            let bound = (6 / Float(layer.inputSize + layer.outputSize)).squareRoot()
            #expect(layer.bias!.scalars.allSatisfy { $0 == 0 })
            #expect(layer.weight.scalars.allSatisfy { abs($0) <= bound })
        }
        // The 64 x 64 hidden layer: Glorot's bound is 1.22 times PyTorch's, so some weights pass PyTorch's.
        let hidden = glorot.layers[1]
        #expect(hidden.weight.scalars.contains { abs($0) > 1 / Float(hidden.inputSize).squareRoot() })
        #expect(pytorch.layers.allSatisfy { layer in layer.bias!.scalars.contains { $0 != 0 } })
    }

    @Test func theDiscriminatorsSettingsBelongToFactorVAE() throws {
        #expect(ObjectiveSettings(kind: .elbo, discriminatorShuffle: .previousBatch).problems.contains { $0.message.contains("apply to FactorVAE") })
        let previous = ObjectiveSettings(kind: .factorVAE, gamma: 35, discriminatorShuffle: .previousBatch)
        let encoded = try JSONEncoder().encode(previous), plain = try JSONEncoder().encode(ObjectiveSettings(kind: .factorVAE, gamma: 35))
        #expect(try JSONDecoder().decode(ObjectiveSettings.self, from: encoded) == previous)
        #expect(String(decoding: encoded, as: UTF8.self).contains("\"discriminatorShuffle\":\"previous-batch\""))
        #expect(!String(decoding: plain, as: UTF8.self).contains("discriminatorShuffle"), "the default is left out, so earlier records read back the same")
        let glorot = ObjectiveSettings(kind: .factorVAE, gamma: 35, discriminatorInitializer: .glorotUniform)
        let glorotEncoded = try JSONEncoder().encode(glorot)
        #expect(try JSONDecoder().decode(ObjectiveSettings.self, from: glorotEncoded) == glorot)
        #expect(String(decoding: glorotEncoded, as: UTF8.self).contains("\"discriminatorInitializer\":\"glorot\""))
        #expect(!String(decoding: plain, as: UTF8.self).contains("discriminatorInitializer"), "the default is left out, so earlier records read back the same")
        #expect(ObjectiveSettings(kind: .elbo, discriminatorInitializer: .glorotUniform).problems.contains { $0.message.contains("initializer apply to FactorVAE") })
        let elsewhere = ObjectiveSettings(kind: .betaTCVAE, discriminatorUnits: 64)
        #expect(elsewhere.problems.contains { $0.message.contains("apply to FactorVAE (--objective factor-vae), not beta-tcvae") })
        let bad = ObjectiveSettings(kind: .factorVAE, discriminatorLayers: 0)
        #expect(bad.problems.contains { $0.setting == .discriminatorLayers })
        #expect(ObjectiveSettings(kind: .factorVAE, gamma: 35).problems.isEmpty)
    }
}
