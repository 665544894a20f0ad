import Datasets
import Foundation
import NN
import Optimizers
import Persistence
import SafeTensors
import TensorCore
import VAE

/// How a VQ-VAE's code prior (a gated PixelCNN) is trained: its architecture, and Adam's
/// settings over the training set's code grids. Saved with the prior.
public struct CodePriorSettings: Codable, Equatable, Sendable {
    /// The network.
    public var network: GatedPixelCNNConfiguration
    /// Passes over the training set's codes.
    public var epochs: Int
    /// Grids per step.
    public var batchSize: Int
    /// Adam's step size.
    public var learningRate: Float
    /// The seed of the initial weights and the shuffles.
    public var seed: UInt64

    /// Settings for `network`; see the properties.
    public init(network: GatedPixelCNNConfiguration, epochs: Int = 15, batchSize: Int = 128, learningRate: Float = 1e-3, seed: UInt64 = 1) {
        (self.network, self.epochs, self.batchSize, self.learningRate, self.seed) = (network, epochs, batchSize, learningRate, seed)
    }

    /// What is wrong with the settings, one line each (empty when valid).
    public var problems: [String] {
        var found = network.problems
        if !(1...100_000).contains(epochs) { found.append("epochs must be 1...100000, got \(epochs)") }
        if !(1...65536).contains(batchSize) { found.append("the batch size must be 1...65536, got \(batchSize)") }
        if !(learningRate > 0 && learningRate <= 1) { found.append("the learning rate must be in (0, 1], got \(learningRate)") }
        return found
    }
}

/// The code grids of a set of images under a VQ-VAE: [count · h · w] code indices, and the labels.
public struct CodeGrids: Sendable {
    /// The indices, grid after grid.
    public let codes: [Int32]
    /// One label per grid (empty when the images have none).
    public let labels: [Int]
    /// The grids.
    public let count: Int

    /// Grids given as they are: `codes` [count · positions] and one label per grid (or none).
    public init(codes: [Int32], labels: [Int], count: Int) {
        precondition(count >= 0 && codes.count % max(count, 1) == 0 && (labels.isEmpty || labels.count == count), "grids and labels do not agree")
        (self.codes, self.labels, self.count) = (codes, labels, count)
    }

    /// The codes of every image of `images` (without moving the codebook's averages), in batches.
    public init(model: any DiscreteLatentModel, images: ImageDataset, batchSize: Int = 500) {
        let width = images.shape.count
        var codes: [Int32] = []
        codes.reserveCapacity(images.count * model.codePositions)
        withoutGradients {
            for start in stride(from: 0, to: images.count, by: batchSize) {
                let rows = min(batchSize, images.count - start)
                var pixels = [Float](repeating: 0, count: rows * width)
                pixels.withUnsafeMutableBufferPointer { buffer in
                    for row in 0..<rows { images.copyImage(start + row, into: buffer.baseAddress! + row * width) }
                }
                codes += model.codes(Tensor(shape: [rows, width], scalars: pixels))
            }
        }
        (self.codes, self.labels, self.count) = (codes, images.isLabelled ? images.labels : [], images.count)
    }
}

/// One epoch's figures of a code prior: the mean negative log-likelihood per code position, in bits.
public struct CodePriorEpoch: Equatable, Sendable {
    /// The epoch (from 1).
    public let epoch: Int
    /// The training grids' mean −log₂ p per position over the epoch's steps.
    public let trainBitsPerCode: Double
    /// The test grids' mean −log₂ p per position after the epoch.
    public let testBitsPerCode: Double
    /// The epoch's training seconds.
    public let seconds: Double
}

/// Trains a VQ-VAE's code prior, a gated PixelCNN over its training set's code grids (van den
/// Oord et al. 2017, section 3.2: the prior is fitted after the VQ-VAE), with Adam, one seeded
/// shuffle per epoch; evaluates it on the test set's grids after each epoch. Files in the run
/// folder: `prior.safetensors` (the network, its settings in the metadata), `prior-metrics.csv`
/// and `prior-checkpoint.safetensors` (the network, Adam's state and the epochs done; written
/// after each epoch, so an interrupted training continues from its last finished epoch).
public final class CodePriorTraining {
    /// The settings.
    public let settings: CodePriorSettings
    /// The network trained.
    public let network: GatedPixelCNN
    /// Its optimizer.
    public let optimizer: Adam
    /// The epochs finished, with their figures.
    public private(set) var history: [CodePriorEpoch] = []
    let train: CodeGrids, test: CodeGrids

    /// The format named in a prior's metadata: 2 since a layer's filter and gate come from one
    /// convolution whose weight is the kept block of the masked kernel.
    public static let format = "vae-toolkit-prior/2"

