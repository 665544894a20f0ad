import Datasets
import NN
import TensorCore

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
    /// The share of the training images held out (from one seeded permutation) as a validation
    /// set, on which the model's own figures are reported each epoch (design B: 2%; 0: none).
    public var validationShare: Double
    /// Weights the model starts from instead of its seed's draw (for example PyTorch's
    /// initialisation of the same architecture, to compare two frameworks from one start).
    public var initialWeights: InitialWeights? = nil
    /// The operands of matrix multiplies: fp32, or bf16 with fp32 accumulation, master weights,
    /// optimizer state and losses (see `Precision`). Runs written before it existed are fp32.
    public var precision: Precision = .fp32

    /// A configuration; the defaults are the PyTorch example's. `validate()` checks it.
    public init(preset: String, dataset: String = "mnist", imageFolder: ImageFolderOptions? = nil, binarization: Binarization = .none,
                model: ModelSpecification, optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3, batchSize: Int = 128,
                epochs: Int = 10, seed: UInt64 = 1, reconstructionReduction: TermReduction = .sum, batchReduction: TermReduction = .sum,
                imagesEvery: Int = 1, evaluationBatchSize: Int = 1000, objective: Objective = .elbo,
                schedule: LearningRateSchedule = .constant, optimizerEpsilon: Float? = nil, validationShare: Double = 0) {
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
        objective = try c.decodeIfPresent(Objective.self, forKey: .objective) ?? .elbo
        schedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? .constant
        optimizerEpsilon = try c.decodeIfPresent(Float.self, forKey: .optimizerEpsilon)
        validationShare = try c.decodeIfPresent(Double.self, forKey: .validationShare) ?? 0
        initialWeights = try c.decodeIfPresent(InitialWeights.self, forKey: .initialWeights)
        precision = try c.decodeIfPresent(Precision.self, forKey: .precision) ?? .fp32
    }

    /// Problems with the settings, one message each (empty when valid), in the configuration's
    /// own terms (the command maps them to its options).
    public var problems: [String] {
        var found = model.problems
        if batchSize <= 0 { found.append("the batch size must be positive, got \(batchSize)") }
        if epochs <= 0 { found.append("the epoch count must be positive, got \(epochs)") }
        if !(learningRate > 0 && learningRate.isFinite) { found.append("the learning rate must be a positive number, got \(learningRate)") }
        if imagesEvery <= 0 { found.append("the picture interval (epochs) must be positive, got \(imagesEvery)") }
        if evaluationBatchSize <= 0 { found.append("the evaluation batch size must be positive, got \(evaluationBatchSize)") }
        if !(0..<0.5).contains(validationShare) { found.append("the validation share must lie in [0, 0.5), got \(validationShare)") }
        if let imageFolder { found += imageFolder.problems }
        found += objective.problems
        if objective.kind == .iwae && reconstructionReduction == .mean {
            found.append("the IWAE objective is a log-likelihood bound; it needs the reconstruction summed over pixels, not averaged")
        }
        if optimizerEpsilon != nil && !(optimizer == .adam || optimizer == .rmsprop) {
            found.append("an optimizer epsilon applies to adam and rmsprop, not \(optimizer.rawValue)")
        }
        if case let .iwaePaper(stages) = schedule {
            if !(1...8).contains(stages) { found.append("the IWAE schedule takes 1...8 stages, got \(stages)") }
            else if epochs != schedule.epochs {
                found.append("the IWAE schedule with \(stages) stages takes \(schedule.epochs!) epochs, not \(epochs); shorten it with fewer stages instead")
            }
        }
        if let optimizerEpsilon, !(optimizerEpsilon > 0 && optimizerEpsilon.isFinite) { found.append("the optimizer epsilon must be positive, got \(optimizerEpsilon)") }
        return found
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

/// The named starting points of `vae train`, one per source design.
public struct Preset: Sendable {
    /// The name given to `--preset`.
    public let name: String
    /// One line saying what it reproduces.
    public let summary: String
    /// The resolved settings.
    public let configuration: TrainingConfiguration

    /// Every preset, in the order `vae presets` lists them.
    public static let all: [Preset] = [
        Preset(name: "pytorch-example",
               summary: "PyTorch's examples/vae: 784-400-20 ReLU, Bernoulli, Adam 1e-3, batch 128, 10 epochs (the default)",
               configuration: TrainingConfiguration(preset: "pytorch-example", model: .mlp(ModelConfiguration(hiddenSizes: [400], latentSize: 20)))),
        Preset(name: "design-a",
               summary: "design A: 784-512-2 ReLU, Bernoulli, Adam 1e-3, batch 128, 100 epochs, pictures every 10",
               configuration: TrainingConfiguration(preset: "design-a", model: .mlp(ModelConfiguration(hiddenSizes: [512], latentSize: 2)),
                                                    epochs: 100, imagesEvery: 10)),
        Preset(name: "design-c",
               summary: "design C (NNabla): 784-500-500-50 ELU, digits thresholded at 0.5, BCE on logits, batch mean, Adam 1e-3, batch 100, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-c", binarization: .threshold,
                                                    model: .mlp(ModelConfiguration(hiddenSizes: [500, 500], latentSize: 50, activation: .elu)),
                                                    batchSize: 100, batchReduction: .mean)),
        Preset(name: "design-d",
               summary: "design D (Keras): 784-512-2 ReLU, Glorot init, Adam 1e-3, batch 50, batch mean, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-d",
                                                    model: .mlp(ModelConfiguration(hiddenSizes: [512], latentSize: 2, initializer: .glorotUniform)),
                                                    batchSize: 50, batchReduction: .mean)),
        Preset(name: "design-e",
               summary: "design E (Keras): 784-512-2 ReLU, linear sigma head, per-pixel BCE mean + KL, RMSprop (Keras), batch 50, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-e",
                                                    model: .mlp(ModelConfiguration(hiddenSizes: [512], latentSize: 2, varianceHead: .standardDeviation,
                                                                              initializer: .glorotUniform)),
                                                    optimizer: .rmspropKeras, batchSize: 50, reconstructionReduction: .mean, batchReduction: .mean)),
        Preset(name: "iwae-paper",
               summary: "Burda et al.'s one-stochastic-layer model: 784-200-200-50 tanh, dynamic binarisation, batch 20, Adam (eps 1e-4) with the paper's schedule over 3,280 epochs; shortened by running fewer schedule stages; the paper's IWAE is the IWAE objective with k = 50",
               configuration: TrainingConfiguration(preset: "iwae-paper", binarization: .dynamic,
                                                    model: .mlp(ModelConfiguration(hiddenSizes: [200, 200], latentSize: 50, activation: .tanh,
                                                                              initializer: .glorotUniform)),
                                                    batchSize: 20, epochs: 3280, batchReduction: .mean, imagesEvery: 27,
                                                    schedule: .iwaePaper(stages: 8), optimizerEpsilon: 1e-4)),
        Preset(name: "keras-conv",
               summary: "the Keras example's conv VAE: conv 32 and 64 (3x3, stride 2), dense 16, latent 2; dense 7x7x64, deconv 64 and 32 (3x3, stride 2), deconv 1 to logits; ReLU, Bernoulli, Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "keras-conv", model: .convolutional(.kerasExample(latentSize: 2)))),
        Preset(name: "keras-conv-16",
               summary: "keras-conv with a 16-dimensional latent space",
               configuration: TrainingConfiguration(preset: "keras-conv-16", model: .convolutional(.kerasExample(latentSize: 16)))),
        Preset(name: "conv-mnist",
               summary: "a stronger conv VAE for 28x28 digits: conv 32 and 64 (4x4, stride 2), dense 512, latent 32; dense 512 and 7x7x64, deconv 64 and 32 (4x4, stride 2), deconv 1 (3x3); ReLU, Bernoulli, Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "conv-mnist", model: .convolutional(.digits))),
        Preset(name: "conv-colour",
               summary: "a conv VAE for colour images (32x32 or 64x64 RGB from --images): conv 32, 64, 128 (4x4, stride 2), dense 256, latent 64; mirrored deconvs; ReLU, Bernoulli (continuous BCE), Adam 1e-3, batch 64, 30 epochs",
               configuration: TrainingConfiguration(preset: "conv-colour", model: .convolutional(.colour), batchSize: 64, epochs: 30, evaluationBatchSize: 250)),
        Preset(name: "cvae-mnist",
               summary: "design A conditioned on the digit: 784+10-512-2 encoder, 2+10-512-784 decoder (the one-hot joins the image and z); Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "cvae-mnist", model: .mlp(ModelConfiguration.conditionalDigits))),
        Preset(name: "cvae-conv",
               summary: "conv-mnist conditioned on the digit, latent 2: the one-hot joins the flattened conv features and z; Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "cvae-conv", model: .convolutional(.conditionalDigits))),
        Preset(name: "affine",
               summary: "design B: 784-512-512-16 encoder, coordinate decoder with an affine transform (H = 512), classifier head, Adam 1e-3, batch 1000, 50 epochs, 2% validation",
               configuration: .affine(name: "affine", model: AffineModelConfiguration(), batchSize: 1000, epochs: 50,
                                      klWeight: 5 / Float(16 * 1000))),
        Preset(name: "affine-small",
               summary: "design B sized for a CPU: decoder H = 128, batch 128, per-element KL weight 0.0064, 5 epochs",
               configuration: .affine(name: "affine-small", model: AffineModelConfiguration(decoderHiddenSize: 128), batchSize: 128, epochs: 5,
                                      klWeight: 0.0064)),
    ]

    /// The preset called `name`, or nil.
    public static func named(_ name: String) -> Preset? { all.first { $0.name == name } }
}

extension TrainingConfiguration {
    /// Design B's training: per batch, loss = a · CE(labels) (batch mean) + MSE(image) (mean over
    /// values and batch) + w · KL (mean over the batch and the latent dimensions), which is the
    /// ELBO with the reconstruction averaged over values and the batch, β = w / latent size, and
    /// the model's classifier term a · CE. `klWeight` w is per latent element (the design's code
    /// effectively applies 5 / (latent · batch)); 2% of the training images are held out.
    public static func affine(name: String, model: AffineModelConfiguration, batchSize: Int, epochs: Int, klWeight: Float,
                              learningRate: Float = 1e-3, seed: UInt64 = 1) -> TrainingConfiguration {
        TrainingConfiguration(preset: name, model: .affine(model), learningRate: learningRate, batchSize: batchSize, epochs: epochs, seed: seed,
                              reconstructionReduction: .mean, batchReduction: .mean, imagesEvery: 1, evaluationBatchSize: 500,
                              objective: Objective(beta: klWeight / Float(model.latentSize)), validationShare: 0.02)
    }

    /// The per-element KL weight w of design B's loss (β times the latent size).
    public var klWeightPerElement: Float { objective.beta * Float(model.latentSize) }
}
