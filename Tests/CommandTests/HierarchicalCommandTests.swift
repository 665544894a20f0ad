import Foundation
import Testing

/// The hierarchical conv kind through the `vae` tool: a small hierarchy trains, resumes,
/// evaluates in bits per dimension and samples with its lower groups at their prior means or
/// drawn; its options' errors name the option.
@Suite struct HierarchicalCommandTests {
    /// hierarchical-colour cut to the tiny 6x6 dataset: groups of 2 channels at 3x3 and 6x6, 8 channels.
    static func arguments(data: URL, out: String, epochs: Int = 2) -> [String] {
        ["train", "--preset", "hierarchical-colour", "--data-dir", data.path, "--out", out, "--epochs", String(epochs), "--batch-size", "16",
         "--latent-resolutions", "3,6", "--groups-per-resolution", "1,1", "--channels", "8", "--latent-channels", "2", "--warmup-epochs", "2"]
    }

    @Test func aHierarchyTrainsResumesEvaluatesAndSamples() throws {
        let scratch = try ScratchFolder("hierarchical-run")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        let trained = try Tool.run(Self.arguments(data: data, out: run, epochs: 1))
        #expect(trained.status == 0, "\(trained.output)")
        #expect(trained.output.contains("hierarchical conv VAE c8 z2@3x3,6x6 cells 1 outer 0 out 1x1 on 1x6x6 images, 2 latent groups"), "\(trained.output)")
        #expect(trained.output.contains("KL warm-up over 2 epochs, KL balancing"), "\(trained.output)")
        let resumed = try Tool.run(["train", "--resume", run, "--epochs", "2", "--data-dir", data.path])
        #expect(resumed.status == 0 && resumed.output.contains("epoch   2"), "\(resumed.output)")
        let metrics = try String(contentsOfFile: run + "/metrics.csv", encoding: .utf8)
        #expect(metrics.split(separator: "\n")[0].contains("kl_z2") && metrics.split(separator: "\n")[0].contains("test_bits_per_dim"), "\(metrics)")
        let evaluated = try Tool.run(["eval", run, "--samples", "5", "--data-dir", data.path])
        #expect(evaluated.status == 0 && evaluated.output.contains("bits per dimension"), "\(evaluated.output)")
        let means = try Tool.run(["sample", run, "--count", "4", "--out", scratch.path("means.png")])
        #expect(means.status == 0 && means.output.contains("the lower groups at their prior means"), "\(means.output)")
        let drawn = try Tool.run(["sample", run, "--count", "4", "--lower-groups", "drawn", "--temperature", "0.8", "--out", scratch.path("drawn.png")])
        #expect(drawn.status == 0 && drawn.output.contains("the lower groups drawn from their priors at T = 0.8"), "\(drawn.output)")
        let morph = try Tool.run(["interpolate", run, "--from", "0", "--to", "1", "--steps", "3", "--all-groups", "--data-dir", data.path,
                                  "--out", scratch.path("morph.png")])
        #expect(morph.status == 0 && morph.output.contains("every latent group moved"), "\(morph.output)")
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        #expect(config.contains("\"kind\" : \"hierarchical\"") && config.contains("\"klBalancing\" : true"), "\(config)")
    }

