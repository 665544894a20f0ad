import Foundation
import Runs
import VAE
import VAEModels

/// A user error: printed as `Error: <description>` with a non-zero exit.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The library's settings by the options that set them: the one place where the command turns
/// a library error's setting into its own words.
enum OptionNames {
    static let bySetting: [Setting: String] = [
        .batchSize: "--batch-size", .epochs: "--epochs", .learningRate: "--learning-rate", .imagesEvery: "--images-every",
        .schedule: "--schedule-stages", .binarization: "--binarization", .objective: "--objective", .samples: "--samples",
        .beta: "--beta", .warmupEpochs: "--warmup-epochs", .freeBits: "--free-bits", .latentSize: "--latent-size",
        .likelihood: "--likelihood", .mixtureComponents: "--mixture-components", .condition: "--conditional",
        .hiddenSizes: "--hidden-sizes", .encoderConvolutions: "--encoder-convolutions", .decoderConvolutions: "--decoder-convolutions",
        .outputConvolution: "--output-convolution", .denseSizes: "--encoder-dense/--decoder-dense", .decoderChannels: "--decoder-channels",
        .decoderHiddenSize: "--decoder-hidden-size", .klWeight: "--kl-weight", .imageFolder: "--images",
        .outputBias: "--output-bias", .klBalancing: "--kl-balancing", .alpha: "--alpha", .gamma: "--gamma", .lambdaOffDiagonal: "--lambda-od", .lambdaDiagonalFactor: "--lambda-d-factor", .capacity: "--capacity", .capacityEpochs: "--capacity-epochs", .discriminatorLayers: "--discriminator-layers", .discriminatorUnits: "--discriminator-units", .discriminatorLearningRate: "--discriminator-learning-rate", .hierarchyChannels: "--channels", .latentChannels: "--latent-channels",
        .cellsPerScale: "--cells-per-scale", .outerCells: "--outer-cells", .outputKernel: "--output-kernel", .latentResolutions: "--latent-resolutions", .groupsPerResolution: "--groups-per-resolution",
        .codebookSize: "--codebook-size", .codeDimension: "--code-dimension", .commitment: "--commitment", .codebookDecay: "--codebook-decay",
        .deadCodeThreshold: "--dead-code-threshold",
        .scheduleStep: "--schedule-step", .scheduleFactor: "--schedule-factor", .schedulePatience: "--schedule-patience",
        .learningRateWarmup: "--learning-rate-warmup", .minimumLearningRate: "--minimum-learning-rate", .patience: "--patience",
        .gradientClipNorm: "--clip-gradient-norm", .weightDecay: "--weight-decay", .weightAverage: "--weight-average", .validationShare: "--validation-share",
    ]

    /// "--batch-size must be positive, got 0" (the setting's name where no option sets it).
    static func message(_ problem: ConfigurationProblem) -> String {
        guard let option = bySetting[problem.setting] else { return problem.message }
        return "\(option) \(problem.problem)"
    }
}

/// A library error in the command's words: settings as options, and the commands that help.
func commandMessage(for error: any Error) -> String {
    switch error {
    case let problem as ConfigurationProblem:
        return OptionNames.message(problem)
    case let error as NonFiniteLossError:
        return (error.errorDescription ?? "") + "; try a lower \(OptionNames.bySetting[error.hint] ?? error.hint.name)"
    case let error as TrainerSetupError:
        if case let .invalidConfiguration(problem) = error { return "invalid training configuration: \(OptionNames.message(problem))" }
        return error.localizedDescription
    case let error as RunError:
        switch error {
        case let .invalidConfiguration(problem):
            return "invalid settings: \(OptionNames.message(problem))"
        case let .unfitData(problem, folder):
            return "\(OptionNames.message(problem)) (in \(folder)); --quantize rounds an image folder's values to 8-bit levels"
        case let .nonFiniteLoss(loss, kept):
            return commandMessage(for: loss) + (kept.map { "; the last good checkpoint is kept at \($0)" } ?? "; no checkpoint had been written yet")
        case let .alreadyARun(path):
            return "\(path) already holds a training run; continue it with `vae train --resume \(path)`, or choose another --out (nothing was overwritten)"
        case let .notEmpty(path, example):
            return "\(path) is not empty and is not a run folder of `vae train` (it holds \(example) but no config.json); choose a new or empty --out (nothing was overwritten)"
        case let .restartable(path):
            return "\(path) holds a run that stopped before its first checkpoint; `vae train --resume \(path)` restarts it from epoch 1 with its recorded settings, or choose another --out (nothing was overwritten)"
        case let .notARun(path, reason):
            return "\(path) is not a run folder of `vae train`: \(reason)"
        default:
            return error.localizedDescription
        }
    default:
        return error.localizedDescription
    }
}
