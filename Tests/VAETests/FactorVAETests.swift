import Foundation
import SafeTensors
import TensorCore
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

    @Test func theDiscriminatorsSettingsBelongToFactorVAE() {
        let elsewhere = ObjectiveSettings(kind: .betaTCVAE, discriminatorUnits: 64)
        #expect(elsewhere.problems.contains { $0.message.contains("apply to FactorVAE (--objective factor-vae), not beta-tcvae") })
        let bad = ObjectiveSettings(kind: .factorVAE, discriminatorLayers: 0)
        #expect(bad.problems.contains { $0.setting == .discriminatorLayers })
        #expect(ObjectiveSettings(kind: .factorVAE, gamma: 35).problems.isEmpty)
    }
}
