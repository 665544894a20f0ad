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
               summary: "a stronger conv VAE for 28x28 digits: conv 32 and 64 (4x4, stride 2), dense 512, latent 32; dense 512 and 7x7x64, deconv 64 and 32 (4x4, stride 2), deconv 1 (3x3); ReLU, Bernoulli, Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "conv-mnist", model: .convolutional(.digits))),
        Preset(name: "conv-colour",
               summary: "a conv VAE for colour images (32x32 or 64x64 RGB from --images): conv 32, 64, 128 (4x4, stride 2), dense 256, latent 64; mirrored deconvs; ReLU, Bernoulli (continuous BCE), free bits 0.25 nats per dimension, Adam 1e-3, batch 16, 30 epochs",
               configuration: TrainingConfiguration(preset: "conv-colour", model: .convolutional(.colour), batchSize: 16, epochs: 30, evaluationBatchSize: 250,
                                                    objective: ObjectiveSettings(freeBits: 0.25))),
        Preset(name: "dsprites-conv",
               summary: "the 64x64 grey conv VAE of the beta-VAE and disentanglement studies: conv 32, 32, 64, 64 (4x4, stride 2), dense 256, latent 10; dense 256 and 64x4x4, deconv 64, 32, 32 and 1 (4x4, stride 2); ReLU, Bernoulli, Adam 1e-4, batch 64 (64x64 images from --images FOLDER --image-size 64)",
               configuration: TrainingConfiguration(preset: "dsprites-conv", model: .convolutional(.disentanglement), learningRate: 1e-4, batchSize: 64,
                                                    epochs: 30, evaluationBatchSize: 250)),
        Preset(name: "cvae-conv",
               summary: "conv-mnist conditioned on the digit, latent 2: the one-hot joins the flattened conv features and z; Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "cvae-conv", model: .convolutional(.conditionalDigits))),
    ]
}
