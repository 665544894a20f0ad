import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A training run killed at random moments (SIGKILL: no chance to clean up; SIGINT and
/// SIGTERM: the tool's own stop at the next batch) must leave a folder that either resumes to
/// exactly the uninterrupted run (the same losses in metrics.csv, the same model bytes) or is
/// cleanly restartable. Thirty epochs of three batches put many of the moments at epoch boundaries.
@Suite(.serialized) struct CrashConsistencyTests {
    static let epochs = 30

    struct Outcome {
        let losses: [String]
        let model: Data
    }

    static func outcome(_ run: URL) throws -> Outcome {
        Outcome(losses: Data.lossColumns(ofMetrics: run.appendingPathComponent("metrics.csv")),
                model: try Data(contentsOf: run.appendingPathComponent("model.safetensors")))
    }

    /// Starts a run, signals it after `delay` seconds, then continues it as a user would
    /// (resume, or start again when nothing was written) until it finishes.
    static func interrupted(data: URL, out: URL, signal number: Int32, delay: Double) throws -> (outcome: Outcome, steps: [String]) {
        let started = try Tool.start(Tool.trainArguments(data: data, out: out.path, epochs: epochs))
        usleep(UInt32(delay * 1e6))
        kill(started.process.processIdentifier, number)
        _ = started.output.fileHandleForReading.readDataToEndOfFile()
        started.process.waitUntilExit()
        var steps = ["signal \(number) after \(String(format: "%.2f", delay)) s: exit \(started.process.terminationStatus)"]
        for _ in 0..<4 {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
            let arguments = names.contains("config.json")
                ? ["train", "--resume", out.path, "--data-dir", data.path]
                : Tool.trainArguments(data: data, out: out.path, epochs: epochs)
            let next = try Tool.run(arguments)
            steps.append("\(arguments[1]): exit \(next.status)")
            if next.status == 0 { return (try outcome(out), steps) }
            steps.append(next.output)
        }
        throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "the run did not finish: \(steps)"])
    }

    @Test func killedRunsResumeToTheUninterruptedRunOrRestartCleanly() throws {
        let scratch = try ScratchFolder("crash")
        let data = scratch.url.appendingPathComponent("data")
        try TinyDataset.write(to: data, train: 48, test: 16)
        let clock = Date()
        let reference = scratch.url.appendingPathComponent("reference")
        let whole = try Tool.run(Tool.trainArguments(data: data, out: reference.path, epochs: Self.epochs))
        #expect(whole.status == 0, "\(whole.output)")
        let duration = Date().timeIntervalSince(clock)
        let expected = try Self.outcome(reference)
        #expect(expected.losses.count == Self.epochs + 1)

        var generator = SystemRandomNumberGenerator()
        var trial = 0, interruptedBySignal = 0
        var firstSteps: [String] = []
        let budget = Date().addingTimeInterval(50)
        for number in [SIGKILL, SIGINT, SIGTERM] {
            for _ in 0..<8 where Date() < budget {
                trial += 1
                let out = scratch.url.appendingPathComponent("trial-\(trial)")
                let delay = Double.random(in: 0...(duration * 1.1), using: &generator)
                let (outcome, steps) = try Self.interrupted(data: data, out: out, signal: number, delay: delay)
                let difference = zip(outcome.losses, expected.losses).first { $0.0 != $0.1 }
                #expect(outcome.losses == expected.losses, "trial \(trial): metrics differ first at \(difference.map { "\($0.0) (uninterrupted: \($0.1))" } ?? "the line count"); \(steps)")
                #expect(outcome.model == expected.model, "trial \(trial): model bytes differ; \(steps)")
                if number != SIGKILL, steps[0].hasSuffix("exit 130") { interruptedBySignal += 1 }
                firstSteps.append(steps[0])
                try? FileManager.default.removeItem(at: out)
            }
        }
        print("crash consistency: \(trial) trials (SIGKILL, SIGINT, SIGTERM), \(interruptedBySignal) stopped with a checkpoint by the signal; each resumed to the uninterrupted run")
        #expect(trial >= 9, "only \(trial) trials fitted the time budget")
        // The graceful stops did happen (exit 130 with a checkpoint), not only runs that had finished.
        #expect(interruptedBySignal > 0, "\(firstSteps)")
    }
}
