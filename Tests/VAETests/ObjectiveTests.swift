import Foundation
import TensorCore
import Testing
import VAE
import VAEEvaluation
import VAEModels

@Suite(.serialized) struct ObjectiveTests {
    /// Reading a specification needs its kind registered, as a program reading files does.
    init() { StandardModelKinds.register() }

    static func configuration(_ objective: ObjectiveSettings, epochs: Int = 4) -> TrainingConfiguration {
        var configuration = TrainerTests.configuration(epochs: epochs)
        configuration.objective = objective
        return configuration
    }

    @Test func theKLWeightRisesLinearlyOverTheWarmUpToBeta() {
        let objective = ObjectiveSettings(beta: 2, warmupEpochs: 4)
        #expect(objective.klWeight(afterEpochs: 0) == 0)
        #expect(objective.klWeight(afterEpochs: 1) == 0.5)
        #expect(objective.klWeight(afterEpochs: 3.5) == 1.75)
        #expect(objective.klWeight(afterEpochs: 10) == 2)
        #expect(ObjectiveSettings.elbo.klWeight(afterEpochs: 0) == 1)
    }

    @Test func theIWAEPaperScheduleRunsThreeToTheIEpochsAtFallingRates() {
        let schedule = LearningRateSchedule.iwaePaper(stages: 8)
        #expect(schedule.epochs == 3280)
        #expect(LearningRateSchedule.iwaePaper(stages: 4).epochs == 40)
        let rate = { (epoch: Int) in schedule.learningRate(base: 1e-3, epoch: epoch) }
        #expect(rate(1) == 1e-3)
        #expect(abs(rate(2) - 1e-3 * Float(pow(10, -1.0 / 7))) < 1e-9 && rate(4) == rate(2) && rate(5) < rate(4))
        #expect(abs(rate(3280) - 1e-3 * Float(pow(10, -1.0))) < 1e-9 && rate(3280) == rate(1094) && rate(1093) > rate(1094))
        #expect(LearningRateSchedule.constant.learningRate(base: 0.5, epoch: 99) == 0.5)
    }

    @Test func aConfigurationWrittenBeforeObjectivesExistedStillReads() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainerTests.configuration())) as! [String: Any]
        object.removeValue(forKey: "objective")
        object.removeValue(forKey: "schedule")
        let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded == TrainerTests.configuration())
    }

    @Test func badObjectiveSettingsAreNamed() {
        #expect(Self.configuration(ObjectiveSettings(kind: .iwae, samples: 0)).problems.contains { $0.setting == .samples && $0.message.contains("importance samples") })
        #expect(Self.configuration(ObjectiveSettings(beta: -1)).problems.contains { $0.setting == .beta })
        #expect(Self.configuration(ObjectiveSettings(kind: .iwae, samples: 5, beta: 2)).problems.contains { $0.setting == .objective && $0.message.contains("apply to the ELBO") })
        var schedule = TrainerTests.configuration(epochs: 5)
        schedule.schedule = .iwaePaper(stages: 3)
        #expect(schedule.problems.contains { $0.setting == .schedule && $0.message.contains("takes 13 epochs") })
    }

    @Test func freeBitsAboveEveryDimensionsKLLeaveOnlyTheReconstructionGradient() throws {
        // With λ far above any KL_d the KL term is the constant λ d: training is that of β = 0.
        BLAS.setThreadCount(1)
        let free = try Trainer(configuration: Self.configuration(ObjectiveSettings(freeBits: 1000), epochs: 1), train: TrainerTests.train, test: TrainerTests.test)
        let noKL = try Trainer(configuration: Self.configuration(ObjectiveSettings(beta: 0), epochs: 1), train: TrainerTests.train, test: TrainerTests.test)
        _ = try free.trainEpoch()
        _ = try noKL.trainEpoch()
        let difference = zip(free.model.parameters, noKL.model.parameters).map { pair in
            zip(pair.0.scalars, pair.1.scalars).map { abs($0 - $1) }.max()!
        }.max()!
        #expect(difference < 1e-6)
    }

    @Test func aLargerBetaPullsThePosteriorTowardsThePrior() throws {
        BLAS.setThreadCount(1)
        var kls: [Double] = []
        for beta: Float in [0.5, 1, 4] {
            let trainer = try Trainer(configuration: Self.configuration(ObjectiveSettings(beta: beta)), train: TrainerTests.train, test: TrainerTests.test)
            _ = try TrainerTests.trainAll(trainer)
            kls.append(trainer.evaluateTest(epoch: 4).kl)
        }
        #expect(kls[0] > kls[1] && kls[1] > kls[2], "KL for beta 0.5, 1, 4: \(kls)")
    }

    @Test func trainingWithTheIWAEObjectiveRaisesTheBound() throws {
        BLAS.setThreadCount(1)
        let trainer = try Trainer(configuration: Self.configuration(ObjectiveSettings(kind: .iwae, samples: 5), epochs: 8), train: TrainerTests.train, test: TrainerTests.test)
        let test = TrainerTests.test.pixels
        var before = RandomGenerator(seed: 1), after = RandomGenerator(seed: 1)
        let start = trainer.model.importanceWeightedBound(images: test, samples: 20, using: &before).logLikelihood
        let summaries = try TrainerTests.trainAll(trainer)
        let end = trainer.model.importanceWeightedBound(images: test, samples: 20, using: &after).logLikelihood
        #expect(summaries.last!.loss < summaries.first!.loss)
        #expect(end > start + 5, "L_20 \(start) -> \(end)")
    }
}
