import Foundation
import NN
import Runs
import TensorCore
import VAE
import VAEModels

/// Where the two halves of a VQ-VAE spend a training step (van den Oord et al. 2017): the VQ-VAE's
/// own step through the real trainer, with the share of it in the vector quantiser; and its code
/// prior's step (a gated PixelCNN, `CodePriorTraining.trainStep`), with the share in its masked
/// convolutions. Each part is timed alone on the step's own shapes (the quantiser on the encoder's
/// rows of a batch: nearest codes by one matrix product, the straight-through output, the moving
/// averages, the commitment loss and its gradient; the masked convolutions of every layer forward
/// and backward), and its share is its time over the whole step's.
public enum CodeModelBenchmark {
    /// A step's seconds and the seconds of the part timed alone, per step.
    public struct Share: Sendable {
        /// Seconds per training step (the median of the rounds).
        public var step: Double
        /// Seconds per step in the part (the best of the rounds).
        public var part: Double
        /// The part's share of the step.
        public var fraction: Double { part / step }
    }

    /// `configuration`'s VQ-VAE: a step (median of `rounds` epochs of `steps` batches of random
    /// images) and its quantiser alone.
    public static func vectorQuantizedStep(_ configuration: TrainingConfiguration, steps: Int, rounds: Int) throws -> Share {
        guard let model = configuration.model.architecture(as: VectorQuantizedConfiguration.self) else {
            preconditionFailure("not a VQ-VAE configuration")
        }
        let benchmark = TrainingStepBenchmark(configuration: configuration, steps: steps)
        let trainer = try benchmark.makeTrainer(rounds: rounds)
        _ = try TrainingStepBenchmark.stepSeconds(trainer)  // warm-up
        var seconds: [Double] = []
        for _ in 0..<rounds { seconds.append(try TrainingStepBenchmark.stepSeconds(trainer)) }
        let rows = configuration.batchSize * model.positions
        var generator = RandomGenerator(seed: 3)
        let quantizer = VectorQuantizer(codes: model.codebookSize, dimension: model.codeDimension, using: &generator)
        let encoderRows = Tensor.randomNormal([rows, model.codeDimension], using: &generator, requiresGradient: true)
        let part = Stopwatch.bestSecondsPerCall(rounds: max(rounds, 3), repeats: steps) {
            encoderRows.zeroGradient()
            let output = quantizer(encoderRows)
            let loss = output.quantized.sum() + quantizer.commitmentLoss(encoderRows, codes: output.quantized) * 0.25
            loss.backward()
        }
        return Share(step: seconds.sorted()[seconds.count / 2], part: part)
    }

    /// A code prior of `network` trained in batches of `batch` random grids: a step (the median of
    /// `rounds` rounds of `steps`) and its masked convolutions alone.
    public static func priorStep(_ network: GatedPixelCNNConfiguration, batch: Int, steps: Int, rounds: Int) -> Share {
        let positions = network.height * network.width
        var generator = RandomGenerator(seed: 4)
        let count = batch * steps
        let codes = (0..<(count * positions)).map { _ in Int32(generator.next() % UInt64(network.codes)) }
        let labels = network.classes.map { classes in (0..<count).map { _ in Int(generator.next() % UInt64(classes)) } } ?? []
        let grids = CodeGrids(codes: codes, labels: labels, count: count)
        let training = CodePriorTraining(settings: CodePriorSettings(network: network, batchSize: batch), train: grids, test: grids)
        let batches = (0..<steps).map { step in Array((step * batch)..<((step + 1) * batch)) }
        for indices in batches { _ = training.trainStep(indices) }  // warm-up
        var seconds: [Double] = []
        for _ in 0..<rounds { seconds.append(Stopwatch.seconds { for indices in batches { _ = training.trainStep(indices) } } / Double(steps)) }

        let convolutions = training.network.layers.flatMap { [$0.vertical, $0.horizontal] }
        let input = Tensor.randomNormal([batch, network.channels, network.height, network.width], using: &generator, requiresGradient: true)
        let part = Stopwatch.bestSecondsPerCall(rounds: max(rounds, 3), repeats: steps) {
            input.zeroGradient()
            for convolution in convolutions { convolution(input).sum().backward() }
        }
        return Share(step: seconds.sorted()[seconds.count / 2], part: part)
    }
}
