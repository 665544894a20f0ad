import Datasets
import Foundation
import TensorCore
import VAE

/// Seconds per design-B training epoch, measured on `batches` batches after one warm-up batch
/// and scaled to the epoch's batch count (an epoch at the design's size takes minutes), with the
/// share of the time inside sgemm.
public struct AffineBenchmark {
    public struct Result: Sendable {
        public let batchSeconds: [Double]
        public let gemmSeconds: Double
        public let batchesPerEpoch: Int
        public let imagesPerBatch: Int

        public var medianBatchSeconds: Double { batchSeconds.sorted()[batchSeconds.count / 2] }
        public var epochSeconds: Double { medianBatchSeconds * Double(batchesPerEpoch) }
        public var gemmShare: Double { gemmSeconds / max(batchSeconds.reduce(0, +), 1e-9) }
        /// Floating-point operations per second in the three H x H products (forward and two backward).
        public func hiddenLayerFLOPs(hidden: Int, pixels: Int) -> Double {
            3 * 2 * Double(imagesPerBatch * pixels) * Double(hidden * hidden) / medianBatchSeconds
        }
    }

    /// A design-B training configuration (`TrainingConfiguration.affine`).
    public let configuration: TrainingConfiguration
    public let batches: Int
    public init(configuration: TrainingConfiguration, batches: Int) { (self.configuration, self.batches) = (configuration, batches) }

    public func run(train: ImageDataset) throws -> Result {
        var timed = configuration
        timed.epochs = 1
        // A training split of exactly warm-up + measured batches; the epoch count comes from the full split.
        let kept = train.count - Int((Double(train.count) * configuration.validationShare).rounded())
        let fullBatches = (kept + configuration.batchSize - 1) / configuration.batchSize
        let subset = train.prefix((batches + 1) * configuration.batchSize)
        timed.validationShare = 0
        let trainer = try Trainer(configuration: timed, train: subset, test: subset.prefix(1))
        var times: [Double] = []
        var last = BLAS.now()
        MatrixTime.count(true)
        var gemmAtWarmUp = 0.0
        _ = try? trainer.trainEpoch(onBatch: { done, _, _ in
            let now = BLAS.now()
            if done == 1 { gemmAtWarmUp = MatrixTime.seconds } else { times.append(now - last) }
            last = now
        })
        let gemm = MatrixTime.seconds - gemmAtWarmUp
        MatrixTime.count(false)
        return Result(batchSeconds: times, gemmSeconds: gemm, batchesPerEpoch: fullBatches, imagesPerBatch: configuration.batchSize)
    }
}
