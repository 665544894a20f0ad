import Foundation
import Testing
import VAE

/// The schedules' rates against values worked out by hand, the monitor's decisions against
/// PyTorch's `ReduceLROnPlateau` and Keras's `EarlyStopping` rules followed by hand.
@Suite struct LearningRateScheduleTests {
    @Test func aStepScheduleMultipliesTheRateByItsFactorEveryStepOfEpochs() {
        let schedule = LearningRateSchedule.step(every: 2, factor: 0.5)
        let rates = (0..<13).map { schedule.learningRate(base: 1, step: $0, stepsPerEpoch: 3, epochs: 5) }
        #expect(rates == [Float](repeating: 1, count: 6) + [Float](repeating: 0.5, count: 6) + [0.25])
    }

    @Test func aCosineScheduleWarmsUpLinearlyThenFollowsHalfACosineToItsMinimum() {
        // 4 epochs of 5 steps, warm-up 1 epoch (W = 5 of S = 20 steps), rate 1 down to 0.1.
        let schedule = LearningRateSchedule.cosine(warmupEpochs: 1, minimum: 0.1)
        let rate = { (step: Int) in Double(schedule.learningRate(base: 1, step: step, stepsPerEpoch: 5, epochs: 4)) }
        #expect(abs(rate(0) - 0.2) < 1e-7 && abs(rate(2) - 0.6) < 1e-7 && rate(4) == 1)
        #expect(rate(5) == 1)
        // Step 11: 6 of the 15 decay steps, 0.1 + 0.9 (1 + cos(0.4 pi)) / 2.
        #expect(abs(rate(11) - (0.1 + 0.45 * (1 + cos(0.4 * Double.pi)))) < 1e-7)
        #expect(abs(rate(19) - (0.1 + 0.45 * (1 + cos(14.0 / 15 * Double.pi)))) < 1e-7)
        #expect((5..<19).allSatisfy { rate($0 + 1) < rate($0) })
        // Without a warm-up the first step runs at the full rate.
        #expect(LearningRateSchedule.cosine(warmupEpochs: 0, minimum: 0).learningRate(base: 0.5, step: 0, stepsPerEpoch: 5, epochs: 4) == 0.5)
    }

    @Test func theIWAEPaperAndConstantSchedulesKeepTheirRatesPerStep() {
        let schedule = LearningRateSchedule.iwaePaper(stages: 3)
        for step in 0..<(13 * 4) {
            #expect(schedule.learningRate(base: 1e-3, step: step, stepsPerEpoch: 4, epochs: 13) == schedule.learningRate(base: 1e-3, epoch: step / 4 + 1))
        }
        #expect(LearningRateSchedule.constant.learningRate(base: 0.25, step: 1000, stepsPerEpoch: 3, epochs: 2) == 0.25)
    }

    @Test func aScheduleWithImpossibleSettingsIsRefusedNamingTheSetting() {
        #expect(LearningRateSchedule.step(every: 0, factor: 2).problems(epochs: 5, base: 1e-3).map(\.setting) == [.scheduleStep, .scheduleFactor])
        #expect(LearningRateSchedule.cosine(warmupEpochs: 5, minimum: 1e-2).problems(epochs: 5, base: 1e-3).map(\.setting) == [.learningRateWarmup, .minimumLearningRate])
        #expect(LearningRateSchedule.plateau(factor: 1, patience: -1, minimum: 0).problems(epochs: 5, base: 1e-3).map(\.setting) == [.scheduleFactor, .schedulePatience])
        #expect(LearningRateSchedule.cosine(warmupEpochs: 0.5, minimum: 0).problems(epochs: 5, base: 1e-3).isEmpty)
        #expect(LearningRateSchedule.iwaePaper(stages: 2).problems(epochs: 5, base: 1e-3).first?.message.contains("takes 4 epochs") == true)
    }

    @Test func everyScheduleSurvivesItsRoundTripThroughJSON() throws {
        for schedule: LearningRateSchedule in [.constant, .iwaePaper(stages: 3), .step(every: 3, factor: 0.5), .cosine(warmupEpochs: 0.5, minimum: 1e-5),
                                               .plateau(factor: 0.1, patience: 10, minimum: 0)] {
            #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(schedule)) == schedule)
        }
    }
}

@Suite struct TrainingMonitorTests {
    @Test func earlyStoppingEndsTrainingAfterPatienceEpochsWithoutALowerValidationLoss() {
        var monitor = TrainingMonitor()
        var verdicts: [TrainingMonitor.Verdict] = []
        for (index, loss) in [5.0, 4, 4.5, 4].enumerated() {
            verdicts.append(monitor.record(epoch: index + 1, validationLoss: loss, trainingLoss: 0, patience: 2, schedule: .constant, base: 1))
        }
        #expect(verdicts.map(\.improved) == [true, true, false, false])
        #expect(verdicts.map(\.stop) == [false, false, false, true])  // an equal loss is no improvement
        #expect(monitor.bestEpoch == 2 && monitor.bestLoss == 4 && monitor.stoppedEarly)
        #expect(monitor.problem(completedEpochs: 4) == nil)

        var patient = TrainingMonitor()
        for (index, loss) in [5.0, 6, 7, 8, 9].enumerated() {
            #expect(!patient.record(epoch: index + 1, validationLoss: loss, trainingLoss: 0, patience: nil, schedule: .constant, base: 1).stop)
        }
        #expect(patient.bestEpoch == 1 && patient.epochsWithoutImprovement == 4 && !patient.stoppedEarly)
    }

    @Test func aPlateauScheduleReducesTheRateAsPyTorchsReduceLROnPlateauDoes() {
        // factor 0.5, patience 1, minimum 0.3 of a base rate 1; no validation share: the training loss.
        // PyTorch gives these rates for these losses (reference/schedules.py).
        let schedule = LearningRateSchedule.plateau(factor: 0.5, patience: 1, minimum: 0.3)
        var monitor = TrainingMonitor()
        var scales: [Double] = [], reduced: [Bool] = []
        // 8.9995 is not below 9 (1 - 1e-4) = 8.9991: no improvement under the relative threshold.
        for (index, loss) in [10, 9, 8.9995, 9.5, 8, 8, 8, 8, 8].enumerated() {
            reduced.append(monitor.record(epoch: index + 1, validationLoss: nil, trainingLoss: loss, patience: nil, schedule: schedule, base: 1).reducedRate)
            scales.append(monitor.plateauScale)
        }
        #expect(reduced == [false, false, false, true, false, false, true, false, false])
        #expect(scales == [1, 1, 1, 0.5, 0.5, 0.5] + [Double](repeating: Double(Float(0.3)), count: 3))  // at the minimum (a Float) no further reduction is made
        #expect(monitor.plateauEpochsWithoutImprovement == 0 && monitor.bestEpoch == nil)
        #expect(schedule.learningRate(base: 1, step: 0, stepsPerEpoch: 1, epochs: 9, plateauScale: monitor.plateauScale) == 0.3)
    }

    @Test func aMonitorThatCannotBelongToTheRunIsNamedByItsField() {
        var monitor = TrainingMonitor()
        monitor.bestEpoch = 4
        monitor.bestLoss = 1
        #expect(monitor.problem(completedEpochs: 3)?.field == "bestEpoch")
        monitor.bestEpoch = 2
        monitor.plateauScale = 2
        #expect(monitor.problem(completedEpochs: 3)?.field == "plateauScale")
        monitor.plateauScale = 1
        monitor.bestLoss = .nan
        #expect(monitor.problem(completedEpochs: 3)?.field == "bestLoss")
    }
}
