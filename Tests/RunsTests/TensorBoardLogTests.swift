import Foundation
import Runs
import TensorCore
import Testing
import VAE
import _TestSupport

/// A run's TensorBoard log, read by TensorBoard's own reader (scripts/read-events.py), against
/// the run's metrics.csv.
@Suite(.serialized) struct TensorBoardLogTests {
    @Test func aRunsEventsHoldItsStepsItsMetricsItsPicturesItsConfigurationAndItsHyperparameters() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let folder = try workspace.finishedRun("logged", epochs: 3)  // 7 batches of 32 per epoch, pictures at epochs 2 and 3
        let read = try TensorBoardReader.read(folder.url)
        let rows = try folder.readMetrics()

        let steps = TensorBoardReader.scalars(read, "step/loss")
        #expect(steps.map(\.step) == Array(1...21))
        #expect(steps.allSatisfy { $0.value.isFinite && $0.value > 0 })
        #expect(TensorBoardReader.scalars(read, "step/learning_rate").allSatisfy { abs($0.value - 3e-3) < 1e-9 })
        // The epoch's mean of the per-step losses is the epoch's train_loss (its batches hold 32 images but the last, 8).
        let firstEpoch = steps[0..<7].map(\.value)
        let weighted = (firstEpoch[0..<6].reduce(0, +) * 32 + firstEpoch[6] * 8) / 200
        #expect(abs(weighted - rows[0].trainLoss) < 1e-3 * abs(rows[0].trainLoss))

        for name in rows[0].columns.map(\.name) where name != "epoch" {
            let logged = TensorBoardReader.scalars(read, "epoch/" + name)
            #expect(logged.map(\.step) == [7, 14, 21], "\(name)")
            for (row, entry) in zip(rows, logged) {
                let expected = row.columns.first { $0.name == name }!.value
                // metrics.csv rounds: losses to 4 decimals, seconds to 3, images per second to whole numbers.
                let tolerance = name == "images_per_second" ? 0.51 : name.hasSuffix("seconds") ? 5.1e-4 : max(5.1e-5, 1e-5 * abs(expected))
                #expect(abs(entry.value - expected) <= tolerance, "\(name) at step \(entry.step): \(entry.value) vs \(expected)")
            }
        }
        let images = (read["images"] as? [String: [[Int]]])?["reconstructions"] ?? []
        #expect(images.map { $0[0] } == [14, 21] && images.allSatisfy { $0[1] == (8 * 8 + 9) * 2 && $0[2] == (2 * 8 + 3) * 2 })
        let text = ((read["text"] as? [String: [[Any]]])?["configuration"]?.first?[1] as? String) ?? ""
        #expect(text.hasPrefix("```json\n") && text.contains("\"seed\" : 9"))
        let hparams = read["hparams"] as? [String: [String: Any]]
        let values = hparams?["session_start_info"]?["hparams"] as? [String: Any]
        #expect(values?["learning_rate"] as? Double == 0.003)  // the decimal written, not Float's 0.0030000000260770321
        #expect(values?["preset"] as? String == "test" && values?["batch_size"] as? Double == 32)
        #expect(hparams?["session_start_info"]?["groupName"] as? String == "logged")
        #expect(hparams?["session_end_info"]?["status"] as? String == "STATUS_SUCCESS")
    }

    @Test func aLongRunLogsEveryNthStepSoItsLogStaysSmall() throws {
        #expect(RunEventLog.stepInterval(totalSteps: 21) == 1)
        #expect(RunEventLog.stepInterval(totalSteps: 100_000) == 1 && RunEventLog.stepInterval(totalSteps: 100_001) == 2)
        #expect(RunEventLog.stepInterval(totalSteps: 3_280 * 3_000) == 99)  // the IWAE paper's schedule: 99,394 points a tag
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let folder = workspace.folder("thinned")
        let session = try TrainingSession.start(configuration: Workspace.configuration(epochs: 3), folder: folder, catalog: workspace.catalog, blasThreads: 1)
        session.stepLogPoints = 5  // 21 steps: every 5th, and the first
        _ = try session.run(reporter: SilentReporter()) { false }
        let read = try TensorBoardReader.read(folder.url)
        #expect(TensorBoardReader.scalars(read, "step/loss").map(\.step) == [1, 5, 10, 15, 20])
        #expect(TensorBoardReader.scalars(read, "step/learning_rate").map(\.step) == [1, 5, 10, 15, 20])
        #expect(TensorBoardReader.scalars(read, "epoch/train_loss").map(\.step) == [7, 14, 21])  // every epoch still
    }

    @Test func aResumedRunLogsEveryStepOnceWithTheUninterruptedRunsValues() throws {
        BLAS.setThreadCount(1)
        let workspace = Workspace()
        let whole = try workspace.finishedRun("whole", epochs: 3)
        let (parted, stopped) = try workspace.interruptedThenResumed("parted", configuration: Workspace.configuration(epochs: 3), stopAfter: 12)
        #expect(stopped == .interrupted(epoch: 2, batch: 3))
        let files = try FileManager.default.contentsOfDirectory(atPath: parted.url.path).filter { $0.contains("tfevents") }
        #expect(files.count == 2)

        let expected = TensorBoardReader.scalars(try TensorBoardReader.read(whole.url), "step/loss")
        let found = TensorBoardReader.scalars(try TensorBoardReader.read(parted.url), "step/loss")
        #expect(found.map(\.step) == Array(1...21))
        #expect(found.map(\.value) == expected.map(\.value))
    }
}
