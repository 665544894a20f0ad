import Foundation
import Testing

/// `vae score`, the samplers and `vae classify` on a folder, end to end: figures reproduce bit
/// for bit, a fitted sampler is saved and reused, and bad input gets a refusal that names it.
@Suite struct ScoreCommandTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let mnist = checkout.appendingPathComponent("data/mnist").path
    static let mnistFeatures = checkout.appendingPathComponent("Sources/VAEEvaluation/FeatureNetworks/mnist.safetensors").path

    /// The JSON file's figures (not its timings).
    static func quality(_ path: String) throws -> String {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let quality = try #require(object["quality"])
        return String(decoding: try JSONSerialization.data(withJSONObject: quality, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func scoresReproduceAndFittedSamplersAreSavedAndReused() throws {
        let scratch = try ScratchFolder("score")
        let run = scratch.path("run")
        let trained = try Tool.run(["train", "--preset", "pytorch-example", "--data-dir", Self.mnist, "--out", run, "--epochs", "1",
                                    "--hidden-sizes", "32", "--latent-size", "4", "--batch-size", "256"])
        #expect(trained.status == 0, "\(trained.output)")
        let score = ["score", run, "--data-dir", Self.mnist, "--count", "400", "--subsets", "5", "--subset-size", "200"]
        let first = try Tool.run(score + ["--out", scratch.path("first.json")])
        #expect(first.status == 0 && first.output.contains("Fréchet distance") && first.output.contains("precision"), "\(first.output)")
        let second = try Tool.run(score + ["--out", scratch.path("second.json")])
        #expect(second.status == 0)
        #expect(try Self.quality(scratch.path("first.json")) == Self.quality(scratch.path("second.json")), "the same seed, the same figures")

        let fitted = try Tool.run(score + ["--sampler", "gmm", "--components", "3"])
        #expect(fitted.status == 0 && fitted.output.contains("fitted 3 Gaussians"), "\(fitted.output)")
        #expect(FileManager.default.fileExists(atPath: run + "/sampler-gmm.safetensors") && FileManager.default.fileExists(atPath: run + "/score-gmm.json"))
        let reused = try Tool.run(score + ["--sampler", "gmm", "--components", "3"])
        #expect(reused.status == 0 && reused.output.contains("reused"), "\(reused.output)")
        let other = try Tool.run(score + ["--sampler", "gmm", "--components", "4"])
        #expect(other.status == 0 && other.output.contains("with other settings; fitting again") && other.output.contains("fitted 4 Gaussians"), "\(other.output)")
        let twoStage = try Tool.run(["sample", run, "--data-dir", Self.mnist, "--sampler", "two-stage", "--second-stage-epochs", "1", "--count", "4",
                                     "--out", scratch.path("two.png")])
        #expect(twoStage.status == 0 && twoStage.output.contains("second stage epoch 1"), "\(twoStage.output)")

        let few = try Tool.run(["score", run, "--data-dir", Self.mnist, "--count", "100"])
        #expect(few.status == 1 && few.output.contains("--count 100 against 10000 test images: the Fréchet distance needs more vectors than the 128 feature dimensions"),
                "\(few.output)")
    }

    @Test func featureNetworksSamplersAndCountsThatCannotServeAreRefused() throws {
        let scratch = try ScratchFolder("score-refusals")
        let (idx, png) = try LikelihoodCommandTests.data(scratch)
        let tiny = scratch.path("tiny"), folderRun = scratch.path("folder")
        #expect(try Tool.run(Tool.trainArguments(data: idx, out: tiny, epochs: 1)).status == 0)
        let shape = try Tool.run(["score", tiny, "--data-dir", idx.path, "--features", Self.mnistFeatures])
        #expect(shape.status == 1 && shape.output.contains("takes 1x28x28 images; the model draws 1x6x6"), "\(shape.output)")

        let trained = try Tool.run(["train", "--preset", "pytorch-example", "--images", png.path, "--out", folderRun, "--epochs", "1",
                                    "--batch-size", "16", "--hidden-sizes", "8", "--latent-size", "2"])
        #expect(trained.status == 0, "\(trained.output)")
        let unshipped = try Tool.run(["score", folderRun])
        #expect(unshipped.status == 1 && unshipped.output.contains("no feature network is shipped for the image folder")
                && unshipped.output.contains("vae classify --images FOLDER"), "\(unshipped.output)")
        let classifier = scratch.path("classifier.safetensors")
        let classified = try Tool.run(["classify", "--images", png.path, "--epochs", "1", "--out", classifier])
        #expect(classified.status == 0 && classified.output.contains("test accuracy"), "\(classified.output)")
        let tooFew = try Tool.run(["score", folderRun, "--features", classifier, "--count", "500"])
        #expect(tooFew.status == 1 && tooFew.output.contains("against 16 test images: the Fréchet distance needs more vectors"), "\(tooFew.output)")

        // The folder's images are gone: no sampler was fitted, and none can be.
        try FileManager.default.moveItem(atPath: png.path, toPath: scratch.path("moved"))
        let unfittable = try Tool.run(["sample", folderRun, "--sampler", "gmm", "--out", scratch.path("gmm.png")])
        #expect(unfittable.status == 1 && unfittable.output.contains("does not hold one fitted to this model; fitting one needs the training set, which cannot be read"),
                "\(unfittable.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("gmm.png")))
    }
}
