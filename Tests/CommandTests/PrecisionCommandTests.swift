import Foundation
import Testing

/// `--precision` through the `vae` tool: recorded in the run, kept on resume, reported by
/// `vae eval`, and absent from runs written before it existed (which are fp32).
@Suite struct PrecisionCommandTests {
    @Test func aBF16RunRecordsItsPrecisionResumesInItAndIsEvaluatedInEither() throws {
        let scratch = try ScratchFolder("precision")
        let data = try scratch.tinyDataset()
        let half = scratch.path("bf16"), single = scratch.path("fp32")
        let trained = try Tool.run(Tool.trainArguments(data: data, out: half, epochs: 2) + ["--precision", "bf16"])
        #expect(trained.status == 0 && trained.output.contains("seed 5, bf16"), "\(trained.output)")
        #expect(try String(contentsOfFile: half + "/config.json", encoding: .utf8).contains("\"precision\" : \"bf16\""))
        #expect(try Tool.run(Tool.trainArguments(data: data, out: single, epochs: 2)).status == 0)
        // The same run in the two precisions: close (the factors' rounding), not equal.
        let halfLosses = Data.lossColumns(ofMetrics: URL(fileURLWithPath: half + "/metrics.csv"))
        let singleLosses = Data.lossColumns(ofMetrics: URL(fileURLWithPath: single + "/metrics.csv"))
        #expect(halfLosses != singleLosses)
        let resumed = try Tool.run(["train", "--resume", half, "--epochs", "3", "--data-dir", data.path])
        #expect(resumed.status == 0 && resumed.output.contains("epoch   3") && resumed.output.contains(", bf16"), "\(resumed.output)")
        let exact = try Tool.run(["eval", half, "--samples", "10", "--data-dir", data.path, "--json"])
        #expect(exact.status == 0 && exact.output.contains("\"precision\":\"fp32\""), "\(exact.output)")
        let fast = try Tool.run(["eval", half, "--samples", "10", "--data-dir", data.path, "--precision", "bf16"])
        #expect(fast.status == 0 && fast.output.contains("bf16 matrix multiplies"), "\(fast.output)")
        let unknown = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("fp16")) + ["--precision", "fp16"])
        #expect(unknown.status != 0 && unknown.output.contains("fp32") && unknown.output.contains("bf16"), "\(unknown.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("fp16")))
    }

    @Test func aRunWrittenBeforePrecisionsExistedResumesInFP32() throws {
        let scratch = try ScratchFolder("precision-old")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: run, epochs: 1)).status == 0)
        let configURL = URL(fileURLWithPath: run + "/config.json")
        let config = try String(contentsOf: configURL, encoding: .utf8)
        let lines = config.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("\"precision\"") }
        #expect(lines.count < config.split(separator: "\n", omittingEmptySubsequences: false).count)
        try lines.joined(separator: "\n").write(to: configURL, atomically: true, encoding: .utf8)
        let resumed = try Tool.run(["train", "--resume", run, "--epochs", "2", "--data-dir", data.path])
        #expect(resumed.status == 0 && resumed.output.contains(", fp32"), "\(resumed.output)")
    }
}
