import Foundation

/// What a run remembers between epochs to keep its best model, stop early and reduce its rate
/// on a plateau. Saved in the checkpoint with the progress, so a resumed run decides as an
/// uninterrupted one would.
///
/// Early stopping and the best model follow the validation loss (the negative ELBO with one
/// sampled z per held-out image): an epoch improves when its loss is below every earlier one;
/// training stops after `patience` epochs in a row without improvement (Keras's and Lightning's
/// `EarlyStopping` with min_delta 0). A plateau schedule follows the validation loss, or the
/// training loss in a run without a validation share, with PyTorch's `ReduceLROnPlateau` rule: an
/// epoch improves when its loss is below best · (1 − 10⁻⁴); after more than `patience` epochs in
/// a row without improvement the scale is multiplied by the factor (not below minimum / rate)
/// and the count starts again.
public struct TrainingMonitor: Codable, Equatable, Sendable {
    /// The lowest validation loss so far (nil before the first or without a validation share).
    public var bestLoss: Double?
    /// The epoch (from 1) that reached `bestLoss`.
    public var bestEpoch: Int?
    /// Epochs in a row since the last improvement of the validation loss.
    public var epochsWithoutImprovement = 0
    /// Whether training stopped early: no improvement for the patience's epochs.
    public var stoppedEarly = false
    /// The plateau rule's best monitored loss so far.
    public var plateauBest: Double?
    /// Epochs in a row without improvement by the plateau rule.
    public var plateauEpochsWithoutImprovement = 0
    /// The factor by which a plateau schedule has reduced the rate (1 for the other schedules).
    public var plateauScale = 1.0

    /// PyTorch's `ReduceLROnPlateau` threshold: an improvement is a loss below best · (1 − 10⁻⁴).
    public static let plateauThreshold = 1e-4

    /// A monitor before the first epoch.
    public init() {}

    /// What one epoch's figures decided.
    public struct Verdict: Equatable, Sendable {
        /// The validation loss is the best so far (the best model is this epoch's).
        public var improved = false
        /// The plateau schedule reduced the rate from the next epoch on.
        public var reducedRate = false
        /// Training stops here (early stopping).
        public var stop = false
    }

    /// Takes the figures of finished epoch `epoch`: its validation loss (nil without a validation
    /// share) and training loss, for a run with early-stopping `patience` (nil: none), `schedule`
    /// and base rate `base`.
    public mutating func record(epoch: Int, validationLoss: Double?, trainingLoss: Double, patience: Int?,
                                schedule: LearningRateSchedule, base: Float) -> Verdict {
        var verdict = Verdict()
        if let validationLoss {
            if bestLoss.map({ validationLoss < $0 }) ?? true {
                (bestLoss, bestEpoch, epochsWithoutImprovement) = (validationLoss, epoch, 0)
                verdict.improved = true
            } else {
                epochsWithoutImprovement += 1
                if let patience, epochsWithoutImprovement >= patience { (stoppedEarly, verdict.stop) = (true, true) }
            }
        }
        if case let .plateau(factor, patience, minimum) = schedule {
            let monitored = validationLoss ?? trainingLoss
            if plateauBest.map({ monitored < $0 * (1 - Self.plateauThreshold) }) ?? true {
                (plateauBest, plateauEpochsWithoutImprovement) = (monitored, 0)
            } else {
                plateauEpochsWithoutImprovement += 1
            }
            if plateauEpochsWithoutImprovement > patience {
                let reduced = max(plateauScale * factor, Double(minimum) / Double(base))
                // PyTorch's eps: a reduction smaller than 1e-8 in the rate is not made.
                if Double(base) * (plateauScale - reduced) > 1e-8 { (plateauScale, verdict.reducedRate) = (reduced, true) }
                plateauEpochsWithoutImprovement = 0
            }
        }
        return verdict
    }

    /// What is impossible about the monitor of a run after `completedEpochs` epochs, if anything:
    /// the field and the problem.
    public func problem(completedEpochs: Int) -> (field: String, text: String)? {
        if let bestEpoch, !(1...max(completedEpochs, 1)).contains(bestEpoch) || completedEpochs == 0 {
            return ("bestEpoch", "expected 1...\(completedEpochs) (the finished epochs), got \(bestEpoch)")
        }
        if (bestEpoch == nil) != (bestLoss == nil) { return ("bestLoss", "expected together with bestEpoch") }
        for (name, value) in [("bestLoss", bestLoss), ("plateauBest", plateauBest)] {
            if let value, !value.isFinite { return (name, "expected a finite number, got \(value)") }
        }
        for (name, value) in [("epochsWithoutImprovement", epochsWithoutImprovement),
                              ("plateauEpochsWithoutImprovement", plateauEpochsWithoutImprovement)] where !(0...completedEpochs).contains(value) {
            return (name, "expected 0...\(completedEpochs) (the finished epochs), got \(value)")
        }
        if !(plateauScale > 0 && plateauScale <= 1) { return ("plateauScale", "expected a number in (0, 1], got \(plateauScale)") }
        if stoppedEarly && bestEpoch == nil { return ("stoppedEarly", "a run stops early only after a best epoch") }
        return nil
    }
}
