import Foundation
import Testing

/// `vae compare` and `vae sweep` on the tiny dataset.
@Suite struct CompareAndSweepTests {
    static func sharedOptions(data: URL) -> [String] {
        ["--preset", "pytorch-example", "--data-dir", data.path, "--epochs", "2", "--seed", "5", "--batch-size", "16", "--hidden-sizes", "8", "--latent-size", "2"]
    }

    @Test func compareDrawsTheRunsTogetherAndNamesTheSettingsThatDiffer() throws {
        let scratch = try ScratchFolder("compare")
        let data = try scratch.tinyDataset()
        for (name, rate) in [("slow", "0.001"), ("fast", "0.01")] {
            let result = try Tool.run(Tool.trainArguments(data: data, out: scratch.path(name), epochs: 2) + ["--learning-rate", rate])
            #expect(result.status == 0, "\(result.output)")
        }
        let picture = scratch.path("both.png")
        let result = try Tool.run(["compare", scratch.path("slow"), scratch.path("fast"), "--out", picture])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("run") == true && lines.first?.contains("slow") == true && lines.first?.contains("fast") == true)
        #expect(lines.contains { $0.hasPrefix("learningRate") && $0.contains("0.001") && $0.contains("0.01") })
        #expect(!lines.contains { $0.hasPrefix("seed") }, "the seed is the same in both runs")
        #expect(lines.contains { $0.hasPrefix("test loss ") } && lines.contains { $0.hasPrefix("epochs") })
        #expect(FileManager.default.fileExists(atPath: picture))

        let alone = try Tool.run(["compare", scratch.path("slow")])
        #expect(alone.status == 64 && alone.output.contains("at least two run folders"))
        let notARun = try Tool.run(["compare", scratch.path("slow"), data.path])
        #expect(notARun.status == 1 && notARun.output.contains(data.path))
    }

    @Test func aSweepTrainsOneRunPerValueInParallelAndEndsWithTheComparison() throws {
        let scratch = try ScratchFolder("sweep")
        let data = try scratch.tinyDataset()
        let out = scratch.path("sweep")
        let result = try Tool.run(["sweep", "--set", "learning-rate=0.001,0.003", "--out", out, "--parallel", "2"] + Self.sharedOptions(data: data))
        #expect(result.status == 0, "\(result.output)")
        for name in ["learning-rate-0.001", "learning-rate-0.003"] {
            #expect(FileManager.default.fileExists(atPath: out + "/\(name)/model.safetensors"), "\(name)")
            #expect((try? String(contentsOfFile: out + "/\(name).log", encoding: .utf8))?.contains("done:") == true)
        }
        #expect(FileManager.default.fileExists(atPath: out + "/comparison.png"))
        #expect(result.output.contains("learningRate") && result.output.contains("final figures:"))
        // The same command again resumes the finished runs: nothing is trained twice.
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/learning-rate-0.001/model.safetensors"))
        let again = try Tool.run(["sweep", "--set", "learning-rate=0.001,0.003", "--out", out] + Self.sharedOptions(data: data))
        #expect(again.status == 0 && again.output.contains("resuming learning-rate-0.001"), "\(again.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/learning-rate-0.001/model.safetensors")) == before)
    }

    @Test func aSweepChecksEveryRunBeforeTheFirstStarts() throws {
        let scratch = try ScratchFolder("sweep-bad")
        let data = try scratch.tinyDataset()
        let out = scratch.path("sweep")
        let cases: [([String], String)] = [
            (["--set", "images-every=1,0"], "the run images-every-0"),
            (["--set", "beta="], "every value must be non-empty"),
            (["--set", "out=elsewhere"], "the sweep sets --out itself"),
            (["--set", "no-such-option=1,2"], "the run no-such-option-1"),
            ([], "give at least one --set"),
            (["--set", "beta=1,2", "--parallel", "64"], "--parallel must lie in 1..."),
        ]
        for (options, message) in cases {
            let result = try Tool.run(["sweep", "--out", out] + options + Self.sharedOptions(data: data))
            #expect(result.status == 64 && result.output.contains(message), "\(options): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// `vae manifold` without --dimensions spans the two most informative dimensions.
@Suite struct ManifoldDimensionTests {
    @Test func theManifoldSpansTheTwoDimensionsOfLargestKLByDefault() throws {
        let scratch = try ScratchFolder("manifold-dimensions")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        var arguments = Tool.trainArguments(data: data, out: run, epochs: 2)
        arguments[arguments.firstIndex(of: "--latent-size")! + 1] = "6"
        #expect(try Tool.run(arguments).status == 0)
        let evaluation = try Tool.run(["eval", run, "--data-dir", data.path, "--samples", "0", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(evaluation.output.split(separator: "\n").last!.utf8)) as! [String: Any]
        let kl = object["kl_per_dimension"] as! [Double]
        let expected = kl.indices.sorted { kl[$0] > kl[$1] }.prefix(2).sorted()
        let manifold = try Tool.run(["manifold", run, "--data-dir", data.path, "--grid", "4", "--out", scratch.path("m.png")])
        #expect(manifold.status == 0, "\(manifold.output)")
        #expect(manifold.output.contains("the two most informative of 6 dimensions: z\(expected[0])"), "\(manifold.output) vs KL \(kl)")
        #expect(manifold.output.contains("z\(expected[0]) (left to right) and z\(expected[1]) (bottom to top)"))
    }
}
