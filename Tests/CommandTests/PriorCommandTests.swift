import Foundation
import Testing

/// `--prior` end to end: a learned prior trains, its KL estimator is printed and recorded, `vae
/// sample` draws from it, and options that cannot apply are refused by name.
@Suite struct PriorCommandTests {
    @Test func aVampPriorRunRecordsItsEstimatorAndSamples() throws {
        let scratch = try ScratchFolder("prior")
        let run = scratch.path("vamp")
        let trained = try Tool.run(["train", "--preset", "pytorch-example", "--data-dir", ScoreCommandTests.mnist, "--out", run, "--epochs", "1",
                                    "--hidden-sizes", "32", "--latent-size", "4", "--batch-size", "256", "--prior", "vamp", "--prior-components", "20"])
        #expect(trained.status == 0 && trained.output.contains("vamp (20 pseudo-inputs) prior")
                && trained.output.contains("KL estimated by z: Monte Carlo"), "\(trained.output)")
        let record = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        #expect(record.contains("\"klEstimators\"") && record.contains("\"Monte Carlo\""), "\(record)")
        let sampled = try Tool.run(["sample", run, "--count", "4", "--data-dir", ScoreCommandTests.mnist, "--out", scratch.path("s.png")])
        #expect(sampled.status == 0, "\(sampled.output)")
        let evaluated = try Tool.run(["eval", run, "--samples", "20", "--count", "50", "--data-dir", ScoreCommandTests.mnist])
        #expect(evaluated.status == 0 && evaluated.output.contains("IWAE bound, k = 20"), "\(evaluated.output)")
        #expect(evaluated.output.contains("relu, log-variance head, bernoulli likelihood, vamp (20 pseudo-inputs) prior; mnist test set (50 images)"),
                "the figures name the model they are of, its prior included: \(evaluated.output)")
        let pseudo = try Tool.run(["sample", run, "--pseudo-inputs", "--count", "12", "--out", scratch.path("pseudo.png")])
        #expect(pseudo.status == 0 && pseudo.output.contains("12 of the 20 pseudo-inputs"), "\(pseudo.output)")
        #expect(FileManager.default.fileExists(atPath: scratch.path("pseudo.png")))
        let normal = scratch.path("normal")
        #expect(try Tool.run(["train", "--preset", "pytorch-example", "--data-dir", ScoreCommandTests.mnist, "--out", normal, "--epochs", "1",
                              "--hidden-sizes", "16", "--latent-size", "2", "--batch-size", "512"]).status == 0)
        let none = try Tool.run(["sample", normal, "--pseudo-inputs", "--out", scratch.path("none.png")])
        #expect(none.status == 1 && none.output.contains("has the prior N(0, I)"), "\(none.output)")
    }

    @Test func priorOptionsThatCannotApplyAreRefused() throws {
        let lonely = try Tool.run(["train", "--preset", "pytorch-example", "--prior-components", "5"])
        #expect(lonely.status != 0 && lonely.output.contains("--prior-components goes with --prior mog or --prior vamp"), "\(lonely.output)")
        let convolutional = try Tool.run(["train", "--preset", "conv-mnist", "--prior", "mog"])
        #expect(convolutional.status != 0 && convolutional.output.contains("--prior applies to the MLP presets"), "\(convolutional.output)")
        let conditional = try Tool.run(["train", "--preset", "cvae-mnist", "--prior", "vamp"])
        #expect(conditional.status != 0 && conditional.output.contains("vamp needs an unconditional model"), "\(conditional.output)")
        let gatedConvolution = try Tool.run(["train", "--preset", "conv-mnist", "--hidden-unit", "gated"])
        #expect(gatedConvolution.status != 0 && gatedConvolution.output.contains("--hidden-unit applies to the MLP presets"), "\(gatedConvolution.output)")
        let hierarchicalSize = try Tool.run(["train", "--preset", "vamp-hvae", "--latent-size", "8"])
        #expect(hierarchicalSize.status != 0 && hierarchicalSize.output.contains("--latent-size does not apply to vamp-hvae, a hierarchical MLP VAE (hierarchical-mlp)"),
                "\(hierarchicalSize.output)")
        let hierarchicalFlow = try Tool.run(["train", "--preset", "iwae-paper-2layer", "--posterior", "iaf"])
        #expect(hierarchicalFlow.status != 0 && hierarchicalFlow.output.contains("--posterior does not apply to iwae-paper-2layer"), "\(hierarchicalFlow.output)")
    }
}
