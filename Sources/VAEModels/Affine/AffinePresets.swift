import VAE

/// The affine kind's presets (a coordinate decoder that learns an affine transform).
enum AffinePresets {
    static let all: [Preset] = [
        Preset(name: "affine",
               summary: "a coordinate decoder that learns an affine transform: 784-512-512-16 encoder, coordinate decoder with an affine transform (H = 512), classifier head, Adam 1e-3, batch 1000, 50 epochs, 2% validation",
               configuration: .affine(name: "affine", model: AffineModelConfiguration(), batchSize: 1000, epochs: 50,
                                      klWeight: 5 / Float(16 * 1000))),
        Preset(name: "affine-small",
               summary: "the affine preset sized for a CPU: decoder H = 128, batch 128, per-element KL weight 0.0064, 5 epochs",
               configuration: .affine(name: "affine-small", model: AffineModelConfiguration(decoderHiddenSize: 128), batchSize: 128, epochs: 5,
                                      klWeight: 0.0064)),
    ]
}

extension TrainingConfiguration {
    /// The affine kind's training: per batch, loss = a · CE(labels) (batch mean) + MSE(image) (mean over
    /// values and batch) + w · KL (mean over the batch and the latent dimensions), which is the
    /// ELBO with the reconstruction averaged over values and the batch, β = w / latent size, and
    /// the model's classifier term a · CE. `klWeight` w is per latent element (the design's code
    /// effectively applies 5 / (latent · batch)); 2% of the training images are held out.
    public static func affine(name: String, model: AffineModelConfiguration, batchSize: Int, epochs: Int, klWeight: Float,
                              learningRate: Float = 1e-3, seed: UInt64 = 1) -> TrainingConfiguration {
        TrainingConfiguration(preset: name, model: ModelSpecification(model), learningRate: learningRate, batchSize: batchSize, epochs: epochs, seed: seed,
                              reconstructionReduction: .mean, batchReduction: .mean, imagesEvery: 1, evaluationBatchSize: 500,
                              objective: ObjectiveSettings(beta: klWeight / Float(model.latentSize)), validationShare: 0.02)
    }

    /// The per-element KL weight w of the affine kind's loss (β times the latent size).
    public var klWeightPerElement: Float { objective.beta * Float(model.latentSize) }
}
