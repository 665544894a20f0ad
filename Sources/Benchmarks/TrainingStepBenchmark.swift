import Datasets
import TensorCore
import VAE

/// Training steps of a preset on synthetic images of its shape, through the real trainer
/// (forward, ELBO, backward, optimizer, in the configuration's precision): seconds per step.
/// The first epoch (of `steps` batches) warms up; the rest are timed.
public struct TrainingStepBenchmark {
    public let configuration: TrainingConfiguration
    public let steps: Int

    public init(configuration: TrainingConfiguration, steps: Int) {
        self.configuration = configuration
        self.steps = steps
    }

    /// A trainer over `steps` batches of uniform random images (rounded to 8-bit levels for a
    /// likelihood of such levels).
    public func makeTrainer(rounds: Int) throws -> Trainer {
        var configuration = configuration
        configuration.epochs = rounds + 1
        let shape = configuration.model.imageShape
        var generator = RandomGenerator(seed: 5)
        let count = steps * configuration.batchSize
        var pixels = [Float](repeating: 0, count: count * shape.count)
        pixels.withUnsafeMutableBufferPointer { generator.fillUniform($0) }
        if configuration.model.likelihood.modelsEightBitLevels {  // a discretised logistic's data are 8-bit levels
            for index in pixels.indices { pixels[index] = (pixels[index] * 255).rounded() / 255 }
        }
        let train = ImageDataset(pixels: pixels, shape: shape, labels: [], classNames: [])
        return try Trainer(configuration: configuration, train: train, test: train.prefix(configuration.batchSize))
    }

    /// Seconds per step of one timed epoch of `trainer` (the next one).
    public static func stepSeconds(_ trainer: Trainer) throws -> Double {
        try profile(trainer).step
    }

    /// Where a step's time goes: seconds per step, and the shares of it spent in oneDNN's
    /// convolution primitives, in their reorders (part of the former), in sgemm, and in oneDNN's
    /// matmul and bf16 conversions.
    public struct Profile: Sendable {
        public var step: Double
        public var oneDNN: Double
        public var reorders: Double
        public var sgemm: Double
        public var matrix: Double
    }

    /// The profile of the next epoch of `trainer`.
    public static func profile(_ trainer: Trainer) throws -> Profile {
        (OneDNN.timedSeconds, OneDNN.reorderSeconds, OneDNN.matrixSeconds, BLAS.timedSeconds) = (0, 0, 0, 0)
        (OneDNN.isTiming, BLAS.isTiming) = (true, true)
        defer { (OneDNN.isTiming, BLAS.isTiming) = (false, false) }
        let started = BLAS.now()
        _ = try trainer.trainEpoch()
        let seconds = BLAS.now() - started
        return Profile(step: seconds / Double(trainer.batchesPerEpoch), oneDNN: OneDNN.timedSeconds / seconds, reorders: OneDNN.reorderSeconds / seconds,
                       sgemm: BLAS.timedSeconds / seconds, matrix: OneDNN.matrixSeconds / seconds)
    }
}
