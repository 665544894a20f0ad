import Foundation
import Testing

/// The disentangling objectives end to end (`--objective beta-tcvae`, `dip-vae`,
/// `annealed-vae`): their terms in metrics.csv, and what they refuse.
@Suite struct DisentanglingObjectiveCommandTests {
    @Test func betaTCVAENamesItsTermsInTheMetrics() throws {
        let scratch = try ScratchFolder("btcvae")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        let trained = try Tool.run(Tool.trainArguments(data: data, out: run, epochs: 2) + ["--objective", "beta-tcvae", "--beta", "6", "--tc-estimator", "mws"])
        #expect(trained.status == 0 && trained.output.contains("objective beta-TCVAE, beta 6.0, minibatch-weighted q(z)"), "\(trained.output)")
        let header = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n")[0]
        for name in ["mutual_information", "total_correlation", "dimension_wise_kl"] { #expect(header.contains(name), "\(header)") }
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        #expect(config.contains("\"estimator\" : \"mws\"") || config.contains("\"estimator\":\"mws\""), "\(config)")
    }

    @Test func betaTCVAEOptionsAndModelsItCannotSplitAreRefused() throws {
        let scratch = try ScratchFolder("btcvae-refused")
        let data = try scratch.tinyDataset()
        let alpha = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("a"), epochs: 1) + ["--alpha", "2"])
        #expect(alpha.status != 0 && alpha.output.contains("alpha, gamma and the q(z) estimator apply to beta-TCVAE"), "\(alpha.output)")
        let mixture = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("m"), epochs: 1) + ["--objective", "beta-tcvae", "--prior", "mog", "--prior-components", "3"])
        #expect(mixture.status != 0 && mixture.output.contains("beta-TCVAE needs a diagonal-Gaussian posterior and the N(0, I) prior"), "\(mixture.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("m") + "/metrics.csv"))
    }

    @Test func dipVAEAndAnnealedVAETrainFromTheCommandLine() throws {
        let scratch = try ScratchFolder("dip-annealed")
        let data = try scratch.tinyDataset()
        let dip = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("dip"), epochs: 1) + ["--objective", "dip-vae", "--dip-variant", "ii", "--lambda-od", "5", "--lambda-d-factor", "1"])
        #expect(dip.status == 0 && dip.output.contains("objective DIP-VAE-II, lambda_od 5.0, lambda_d 5.0"), "\(dip.output)")
        let annealed = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("annealed"), epochs: 1) + ["--objective", "annealed-vae", "--beta", "1000", "--capacity", "25", "--capacity-epochs", "8.68"])
        #expect(annealed.status == 0 && annealed.output.contains("objective AnnealedVAE, gamma 1000.0, capacity rising to 25.0 nats over 8.68 epochs"), "\(annealed.output)")
        let misplaced = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("x"), epochs: 1) + ["--lambda-od", "5"])
        #expect(misplaced.status != 0 && misplaced.output.contains("apply to DIP-VAE (--objective dip-vae)"), "\(misplaced.output)")
    }

    @Test func factorVAETrainsResumesAndNamesItsTermsAndItsDiscriminatorOptionsAreItsOwn() throws {
        let scratch = try ScratchFolder("factor-vae")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        let options = ["--objective", "factor-vae", "--gamma", "35", "--discriminator-layers", "2", "--discriminator-units", "16"]
        let trained = try Tool.run(Tool.trainArguments(data: data, out: run, epochs: 1) + options)
        #expect(trained.status == 0 && trained.output.contains("objective FactorVAE, gamma 35.0, discriminator 2 x 16 leaky ReLU, Adam 0.0001 (betas 0.5, 0.9)"), "\(trained.output)")
        let header = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8).split(separator: "\n")[0]
        #expect(header.contains("factor_vae_tc") && header.contains("discriminator_loss") && header.contains("discriminator_accuracy"), "\(header)")
        let resumed = try Tool.run(["train", "--resume", run, "--epochs", "2", "--data-dir", data.path])
        #expect(resumed.status == 0 && resumed.output.contains("epoch   2"), "\(resumed.output)")
        let elsewhere = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("b"), epochs: 1) + ["--objective", "beta-tcvae", "--discriminator-units", "16"])
        #expect(elsewhere.status != 0 && elsewhere.output.contains("the discriminator's layers, units, learning rate, shuffle and initializer apply to FactorVAE (--objective factor-vae), not beta-tcvae"), "\(elsewhere.output)")
        let previous = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("p"), epochs: 1) + options + ["--discriminator-shuffle", "previous-batch"])
        #expect(previous.status == 0 && previous.output.contains("(betas 0.5, 0.9), shuffling the previous batch's codes"), "\(previous.output)")
        let glorot = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("g"), epochs: 1) + options + ["--discriminator-initializer", "glorot"])
        #expect(glorot.status == 0 && glorot.output.contains("discriminator 2 x 16 leaky ReLU (glorot start), Adam"), "\(glorot.output)")
        #expect(try String(contentsOfFile: scratch.path("g") + "/config.json", encoding: .utf8).contains("\"discriminatorInitializer\" : \"glorot\""))
        let unknown = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("u"), epochs: 1) + options + ["--discriminator-shuffle", "next"])
        #expect(unknown.status != 0 && unknown.output.contains("same-batch") && unknown.output.contains("previous-batch"), "\(unknown.output)")
        let bad = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("c"), epochs: 1) + ["--objective", "factor-vae", "--discriminator-learning-rate", "-1"])
        #expect(bad.status != 0 && bad.output.contains("--discriminator-learning-rate must be a number > 0, got -1.0"), "\(bad.output)")
    }
}