    /// The file names in a run folder.
    public static let modelFile = "prior.safetensors", checkpointFile = "prior-checkpoint.safetensors", metricsFile = "prior-metrics.csv"

    /// A new prior for `settings` over `train`'s grids, tested on `test`'s.
    public init(settings: CodePriorSettings, train: CodeGrids, test: CodeGrids) {
        precondition(settings.problems.isEmpty, "invalid prior settings: \(settings.problems)")
        precondition(settings.network.classes == nil || (!train.labels.isEmpty && !test.labels.isEmpty), "a conditional prior needs labelled grids")
        var generator = RandomGenerator(seed: settings.seed)
        network = GatedPixelCNN(settings.network, using: &generator)
        optimizer = Adam(parameters: network.parameters, learningRate: settings.learningRate)
        (self.settings, self.train, self.test) = (settings, train, test)
    }

    /// Whether every epoch is done.
    public var isFinished: Bool { history.count >= settings.epochs }

    var positions: Int { settings.network.height * settings.network.width }

    /// One pass over the training grids in the epoch's seeded order; the test figure after it.
    public func trainEpoch() -> CodePriorEpoch {
        let epoch = history.count + 1
        var generator = RandomGenerator(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
        let order = generator.permutation(train.count)
        let started = Date()
        var total = 0.0
        for start in stride(from: 0, to: train.count, by: settings.batchSize) {
            total += trainStep(Array(order[start..<min(start + settings.batchSize, train.count)]))
        }
        let seconds = Date().timeIntervalSince(started)
        let figures = CodePriorEpoch(epoch: epoch, trainBitsPerCode: total / Double(train.count * positions) / log(2.0),
                                     testBitsPerCode: bitsPerCode(test), seconds: seconds)
        history.append(figures)
        return figures
    }

    /// One Adam step on the mean negative log-likelihood of the training grids `batch` (their
    /// indices); returns their summed negative log-likelihood in nats.
    public func trainStep(_ batch: [Int]) -> Double {
        let (codes, labels) = grids(batch, of: train)
        optimizer.zeroGradients()
        let loss = network.negativeLogLikelihood(codes: codes, count: batch.count, labels: labels)
        (loss * (1 / Float(batch.count))).backward()
        optimizer.step()
        return Double(loss.item)
    }

    /// The mean −log₂ p(c_i | c_<i, y) per position over `grids`.
    public func bitsPerCode(_ grids: CodeGrids) -> Double { Self.bitsPerCode(network, grids) }

    /// The mean −log₂ p(c_i | c_<i, y) per position of `network` over `grids` (their labels given
    /// to a conditional network).
    public static func bitsPerCode(_ network: GatedPixelCNN, _ grids: CodeGrids) -> Double {
        let positions = network.positions
        var total = 0.0
        withoutGradients {
            for start in stride(from: 0, to: grids.count, by: 500) {
                let batch = Array(start..<min(start + 500, grids.count))
                let (codes, labels) = select(batch, of: grids, positions: positions, conditional: network.configuration.classes != nil)
                total += Double(network.negativeLogLikelihood(codes: codes, count: batch.count, labels: labels).item)
            }
        }
        return total / Double(max(grids.count * positions, 1)) / log(2.0)
    }

    func grids(_ indices: [Int], of set: CodeGrids) -> ([Int32], [Int]?) {
        Self.select(indices, of: set, positions: positions, conditional: settings.network.classes != nil)
    }

    static func select(_ indices: [Int], of set: CodeGrids, positions: Int, conditional: Bool) -> ([Int32], [Int]?) {
        var codes: [Int32] = []
        codes.reserveCapacity(indices.count * positions)
        for index in indices { codes += set.codes[(index * positions)..<((index + 1) * positions)] }
        return (codes, conditional ? indices.map { set.labels[$0] } : nil)
    }

    /// The metrics table: epoch, train and test bits per code, seconds.
    public var metricsCSV: String {
        "epoch,train_bits_per_code,test_bits_per_code,seconds\n"
            + history.map { String(format: "%d,%.6f,%.6f,%.3f", $0.epoch, $0.trainBitsPerCode, $0.testBitsPerCode, $0.seconds) }.joined(separator: "\n") + "\n"
    }

    /// The network with its settings in the metadata.
    public var modelFile: SafeTensorsFile {
        network.stateDictionary(metadata: ["format": Self.format, "prior_settings": Self.json(settings)])
    }

    /// The network, Adam's moments and step, and the figures of the epochs done.
    public var checkpointFile: SafeTensorsFile {
        var file = modelFile
        let state = optimizer.state
        for (name, values) in state.buffers { file.tensors["optimizer." + name] = .init(shape: [values.count], values: values) }
        file.metadata["optimizer_step"] = String(state.step)
        file.metadata["prior_history"] = metricsCSV
        return file
    }

    /// Writes the model, the metrics and the checkpoint into `folder`, each atomically.
    public func write(to folder: URL) throws {
        try modelFile.write(to: folder.appendingPathComponent(Self.modelFile))
        try writeAtomically(Data(metricsCSV.utf8), to: folder.appendingPathComponent(Self.metricsFile))
        try checkpointFile.write(to: folder.appendingPathComponent(Self.checkpointFile))
    }

    /// Continues from a checkpoint written by `checkpointFile` with the same settings (the epochs
    /// may have been raised): its weights, Adam's state and the epochs done.
    public func restore(from file: SafeTensorsFile, fileName: String) throws(CodePriorError) {
        let saved = try Self.settings(in: file, fileName: fileName)
        var (mine, theirs) = (settings, saved)
        (mine.epochs, theirs.epochs) = (0, 0)
        guard mine == theirs else { throw .incompatible(file: fileName, reason: "it was trained with other settings (\(Self.json(saved))); leave the options out to continue it") }
        do { try network.load(file, fileName: fileName) } catch { throw .invalid(file: fileName, reason: error.localizedDescription) }
        guard let stepText = file.metadata["optimizer_step"], let step = Int(stepText), step >= 0, let historyText = file.metadata["prior_history"] else {
            throw .invalid(file: fileName, reason: "it is not a prior checkpoint (no optimizer_step or prior_history in its metadata)")
        }
        var buffers: [String: [Float]] = [:]
        for (key, entry) in file.tensors where key.hasPrefix("optimizer.") { buffers[String(key.dropFirst("optimizer.".count))] = entry.values }
        do { try optimizer.restore(OptimizerState(step: step, buffers: buffers)) } catch {
            throw .invalid(file: fileName, reason: "optimizer: \(error.localizedDescription)")
        }
        var history: [CodePriorEpoch] = []
        for (index, line) in historyText.split(separator: "\n").dropFirst().enumerated() {
            let fields = line.split(separator: ",").map { Double($0) }
            guard fields.count == 4, fields.allSatisfy({ $0 != nil && $0!.isFinite }), Int(fields[0]!) == index + 1 else {
                throw .invalid(file: fileName, reason: "prior_history line \(index + 2) is not 'epoch,train,test,seconds' for epoch \(index + 1): '\(line)'")
            }
            history.append(CodePriorEpoch(epoch: index + 1, trainBitsPerCode: fields[1]!, testBitsPerCode: fields[2]!, seconds: fields[3]!))
        }
        self.history = history
    }

    /// The settings saved in a prior's file.
    public static func settings(in file: SafeTensorsFile, fileName: String) throws(CodePriorError) -> CodePriorSettings {
        if file.metadata["format"] == "vae-toolkit-prior/1" {
            throw .incompatible(file: fileName, reason: "it holds an earlier layout of the PixelCNN (separate filter and gate convolutions, whole masked kernels); fit the prior again with `vae train-prior RUN`")
        }
        guard file.metadata["format"] == format, let text = file.metadata["prior_settings"] else {
            throw .invalid(file: fileName, reason: "it is not a code prior of this tool (its metadata has no format \(format) and prior_settings)")
        }
        let settings: CodePriorSettings
        do { settings = try JSONDecoder().decode(CodePriorSettings.self, from: Data(text.utf8)) } catch {
            throw .invalid(file: fileName, reason: "prior_settings: \(JSONDecoding.describe(error, data: Data(text.utf8)))")
        }
        if let problem = settings.problems.first { throw .invalid(file: fileName, reason: "prior_settings: \(problem)") }
        return settings
    }

    /// The prior saved in a run folder, ready to sample: its network and settings.
    public static func load(from folder: URL) throws(CodePriorError) -> (network: GatedPixelCNN, settings: CodePriorSettings) {
        let url = folder.appendingPathComponent(modelFile)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: url) } catch { throw .invalid(file: url.path, reason: error.localizedDescription) }
        let settings = try Self.settings(in: file, fileName: url.path)
        var generator = RandomGenerator(seed: 0)
        let network = GatedPixelCNN(settings.network, using: &generator)
        do { try network.load(file, fileName: url.path) } catch { throw .invalid(file: url.path, reason: error.localizedDescription) }
        return (network, settings)
    }

    static func json(_ settings: CodePriorSettings) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(settings), as: UTF8.self)
    }
}

/// A code prior's file could not be used.
public enum CodePriorError: Error, LocalizedError, Equatable {
    /// The file is damaged or is not a prior.
    case invalid(file: String, reason: String)
    /// The file belongs to other settings.
    case incompatible(file: String, reason: String)

    /// The file and what is wrong.
    public var errorDescription: String? {
        switch self {
        case let .invalid(file, reason): "\(file) cannot be used: \(reason)"
        case let .incompatible(file, reason): "\(file) does not fit: \(reason)"
        }
    }
}
