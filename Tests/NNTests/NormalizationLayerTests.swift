import Foundation
import Testing
import NN
import SafeTensors
import TensorCore

/// A block with a normalisation inside, to see keys and checkpoints.
final class NormalizedBlock: Module {
    let convolution: Conv2D
    let normalization: BatchNorm2D

    override init() {
        var generator = RandomGenerator(seed: 3)
        convolution = Conv2D(inputChannels: 2, outputChannels: 3, kernel: SpatialPair(3), padding: SpatialPair(1), using: &generator)
        normalization = BatchNorm2D(channels: 3)
    }
}

/// BatchNorm2D's two modes and running averages, GroupNorm, and buffers in checkpoints.
@Suite struct NormalizationLayerTests {
    /// Two images of one channel, 1 x 2 each: the batch's mean 2.5, biased variance 1.25,
    /// unbiased 5/3.
    static var batch: Tensor { Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4], requiresGradient: true) }

    @Test func trainingUsesTheBatchAndMovesTheRunningAveragesByTheMomentum() {
        let layer = BatchNorm2D(channels: 1, momentum: 0.1, epsilon: 0)
        let y = layer(Self.batch)
        let deviation = Float(1.25).squareRoot()
        #expect(zip(y.scalars, [-1.5, -0.5, 0.5, 1.5].map { Float($0) / deviation }).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(layer.runningMean.value.scalars[0] - 0.25) < 1e-6)
        #expect(abs(layer.runningVariance.value.scalars[0] - (0.9 + 0.1 * 5 / 3)) < 1e-6)
        _ = layer(Self.batch)
        #expect(abs(layer.runningMean.value.scalars[0] - (0.9 * 0.25 + 0.25)) < 1e-6)
    }

    @Test func evaluationUsesTheRunningAveragesAndLeavesThemAlone() {
        let layer = BatchNorm2D(channels: 1, epsilon: 0)
        layer.runningMean.value.pointer[0] = 2
        layer.runningVariance.value.pointer[0] = 4
        let y = withoutGradients { layer(Self.batch) }
        #expect(y.scalars == [-0.5, 0, 0.5, 1])
        #expect(layer.runningMean.value.scalars == [2] && layer.runningVariance.value.scalars == [4])
    }

    @Test func groupNormIsTheSameInTrainingAndEvaluation() {
        var generator = RandomGenerator(seed: 2)
        let x = Tensor.randomUniform([2, 4, 3, 3], low: -1, high: 1, using: &generator, requiresGradient: true)
        let layer = GroupNorm(groups: 2, channels: 4)
        let training = layer(x)
        let evaluation = withoutGradients { layer(x) }
        #expect(training.scalars == evaluation.scalars)
        // Each image's group of two channels has mean 0 and variance 1 (γ = 1, β = 0).
        let values = training.scalars
        for start in stride(from: 0, to: values.count, by: 18) {
            let group = values[start..<(start + 18)]
            let mean = group.reduce(0, +) / 18
            let variance = group.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 18
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-3, "\(mean), \(variance)")
        }
    }

    /// The running averages are saved and loaded with the weights, but no optimizer sees them.
    @Test func buffersTravelInCheckpointsButAreNotParameters() throws {
        let block = NormalizedBlock()
        #expect(block.namedParameters().map(\.key) == ["convolution.weight", "convolution.bias", "normalization.weight", "normalization.bias"])
        #expect(block.namedBuffers().map(\.key) == ["normalization.runningMean", "normalization.runningVariance"])
        var generator = RandomGenerator(seed: 4)
        _ = block.normalization(block.convolution(Tensor.randomUniform([2, 2, 4, 4], low: 0, high: 1, using: &generator)))
        let file = block.stateDictionary()
        #expect(file.tensors["normalization.runningMean"]?.values == block.normalization.runningMean.value.scalars)
        let other = NormalizedBlock()
        try other.load(file, fileName: "block.safetensors")
        #expect(other.normalization.runningVariance.value.scalars == block.normalization.runningVariance.value.scalars)
        var missing = file
        missing.tensors["normalization.runningVariance"] = nil
        #expect(throws: SafeTensorsError.self) { try other.load(missing, fileName: "old.safetensors") }
    }
}
