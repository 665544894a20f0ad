import Datasets
import NN

/// Which optimizer trains the model.
public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    /// Adam, β = (0.9, 0.999), ε = 1e-8 (PyTorch's and Keras's defaults).
    case adam
    /// RMSprop with PyTorch's defaults (α = 0.99, ε = 1e-8).
    case rmsprop
    /// RMSprop with Keras's defaults (ρ = 0.9, ε = 1e-7), as design E trains.
    case rmspropKeras = "rmsprop-keras"
    /// Plain SGD.
    case sgd
}

/// How a loss sums its terms: over pixels (the reconstruction term) or over the batch.
public enum TermReduction: String, Codable, CaseIterable, Sendable {
    case sum, mean
}

/// Everything that determines a training run: data, model, objective, optimizer, schedule,
/// seed. Saved as the run's `config.json`; the same configuration gives the same numbers.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// The preset this configuration started from (informational).
    public var preset: String
    public var dataset: String
    public var binarization: Binarization
    public var model: ModelConfiguration
    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var batchSize: Int
    public var epochs: Int
    public var seed: UInt64
    /// The training objective per image is
    /// `reconstructionWeight(pixels) · (-log p(x|z)) + KL`, where `.mean` divides the
    /// reconstruction by the number of pixels (design E's per-pixel BCE mean).
    public var reconstructionReduction: TermReduction
    /// `.sum`: the batch loss is the sum over images (PyTorch example); `.mean`: the mean (Keras, NNabla).
    public var batchReduction: TermReduction
    /// Write the reconstruction picture every this many epochs (and after the last).
    public var imagesEvery: Int
    /// Images per batch when evaluating (does not change the figures, only speed and memory).
    public var evaluationBatchSize: Int
    /// What is minimised (the ELBO by default; β, KL warm-up, free bits, or the IWAE bound).
    public var objective: Objective
    /// How the learning rate changes over epochs.
    public var schedule: LearningRateSchedule
    /// The optimizer's ε when not its default (the IWAE paper's Adam uses 1e-4).
    public var optimizerEpsilon: Float?

    public init(preset: String, dataset: String = "mnist", binarization: Binarization = .none, model: ModelConfiguration,
                optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3, batchSize: Int = 128, epochs: Int = 10,
                seed: UInt64 = 1, reconstructionReduction: TermReduction = .sum, batchReduction: TermReduction = .sum,
                imagesEvery: Int = 1, evaluationBatchSize: Int = 1000, objective: Objective = .elbo,
                schedule: LearningRateSchedule = .constant, optimizerEpsilon: Float? = nil) {
        self.preset = preset
        self.dataset = dataset
        self.binarization = binarization
        self.model = model
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.epochs = epochs
        self.seed = seed
        self.reconstructionReduction = reconstructionReduction
        self.batchReduction = batchReduction
        self.imagesEvery = imagesEvery
        self.evaluationBatchSize = evaluationBatchSize
        self.objective = objective
        self.schedule = schedule
        self.optimizerEpsilon = optimizerEpsilon
    }

    /// Reads a configuration; files written before objectives and schedules existed get the
    /// plain ELBO and a constant rate.
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        preset = try c.decode(String.self, forKey: .preset)
        dataset = try c.decode(String.self, forKey: .dataset)
        binarization = try c.decode(Binarization.self, forKey: .binarization)
        model = try c.decode(ModelConfiguration.self, forKey: .model)
        optimizer = try c.decode(OptimizerKind.self, forKey: .optimizer)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        epochs = try c.decode(Int.self, forKey: .epochs)
        seed = try c.decode(UInt64.self, forKey: .seed)
        reconstructionReduction = try c.decode(TermReduction.self, forKey: .reconstructionReduction)
        batchReduction = try c.decode(TermReduction.self, forKey: .batchReduction)
        imagesEvery = try c.decode(Int.self, forKey: .imagesEvery)
        evaluationBatchSize = try c.decode(Int.self, forKey: .evaluationBatchSize)
        objective = try c.decodeIfPresent(Objective.self, forKey: .objective) ?? .elbo
        schedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? .constant
        optimizerEpsilon = try c.decodeIfPresent(Float.self, forKey: .optimizerEpsilon)
    }

    /// Problems a user can make with options, one message each (empty when valid).
    public var problems: [String] {
        var found: [String] = []
        if model.inputSize <= 0 { found.append("input size must be positive, got \(model.inputSize)") }
        if model.hiddenSizes.isEmpty { found.append("--hidden-sizes needs at least one size") }
        if model.hiddenSizes.contains(where: { $0 <= 0 }) { found.append("--hidden-sizes must all be positive, got \(model.hiddenSizes)") }
        if model.latentSize <= 0 { found.append("--latent-size must be positive, got \(model.latentSize)") }
        if batchSize <= 0 { found.append("--batch-size must be positive, got \(batchSize)") }
        if epochs <= 0 { found.append("--epochs must be positive, got \(epochs)") }
        if !(learningRate > 0 && learningRate.isFinite) { found.append("--learning-rate must be a positive number, got \(learningRate)") }
        if imagesEvery <= 0 { found.append("--images-every must be positive, got \(imagesEvery)") }
        if evaluationBatchSize <= 0 { found.append("evaluation batch size must be positive, got \(evaluationBatchSize)") }
        found += objective.problems
        if objective.kind == .iwae && reconstructionReduction == .mean {
            found.append("the IWAE objective is a log-likelihood bound; it needs the reconstruction summed over pixels, not averaged")
        }
        if optimizerEpsilon != nil && !(optimizer == .adam || optimizer == .rmsprop) {
            found.append("an optimizer epsilon applies to adam and rmsprop, not \(optimizer.rawValue)")
        }
        if case let .iwaePaper(stages) = schedule {
            if !(1...8).contains(stages) { found.append("--schedule-stages must be 1...8, got \(stages)") }
            else if epochs != schedule.epochs {
                found.append("the IWAE schedule with \(stages) stages takes \(schedule.epochs!) epochs, not \(epochs); shorten it with --schedule-stages N instead of --epochs")
            }
        }
        if let optimizerEpsilon, !(optimizerEpsilon > 0 && optimizerEpsilon.isFinite) { found.append("optimizer epsilon must be positive, got \(optimizerEpsilon)") }
        return found
    }
}

