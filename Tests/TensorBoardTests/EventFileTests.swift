import Foundation
import TensorBoard
import Testing
import _TestSupport

@Suite struct EventFileTests {
    @Test func theChecksumsAreTensorFlowsMaskedCRC32C() {
        #expect(MaskedCRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        // TensorBoard's own masked_crc32c gives these.
        #expect(MaskedCRC32C.masked(Array("123456789".utf8)) == 0xC78A_B0E5)
        #expect(MaskedCRC32C.masked([UInt8]()) == 0xA282_EAD8)
        #expect(MaskedCRC32C.masked(withUnsafeBytes(of: UInt64(24).littleEndian) { Array($0) }) == 0x224B_7FA3)
    }

    @Test func everyKindOfEventReadsBackThroughTensorBoardsReader() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let writer = try EventFileWriter(folder: folder)
        #expect(writer.url.lastPathComponent.hasPrefix("events.out.tfevents."))
        for step in 1...300 { writer.scalar("step/loss", 1 / Double(step), step: step) }
        writer.scalar("epoch/test_loss", -2.5, step: 300)
        // A 2 x 1 grey PNG.
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02,
                            0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0xD1, 0x49, 0x20, 0x56, 0x00, 0x00, 0x00, 0x0B, 0x49, 0x44, 0x41,
                            0x54, 0x78, 0x9C, 0x63, 0x60, 0xF8, 0x0F, 0x00, 0x01, 0x02, 0x01, 0x00, 0x42, 0xBE, 0xBC, 0x68, 0x00, 0x00, 0x00, 0x00,
                            0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
        writer.image("reconstructions", png: png, width: 2, height: 1, channels: 1, step: 300)
        writer.text("configuration", "```json\n{\"seed\": 1}\n```", step: 0)
        writer.sessionStart(hyperparameters: [("learning_rate", .number(0.001)), ("preset", .text("conv-mnist")), ("conditional", .flag(true))],
                            group: "run-1", startTime: 1000)
        writer.sessionEnd(.success, step: 300, endTime: 2000)
        #expect(writer.pendingBytes > 0)
        try writer.flush()
        #expect(writer.pendingBytes == 0)

        let read = try TensorBoardReader.read(folder)
        let loss = TensorBoardReader.scalars(read, "step/loss")
        #expect(loss.map(\.step) == Array(1...300))
        #expect(loss.allSatisfy { abs($0.value - Double(Float(1 / Double($0.step)))) < 1e-9 })
        #expect(TensorBoardReader.scalars(read, "epoch/test_loss").map(\.value) == [-2.5])
        let images = (read["images"] as? [String: [[Int]]])?["reconstructions"]
        #expect(images == [[300, 2, 1, png.count]])
        let text = (read["text"] as? [String: [[Any]]])?["configuration"]
        #expect(text?.first?[1] as? String == "```json\n{\"seed\": 1}\n```")
        let hparams = read["hparams"] as? [String: [String: Any]]
        let start = hparams?["session_start_info"]
        // The reader gives google.protobuf.Value as the JSON value it holds.
        let values = start?["hparams"] as? [String: Any]
        #expect(values?["learning_rate"] as? Double == 0.001)
        #expect(values?["preset"] as? String == "conv-mnist")
        #expect(values?["conditional"] as? Bool == true)
        #expect(start?["groupName"] as? String == "run-1" && start?["startTimeSecs"] as? Double == 1000)
        #expect(hparams?["session_end_info"]?["status"] as? String == "STATUS_SUCCESS")
    }

    @Test func aSessionLogStartDropsWhatAnEarlierFileLoggedPastTheResumedStep() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try EventFileWriter(folder: folder, wallTime: Date(timeIntervalSince1970: 1000))
        for step in 1...10 { first.scalar("step/loss", 1, step: step, wallTime: 1000 + Double(step)) }
        try first.flush()
        // The second session resumes from a checkpoint at step 6: steps 7...10 of the first are orphans.
        let second = try EventFileWriter(folder: folder, wallTime: Date(timeIntervalSince1970: 2000))
        second.sessionLogStart(step: 7, wallTime: 2000)
        for step in 7...12 { second.scalar("step/loss", 2, step: step, wallTime: 2000 + Double(step)) }
        try second.flush()
        let read = try TensorBoardReader.read(folder)
        let loss = TensorBoardReader.scalars(read, "step/loss")
        #expect(loss.map(\.step) == Array(1...12))
        #expect(loss.map(\.value) == [Double](repeating: 1, count: 6) + [Double](repeating: 2, count: 6))
    }

    @Test func anEventFileIsNeverOverwritten() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let time = Date(timeIntervalSince1970: 5000)
        let names = try (0..<3).map { _ in try EventFileWriter(folder: folder, wallTime: time).url.lastPathComponent }
        #expect(Set(names).count == 3)
        #expect(throws: EventFileError.self) { _ = try EventFileWriter(folder: URL(fileURLWithPath: "/proc/no-such-folder")) }
    }
}
