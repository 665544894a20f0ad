import Foundation
import SafeTensors
import Testing

/// `--likelihood` end to end, and what files and data a likelihood or a model file can refuse:
/// each refusal names the setting or the file, exits non-zero and writes nothing.
@Suite struct LikelihoodCommandTests {
    /// The tiny dataset as IDX files in `scratch/data` and as a folder of PNG files in `scratch/png`.
    static func data(_ scratch: ScratchFolder) throws -> (idx: URL, png: URL) {
        let idx = scratch.url.appendingPathComponent("data"), png = scratch.url.appendingPathComponent("png")
        try TinyDataset.write(to: idx)
        let exported = try Tool.run(["data", "--export", "mnist", "--data-dir", idx.path, "--to", png.path])
        #expect(exported.status == 0, "\(exported.output)")
        return (idx, png)
    }

    @Test func aLogisticMixtureTrainsAndReportsBitsPerDimension() throws {
        let scratch = try ScratchFolder("mixture")
        let (idx, _) = try Self.data(scratch)
        let run = scratch.path("run")
        let trained = try Tool.run(Tool.trainArguments(data: idx, out: run, epochs: 2) + ["--likelihood", "logistic-mixture", "--mixture-components", "3"])
        #expect(trained.status == 0 && trained.output.contains("logistic-mixture (3 components) likelihood"), "\(trained.output)")
        let metrics = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8)
        #expect(metrics.split(separator: "\n")[0].hasSuffix("test_bits_per_dim"), "\(metrics)")
        let evaluated = try Tool.run(["eval", run, "--samples", "20", "--data-dir", idx.path])
        #expect(evaluated.status == 0 && evaluated.output.contains("bits per dimension in brackets"), "\(evaluated.output)")
        // The bits per dimension metrics.csv records are the test loss over 36 values and ln 2.
        let last = metrics.split(separator: "\n").last!.split(separator: ",")
        let (loss, bits) = (Double(last[2])!, Double(last.last!)!)
        #expect(abs(bits - loss / (36 * log(2.0))) < 1e-4)
        // A density has no bits per dimension.
        let gaussian = try Tool.run(Tool.trainArguments(data: idx, out: scratch.path("gaussian"), epochs: 1) + ["--likelihood", "gaussian-learned"])
        #expect(gaussian.status == 0, "\(gaussian.output)")
        let density = try Tool.run(["eval", scratch.path("gaussian"), "--samples", "0", "--data-dir", idx.path])
        #expect(density.status == 0 && density.output.contains("a density: no bits per dimension"), "\(density.output)")
    }

    @Test func aLikelihoodThatDoesNotFitTheDataIsRefusedAndNothingIsWritten() throws {
        let scratch = try ScratchFolder("unfit")
        let (_, png) = try Self.data(scratch)
        // Resized by area, the values fall between the 8-bit levels.
        let resized = ["train", "--images", png.path, "--image-size", "4", "--colour", "grey", "--hidden-sizes", "8", "--latent-size", "2",
                       "--epochs", "1", "--likelihood", "discretised-logistic"]
        let refused = try Tool.run(resized + ["--out", scratch.path("refused")])
        #expect(refused.status == 1 && refused.output.contains("--likelihood discretised-logistic models 8-bit levels") && refused.output.contains("--quantize rounds"),
                "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("refused")))
        // Rounded to the levels, it trains.
        let quantised = try Tool.run(resized + ["--quantize", "--out", scratch.path("quantised")])
        #expect(quantised.status == 0, "\(quantised.output)")
        // Binarised colour.
        let colour = try Tool.run(["train", "--images", png.path, "--colour", "colour", "--hidden-sizes", "8", "--latent-size", "2",
                                   "--binarization", "threshold", "--out", scratch.path("colour")])
        #expect(colour.status != 0 && colour.output.contains("--binarization applies to grey images"), "\(colour.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("colour")))
        // Options that belong to another likelihood or another kind.
        let stray = try Tool.run(["train", "--mixture-components", "4", "--out", scratch.path("stray")])
        #expect(stray.status == 64 && stray.output.contains("--mixture-components applies to --likelihood logistic-mixture"), "\(stray.output)")
        let affine = try Tool.run(["train", "--preset", "affine-small", "--likelihood", "bernoulli", "--out", scratch.path("affine")])
        #expect(affine.status == 64 && affine.output.contains("--likelihood cannot be bernoulli for the affine-transform VAE (affine), whose decoder gives gaussian"), "\(affine.output)")
    }

    @Test func aModelFileOfAnUnknownKindOrANewerFormatIsRefusedNamingIt() throws {
        let scratch = try ScratchFolder("kinds")
        let (idx, _) = try Self.data(scratch)
        let run = scratch.path("run")
        #expect(try Tool.run(Tool.trainArguments(data: idx, out: run, epochs: 1)).status == 0)
        var file = try SafeTensorsFile.read(from: URL(fileURLWithPath: run + "/model.safetensors"))
        file.metadata["model_specification"] = file.metadata["model_specification"]!.replacingOccurrences(of: "\"kind\":\"mlp\"", with: "\"kind\":\"skip-mlp\"")
        let unknown = scratch.url.appendingPathComponent("unknown.safetensors")
        try file.write(to: unknown)
        let refused = try Tool.run(["sample", unknown.path, "--out", scratch.path("samples.png")])
        #expect(refused.status == 1 && refused.output.contains("the model kind 'skip-mlp' is not registered") && refused.output.contains(unknown.path),
                "\(refused.output)")
        file = try SafeTensorsFile.read(from: URL(fileURLWithPath: run + "/model.safetensors"))
        file.metadata["format"] = "vae-toolkit/7"
        let newer = scratch.url.appendingPathComponent("newer.safetensors")
        try file.write(to: newer)
        let tooNew = try Tool.run(["eval", newer.path, "--samples", "0", "--data-dir", idx.path])
        #expect(tooNew.status == 1 && tooNew.output.contains("written by a newer version of the toolkit (format vae-toolkit/7)"), "\(tooNew.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("samples.png")), "nothing was written")
    }
}