    @Test func badHierarchyOptionsAreNamedAndNothingIsWritten() throws {
        let scratch = try ScratchFolder("hierarchical-options")
        let data = try scratch.tinyDataset()
        func refused(_ name: String, _ change: (inout [String]) -> Void) throws -> String {
            var arguments = Self.arguments(data: data, out: scratch.path(name))
            change(&arguments)
            let result = try Tool.run(arguments)
            #expect(result.status != 0, "\(result.output)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path(name) + "/config.json"))
            return result.output
        }
        let notDividing = try refused("a") { $0[$0.firstIndex(of: "3,6")!] = "4,6" }
        #expect(notDividing.contains("--latent-resolutions must each divide the image size 6 by a power of two (for 6: 3, 6), got 4"), "\(notDividing)")
        let zero = try refused("b") { $0[$0.firstIndex(of: "1,1")!] = "1,0" }
        #expect(zero.contains("--groups-per-resolution must each be 1...16 groups, got 0"), "\(zero)")
        let unbalanced = try refused("c") { $0[$0.firstIndex(of: "1,1")!] = "1" }
        #expect(unbalanced.contains("--groups-per-resolution must give one group count per latent resolution"), "\(unbalanced)")
        let preset = try refused("d") { arguments in
            for option in ["--latent-resolutions", "--groups-per-resolution"] {
                let index = arguments.firstIndex(of: option)!
                arguments.removeSubrange(index...(index + 1))
            }
        }
        #expect(preset.contains("--latent-resolutions must each divide the image size 6"), "\(preset)")
        let other = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("e")) + ["--latent-channels", "4"])
        #expect(other.status != 0 && other.output.contains("--latent-channels applies to the hierarchical conv presets"), "\(other.output)")
        let noWarmUp = try refused("f") { $0 += ["--warmup-epochs", "0"] }
        #expect(noWarmUp.contains("--kl-balancing acts during the KL warm-up only"), "\(noWarmUp)")
    }

    @Test func aTemperatureThatIsNotPositiveIsRefused() throws {
        let scratch = try ScratchFolder("hierarchical-temperature")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: run, epochs: 1)).status == 0)
        for value in ["0", "-1", "nan"] {
            let sampled = try Tool.run(["sample", run, "--temperature", value, "--out", scratch.path("s.png")])
            #expect(sampled.status != 0 && sampled.output.contains("--temperature must be a number > 0"), "\(sampled.output)")
        }
        let single = try Tool.run(["sample", run, "--lower-groups", "drawn", "--out", scratch.path("s.png")])
        #expect(single.status != 0 && single.output.contains("--lower-groups drawn applies to a model with latent groups below the top"), "\(single.output)")
        let morph = try Tool.run(["interpolate", run, "--all-groups", "--data-dir", data.path, "--out", scratch.path("s.png")])
        #expect(morph.status != 0 && morph.output.contains("--all-groups applies to a model with latent groups below the top"), "\(morph.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("s.png")))
    }

    /// `vae score --lower-groups drawn` scores ancestral samples (a classifier of the tiny
    /// dataset's own labels as the feature network; 160 test images, more than its 128 features).
    @Test func scoresTakeAncestralSamplesWhenAsked() throws {
        let scratch = try ScratchFolder("hierarchical-score")
        let data = scratch.url.appendingPathComponent("data")
        try TinyDataset.write(to: data, train: 48, test: 160)
        let run = scratch.path("run")
        let trained = try Tool.run(Self.arguments(data: data, out: run, epochs: 1))
        #expect(trained.status == 0, "\(trained.output)")
        let classifier = scratch.path("classifier.safetensors")
        let classified = try Tool.run(["classify", "--data-dir", data.path, "--epochs", "1", "--out", classifier])
        #expect(classified.status == 0, "\(classified.output)")
        let score = ["score", run, "--features", classifier, "--count", "160", "--subsets", "2", "--subset-size", "80", "--data-dir", data.path]
        let drawn = try Tool.run(score + ["--lower-groups", "drawn", "--out", scratch.path("drawn.json")])
        #expect(drawn.status == 0 && drawn.output.contains("the lower groups drawn from their priors"), "\(drawn.output)")
        #expect(try String(contentsOfFile: scratch.path("drawn.json"), encoding: .utf8).contains("\"lowerGroups\" : \"drawn\""))
        let means = try Tool.run(score + ["--out", scratch.path("means.json")])
        #expect(means.status == 0 && means.output.contains("the lower groups at their prior means"), "\(means.output)")
        let single = scratch.path("single")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: single, epochs: 1)).status == 0)
        let refused = try Tool.run(["score", single, "--features", classifier, "--count", "160", "--subsets", "2", "--subset-size", "80",
                                    "--data-dir", data.path, "--lower-groups", "drawn"])
        #expect(refused.status != 0 && refused.output.contains("--lower-groups drawn applies to a model with latent groups below the top"), "\(refused.output)")
    }
}
