import Foundation
import Testing

/// Convolutional models through the `vae` tool: training, resuming, evaluating, drawing, and
/// the architecture options' errors.
@Suite struct ConvolutionalCommandTests {
    /// A small conv architecture for the tiny 6x6 dataset: 6 -> 3 -> dense 4 -> latent 2 and back.
    static func arguments(data: URL, out: String, epochs: Int = 2) -> [String] {
        ["train", "--preset", "keras-conv", "--data-dir", data.path, "--out", out, "--epochs", String(epochs), "--batch-size", "16",
         "--encoder-convolutions", "8:3:2:1", "--encoder-dense", "4", "--decoder-channels", "8", "--decoder-convolutions", "8:3:2:1",
         "--latent-size", "2"]
    }

    @Test func aConvolutionalRunTrainsResumesEvaluatesAndDraws() throws {
        let scratch = try ScratchFolder("conv-run")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        let trained = try Tool.run(Self.arguments(data: data, out: run))
        #expect(trained.status == 0, "\(trained.output)")
        #expect(trained.output.contains("convolutional VAE on 1x6x6 images: encoder 8:3:2:1 dense 4 latent 2; decoder -> 8x3x3, 8:3:2:1, out 1:3:1:1"))
        let resumed = try Tool.run(["train", "--resume", run, "--epochs", "3", "--data-dir", data.path])
        #expect(resumed.status == 0 && resumed.output.contains("epoch   3"), "\(resumed.output)")
        let evaluated = try Tool.run(["eval", run, "--samples", "20", "--data-dir", data.path, "--json"])
        #expect(evaluated.status == 0 && evaluated.output.contains("\"iwae\""), "\(evaluated.output)")
        let samples = scratch.path("samples.png")
        let sampled = try Tool.run(["sample", run, "--count", "4", "--out", samples])
        #expect(sampled.status == 0 && FileManager.default.fileExists(atPath: samples), "\(sampled.output)")
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        #expect(config.contains("\"kind\" : \"conv\""))
    }

