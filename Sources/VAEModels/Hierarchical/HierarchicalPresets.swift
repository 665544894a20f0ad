import Datasets
import VAE

/// The hierarchical kind's presets.
enum HierarchicalPresets {
    static var all: [Preset] {
        [
            Preset(name: "iwae-paper-2layer",
                   summary: "Burda et al.'s two-stochastic-layer model: 784-100-100-z1(100)-50-50-z2(50) tanh and the mirror, output bias at the mean training image's logits, dynamic binarisation, batch 20, Adam (eps 1e-4) with the paper's schedule over 3,280 epochs; shortened by running fewer schedule stages; the paper's IWAE is the IWAE objective with k = 50",
                   configuration: iwaePaperTraining("iwae-paper-2layer", HierarchicalMLPConfiguration.iwaePaperTwoLayer)),
            Preset(name: "iwae-code-2layer",
                   summary: "iwae-paper-2layer as the IWAE authors' code builds it (yburda/iwae): 784-200-200-z1(100)-100-100-z2(50) tanh and the mirror, twice as wide as the paper's text; the code produced the paper's figures. The same data, initialisation, batch, optimiser and schedule",
                   configuration: iwaePaperTraining("iwae-code-2layer", HierarchicalMLPConfiguration.iwaeCodeTwoLayer)),
            Preset(name: "vamp-hvae",
                   summary: "Tomczak & Welling's two-level HVAE with the VampPrior on z2: gated layers of 300, q(z2 | x) q(z1 | x, z2), p(z1 | z2) p(x | z1, z2), latents 40 and 40, 500 pseudo-inputs, dynamic binarisation, batch 100, Adam at 5e-4, KL warm-up over 100 epochs, 1,000 epochs",
                   configuration: TrainingConfiguration(preset: "vamp-hvae", binarization: .dynamic,
                                                        model: ModelSpecification(HierarchicalMLPConfiguration.vampPriorHVAE),
                                                        learningRate: 5e-4, batchSize: 100, epochs: 1000, batchReduction: .mean, imagesEvery: 50,
                                                        objective: ObjectiveSettings(warmupEpochs: 100))),
        ]
    }

    /// The IWAE paper's training of `model`: dynamically binarised digits, batch 20 (mean), Adam
    /// (eps 1e-4) with the paper's schedule over 3,280 epochs, output bias at the data mean.
    static func iwaePaperTraining(_ name: String, _ model: HierarchicalMLPConfiguration) -> TrainingConfiguration {
        TrainingConfiguration(preset: name, binarization: .dynamic, model: ModelSpecification(model),
                              batchSize: 20, epochs: 3280, batchReduction: .mean, imagesEvery: 27,
                              schedule: .iwaePaper(stages: 8), optimizerEpsilon: 1e-4, outputBias: .dataMean)
    }
}
