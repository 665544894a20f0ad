import Foundation
import NN
import Runs
import SafeTensors
import TensorCore
import Testing

/// A code prior's files: the prior reads back as written, a prior of the earlier layout and a
/// file that is no prior are refused saying why, and a checkpoint continues only its own settings.
@Suite struct CodePriorFileTests {
    static func training(channels: Int = 8) -> CodePriorTraining {
        var generator = RandomGenerator(seed: 2)
        let codes = (0..<(12 * 9)).map { _ in Int32(generator.next() % 5) }
        let grids = CodeGrids(codes: codes, labels: (0..<12).map { $0 % 2 }, count: 12)
        let network = GatedPixelCNNConfiguration(codes: 5, height: 3, width: 3, classes: 2, channels: channels, layers: 2, outputChannels: 8)
        return CodePriorTraining(settings: CodePriorSettings(network: network, epochs: 2, batchSize: 4), train: grids, test: grids)
    }

    @Test func aPriorReadsBackAsWrittenAndAnEpochContinuesFromItsCheckpoint() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prior-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let training = Self.training()
        _ = training.trainEpoch()
        try training.write(to: folder)
        let loaded = try CodePriorTraining.load(from: folder)
        #expect(loaded.settings == training.settings)
        let codes: [Int32] = [1, 2, 3, 4, 0, 1, 2, 3, 4]
        let expected = withoutGradients { training.network.logits(codes: codes, count: 1, labels: [1]).scalars }
        #expect(withoutGradients { loaded.network.logits(codes: codes, count: 1, labels: [1]).scalars } == expected)
        let resumed = Self.training()
        try resumed.restore(from: SafeTensorsFile.read(from: folder.appendingPathComponent(CodePriorTraining.checkpointFile)), fileName: "c")
        #expect(resumed.history.count == 1 && !resumed.isFinished)
        #expect(throws: CodePriorError.self) {
            try Self.training(channels: 4).restore(from: SafeTensorsFile.read(from: folder.appendingPathComponent(CodePriorTraining.checkpointFile)), fileName: "c")
        }
    }

    @Test func aPriorOfTheEarlierLayoutOrAFileThatIsNoPriorIsRefusedSayingWhy() {
        var file = Self.training().modelFile
        #expect(file.metadata["format"] == CodePriorTraining.format)
        file.metadata["format"] = "vae-toolkit-prior/1"
        #expect(throws: CodePriorError.incompatible(file: "p", reason: "it holds an earlier layout of the PixelCNN (separate filter and gate convolutions, whole masked kernels); fit the prior again with `vae train-prior RUN`")) {
            _ = try CodePriorTraining.settings(in: file, fileName: "p")
        }
        file.metadata = [:]
        #expect {
            _ = try CodePriorTraining.settings(in: file, fileName: "p")
        } throws: { error in
            (error as? CodePriorError)?.errorDescription?.contains("it is not a code prior of this tool") == true
        }
    }
}
