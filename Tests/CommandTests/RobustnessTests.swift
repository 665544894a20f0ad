import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a hostile or unlucky user does to the tool: two writers, interruptions, damaged and
/// edited files, odd arguments. Each case ends with a clear message and a non-zero exit, or
/// works; files that were there are left as they were.
@Suite struct RobustnessTests {
    /// A finished tiny run in `scratch/name`, with its data in `scratch/data`.
    static func finishedRun(_ scratch: ScratchFolder, name: String = "run", epochs: Int = 3) throws -> URL {
        let data = scratch.url.appendingPathComponent("data")
        if !FileManager.default.fileExists(atPath: data.path) { try TinyDataset.write(to: data) }
        let run = try Tool.run(Tool.trainArguments(data: data, out: scratch.path(name), epochs: epochs))
        #expect(run.status == 0, "\(run.output)")
        return scratch.url.appendingPathComponent(name)
    }

    static func contents(_ folder: URL) -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let name = enumerator?.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) { result[name] = data }
        }
        return result
    }

    @Test func twoWritersOfOneRunFolderLeaveOneRunAndOneClearRefusal() throws {
        let scratch = try ScratchFolder("writers")
        let data = try scratch.tinyDataset()
        let out = scratch.path("run")
        let first = try Tool.start(Tool.trainArguments(data: data, out: out, epochs: 6, seed: 1))
        let second = try Tool.start(Tool.trainArguments(data: data, out: out, epochs: 6, seed: 2))
        let outputs = [first, second].map { String(decoding: $0.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        first.process.waitUntilExit()
        second.process.waitUntilExit()
        let statuses = [first.process.terminationStatus, second.process.terminationStatus]
        #expect(statuses.sorted() == [0, 1], "\(outputs)")
        let loser = statuses[0] == 0 ? 1 : 0
        #expect(outputs[loser].contains("is in use by process") || outputs[loser].contains("already holds a training run"), "\(outputs[loser])")
        // The folder is the winner's run alone.
        let winnerSeed = statuses[0] == 0 ? 1 : 2
        let config = try String(contentsOfFile: scratch.path("run/config.json"), encoding: .utf8)
        #expect(config.contains("\"seed\" : \(winnerSeed)"))
        let resumed = try Tool.run(["train", "--resume", out, "--data-dir", data.path])
        #expect(resumed.status == 0, "\(resumed.output)")

        // While a writer holds the folder, a resume is refused naming its process.
        let held = try Tool.start(Tool.trainArguments(data: data, out: scratch.path("held"), epochs: 200, seed: 3))
        defer { held.process.terminate(); held.process.waitUntilExit() }
        var waited = 0
        while !FileManager.default.fileExists(atPath: scratch.path("held/config.json")) && waited < 200 {
            usleep(50_000)
            waited += 1
        }
        let refused = try Tool.run(["train", "--resume", scratch.path("held"), "--data-dir", data.path])
        #expect(refused.status == 1 && refused.output.contains("in use by process \(held.process.processIdentifier)"), "\(refused.output)")
    }

    @Test func anExplicitDataFolderIsUsedOrRefusedNeverReplaced() throws {
        let scratch = try ScratchFolder("data-dir")
        let data = try scratch.tinyDataset()
        try FileManager.default.removeItem(at: data.appendingPathComponent("t10k-labels-idx1-ubyte"))
        // Run from the checkout, where ./data/mnist exists: it must not be used instead.
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let train = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("run")), in: checkout)
        #expect(train.status == 1 && train.output.contains(data.path) && train.output.contains("t10k-labels-idx1-ubyte"), "\(train.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("run")))
        let listing = try Tool.run(["data", "--data-dir", data.path], in: checkout)
        #expect(listing.status == 1 && listing.output.contains("no other copy was used"), "\(listing.output)")
        try TinyDataset.write(to: data)
        let run = try Self.finishedRun(scratch, name: "good")
        try FileManager.default.removeItem(at: data.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let evaluation = try Tool.run(["eval", run.path, "--data-dir", data.path, "--samples", "0"], in: checkout)
        #expect(evaluation.status == 1 && evaluation.output.contains("t10k-labels-idx1-ubyte"), "\(evaluation.output)")
        try TinyDataset.write(to: data)
        let named = try Tool.run(["eval", run.path, "--data-dir", data.path, "--samples", "0"], in: checkout)
        #expect(named.status == 0 && named.output.contains("data: \(data.path)"), "\(named.output)")
    }

    @Test func editedRunFilesAreRefusedNamingTheFileAndTheField() throws {
        let scratch = try ScratchFolder("edited")
        let run = try Self.finishedRun(scratch)
        let data = scratch.url.appendingPathComponent("data").path
        let configURL = run.appendingPathComponent("config.json")
        let original = try String(contentsOf: configURL, encoding: .utf8)
        let cases: [(from: String, to: String, says: String)] = [
            ("\"batchSize\" : 16", "\"batchSize\" : 0", "the batch size must be positive, got 0"),
            ("\"learningRate\" : 0.001", "\"learningRate\" : -0.001", "the learning rate must be a positive number"),
            ("\"imagesEvery\" : 1", "\"imagesEvery\" : 0", "the picture interval (epochs) must be positive"),
            ("\"seed\" : 5", "\"seed\" : -5", "configuration.seed: expected a non-negative integer"),
            ("\"latentSize\" : 2", "\"latentSize\" : 0", "the latent size must be positive, got 0"),
            ("\"hiddenSizes\" : [\n", "\"hiddenSizes\" : [\n-3,\n", "the hidden sizes must all be positive"),
            ("\"fp32MatrixLibrary\" : \"", "\"fp32MatrixLibrary\" : \"MKL", "fp32MatrixLibrary: expected \"OpenBLAS\" or \"oneDNN\""),
        ]
        for edit in cases {
            #expect(original.contains(edit.from), "config.json has no \(edit.from)")
            let edited = original.replacingOccurrences(of: edit.from, with: edit.to)
            try edited.write(to: configURL, atomically: true, encoding: .utf8)
            for arguments in [["train", "--resume", run.path, "--data-dir", data, "--epochs", "4"], ["eval", run.path, "--data-dir", data, "--samples", "0"]] {
                let result = try Tool.run(arguments)
                #expect(result.status == 1 && result.output.contains(configURL.path) && result.output.contains(edit.says), "\(edit.to): \(result.output)")
            }
            #expect(try String(contentsOf: configURL, encoding: .utf8) == edited, "a refused resume rewrote config.json")
        }
        try original.write(to: configURL, atomically: true, encoding: .utf8)

        // Lowering the epoch count on resume is refused and leaves config.json as it was.
        let lowered = try Tool.run(["train", "--resume", run.path, "--data-dir", data, "--epochs", "1"])
        #expect(lowered.status == 1 && lowered.output.contains("not lower it to 1"), "\(lowered.output)")
        #expect(try String(contentsOf: configURL, encoding: .utf8) == original)
        let negative = try Tool.run(["train", "--resume", run.path, "--data-dir", data, "--epochs", "-1"])
        #expect(negative.status != 0 && negative.output.contains("must be positive, got -1"), "\(negative.output)")
        let fresh = try Tool.run(["train", "--out", scratch.path("other"), "--epochs", "-1"])
        #expect(fresh.status == 64 && fresh.output.contains("--epochs must be positive, got -1"), "\(fresh.output)")

        // A metrics.csv saved with CRLF line ends still resumes; a damaged line is named.
        let metricsURL = run.appendingPathComponent("metrics.csv")
        let metrics = try String(contentsOf: metricsURL, encoding: .utf8)
        try metrics.replacingOccurrences(of: "\n", with: "\r\n").write(to: metricsURL, atomically: true, encoding: .utf8)
        let crlf = try Tool.run(["train", "--resume", run.path, "--data-dir", data, "--epochs", "4"])
        #expect(crlf.status == 0, "\(crlf.output)")
        let rewritten = try String(contentsOf: metricsURL, encoding: .utf8)
        try rewritten.replacingOccurrences(of: "\n3,", with: "\n3,x").write(to: metricsURL, atomically: true, encoding: .utf8)
        let damaged = try Tool.run(["train", "--resume", run.path, "--data-dir", data, "--epochs", "5"])
        #expect(damaged.status == 1 && damaged.output.contains("\(metricsURL.path) is not valid: line 4: field 2"), "\(damaged.output)")
    }

    @Test func aDamagedCheckpointIsRefusedNamingTheField() throws {
        let scratch = try ScratchFolder("checkpoint")
        let run = try Self.finishedRun(scratch)
        let data = scratch.url.appendingPathComponent("data").path
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")
        let original = try Data(contentsOf: checkpoint)
        // Edits of the progress JSON inside the metadata, each keeping the header's length.
        let cases: [(from: String, to: String, says: String)] = [
            (#"\"batchesDone\":0"#, #"\"batchesDone\":9"#, "training_progress.batchesDone: expected 0...2"),
            (#"\"batchesDone\":0"#, #"\"batchesDone\":-1"#, "training_progress.batchesDone"),
            (#"\"completedEpochs\":3"#, #"\"completedEpochs\":7"#, "training_progress.completedEpochs: expected 0...4"),
            (#"\"generator\":["#, #"\"generator\":[0,0,0,0],\"x\":["#, "training_progress.generator: expected four 64-bit words, not all zero"),
        ]
        for edit in cases {
            let text = String(decoding: original, as: UTF8.self)
            #expect(text.contains(edit.from), "the checkpoint has no \(edit.from)")
            try Self.editKeepingLength(original, from: edit.from, to: edit.to).write(to: checkpoint)
            let result = try Tool.run(["train", "--resume", run.path, "--data-dir", data, "--epochs", "4"])
            #expect(result.status == 1 && result.output.contains(checkpoint.path) && result.output.contains(edit.says), "\(edit.to): \(result.output)")
            #expect(!result.output.contains("interrupted"))
        }
        try original.write(to: checkpoint)
        let resumed = try Tool.run(["train", "--resume", run.path, "--data-dir", data, "--epochs", "4"])
        #expect(resumed.status == 0, "\(resumed.output)")
    }

    /// A safetensors file's header length (its first 8 bytes, little-endian).
    static func headerLength(_ data: Data) -> Int {
        Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    }

    /// `data` with `from` replaced by `to` inside the safetensors header, the header's length
    /// field adjusted (the header is padded with spaces to keep the data aligned).
    static func editKeepingLength(_ data: Data, from: String, to: String) -> Data {
        let length = headerLength(data)
        var header = String(decoding: data[8..<(8 + length)], as: UTF8.self).replacingOccurrences(of: from, with: to)
        header = header.trimmingCharacters(in: .whitespaces)
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        var result = Data()
        withUnsafeBytes(of: UInt64(padded.utf8.count).littleEndian) { result.append(contentsOf: $0) }
        result.append(Data(padded.utf8))
        result.append(data[(8 + length)...])
        return result
    }

    @Test func aModelWithNonFiniteWeightsIsNamedNotDrawn() throws {
        let scratch = try ScratchFolder("nan")
        let run = try Self.finishedRun(scratch)
        let data = scratch.url.appendingPathComponent("data").path
        let model = run.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: model)
        let length = Self.headerLength(bytes)
        // The first value of the data section (the first tensor in name order) becomes NaN.
        bytes.replaceSubrange((8 + length)..<(12 + length), with: [0x00, 0x00, 0xC0, 0x7F])
        try bytes.write(to: model)
        let out = scratch.path("picture.png")
        for arguments in [["sample", run.path, "--out", out], ["reconstruct", run.path, "--data-dir", data, "--out", out],
                          ["manifold", run.path, "--out", out], ["traverse", run.path, "--data-dir", data, "--out", out],
                          ["interpolate", run.path, "--data-dir", data, "--out", out], ["eval", run.path, "--data-dir", data, "--samples", "0"]] {
            let result = try Tool.run(arguments)
            #expect(result.status == 1 && result.output.contains("non-finite weights") && result.output.contains("tensor '"), "\(arguments[0]): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func aModelOfAnotherArchitectureIsNamedOnceWithWhatDiffers() throws {
        let scratch = try ScratchFolder("mixed")
        let run = try Self.finishedRun(scratch)
        let data = scratch.url.appendingPathComponent("data")
        let other = try Tool.run(["train", "--preset", "pytorch-example", "--data-dir", data.path, "--out", scratch.path("other"), "--epochs", "1",
                                  "--hidden-sizes", "9", "--latent-size", "2"])
        #expect(other.status == 0, "\(other.output)")
        let model = run.appendingPathComponent("model.safetensors")
        try FileManager.default.removeItem(at: model)
        try FileManager.default.copyItem(at: scratch.url.appendingPathComponent("other/model.safetensors"), to: model)
        let result = try Tool.run(["eval", run.path, "--data-dir", data.path, "--samples", "0"])
        #expect(result.status == 1 && result.output.contains("has shape [9, 36], the model expects [8, 36]"), "\(result.output)")
        #expect(result.output.components(separatedBy: model.path).count == 2, "the file is named once: \(result.output)")
    }

    @Test func aModelTooLargeForMemoryIsRefusedSayingHowMuchItNeeds() throws {
        let result = try Tool.run(["train", "--hidden-sizes", "100000000", "--out", "/nonexistent/never"])
        #expect(result.status == 64 && result.output.contains("GB of memory to train"), "\(result.output)")
    }

    @Test func foldersThatAreNotRunsAreNeverOverwrittenAndDeadEndsRestart() throws {
        let scratch = try ScratchFolder("folders")
        let data = try scratch.tinyDataset()
        // A folder of the user's own files.
        let mine = scratch.url.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try Data("my model".utf8).write(to: mine.appendingPathComponent("model.safetensors"))
        let refused = try Tool.run(Tool.trainArguments(data: data, out: mine.path))
        #expect(refused.status == 1 && refused.output.contains("is not empty and is not a run folder") && refused.output.contains("model.safetensors"), "\(refused.output)")
        #expect(Self.contents(mine) == ["model.safetensors": Data("my model".utf8)])
        // --out naming a file.
        let file = scratch.path("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let onFile = try Tool.run(Tool.trainArguments(data: data, out: file))
        #expect(onFile.status == 1 && onFile.output.contains("\(file) is a file, not a run folder"), "\(onFile.output)")
        #expect(!onFile.output.contains("NSCocoaErrorDomain"))
        // A run that died before its first checkpoint: --out says to resume, --resume restarts it.
        let reference = try Self.finishedRun(scratch, name: "reference")
        let dead = scratch.url.appendingPathComponent("dead")
        try FileManager.default.createDirectory(at: dead.appendingPathComponent("reconstructions"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: reference.appendingPathComponent("config.json"), to: dead.appendingPathComponent("config.json"))
        try Data("partial".utf8).write(to: dead.appendingPathComponent(".checkpoint.safetensors.123.456.tmp"))
        let again = try Tool.run(Tool.trainArguments(data: data, out: dead.path))
        #expect(again.status == 1 && again.output.contains("--resume \(dead.path)") && again.output.contains("restarts it from epoch 1"), "\(again.output)")
        let restarted = try Tool.run(["train", "--resume", dead.path, "--data-dir", data.path])
        #expect(restarted.status == 0 && restarted.output.contains("restarting it from epoch 1"), "\(restarted.output)")
        #expect(Data.lossColumns(ofMetrics: dead.appendingPathComponent("metrics.csv")) == Data.lossColumns(ofMetrics: reference.appendingPathComponent("metrics.csv")))
        #expect(try Data(contentsOf: dead.appendingPathComponent("model.safetensors")) == Data(contentsOf: reference.appendingPathComponent("model.safetensors")))
        #expect(!FileManager.default.fileExists(atPath: dead.appendingPathComponent(".checkpoint.safetensors.123.456.tmp").path))

        // A picture lost to a kill during its write is drawn again on resume, and the leftover goes.
        let pictures = reference.appendingPathComponent("reconstructions")
        let last = pictures.appendingPathComponent("epoch-003.png")
        let picture = try Data(contentsOf: last)
        try FileManager.default.removeItem(at: last)
        try Data("half".utf8).write(to: pictures.appendingPathComponent(".epoch-003.png.77.88.tmp"))
        let resumed = try Tool.run(["train", "--resume", reference.path, "--data-dir", data.path])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(try Data(contentsOf: last) == picture)
        #expect(try FileManager.default.contentsOfDirectory(atPath: pictures.path).sorted() == ["epoch-001.png", "epoch-002.png", "epoch-003.png"])
    }

    @Test func emptySplitsAreRefused() throws {
        let scratch = try ScratchFolder("empty")
        let data = scratch.url.appendingPathComponent("data")
        try TinyDataset.write(to: data, train: 48, test: 0)
        let noTest = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("run")))
        #expect(noTest.status == 1 && noTest.output.contains("48 train and 0 test images"), "\(noTest.output)")
        try TinyDataset.write(to: data, train: 0, test: 16)
        let noTrain = try Tool.run(Tool.trainArguments(data: data, out: scratch.path("run")))
        #expect(noTrain.status == 1 && noTrain.output.contains("0 train and 16 test images"), "\(noTrain.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("run")))
    }
}
