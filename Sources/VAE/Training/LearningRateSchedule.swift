import Foundation

/// How the learning rate changes over training.
///
/// The rate of optimizer step s (counted from 0 over the whole run, `stepsPerEpoch` to an epoch,
/// epoch e = ⌊s / stepsPerEpoch⌋ + 1) given the base rate r:
/// - `constant`: r;
/// - `iwaePaper(stages:)`: Burda et al. (2016): stage i = 0 ..< stages runs 3^i epochs at
///   r · 10^(-i/7) (the paper: 8 stages, 3,280 epochs, r = 1e-3);
/// - `step(every:factor:)`: r · factor^⌊(e − 1) / every⌋ (PyTorch's `StepLR`);
/// - `cosine(warmupEpochs:minimum:)`: a linear warm-up over the first W = round(warmupEpochs ·
///   stepsPerEpoch) steps, r · (s + 1) / W (Goyal et al. 2017), then half a cosine from r to the
///   minimum m over the remaining S − W steps: m + (r − m) · (1 + cos(π (s − W) / (S − W))) / 2
///   (Loshchilov & Hutter 2017, without restarts);
/// - `plateau(factor:patience:minimum:)`: r times a scale that starts at 1 and is multiplied by
///   `factor` (not below minimum / r) when the monitored loss has not improved for more than
///   `patience` epochs (PyTorch's `ReduceLROnPlateau` in mode "min" with a relative threshold
///   of 1e-4 and no cooldown; see `TrainingMonitor`).
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// The configured rate throughout.
    case constant
    /// The IWAE paper's stages of 3^i epochs at rate · 10^(-i/7).
    case iwaePaper(stages: Int)
    /// The rate times `factor` every `every` epochs.
    case step(every: Int, factor: Double)
    /// A linear warm-up over `warmupEpochs` (fractional), then a cosine decay to `minimum`.
    case cosine(warmupEpochs: Double, minimum: Float)
    /// The rate times `factor` after more than `patience` epochs without improvement, down to `minimum`.
    case plateau(factor: Double, patience: Int, minimum: Float)

    /// The schedules by the names the command gives them.
    public enum Kind: String, CaseIterable, Sendable {
        /// `constant`.
        case constant
        /// `step`.
        case step
        /// `cosine`.
        case cosine
        /// `plateau`.
        case plateau
        /// `iwae-paper`.
        case iwaePaper = "iwae-paper"
    }

    /// The schedule's kind.
    public var kind: Kind {
        switch self {
        case .constant: .constant
        case .iwaePaper: .iwaePaper
        case .step: .step
        case .cosine: .cosine
        case .plateau: .plateau
        }
    }

    /// The epochs the schedule takes, or nil when it does not fix them.
    public var epochs: Int? {
        switch self {
        case let .iwaePaper(stages): (0..<stages).reduce(0) { total, stage in total + Int(pow(3.0, Double(stage))) }
        case .constant, .step, .cosine, .plateau: nil
        }
    }

    /// Whether the rates depend on the run's epoch count (so raising it on resume would change
    /// the rates still to come, and is refused).
    public var dependsOnEpochCount: Bool {
        if case .cosine = self { return true }
        return false
    }

    /// The rate of step `step` (from 0) of a run of `epochs` epochs of `stepsPerEpoch` steps,
    /// given the base rate, with `plateauScale` the scale a plateau schedule has reached
    /// (`TrainingMonitor.plateauScale`; 1 for the others).
    public func learningRate(base: Float, step: Int, stepsPerEpoch: Int, epochs: Int, plateauScale: Double = 1) -> Float {
        precondition(step >= 0 && stepsPerEpoch > 0 && epochs > 0, "a schedule's position is a step >= 0 of a run of >= 1 epochs of >= 1 steps")
        let epoch = step / stepsPerEpoch + 1
        switch self {
        case .constant: return base
        case .iwaePaper, .step: return learningRate(base: base, epoch: epoch)
        case let .cosine(warmupEpochs, minimum):
            let total = epochs * stepsPerEpoch
            let warmup = min(Int((warmupEpochs * Double(stepsPerEpoch)).rounded()), total - 1)
            if step < warmup { return Float(Double(base) * Double(step + 1) / Double(warmup)) }
            let progress = Double(min(step, total - 1) - warmup) / Double(max(total - warmup, 1))
            return Float(Double(minimum) + Double(base - minimum) * (1 + cos(Double.pi * progress)) / 2)
        case .plateau: return Float(Double(base) * plateauScale)
        }
    }

    /// The rate of the IWAE paper's schedule (or a constant one) for epoch `epoch` (from 1): the
    /// schedules whose rate is fixed for a whole epoch.
    public func learningRate(base: Float, epoch: Int) -> Float {
        switch self {
        case let .iwaePaper(stages):
            var end = 0
            for stage in 0..<stages {
                end += Int(pow(3.0, Double(stage)))
                if epoch <= end { return base * Float(pow(10.0, -Double(stage) / 7)) }
            }
            return base * Float(pow(10.0, -Double(max(stages - 1, 0)) / 7))
        case let .step(every, factor): return Float(Double(base) * pow(factor, Double((epoch - 1) / every)))
        case .constant, .cosine, .plateau: return base
        }
    }

    /// What is wrong with the schedule for a run of `epochs` epochs at base rate `base`, each
    /// problem naming the schedule's setting.
    public func problems(epochs: Int, base: Float) -> [ConfigurationProblem] {
        switch self {
        case .constant: return []
        case let .iwaePaper(stages):
            if !(1...8).contains(stages) { return [ConfigurationProblem(.schedule, "of the IWAE paper takes 1...8 stages, got \(stages)")] }
            if epochs != self.epochs! {
                return [ConfigurationProblem(.schedule, "of the IWAE paper with \(stages) stages takes \(self.epochs!) epochs, not \(epochs); shorten it with fewer stages instead")]
            }
            return []
        case let .step(every, factor):
            var found: [ConfigurationProblem] = []
            if every < 1 { found.append(ConfigurationProblem(.scheduleStep, "must be at least 1 epoch, got \(every)")) }
            if !(factor > 0 && factor <= 1) { found.append(ConfigurationProblem(.scheduleFactor, "must lie in (0, 1], got \(factor)")) }
            return found
        case let .cosine(warmupEpochs, minimum):
            var found: [ConfigurationProblem] = []
            if !(warmupEpochs >= 0 && warmupEpochs < Double(epochs)) {
                found.append(ConfigurationProblem(.learningRateWarmup, "must lie in [0, \(epochs)) (the run's epochs), got \(warmupEpochs)"))
            }
            if !(minimum >= 0 && minimum < base) {
                found.append(ConfigurationProblem(.minimumLearningRate, "must lie in [0, \(base)) (below the learning rate), got \(minimum)"))
            }
            return found
        case let .plateau(factor, patience, minimum):
            var found: [ConfigurationProblem] = []
            if !(factor > 0 && factor < 1) { found.append(ConfigurationProblem(.scheduleFactor, "must lie in (0, 1) for a plateau schedule, got \(factor)")) }
            if patience < 0 { found.append(ConfigurationProblem(.schedulePatience, "must be at least 0 epochs, got \(patience)")) }
            if !(minimum >= 0 && minimum < base) {
                found.append(ConfigurationProblem(.minimumLearningRate, "must lie in [0, \(base)) (below the learning rate), got \(minimum)"))
            }
            return found
        }
    }

    /// A short description for logs and reports.
    public var summary: String {
        switch self {
        case .constant: "constant"
        case let .iwaePaper(stages): "IWAE paper's: \(stages) stages of 3^i epochs at rate x 10^(-i/7), \(epochs!) epochs"
        case let .step(every, factor): "step: x \(factor) every \(every) epoch\(every == 1 ? "" : "s")"
        case let .cosine(warmupEpochs, minimum): "cosine to \(minimum) after a linear warm-up of \(warmupEpochs) epochs"
        case let .plateau(factor, patience, minimum):
            "reduce on plateau: x \(factor) after more than \(patience) epoch\(patience == 1 ? "" : "s") without improvement, down to \(minimum)"
        }
    }
}

extension LearningRateSchedule {
    /// The factor of the short fits' schedule (the feature classifiers, the second-stage
    /// sampler): 1 for the first half of `epochs`, ½ for the next quarter, ¼ for the last.
    /// `epoch` counts from 1.
    public static func halvingFactor(epoch: Int, of epochs: Int) -> Float {
        let progress = Double(epoch - 1) / Double(epochs)
        return progress < 0.5 ? 1 : progress < 0.75 ? 0.5 : 0.25
    }
}
