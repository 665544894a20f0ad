import Foundation
import Testing

/// What `vae train` refuses because it contradicts a run's record or cannot be shared: options
/// given with --resume, a rank of an mpirun job started with other options, batches too small
/// for the ranks, and option values that look like flags.
@Suite(.serialized) struct RecordAgreementTests {
    /// An image folder's held-out split is drawn with --split-seed when given (else --seed): seeds
    /// can then be compared on one test split. It is recorded, and a resume must agree with it.
    @Test func theHeldOutSplitFollowsTheSplitSeedWhenGiven() throws {
        let scratch = try ScratchFolder("split-seed")
        let (_, png) = try LikelihoodCommandTests.data(scratch)
        let folder = png.appendingPathComponent("train").path
        func train(_ name: String, _ options: [String]) throws -> UInt64? {
            let trained = try Tool.run(["train", "--preset", "pytorch-example", "--images", folder, "--out", scratch.path(name), "--epochs", "1",
                                        "--batch-size", "16", "--hidden-sizes", "8", "--latent-size", "2"] + options)
            #expect(trained.status == 0, "\(trained.output)")
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.path(name) + "/config.json"))) as? [String: Any]
            return (((record?["configuration"] as? [String: Any])?["imageFolder"] as? [String: Any])?["splitSeed"] as? NSNumber)?.uint64Value
        }
        #expect(try train("training-seed", ["--seed", "2"]) == 2)
        #expect(try train("split-seed", ["--seed", "2", "--split-seed", "7"]) == 7)
        let resumed = try Tool.run(["train", "--resume", scratch.path("split-seed"), "--epochs", "2", "--split-seed", "8"])
        #expect(resumed.status != 0 && resumed.output.contains("--split-seed 8 (the run recorded 7)"), "\(resumed.output)")
        let named = try Tool.run(["train", "--preset", "pytorch-example", "--split-seed", "3"])
        #expect(named.status != 0 && named.output.contains("--split-seed") && named.output.contains("apply to an image folder (--images)"), "\(named.output)")
    }

    @Test func resumingWithAnOptionThatContradictsTheRecordIsRefusedNamingBoth() throws {
        let scratch = try ScratchFolder("resume-agree")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        #expect(try Tool.run(Tool.trainArguments(data: data, out: run, epochs: 1)).status == 0)
        let config = try String(contentsOfFile: run + "/config.json", encoding: .utf8)
        let cases: [([String], String)] = [
            (["--precision", "bf16"], "--precision bf16 (the run recorded fp32)"),
            (["--output-bias", "data-mean"], "--output-bias data-mean (the run recorded drawn)"),
            (["--seed", "6"], "--seed 6 (the run recorded 5)"),
            (["--batch-size", "8"], "--batch-size 8 (the run recorded 16)"),
            (["--latent-size", "7"], "--latent-size"),
            (["--conditional"], "--conditional on (the run recorded an unconditional model)"),
            (["--images", scratch.path("elsewhere")], "--images"),
            (["--preset", "design-a"], "--preset design-a (the run recorded pytorch-example)"),
            (["--beta", "4"], "--beta"),
        ]
        for (options, words) in cases {
            let refused = try Tool.run(["train", "--resume", run, "--epochs", "2", "--data-dir", data.path] + options)
            #expect(refused.status != 0 && refused.output.contains(words) && refused.output.contains("contradict its record"), "\(options): \(refused.output)")
            #expect(try String(contentsOfFile: run + "/config.json", encoding: .utf8) == config, "a refused resume rewrote config.json")
        }
        // Options that agree with the record, and the ones that may change, are accepted.
        let resumed = try Tool.run(["train", "--resume", run, "--epochs", "2", "--data-dir", data.path, "--seed", "5", "--batch-size", "16",
                                    "--latent-size", "2", "--blas-threads", "1"])
        #expect(resumed.status == 0 && resumed.output.contains("epoch   2"), "\(resumed.output)")
    }

    /// --output-bias data-mean is said when the run starts, and refused for a model kind whose
    /// decoder has no bias to start (the coordinate decoder).
    @Test func theDataMeanOutputBiasIsReportedAndRefusedWhereItCannotApply() throws {
        let scratch = try ScratchFolder("output-bias")
        let data = try scratch.tinyDataset()
        let started = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("run"), epochs: 1) + ["--output-bias", "data-mean"])
        #expect(started.status == 0 && started.output.contains("output bias started at the mean training image (data-mean)"), "\(started.output)")
        let refused = try Tool.run(["train", "--preset", "affine-small", "--data-dir", data.path, "--output-bias", "data-mean", "--out", scratch.path("no")])
        #expect(refused.status != 0 && refused.output.contains("data-mean needs a model whose decoder ends in a bias it can start at the data"), "\(refused.output)")
    }

    @Test func aNegativeNumberInAColonSeparatedOptionIsRefusedForItsValue() throws {
        let scratch = try ScratchFolder("negative")
        let result = try Tool.run(["train", "--preset", "conv-mnist", "--encoder-convolutions", "-4:3:2:1", "--out", scratch.path("run")])
        #expect(result.status != 0 && result.output.contains("got -4:3:2:1") && result.output.contains("positive channels"), "\(result.output)")
        let hidden = try Tool.run(["train", "--hidden-sizes", "-400", "--out", scratch.path("run")])
        #expect(hidden.status != 0 && hidden.output.contains("-400") && !hidden.output.contains("Missing value"), "\(hidden.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("run")))
    }

    @Test func aGlobalBatchSmallerThanTheRanksIsRefusedBeforeTraining() throws {
        let scratch = try ScratchFolder("mpi-small-batch")
        let data = try scratch.tinyDataset()
        let small = try MPITrainingTests.run(["-np", "2", Tool.executable.path] + Tool.trainArguments(data: data, out: scratch.path("one"), epochs: 1)
                                             + ["--batch-size", "1"])
        #expect(small.status != 0 && small.output.contains("smaller than the 2 processes"), "\(small.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("one/model.safetensors")))
        // 48 images in batches of 47 leave a last batch of 1 for 2 processes.
        let remainder = try MPITrainingTests.run(["-np", "2", Tool.executable.path] + Tool.trainArguments(data: data, out: scratch.path("two"), epochs: 1)
                                                 + ["--batch-size", "47"])
        #expect(remainder.status != 0 && remainder.output.contains("last batch of 1"), "\(remainder.output)")
    }

    @Test func aRankStartedWithOtherOptionsThanRankZeroIsRefused() throws {
        let scratch = try ScratchFolder("mpi-disagree")
        let data = try scratch.tinyDataset()
        let arguments = Tool.trainArguments(data: data, out: scratch.path("run"), epochs: 1)
        // mpirun's MPMD form: rank 0 and rank 1 with different command lines.
        let result = try MPITrainingTests.run(["-np", "1", Tool.executable.path] + arguments + [":", "-np", "1", Tool.executable.path] + arguments
                                              + ["--learning-rate", "0.5"])
        #expect(result.status != 0 && result.output.contains("rank 1 was given options that differ from rank 0's run")
                && result.output.contains("--learning-rate 0.5 (the run recorded 0.001)"), "\(result.output)")
    }
}
