import Foundation
import Testing

/// `--conditional` end to end: training records the classes; the latent tools take `--label`;
/// bad labels get clear refusals; `vae classify` judges the samples.
@Suite struct ConditionalCommandTests {
    @Test func aConditionalRunDrawsByLabelAndRefusesBadLabels() throws {
        let scratch = try ScratchFolder("conditional")
        let data = try scratch.tinyDataset()
        let run = scratch.path("cvae"), plain = scratch.path("plain")
        let trained = try Tool.run(Tool.trainArguments(data: data, out: run, epochs: 2) + ["--conditional"])
        #expect(trained.status == 0, "\(trained.output)")
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        #expect(config.contains("\"conditionClasses\" : 10"), "the class count is fitted to the dataset's ten labels")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: plain, epochs: 1)).status == 0)
        let dataDir = ["--data-dir", data.path]

        let one = try Tool.run(["sample", run, "--label", "3", "--count", "4", "--out", scratch.path("three.png")] + dataDir)
        #expect(one.status == 0 && one.output.contains("with label 3"), "\(one.output)")
        let grid = try Tool.run(["sample", run, "--columns", "5", "--out", scratch.path("grid.png")] + dataDir)
        #expect(grid.status == 0 && grid.output.contains("10 rows (one per class) of 5 images"), "\(grid.output)")
        let restyled = try Tool.run(["reconstruct", run, "--label", "7", "--count", "4", "--out", scratch.path("as-seven.png")] + dataDir)
        #expect(restyled.status == 0 && restyled.output.contains("decoded as 7"), "\(restyled.output)")
        let interpolated = try Tool.run(["interpolate", run, "--label", "1", "--out", scratch.path("path.png")] + dataDir)
        #expect(interpolated.status == 0 && interpolated.output.contains("decoded as 1"), "\(interpolated.output)")
        let traversed = try Tool.run(["traverse", run, "--out", scratch.path("traverse.png")] + dataDir)
        #expect(traversed.status == 0 && traversed.output.contains("decoded as 0"), "test image 0's own label: \(traversed.output)")

        let evaluated = try Tool.run(["eval", run, "--samples", "10"] + dataDir)
        #expect(evaluated.status == 0 && evaluated.output.contains("conditional model, bounds on log p(x | y)"), "\(evaluated.output)")
        let json = try Tool.run(["eval", run, "--samples", "10", "--json"] + dataDir)
        #expect(json.output.contains("\"conditional\":true") && json.output.contains("\"bound_of\":\"log p(x | y)\""), "\(json.output)")

        // Bad labels: out of range, missing where needed, given to an unconditional model.
        let outOfRange = try Tool.run(["sample", run, "--label", "10"] + dataDir)
        #expect(outOfRange.status == 1 && outOfRange.output.contains("--label 10 is out of range: the model is conditioned on 10 classes, 0...9"),
                "\(outOfRange.output)")
        let missing = try Tool.run(["manifold", run, "--out", scratch.path("manifold.png")] + dataDir)
        #expect(missing.status == 1 && missing.output.contains("is a conditional model: give --label K with K in 0...9"), "\(missing.output)")
        let unconditional = try Tool.run(["sample", plain, "--label", "1"] + dataDir)
        #expect(unconditional.status == 1 && unconditional.output.contains("--label applies to a conditional model"), "\(unconditional.output)")
        let designB = try Tool.run(["train", "--preset", "affine-small", "--conditional", "--data-dir", data.path, "--out", scratch.path("b")])
        #expect(designB.status != 0 && designB.output.contains("has no conditional form"), "\(designB.output)")
        let negative = try Tool.run(["reconstruct", run, "--label", "-1"] + dataDir)
        #expect(negative.status == 1 && negative.output.contains("out of range"), "\(negative.output)")

        // The classifier judges the samples, per class.
        let classifier = scratch.path("classifier.safetensors")
        let classified = try Tool.run(["classify", "--epochs", "1", "--out", classifier] + dataDir)
        #expect(classified.status == 0 && classified.output.contains("test accuracy"), "\(classified.output)")
        let judged = try Tool.run(["sample", run, "--classifier", classifier, "--judge", "20", "--out", scratch.path("judged.png")] + dataDir)
        #expect(judged.status == 0 && judged.output.contains("class 9:") && judged.output.contains("lowest"), "\(judged.output)")
        let notAClassifier = try Tool.run(["sample", run, "--classifier", run + "/model.safetensors"] + dataDir)
        #expect(notAClassifier.status == 1 && notAClassifier.output.contains("is not an image classifier of this toolkit"), "\(notAClassifier.output)")
    }
}
