import Datasets
import VAE

/// The convolutional kind's presets.
enum ConvolutionalPresets {
    static let all: [Preset] = [
        Preset(name: "keras-conv",
               summary: "the Keras example's conv VAE: conv 32 and 64 (3x3, stride 2), dense 16, latent 2; dense 7x7x64, deconv 64 and 32 (3x3, stride 2), deconv 1 to logits; ReLU, Bernoulli, Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "keras-conv", model: .convolutional(.kerasExample(latentSize: 2)))),
        Preset(name: "keras-conv-16",
               summary: "keras-conv with a 16-dimensional latent space",
               configuration: TrainingConfiguration(preset: "keras-conv-16", model: .convolutional(.kerasExample(latentSize: 16)))),
        Preset(name: "conv-mnist",
               summary: "a stronger conv VAE for 28x28 digits: conv 32 and 64 (4x4, stride 2), dense 512, latent 32; dense 512 and 7x7x64, deconv 64 and 32 (4x4, stride 2), deconv 1 (3x3); ReLU, Bernoulli, free bits 0.25 nats per dimension, Adam 5e-4, batch 32, weights averaged with decay 0.995, 10 epochs",
               configuration: TrainingConfiguration(preset: "conv-mnist", model: .convolutional(.digits), learningRate: 5e-4, batchSize: 32,
                                                    objective: ObjectiveSettings(freeBits: 0.25), weightAverage: 0.995)),
        Preset(name: "conv-colour",
               summary: "a conv VAE for colour images (32x32 or 64x64 RGB from --images): conv 32, 64, 128 (4x4, stride 2), dense 256, latent 64; mirrored deconvs; ReLU, Glorot-uniform weights and zero biases, Bernoulli (continuous BCE), output bias from the mean training image, free bits 0.25 nats per dimension, Adam 5e-4, batch 4, weights averaged with decay 0.99, 30 epochs",
               configuration: TrainingConfiguration(preset: "conv-colour", model: .convolutional(.colour), learningRate: 5e-4, batchSize: 4, epochs: 30, evaluationBatchSize: 250,
                                                    objective: ObjectiveSettings(freeBits: 0.25), outputBias: .dataMean, weightAverage: 0.99)),
        Preset(name: "dsprites-conv",
               summary: "the 64x64 grey conv VAE of the beta-VAE and disentanglement studies: conv 32, 32, 64, 64 (4x4, stride 2), dense 256, latent 10; dense 256 and 64x4x4, deconv 64, 32, 32 and 1 (4x4, stride 2); ReLU, Bernoulli, Adam 1e-4, batch 64, on dSprites (`vae data --make dsprites`; or 64x64 images from --images FOLDER --image-size 64), 9 epochs (103,680 steps)",
               configuration: dsprites("dsprites-conv", .elbo)),
        Preset(name: "dsprites-beta-vae",
               summary: "dsprites-conv as a beta-VAE with beta 4 (Higgins et al. 2017's dSprites setting)",
               configuration: dsprites("dsprites-beta-vae", ObjectiveSettings(beta: 4))),
        Preset(name: "dsprites-btcvae",
               summary: "dsprites-conv trained by beta-TCVAE with beta 6 (Chen et al. 2018), minibatch-stratified q(z)",
               configuration: dsprites("dsprites-btcvae", ObjectiveSettings(kind: .betaTCVAE, beta: 6))),
        Preset(name: "dsprites-factorvae",
               summary: "dsprites-conv trained by FactorVAE with gamma 35 (Kim & Mnih 2018): a discriminator of 6 x 1000 leaky ReLU units, Adam 1e-4 with betas 0.5 and 0.9",
               configuration: dsprites("dsprites-factorvae", ObjectiveSettings(kind: .factorVAE, gamma: 35))),
        Preset(name: "dsprites-dip-vae",
               summary: "dsprites-conv trained by DIP-VAE-I with lambda_od 10 and lambda_d 100 (Kumar et al. 2018's dSprites setting)",
               configuration: dsprites("dsprites-dip-vae", ObjectiveSettings(kind: .dipVAE, lambdaOffDiagonal: 10, lambdaDiagonalFactor: 10))),
        Preset(name: "dsprites-annealed",
               summary: "dsprites-conv trained by AnnealedVAE: gamma 1000 times |KL - C|, C rising from 0 to 25 nats over the 9 epochs (Burgess et al. 2018)",
               configuration: dsprites("dsprites-annealed", ObjectiveSettings(kind: .annealedVAE, beta: 1000, capacity: 25, capacityEpochs: 9))),
        Preset(name: "cvae-conv",
               summary: "conv-mnist's layers conditioned on the digit, latent 2: the one-hot joins the flattened conv features and z; Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "cvae-conv", model: .convolutional(.conditionalDigits))),
    ]

    /// The dSprites conv VAE with `objective`: batch 64, Adam 1e-4, 9 epochs of dSprites' 737,280
    /// images (103,680 steps, the studies' 100,000 rounded up to whole epochs).
    static func dsprites(_ name: String, _ objective: ObjectiveSettings) -> TrainingConfiguration {
        TrainingConfiguration(preset: name, dataset: DatasetName.dsprites.rawValue, model: .convolutional(.disentanglement), learningRate: 1e-4,
                              batchSize: 64, epochs: 9, evaluationBatchSize: 250, objective: objective)
    }
}
