import Foundation
import Testing

/// `vae train`'s schedules, validation share, early stopping, clipping, AdamW and the weights'
/// moving average: recorded in the
/// run, kept on resume, and impossible settings named before anything is written.
@Suite struct ScheduleCommandTests {
    @Test func impossibleScheduleAndStoppingSettingsAreNamedBeforeAnythingIsWritten() throws {
        let scratch = try ScratchFolder("schedule-options")
        let data = try scratch.tinyDataset()
        let out = scratch.path("run")
        let cases: [([String], String)] = [
            (["--schedule-step", "5"], "--schedule-step applies to --schedule step, not to the constant schedule"),
            (["--schedule", "cosine", "--schedule-patience", "2"], "--schedule-patience applies to --schedule plateau"),
            (["--schedule", "cosine", "--learning-rate-warmup", "3"], "--learning-rate-warmup must lie in [0, 3)"),
            (["--schedule", "step", "--schedule-factor", "1.5"], "--schedule-factor must lie in (0, 1]"),
            (["--schedule", "iwae-paper"], "--schedule iwae-paper takes its length from --schedule-stages"),
            (["--patience", "2"], "--patience stops on the validation loss, which needs a validation share"),
            (["--validation-share", "0.6"], "--validation-share must lie in [0, 0.5)"),
            (["--weight-decay", "0.1"], "--weight-decay is AdamW's decoupled decay; it applies to the optimizer adamw, not adam"),
            (["--clip-gradient-norm", "0"], "--clip-gradient-norm must be a positive number"),
            (["--weight-average", "1"], "--weight-average is the moving average's decay: a number between 0 and 1"),
        ]
        for (options, message) in cases {
            let result = try Tool.run(Tool.trainArguments(data: data, out: out) + options)
            #expect(result.status == 64 && result.output.contains(message), "\(options): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aRunRecordsItsScheduleAndStoppingSettingsAndItsResumeKeepsThem() throws {
        let scratch = try ScratchFolder("schedule-run")
        let data = try scratch.tinyDataset()
        let out = scratch.path("run")
        let options = ["--validation-share", "0.25", "--patience", "3", "--schedule", "cosine", "--learning-rate-warmup", "0.5",
                       "--minimum-learning-rate", "1e-5", "--clip-gradient-norm", "50", "--optimizer", "adamw", "--weight-average", "0.9"]
        let first = try Tool.run(Tool.trainArguments(data: data, out: out, epochs: 3) + options)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("36 train / 12 validation / 16 test images"))
        #expect(first.output.contains("learning-rate schedule cosine to 1e-05 after a linear warm-up of 0.5 epochs"))
        #expect(first.output.contains("validation ") && first.output.contains("gradient norm"))

        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as! [String: Any]
        let configuration = record["configuration"] as! [String: Any]
        #expect(configuration["patience"] as? Int == 3 && configuration["validationShare"] as? Double == 0.25)
        #expect(configuration["optimizer"] as? String == "adamw" && configuration["weightDecay"] as? Double == 0.01)
        #expect(configuration["gradientClipNorm"] as? Double == 50 && configuration["weightAverage"] as? Double == 0.9)
        let schedule = configuration["schedule"] as? [String: Any]
        #expect((schedule?["cosine"] as? [String: Any])?["warmupEpochs"] as? Double == 0.5)
        let header = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n")[0]
        for column in ["learning_rate", "validation_loss", "gradient_norm", "clipped_share"] { #expect(header.contains(column)) }
        #expect(FileManager.default.fileExists(atPath: out + "/best.safetensors"))

        let changed = try Tool.run(["train", "--resume", out, "--data-dir", data.path, "--patience", "5"])
        #expect(changed.status == 1 && changed.output.contains("--patience 5 (the run recorded 3)"), "\(changed.output)")
        let otherAverage = try Tool.run(["train", "--resume", out, "--data-dir", data.path, "--weight-average", "0.99"])
        #expect(otherAverage.status == 1 && otherAverage.output.contains("--weight-average 0.99 (the run recorded 0.9)"), "\(otherAverage.output)")
        let otherSchedule = try Tool.run(["train", "--resume", out, "--data-dir", data.path, "--schedule", "step"])
        #expect(otherSchedule.status == 1 && otherSchedule.output.contains("--schedule"), "\(otherSchedule.output)")
        let longer = try Tool.run(["train", "--resume", out, "--data-dir", data.path, "--epochs", "5"])
        #expect(longer.status == 1 && longer.output.contains("fixes its cosine"), "\(longer.output)")
        let same = try Tool.run(["train", "--resume", out, "--data-dir", data.path] + options)
        #expect(same.status == 0, "\(same.output)")
    }

    @Test func noneSwitchesAPresetsWeightAverageOffAndAResumeThatWouldSwitchItOffIsRefused() throws {
        let scratch = try ScratchFolder("weight-average-none")
        let data = try scratch.tinyDataset()
        func train(_ out: String, _ options: [String]) throws -> (status: Int32, output: String) {
            try Tool.run(["train", "--preset", "conv-mnist", "--data-dir", data.path, "--out", out, "--epochs", "1", "--encoder-dense", "16", "--decoder-dense", "16"] + options)
        }
        func recordedAverage(_ out: String) throws -> Any? {
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as! [String: Any]
            return (record["configuration"] as! [String: Any])["weightAverage"]
        }
        let plain = scratch.path("plain"), averaged = scratch.path("averaged")
        let off = try train(plain, ["--weight-average", "none"])
        #expect(off.status == 0, "\(off.output)")
        #expect(try recordedAverage(plain) == nil)
        let preset = try train(averaged, [])
        #expect(preset.status == 0, "\(preset.output)")
        #expect(try recordedAverage(averaged) as? Double == 0.995)
        let switchedOff = try Tool.run(["train", "--resume", averaged, "--data-dir", data.path, "--weight-average", "none"])
        #expect(switchedOff.status == 1 && switchedOff.output.contains("--weight-average none (the run recorded 0.995)"), "\(switchedOff.output)")
        let word = try train(scratch.path("word"), ["--weight-average", "often"])
        #expect(word.status == 64 && word.output.contains("'often'") && word.output.contains("--weight-average"), "\(word.output)")
    }
}
