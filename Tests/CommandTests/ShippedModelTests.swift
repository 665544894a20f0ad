import Foundation
import Testing

/// The reference models under `models/` (models/README.md) still load and still give their
/// figures: each MNIST row's ELBO and IWAE-100 bound on the first 100 test images, as `vae eval`
/// gave them when the model shipped, and each dSprites row decodes. A change to a model kind, a
/// file format or the evaluation that would move the reproduction table fails here first, before
/// anyone re-evaluates a row at k = 5000.
@Suite struct ShippedModelTests {
    static let models = ScoreCommandTests.checkout.appendingPathComponent("models")

    /// `vae eval models/ROW --count 100 --samples 100` (the run's recorded seed): the ELBO and
    /// the IWAE-100 bound, in nats.
    static let boundFigures: [String: (elbo: Double, iwae: Double)] = [
        "iwae-paper": (-87.4249, -83.8567),
        "iwae-paper-2layer": (-89.3339, -86.1545),
        "iwae-code-2layer": (-86.6991, -82.3438),
        "iaf": (-85.7349, -82.6948),
        "vamp": (-82.2827, -79.3530),
        "vamp-hvae": (-81.3993, -78.4939),
    ]

    /// The rows scored on dSprites (`vae eval --disentanglement` needs all 737,280 images): here
    /// they only have to load and decode.
    static let decodedOnly = ["dsprites-btcvae-seed1", "dsprites-btcvae-seed2", "dsprites-btcvae-seed3", "dsprites-conv-seed1",
                              "dsprites-factorvae-seed1", "dsprites-factorvae-seed2", "dsprites-factorvae-seed3"]

    /// Parses the one JSON object `vae eval --json` prints after its progress lines.
    static func figures(_ output: String) throws -> [String: Any] {
        let line = try #require(output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(output)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func everyShippedModelIsCheckedHere() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.models.path)
            .filter { FileManager.default.fileExists(atPath: Self.models.appendingPathComponent($0).appendingPathComponent("config.json").path) }
        #expect(Set(folders) == Set(Self.boundFigures.keys).union(Self.decodedOnly).union(["vq-mnist"]),
                "a folder under models/ without figures in ShippedModelTests, or figures without their folder: \(folders.sorted())")
    }

    @Test(arguments: boundFigures.keys.sorted())
    func eachMNISTRowGivesItsFigures(row: String) throws {
        let expected = try #require(Self.boundFigures[row])
        let evaluated = try Tool.run(["eval", Self.models.appendingPathComponent(row).path, "--count", "100", "--samples", "100", "--json",
                                      "--data-dir", ScoreCommandTests.mnist])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        let figures = try Self.figures(evaluated.output)
        let elbo = try #require(figures["elbo"] as? Double), iwae = try #require(figures["iwae"] as? Double)
        #expect(abs(elbo - expected.elbo) < 0.005, "\(row): ELBO \(elbo), shipped with \(expected.elbo)")
        #expect(abs(iwae - expected.iwae) < 0.005, "\(row): IWAE-100 bound \(iwae), shipped with \(expected.iwae)")
        #expect(figures["images"] as? Int == 100 && figures["iwae_samples"] as? Int == 100)
    }

    @Test func theVQRowGivesItsFiguresWithItsPrior() throws {
        let evaluated = try Tool.run(["eval", Self.models.appendingPathComponent("vq-mnist").path, "--count", "100", "--json",
                                      "--data-dir", ScoreCommandTests.mnist])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        let figures = try Self.figures(evaluated.output)
        let error = try #require(figures["reconstruction_mse"] as? Double), perplexity = try #require(figures["perplexity"] as? Double)
        let bits = try #require(figures["prior_bits_per_code"] as? Double)
        // Wider than the bounds' tolerance: another machine's convolution kernels may settle a
        // near tie between two codes the other way, which moves these figures a little.
        #expect(abs(error - 0.0018256) < 2e-6, "reconstruction MSE \(error)")
        #expect(abs(perplexity - 75.9476) < 0.1, "perplexity \(perplexity)")
        #expect(abs(bits - 3.25606) < 0.01, "prior bits per code \(bits)")
        #expect(figures["codes_used"] as? Int == 128)
    }

    @Test(arguments: decodedOnly)
    func eachDSpritesRowDecodes(row: String) throws {
        let scratch = try ScratchFolder("shipped-\(row)")
        let sampled = try Tool.run(["sample", Self.models.appendingPathComponent(row).path, "--count", "4", "--out", scratch.path("samples.png")])
        #expect(sampled.status == 0 && sampled.output.contains("4 images decoded"), "\(sampled.output)")
        #expect(FileManager.default.fileExists(atPath: scratch.path("samples.png")))
    }
}