    /// `vae bench conv` and `vae bench pytorch` time every preset at one chosen batch; a batch
    /// out of range, or one for a PyTorch script that runs its preset at a fixed batch, is named
    /// before anything is timed.
    @Test func aBenchBatchOutOfRangeOrForAFixedBatchScriptIsNamed() throws {
        let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("reference")
        let zero = try Tool.run(["bench", "conv", "--batch-size", "0"])
        #expect(zero.status == 64 && zero.output.contains("--batch-size must lie in 1...4096, got 0"), "\(zero.output)")
        let large = try Tool.run(["bench", "pytorch", "--presets", "conv-mnist", "--batch-size", "4097", "--reference-folder", reference.path])
        #expect(large.status == 64 && large.output.contains("--batch-size must lie in 1...4096, got 4097"), "\(large.output)")
        let fixed = try Tool.run(["bench", "pytorch", "--presets", "keras-conv", "--batch-size", "64", "--reference-folder", reference.path])
        #expect(fixed.status == 64 && fixed.output.contains("--batch-size applies to conv-mnist, dsprites-conv, hierarchical-colour; keras_conv_vae.py runs keras-conv at its batch of 128"),
                "\(fixed.output)")
    }

    @Test func badArchitectureOptionsAreNamed() throws {
        let scratch = try ScratchFolder("conv-options")
        let data = try scratch.tinyDataset()
        var arguments = Self.arguments(data: data, out: scratch.path("a"))
        arguments[arguments.firstIndex(of: "8:3:2:1")!] = "8:3:x"
        let malformed = try Tool.run(arguments)
        #expect(malformed.status != 0 && malformed.output.contains("--encoder-convolutions takes comma-separated channels:kernel:stride:padding"),
                "\(malformed.output)")
        arguments = Self.arguments(data: data, out: scratch.path("b"))
        arguments[arguments.firstIndex(of: "8:3:2:1")!] = "8:9:1:0"
        let tooLarge = try Tool.run(arguments)
        #expect(tooLarge.status != 0 && tooLarge.output.contains("--encoder-convolutions do not fit: convolution 1 (8:9:1:0) does not fit its 6x6 input"), "\(tooLarge.output)")
        let hidden = try Tool.run(Self.arguments(data: data, out: scratch.path("c")) + ["--hidden-sizes", "8"])
        #expect(hidden.status != 0 && hidden.output.contains("--hidden-sizes applies to MLP presets"), "\(hidden.output)")
        let mlp = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("d")) + ["--encoder-dense", "4"])
        #expect(mlp.status != 0 && mlp.output.contains("--encoder-dense applies to the convolutional presets"), "\(mlp.output)")
        for name in ["a", "b", "c", "d"] { #expect(!FileManager.default.fileExists(atPath: scratch.path(name) + "/config.json")) }
    }

    /// `--initializer` sets how an MLP's or a conv model's layers start and is recorded; a model
    /// kind that takes no start is refused, and so is a resume that asks for another start.
    @Test func theInitializerIsRecordedAndRefusedWhereItDoesNotApply() throws {
        let scratch = try ScratchFolder("conv-initializer")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        let trained = try Tool.run(Self.arguments(data: data, out: run, epochs: 1) + ["--initializer", "glorot"])
        #expect(trained.status == 0, "\(trained.output)")
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        #expect(config.contains("\"initializer\" : \"glorot\""), "\(config)")
        let mlp = scratch.path("mlp")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: mlp, epochs: 1) + ["--initializer", "he"]).status == 0)
        #expect(try String(contentsOfFile: mlp + "/config.json", encoding: .utf8).contains("\"initializer\" : \"he\""))
        let resumed = try Tool.run(["train", "--resume", run, "--epochs", "2", "--data-dir", data.path, "--initializer", "pytorch"])
        #expect(resumed.status != 0 && resumed.output.contains("--initializer"), "\(resumed.output)")
        let affine = try Tool.run(["train", "--preset", "affine-small", "--data-dir", data.path, "--out", scratch.path("affine"), "--epochs", "1", "--initializer", "glorot"])
        #expect(affine.status != 0 && affine.output.contains("--initializer does not apply to the affine preset affine-small"), "\(affine.output)")
        let unknown = try Tool.run(Self.arguments(data: data, out: scratch.path("unknown"), epochs: 1) + ["--initializer", "xavier"])
        #expect(unknown.status != 0 && unknown.output.contains("glorot") && unknown.output.contains("pytorch"), "\(unknown.output)")
    }

    @Test func initialWeightsAreLoadedCheckedAndRecorded() throws {
        let scratch = try ScratchFolder("conv-initial")
        let data = try scratch.tinyDataset()
        let first = scratch.path("first")
        #expect(try Tool.run(Self.arguments(data: data, out: first, epochs: 1)).status == 0)
        // Starting from the first run's weights: its epoch-1 test loss is better than a fresh start's.
        let second = scratch.path("second")
        let started = try Tool.run(Self.arguments(data: data, out: second, epochs: 1) + ["--initial-weights", first + "/model.safetensors"])
        #expect(started.status == 0, "\(started.output)")
        let config = try String(contentsOfFile: second + "/config.json", encoding: .utf8)
        #expect(config.contains("\"initialWeights\"") && config.contains("\"sha256\""))
        let missing = try Tool.run(Self.arguments(data: data, out: scratch.path("third")) + ["--initial-weights", scratch.path("none.safetensors")])
        #expect(missing.status != 0 && missing.output.contains("--initial-weights \(scratch.path("none.safetensors")) cannot be read"), "\(missing.output)")
        // An MLP's weights do not fit the conv model: the missing tensor is named.
        let mlp = scratch.path("mlp")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: mlp, epochs: 1)).status == 0)
        let wrong = try Tool.run(Self.arguments(data: data, out: scratch.path("fourth")) + ["--initial-weights", mlp + "/model.safetensors"])
        #expect(wrong.status != 0 && wrong.output.contains("encoder.convolutions.0.weight"), "\(wrong.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("fourth")), "a refused start leaves no run folder")
    }
}
