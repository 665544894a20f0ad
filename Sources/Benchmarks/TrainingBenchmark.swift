import Datasets
import Foundation
import TensorCore
import VAE

/// Seconds per training epoch of a preset on MNIST, images per second, and the share of the
/// time spent in matrix multiplies (sgemm, or oneDNN's matmul and its bf16 conversions). The
/// first epoch warms up the buffer pool and caches and is not counted unless it is the only one.
public struct TrainingBenchmark {
    public struct Result: Sendable {
        public let epochSeconds: [Double]
        public let gemmSeconds: [Double]
        public let images: Int
        public let loss: [Double]

        /// The fastest measured epoch (warm-up excluded when there are more than one).
        public var bestSeconds: Double { measured(epochSeconds).min() ?? .nan }
        public var medianSeconds: Double {
            let sorted = measured(epochSeconds).sorted()
            return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
        }
        public var gemmShare: Double {
            measured(gemmSeconds).reduce(0, +) / max(measured(epochSeconds).reduce(0, +), 1e-9)
        }
        func measured(_ values: [Double]) -> ArraySlice<Double> { values.count > 1 ? values.dropFirst() : values[...] }
    }

    public let configuration: TrainingConfiguration
    public init(configuration: TrainingConfiguration) { self.configuration = configuration }

    /// Trains `configuration.epochs` epochs; `report(epoch, seconds, gemmSeconds, optimizerSeconds, loss)` after each.
    public func run(train: ImageDataset, test: ImageDataset, report: (Int, Double, Double, Double, Double) -> Void) throws -> Result {
        let trainer = try Trainer(configuration: configuration, train: train, test: test)
        var epochSeconds: [Double] = [], gemmSeconds: [Double] = [], losses: [Double] = []
        defer { MatrixTime.count(false) }
        while !trainer.isFinished {
            MatrixTime.count(true)
            trainer.optimizerSeconds = 0
            let started = BLAS.now()
            let summary = try trainer.trainEpoch()!
            let seconds = BLAS.now() - started
            let matrix = MatrixTime.seconds
            epochSeconds.append(seconds)
            gemmSeconds.append(matrix)
            losses.append(summary.loss)
            report(summary.epoch, seconds, matrix, trainer.optimizerSeconds, summary.loss)
        }
        return Result(epochSeconds: epochSeconds, gemmSeconds: gemmSeconds, images: train.count, loss: losses)
    }
}
