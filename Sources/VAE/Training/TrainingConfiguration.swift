import Datasets
import NN
import TensorCore

/// Which optimizer trains the model.
public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    /// Adam, β = (0.9, 0.999), ε = 1e-8 (PyTorch's and Keras's defaults).
    case adam
    /// AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay λ, each step first
    /// scaling every parameter by 1 − η λ (PyTorch's `AdamW`; λ = 0.01 by default).
    case adamw
    /// RMSprop with PyTorch's defaults (α = 0.99, ε = 1e-8).
    case rmsprop
    /// RMSprop with Keras's defaults (ρ = 0.9, ε = 1e-7), as Keras's VAE example trains.
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
    /// A dataset by name (`DatasetName`), or "folder" with `imageFolder` saying which and how.
    public var dataset: String
    /// The folder and how to read it when `dataset` is "folder".
    public var imageFolder: ImageFolderOptions?
    /// How grey levels become the binary pixels a Bernoulli model sees (or not).
    public var binarization: Binarization
    /// The model's kind and architecture.
    public var model: ModelSpecification
    /// The optimizer.
    public var optimizer: OptimizerKind
    /// The optimizer's learning rate (before any schedule).
    public var learningRate: Float
    /// Images per training batch.
    public var batchSize: Int
    /// Passes over the training images.
    public var epochs: Int
    /// The seed of every random draw: initial weights, shuffles, noise, binarisation.
    public var seed: UInt64
    /// The training objective per image is
    /// `reconstructionWeight(pixels) · (-log p(x|z)) + KL`, where `.mean` divides the
    /// reconstruction by the number of pixels (Keras's per-pixel BCE mean).
    public var reconstructionReduction: TermReduction
    /// `.sum`: the batch loss is the sum over images (PyTorch example); `.mean`: the mean (Keras, NNabla).
    public var batchReduction: TermReduction
    /// Write the reconstruction picture every this many epochs (and after the last).
    public var imagesEvery: Int
    /// Images per batch when evaluating (does not change the figures, only speed and memory).
    public var evaluationBatchSize: Int
    /// What is minimised (the ELBO by default; β, KL warm-up, free bits, or the IWAE bound).
    public var objective: ObjectiveSettings
    /// How the learning rate changes over epochs.
    public var schedule: LearningRateSchedule
    /// The optimizer's ε when not its default (the IWAE paper's Adam uses 1e-4).
    public var optimizerEpsilon: Float?
    /// The share of the training images held out (from one seeded permutation) as a validation
    /// set, on which the model's own figures are reported each epoch (the affine presets: 2%; 0: none).
    public var validationShare: Double
    /// Weights the model starts from instead of its seed's draw (for example PyTorch's
    /// initialisation of the same architecture, to compare two frameworks from one start).
    public var initialWeights: InitialWeights? = nil
    /// The operands of matrix multiplies: fp32, or bf16 with fp32 accumulation, master weights,
    /// optimizer state and losses (see `Precision`). Runs written before it existed are fp32.
    public var precision: Precision = .fp32
    /// How the decoder's last bias starts: drawn by the initializer, or at the mean training
    /// image (`OutputBiasStart`). Runs written before it existed are drawn.
    public var outputBias: OutputBiasStart = .drawn
    /// Early stopping: training ends after this many epochs in a row without a lower validation
    /// loss (needs a validation share; nil: never). See `TrainingMonitor`.
    public var patience: Int? = nil
    /// Gradient clipping: a step whose gradient's L2 norm (over every parameter) exceeds this is
    /// scaled to it (PyTorch's `clip_grad_norm_`; nil: none).
    public var gradientClipNorm: Float? = nil
    /// AdamW's decoupled weight decay λ (nil: AdamW's default 0.01; applies to adamw alone).
    public var weightDecay: Float? = nil
    /// The decay of the parameters' exponential moving average, which the run evaluates and
    /// saves while the optimizer trains the live weights (`WeightAverage`; nil: none, the last
    /// iterate is the model).
    public var weightAverage: Double? = nil

    /// A configuration; the defaults are the PyTorch example's. `validate()` checks it.
    public init(preset: String, dataset: String = "mnist", imageFolder: ImageFolderOptions? = nil, binarization: Binarization = .none,
                model: ModelSpecification, optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3, batchSize: Int = 128,
                epochs: Int = 10, seed: UInt64 = 1, reconstructionReduction: TermReduction = .sum, batchReduction: TermReduction = .sum,
                imagesEvery: Int = 1, evaluationBatchSize: Int = 1000, objective: ObjectiveSettings = .elbo,
                schedule: LearningRateSchedule = .constant, optimizerEpsilon: Float? = nil, validationShare: Double = 0,
                outputBias: OutputBiasStart = .drawn, weightAverage: Double? = nil) {
        self.outputBias = outputBias
        self.weightAverage = weightAverage
        self.preset = preset
        self.dataset = dataset
        self.imageFolder = imageFolder
        self.validationShare = validationShare
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
        imageFolder = try c.decodeIfPresent(ImageFolderOptions.self, forKey: .imageFolder)
        binarization = try c.decode(Binarization.self, forKey: .binarization)
        model = try c.decode(ModelSpecification.self, forKey: .model)
        optimizer = try c.decode(OptimizerKind.self, forKey: .optimizer)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        epochs = try c.decode(Int.self, forKey: .epochs)
        seed = try c.decode(UInt64.self, forKey: .seed)
        reconstructionReduction = try c.decode(TermReduction.self, forKey: .reconstructionReduction)
        batchReduction = try c.decode(TermReduction.self, forKey: .batchReduction)
        imagesEvery = try c.decode(Int.self, forKey: .imagesEvery)
        evaluationBatchSize = try c.decode(Int.self, forKey: .evaluationBatchSize)
        objective = try c.decodeIfPresent(ObjectiveSettings.self, forKey: .objective) ?? .elbo
        schedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? .constant
        optimizerEpsilon = try c.decodeIfPresent(Float.self, forKey: .optimizerEpsilon)
        validationShare = try c.decodeIfPresent(Double.self, forKey: .validationShare) ?? 0
        initialWeights = try c.decodeIfPresent(InitialWeights.self, forKey: .initialWeights)
        precision = try c.decodeIfPresent(Precision.self, forKey: .precision) ?? .fp32
        outputBias = try c.decodeIfPresent(OutputBiasStart.self, forKey: .outputBias) ?? .drawn
        patience = try c.decodeIfPresent(Int.self, forKey: .patience)
        gradientClipNorm = try c.decodeIfPresent(Float.self, forKey: .gradientClipNorm)
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay)
        weightAverage = try c.decodeIfPresent(Double.self, forKey: .weightAverage)
    }

    /// Problems with the settings, one each (empty when valid), naming the setting at fault
    /// (the command maps settings to its options).
    public var problems: [ConfigurationProblem] { problems(beforeFitting: false) }

    /// The problems that can be found before the model is fitted to its data's shape: those of
    /// `problems` but the model's image-shape-dependent ones
    /// (`ModelArchitecture.imageShapeDependentSettings`), which the run checks once it has read
    /// the data.
    public var problemsBeforeFitting: [ConfigurationProblem] { problems(beforeFitting: true) }

    func problems(beforeFitting: Bool) -> [ConfigurationProblem] {
        var found = beforeFitting ? model.problemsForAnyImageShape : model.problems
        if batchSize <= 0 { found.append(ConfigurationProblem(.batchSize, "must be positive, got \(batchSize)")) }
        if epochs <= 0 { found.append(ConfigurationProblem(.epochs, "must be positive, got \(epochs)")) }
        if !(learningRate > 0 && learningRate.isFinite) { found.append(ConfigurationProblem(.learningRate, "must be a positive number, got \(learningRate)")) }
        if imagesEvery <= 0 { found.append(ConfigurationProblem(.imagesEvery, "must be positive, got \(imagesEvery)")) }
        if evaluationBatchSize <= 0 { found.append(ConfigurationProblem(.evaluationBatchSize, "must be positive, got \(evaluationBatchSize)")) }
        if !(0..<0.5).contains(validationShare) { found.append(ConfigurationProblem(.validationShare, "must lie in [0, 0.5), got \(validationShare)")) }
        if let imageFolder { found += imageFolder.problems.map { ConfigurationProblem(.imageFolder, "options: \($0)") } }
        found += objective.problems
        if objective.kind == .iwae && reconstructionReduction == .mean {
            found.append(ConfigurationProblem(.objective, "IWAE is a log-likelihood bound; it needs the reconstruction summed over pixels, not averaged"))
        }
        if optimizerEpsilon != nil && !(optimizer == .adam || optimizer == .adamw || optimizer == .rmsprop) {
            found.append(ConfigurationProblem(.optimizerEpsilon, "applies to adam, adamw and rmsprop, not \(optimizer.rawValue)"))
        }
        found += schedule.problems(epochs: epochs, base: learningRate)
        if let patience {
            if patience < 1 { found.append(ConfigurationProblem(.patience, "must be at least 1 epoch, got \(patience)")) }
            else if validationShare == 0 {
                found.append(ConfigurationProblem(.patience, "stops on the validation loss, which needs a validation share (held-out training images); give one"))
            }
        }
        if let gradientClipNorm, !(gradientClipNorm > 0 && gradientClipNorm.isFinite) {
            found.append(ConfigurationProblem(.gradientClipNorm, "must be a positive number, got \(gradientClipNorm)"))
        }
        if let weightDecay {
            if optimizer != .adamw { found.append(ConfigurationProblem(.weightDecay, "is AdamW's decoupled decay; it applies to the optimizer adamw, not \(optimizer.rawValue)")) }
            else if !(weightDecay >= 0 && weightDecay.isFinite) { found.append(ConfigurationProblem(.weightDecay, "must be a number >= 0, got \(weightDecay)")) }
        }
        if let weightAverage, !(weightAverage > 0 && weightAverage < 1) {
            found.append(ConfigurationProblem(.weightAverage, "is the moving average's decay: a number between 0 and 1 (0.999 averages about the last 1,000 steps), got \(weightAverage)"))
        }
        if let optimizerEpsilon, !(optimizerEpsilon > 0 && optimizerEpsilon.isFinite) {
            found.append(ConfigurationProblem(.optimizerEpsilon, "must be positive, got \(optimizerEpsilon)"))
        }
        if outputBias == .dataMean {
            if let problem = model.likelihood.outputBiasStartProblem { found.append(problem) }
            if let initialWeights {
                found.append(ConfigurationProblem(.outputBias, "data-mean and the initial weights \(initialWeights.path) both set the starting weights; give one"))
            }
        }
        if binarization != .none && model.imageShape.channels != 1 {
            found.append(ConfigurationProblem(.binarization, "applies to grey images; the model's images are colour (\(model.imageShape)), and a \(model.likelihood.name.rawValue) likelihood of binarised colour channels would model 8 colours"))
        }
        return found
    }

    /// The objective the run minimises (see `ObjectiveSettings.makeObjective`), for a training
    /// set of `datasetSize` images.
    public func makeObjective(datasetSize: Int = 1) -> any Objective {
        objective.makeObjective(reconstruction: reconstructionReduction, batch: batchReduction, datasetSize: datasetSize, seed: seed)
    }

    /// A one-line description of the data, e.g. "mnist" or "folder /data/emoji (resize to 32x32 (area), colour)".
    public var datasetDescription: String {
        imageFolder.map { "folder \($0.path) (\($0.transformSummary))" } ?? dataset
    }
}

/// A safetensors file of initial weights, with its SHA-256 (hex) so that a restart can check it
/// reads the same file.
public struct InitialWeights: Codable, Equatable, Sendable {
    /// The file's path.
    public var path: String
    /// Its SHA-256, lowercase hex.
    public var sha256: String

    /// A reference to the file at `path` with hash `sha256`.
    public init(path: String, sha256: String) { (self.path, self.sha256) = (path, sha256) }
}

/// A named starting point of `vae train`: a resolved training configuration. Each model kind
/// brings its own (`ModelArchitecture.presets`).
public struct Preset: Sendable {
    /// The name given to `--preset`.
    public let name: String
    /// One line saying what it reproduces.
    public let summary: String
    /// The resolved settings.
    public let configuration: TrainingConfiguration

    /// A preset `name` with `summary` and `configuration`.
    public init(name: String, summary: String, configuration: TrainingConfiguration) {
        (self.name, self.summary, self.configuration) = (name, summary, configuration)
    }
}
