import Foundation
import Testing

/// The VQ-VAE through the `vae` tool: a small one trains and logs its codebook's use, its prior
/// trains (conditional) and resumes, samples come from the prior, eval reports what applies,
/// encode writes code indices; a missing prior, a zero codebook and the continuous-latent tools
/// are refused with what to do.
@Suite struct VectorQuantizedCommandTests {
    /// vq-mnist cut to the tiny 6x6 dataset: a 3x3 grid of 4-dimensional codes from 8.
    static func arguments(data: URL, out: String) -> [String] {
        ["train", "--preset", "vq-mnist", "--data-dir", data.path, "--out", out, "--epochs", "2", "--batch-size", "16",
         "--encoder-convolutions", "8:4:2:1", "--decoder-convolutions", "8:4:2:1", "--code-dimension", "4", "--codebook-size", "8"]
    }

    @Test func aVQRunTrainsItsPriorSamplesEvaluatesAndEncodes() throws {
        let scratch = try ScratchFolder("vq-run")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        let trained = try Tool.run(Self.arguments(data: data, out: run))
        #expect(trained.status == 0, "\(trained.output)")
        #expect(trained.output.contains("VQ-VAE on 1x6x6 images: encoder 8:4:2:1 -> 3x3 codes of 4 from 8"), "\(trained.output)")
        let metrics = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8)
        for column in ["train_commitment", "test_perplexity", "test_codes_used", "test_dead_codes", "test_reconstruction_mse", "test_codes_restarted"] {
            #expect(metrics.split(separator: "\n")[0].contains(column), "\(column): \(metrics)")
        }
        let unsampled = try Tool.run(["sample", run, "--out", scratch.path("none.png")])
        #expect(unsampled.status != 0 && unsampled.output.contains("without a code prior: fit one first with `vae train-prior"), "\(unsampled.output)")

        let prior = try Tool.run(["train-prior", run, "--data-dir", data.path, "--epochs", "1", "--layers", "2", "--channels", "8", "--conditional"])
        #expect(prior.status == 0 && prior.output.contains("conditioned on 10 classes") && prior.output.contains("bits per code"), "\(prior.output)")
        let again = try Tool.run(["train-prior", run, "--data-dir", data.path])
        #expect(again.status != 0 && again.output.contains("continue it with --resume"), "\(again.output)")
        let resumed = try Tool.run(["train-prior", run, "--data-dir", data.path, "--resume", "--epochs", "2"])
        #expect(resumed.status == 0 && resumed.output.contains("epoch   2") && !resumed.output.contains("epoch   1 "), "\(resumed.output)")
        let priorMetrics = try String(contentsOfFile: run + "/prior-metrics.csv", encoding: .utf8)
        #expect(priorMetrics.split(separator: "\n").count == 3, "\(priorMetrics)")

        let grid = try Tool.run(["sample", run, "--columns", "3", "--out", scratch.path("grid.png")])
        #expect(grid.status == 0 && grid.output.contains("10 rows (one per class) of 3 images, codes drawn from the PixelCNN prior"), "\(grid.output)")
        let three = try Tool.run(["sample", run, "--label", "3", "--count", "4", "--temperature", "0.5", "--out", scratch.path("three.png")])
        #expect(three.status == 0 && three.output.contains("4 images decoded from codes drawn from the PixelCNN prior given class 3 at T = 0.5"), "\(three.output)")
        #expect(FileManager.default.fileExists(atPath: scratch.path("three.png")))

        let evaluated = try Tool.run(["eval", run, "--data-dir", data.path])
        #expect(evaluated.status == 0 && evaluated.output.contains("reconstruction MSE") && evaluated.output.contains("bits per code")
                && evaluated.output.contains("the importance-weighted bound does not apply to a VQ-VAE"), "\(evaluated.output)")
        let encoded = try Tool.run(["encode", run, "--data-dir", data.path, "--out", scratch.path("codes.csv")])
        #expect(encoded.status == 0, "\(encoded.output)")
        let codes = try String(contentsOfFile: scratch.path("codes.csv"), encoding: .utf8).split(separator: "\n")
        #expect(codes.count == 17 && codes[0] == "index,label,c_0,c_1,c_2,c_3,c_4,c_5,c_6,c_7,c_8", "\(codes.prefix(2))")
        #expect(codes[1].split(separator: ",", omittingEmptySubsequences: false).dropFirst(2).allSatisfy { Int($0).map { (0..<8).contains($0) } ?? false })

        // The table decodes as written; an edited cell outside the codebook is refused naming its line and column.
        let decoded = try Tool.run(["sample", run, "--codes", scratch.path("codes.csv"), "--columns", "4", "--out", scratch.path("decoded.png")])
        #expect(decoded.status == 0 && decoded.output.contains("16 images decoded from the code grids of"), "\(decoded.output)")
        var lines = codes.map(String.init)
        var fields = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[2 + 4] = "8"
        lines[2] = fields.joined(separator: ",")
        try (lines.joined(separator: "\n") + "\n").write(toFile: scratch.path("edited.csv"), atomically: true, encoding: .utf8)
        let edited = try Tool.run(["sample", run, "--codes", scratch.path("edited.csv"), "--out", scratch.path("edited.png")])
        #expect(edited.status != 0 && edited.output.contains("edited.csv line 3: c_4 is 8, outside the codebook: each code must be 0...7"), "\(edited.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("edited.png")))
        let explored = try Tool.run(["explore", run, "--data-dir", data.path, "--sampler", "gmm", "--port", "0"])
        #expect(explored.status != 0 && explored.output.contains("its grids are drawn from its code prior"), "\(explored.output)")

        let traverse = try Tool.run(["traverse", run, "--data-dir", data.path, "--out", scratch.path("t.png")])
        #expect(traverse.status != 0 && traverse.output.contains("`vae traverse` moves through a continuous latent space"), "\(traverse.output)")
    }

    @Test func aZeroCodebookOrCodeDimensionIsRefused() throws {
        let scratch = try ScratchFolder("vq-options")
        let data = try scratch.tinyDataset()
        for (option, message) in [("--codebook-size", "--codebook-size must be 1...65536 codes, got 0"), ("--code-dimension", "--code-dimension must be 1...4096, got 0")] {
            var arguments = Self.arguments(data: data, out: scratch.path(option))
            arguments[arguments.firstIndex(of: option)! + 1] = "0"
            let result = try Tool.run(arguments)
            #expect(result.status != 0 && result.output.contains(message), "\(result.output)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path(option)))
        }
        let elsewhere = try Tool.run(["train", "--preset", "conv-mnist", "--codebook-size", "8", "--data-dir", data.path, "--out", scratch.path("conv")])
        #expect(elsewhere.status != 0 && elsewhere.output.contains("--codebook-size applies to the VQ-VAE presets"), "\(elsewhere.output)")
    }
}