/// The named starting points of `vae train`, one per source design.
public struct Preset: Sendable {
    public let name: String
    public let summary: String
    public let configuration: TrainingConfiguration

    public static let all: [Preset] = [
        Preset(name: "pytorch-example",
               summary: "PyTorch's examples/vae: 784-400-20 ReLU, Bernoulli, Adam 1e-3, batch 128, 10 epochs (the default)",
               configuration: TrainingConfiguration(preset: "pytorch-example", model: ModelConfiguration(hiddenSizes: [400], latentSize: 20))),
        Preset(name: "design-a",
               summary: "design A: 784-512-2 ReLU, Bernoulli, Adam 1e-3, batch 128, 100 epochs, pictures every 10",
               configuration: TrainingConfiguration(preset: "design-a", model: ModelConfiguration(hiddenSizes: [512], latentSize: 2),
                                                    epochs: 100, imagesEvery: 10)),
        Preset(name: "design-c",
               summary: "design C (NNabla): 784-500-500-50 ELU, digits thresholded at 0.5, BCE on logits, batch mean, Adam 1e-3, batch 100, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-c", binarization: .threshold,
                                                    model: ModelConfiguration(hiddenSizes: [500, 500], latentSize: 50, activation: .elu),
                                                    batchSize: 100, batchReduction: .mean)),
        Preset(name: "design-d",
               summary: "design D (Keras): 784-512-2 ReLU, Glorot init, Adam 1e-3, batch 50, batch mean, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-d",
                                                    model: ModelConfiguration(hiddenSizes: [512], latentSize: 2, initializer: .glorotUniform),
                                                    batchSize: 50, batchReduction: .mean)),
        Preset(name: "design-e",
               summary: "design E (Keras): 784-512-2 ReLU, linear sigma head, per-pixel BCE mean + KL, RMSprop (Keras), batch 50, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-e",
                                                    model: ModelConfiguration(hiddenSizes: [512], latentSize: 2, varianceHead: .standardDeviation,
                                                                              initializer: .glorotUniform),
                                                    optimizer: .rmspropKeras, batchSize: 50, reconstructionReduction: .mean, batchReduction: .mean)),
        Preset(name: "iwae-paper",
               summary: "Burda et al.'s one-stochastic-layer model: 784-200-200-50 tanh, dynamic binarisation, batch 20, Adam (eps 1e-4) with the paper's schedule over 3,280 epochs; shorten with --schedule-stages, IWAE with --objective iwae --samples 50",
               configuration: TrainingConfiguration(preset: "iwae-paper", binarization: .dynamic,
                                                    model: ModelConfiguration(hiddenSizes: [200, 200], latentSize: 50, activation: .tanh,
                                                                              initializer: .glorotUniform),
                                                    batchSize: 20, epochs: 3280, batchReduction: .mean, imagesEvery: 27,
                                                    schedule: .iwaePaper(stages: 8), optimizerEpsilon: 1e-4)),
    ]

    public static func named(_ name: String) -> Preset? { all.first { $0.name == name } }
}
