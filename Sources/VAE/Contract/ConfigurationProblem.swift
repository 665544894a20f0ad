import Foundation

/// A setting of a configuration, as messages name it ("the batch size"). Open: a model kind
/// defined elsewhere names its own (`Setting("the skip width")`). The command maps settings to
/// its option names in one place.
public struct Setting: Hashable, Sendable, CustomStringConvertible {
    /// The setting's name in prose, with its article.
    public let name: String

    /// A setting called `name` ("the batch size").
    public init(_ name: String) { self.name = name }

    /// The name.
    public var description: String { name }

    // Training.
    /// Images per batch.
    public static let batchSize = Setting("the batch size")
    /// Passes over the training images.
    public static let epochs = Setting("the epoch count")
    /// The optimizer's learning rate.
    public static let learningRate = Setting("the learning rate")
    /// How often the reconstruction picture is drawn.
    public static let imagesEvery = Setting("the picture interval (epochs)")
    /// Images per evaluation batch.
    public static let evaluationBatchSize = Setting("the evaluation batch size")
    /// How the decoder's last bias starts.
    public static let outputBias = Setting("the output bias start")
    /// The share of the training images held out.
    public static let validationShare = Setting("the validation share")
    /// The optimizer's ε.
    public static let optimizerEpsilon = Setting("the optimizer epsilon")
    /// How the learning rate changes over epochs.
    public static let schedule = Setting("the learning-rate schedule")
    /// The epochs between a step schedule's reductions.
    public static let scheduleStep = Setting("the schedule's step (epochs)")
    /// What a step or plateau schedule multiplies the rate by.
    public static let scheduleFactor = Setting("the schedule's factor")
    /// The epochs without improvement a plateau schedule waits.
    public static let schedulePatience = Setting("the schedule's patience (epochs)")
    /// The epochs of a cosine schedule's linear warm-up.
    public static let learningRateWarmup = Setting("the learning-rate warm-up (epochs)")
    /// The rate a cosine or plateau schedule ends at or stays above.
    public static let minimumLearningRate = Setting("the minimum learning rate")
    /// The epochs without a better validation loss before training stops.
    public static let patience = Setting("the early-stopping patience (epochs)")
    /// The largest gradient norm a step applies.
    public static let gradientClipNorm = Setting("the gradient clipping norm")
    /// AdamW's decoupled weight decay.
    public static let weightDecay = Setting("the weight decay")
    /// The decay of the parameters' moving average.
    public static let weightAverage = Setting("the weight average's decay")
    /// How grey levels become binary pixels.
    public static let binarization = Setting("the binarisation")
    /// The folder of images and how it is read.
    public static let imageFolder = Setting("the image folder")
    // Objectives.
    /// What training minimises.
    public static let objective = Setting("the objective")
    /// Importance samples per image.
    public static let samples = Setting("the importance samples")
    /// The KL weight β.
    public static let beta = Setting("beta (the KL weight)")
    /// Epochs of KL warm-up.
    public static let warmupEpochs = Setting("the warm-up epochs")
    /// Free nats per latent dimension.
    public static let freeBits = Setting("the free bits")
    /// Whether the groups' KLs are balanced during the warm-up.
    public static let klBalancing = Setting("the KL balancing")
    /// β-TCVAE's weight of the index-code mutual information.
    public static let alpha = Setting("alpha (the mutual-information weight)")
    /// β-TCVAE's weight of the dimension-wise KL.
    public static let gamma = Setting("gamma (the dimension-wise KL weight)")
    /// DIP-VAE's off-diagonal weight.
    public static let lambdaOffDiagonal = Setting("lambda_od (DIP-VAE's off-diagonal weight)")
    /// DIP-VAE's diagonal weight over its off-diagonal one.
    public static let lambdaDiagonalFactor = Setting("the lambda_d factor (DIP-VAE's diagonal weight over lambda_od)")
    /// AnnealedVAE's capacity.
    public static let capacity = Setting("the capacity")
    /// The epochs over which AnnealedVAE's capacity rises.
    public static let capacityEpochs = Setting("the capacity epochs")
    /// FactorVAE's discriminator's hidden layers.
    public static let discriminatorLayers = Setting("the discriminator's layers")
    /// FactorVAE's discriminator's units per layer.
    public static let discriminatorUnits = Setting("the discriminator's units")
    /// FactorVAE's discriminator's learning rate.
    public static let discriminatorLearningRate = Setting("the discriminator's learning rate")
    // Every model.
    /// The images' shape.
    public static let imageShape = Setting("the image shape")
    /// The top latent group's dimension.
    public static let latentSize = Setting("the latent size")
    /// The decoder's likelihood.
    public static let likelihood = Setting("the likelihood")
    /// The logistic mixture's components.
    public static let mixtureComponents = Setting("the mixture's component count")
    /// What the model is conditioned on.
    public static let condition = Setting("the condition")
    /// How a model's weights are first drawn.
    public static let initializer = Setting("the initializer")
    /// The model's size against this machine's memory.
    public static let modelSize = Setting("the model's size")
    /// Which kind of model.
    public static let modelKind = Setting("the model kind")
}

/// A setting that breaks a rule: which one, and what is wrong with it.
public struct ConfigurationProblem: Error, LocalizedError, Equatable, Sendable {
    /// The setting at fault.
    public let setting: Setting
    /// What is wrong ("must be positive, got 0"), to follow the setting's name.
    public let problem: String

    /// `setting` breaks a rule: `problem`.
    public init(_ setting: Setting, _ problem: String) { (self.setting, self.problem) = (setting, problem) }

    /// "the batch size must be positive, got 0".
    public var message: String { "\(setting.name) \(problem)" }
    /// The message.
    public var errorDescription: String? { message }
}

/// A label that does not fit a model: given to an unconditional model, or outside a conditional
/// model's classes.
public struct ConditionError: Error, LocalizedError, Equatable {
    /// What is wrong.
    public let message: String
    /// An error saying `message`.
    public init(message: String) { self.message = message }
    /// The message.
    public var errorDescription: String? { message }
}
