import Datasets
import VAE

/// The hierarchical conv kind's presets.
enum HierarchicalConvolutionalPresets {
    static var all: [Preset] {
        [
            Preset(name: "hierarchical-colour",
                   summary: "a small NVAE for 32x32 colour images (--images FOLDER): bottom-up residual cells, top-down latent groups of 8 channels at 4x4, 8x8 and 16x16 with residual posteriors, 32 channels, one cell per scale there and none at 32x32, a 1x1 output convolution to the discretised logistic mixture of 10 components; KL warm-up over 5 epochs with KL balancing, Adam 1e-3, batch 32, 30 epochs",
                   configuration: TrainingConfiguration(preset: "hierarchical-colour", model: ModelSpecification(HierarchicalConvolutionalConfiguration.colour),
                                                        batchSize: 32, epochs: 30, evaluationBatchSize: 250,
                                                        objective: ObjectiveSettings(warmupEpochs: 5, klBalancing: true))),
        ]
    }
}
