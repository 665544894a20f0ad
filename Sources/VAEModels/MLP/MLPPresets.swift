import VAE

/// The MLP kind's presets: the source designs A, C, D and E, PyTorch's example, the IWAE
/// paper's one-layer model and the conditional digits.
enum MLPPresets {
    static let all: [Preset] = [
        Preset(name: "pytorch-example",
               summary: "PyTorch's examples/vae: 784-400-20 ReLU, Bernoulli, Adam 1e-3, batch 128, 10 epochs (the default)",
               configuration: TrainingConfiguration(preset: "pytorch-example", model: .mlp(MLPConfiguration(hiddenSizes: [400], latentSize: 20)))),
        Preset(name: "design-a",
               summary: "design A: 784-512-2 ReLU, Bernoulli, Adam 1e-3, batch 128, 100 epochs, pictures every 10",
               configuration: TrainingConfiguration(preset: "design-a", model: .mlp(MLPConfiguration(hiddenSizes: [512], latentSize: 2)),
                                                    epochs: 100, imagesEvery: 10)),
        Preset(name: "design-c",
               summary: "design C (NNabla): 784-500-500-50 ELU, digits thresholded at 0.5, BCE on logits, batch mean, Adam 1e-3, batch 100, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-c", binarization: .threshold,
                                                    model: .mlp(MLPConfiguration(hiddenSizes: [500, 500], latentSize: 50, activation: .elu)),
                                                    batchSize: 100, batchReduction: .mean)),
        Preset(name: "design-d",
               summary: "design D (Keras): 784-512-2 ReLU, Glorot init, Adam 1e-3, batch 50, batch mean, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-d",
                                                    model: .mlp(MLPConfiguration(hiddenSizes: [512], latentSize: 2, initializer: .glorotUniform)),
                                                    batchSize: 50, batchReduction: .mean)),
        Preset(name: "design-e",
               summary: "design E (Keras): 784-512-2 ReLU, linear sigma head, per-pixel BCE mean + KL, RMSprop (Keras), batch 50, 10 epochs",
               configuration: TrainingConfiguration(preset: "design-e",
                                                    model: .mlp(MLPConfiguration(hiddenSizes: [512], latentSize: 2, varianceHead: .standardDeviation,
                                                                              initializer: .glorotUniform)),
                                                    optimizer: .rmspropKeras, batchSize: 50, reconstructionReduction: .mean, batchReduction: .mean)),
        Preset(name: "iwae-paper",
               summary: "Burda et al.'s one-stochastic-layer model: 784-200-200-50 tanh, dynamic binarisation, batch 20, Adam (eps 1e-4) with the paper's schedule over 3,280 epochs; shortened by running fewer schedule stages; the paper's IWAE is the IWAE objective with k = 50",
               configuration: TrainingConfiguration(preset: "iwae-paper", binarization: .dynamic,
                                                    model: .mlp(MLPConfiguration(hiddenSizes: [200, 200], latentSize: 50, activation: .tanh,
                                                                              initializer: .glorotUniform)),
                                                    batchSize: 20, epochs: 3280, batchReduction: .mean, imagesEvery: 27,
                                                    schedule: .iwaePaper(stages: 8), optimizerEpsilon: 1e-4)),
        Preset(name: "cvae-mnist",
               summary: "design A conditioned on the digit: 784+10-512-2 encoder, 2+10-512-784 decoder (the one-hot joins the image and z); Adam 1e-3, batch 128, 10 epochs",
               configuration: TrainingConfiguration(preset: "cvae-mnist", model: .mlp(MLPConfiguration.conditionalDigits))),
    ]
}
