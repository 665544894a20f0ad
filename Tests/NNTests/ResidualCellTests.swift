import Foundation
import Testing
import _TestSupport
import NN
import TensorCore

/// The parts of NVAE's residual cell against Double references: channel means and gates,
/// weight normalisation, squeeze-and-excitation, and the whole cell with its gradient.
@Suite struct ResidualCellTests {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// x W^T + b over rows of `inputs` values, in Double.
    static func dense(_ x: [Double], rows: Int, _ layer: Linear) -> [Double] {
        let (w, b) = (layer.weight.scalars.map(Double.init), layer.bias!.scalars.map(Double.init))
        let (inputs, outputs) = (layer.inputSize, layer.outputSize)
        return (0..<(rows * outputs)).map { index in
            let (row, output) = (index / outputs, index % outputs)
            return b[output] + (0..<inputs).reduce(0) { $0 + w[output * inputs + $1] * x[row * inputs + $1] }
        }
    }

    /// SE in Double over planar [N, C, H, W].
    static func excitation(_ x: [Double], batch: Int, channels: Int, pixels: Int, _ layer: SqueezeExcitation) -> [Double] {
        let means = (0..<(batch * channels)).map { row in x[(row * pixels)..<((row + 1) * pixels)].reduce(0, +) / Double(pixels) }
        let hidden = dense(means, rows: batch, layer.reduce).map { max($0, 0) }
        let gates = dense(hidden, rows: batch, layer.expand).map(sigmoid)
        return x.indices.map { x[$0] * gates[$0 / pixels] }
    }

    @Test func channelMeansAndChannelScalingMatchFiniteDifferences() {
        let means = GradientCheck.run(inputs: [([2, 3, 2, 5], -1...1)], engine: { $0[0].channelMeans() }) { v in
            (0..<6).map { row in v[0][(row * 10)..<((row + 1) * 10)].reduce(0, +) / 10 }
        }
        #expect(means.forwardError < 1e-5 && means.gradientError < 2e-3, "\(means)")
        let scaled = GradientCheck.run(inputs: [([2, 3, 2, 5], -1...1), ([2, 3], -2...2)], engine: { $0[0].scalingChannels(by: $0[1]) }) { v in
            v[0].indices.map { v[0][$0] * v[1][$0 / 10] }
        }
        #expect(scaled.forwardError < 1e-5 && scaled.gradientError < 2e-3, "\(scaled)")
    }

    /// Blocked batches give the planar figures: means [N, C], and gated images still blocked.
    @Test func blockedBatchesGiveThePlanarMeansAndGates() {
        var generator = RandomGenerator(seed: 8)
        let planar = Tensor.randomUniform([2, 16, 3, 2], low: -1, high: 1, using: &generator)
        let blocked = planar.blockedImages(8)
        #expect(zip(blocked.channelMeans().scalars, planar.channelMeans().scalars).allSatisfy { abs($0 - $1) < 1e-6 })
        let factors = Tensor.randomUniform([2, 16], low: 0, high: 2, using: &generator)
        let gated = blocked.scalingChannels(by: factors)
        #expect(gated.shape == blocked.shape && gated.planarImages().scalars == planar.scalingChannels(by: factors).scalars)
    }

    @Test func weightNormalisationScalesEachOutputsDirectionToItsMagnitude() {
        let report = GradientCheck.run(inputs: [([3, 2, 2, 2], -1...1), ([3], 0.5...2)],
                                       engine: { Tensor.weightNormalized(direction: $0[0], magnitude: $0[1]) }) { v in
            v[0].indices.map { index in
                let output = index / 8
                let norm = v[0][(output * 8)..<((output + 1) * 8)].reduce(0) { $0 + $1 * $1 }.squareRoot()
                return v[1][output] * v[0][index] / norm
            }
        }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
        // The layer starts at its initializer's weights: g = ‖v‖.
        var first = RandomGenerator(seed: 5), second = RandomGenerator(seed: 5)
        let normalized = WeightNormalizedConv2D(inputChannels: 2, outputChannels: 3, kernel: SpatialPair(3), using: &first)
        let plain = Conv2D(inputChannels: 2, outputChannels: 3, kernel: SpatialPair(3), using: &second)
        #expect(zip(normalized.weight.scalars, plain.weight.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(normalized.namedParameters().map(\.key) == ["direction", "magnitude", "bias"])
    }

    @Test func squeezeExcitationGatesEachChannelByItsMeans() {
        var generator = RandomGenerator(seed: 3)
        let layer = SqueezeExcitation(channels: 8, reduction: 4, using: &generator)
        #expect(layer.reduce.outputSize == 4)
        let report = GradientCheck.run(inputs: [([2, 8, 2, 3], -1...1)], engine: { layer($0[0]) }) {
            Self.excitation($0[0], batch: 2, channels: 8, pixels: 6, layer)
        }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
    }

    /// The whole cell in training (batch statistics) against its Double reference, value and
    /// gradient of x (with the residual at full scale, so that its errors are not shrunk).
    @Test func theCellIsTheInputPlusAScaledResidual() {
        var generator = RandomGenerator(seed: 11)
        #expect(ResidualCell(channels: 4, using: &generator).residualScale == 0.1)
        let cell = ResidualCell(channels: 4, residualScale: 1, using: &generator)
        let size = ImageBatchSize(batch: 2, channels: 4, height: 3, width: 3)
        func batchNormalized(_ x: [Double], _ layer: BatchNorm2D) -> [Double] {
            let (gamma, beta) = (layer.weight.scalars.map(Double.init), layer.bias.scalars.map(Double.init))
            var y = x
            for channel in 0..<4 {
                let indices = (0..<2).flatMap { image in (0..<9).map { (image * 4 + channel) * 9 + $0 } }
                let mean = indices.reduce(0) { $0 + x[$1] } / 18
                let variance = indices.reduce(0) { $0 + (x[$1] - mean) * (x[$1] - mean) } / 18
                for index in indices { y[index] = gamma[channel] * (x[index] - mean) / (variance + 1e-5).squareRoot() + beta[channel] }
            }
            return y
        }
        func reference(_ x: [Double]) -> [Double] {
            var h = x
            for (normalization, convolution) in zip(cell.normalizations, cell.convolutions) {
                let activated = batchNormalized(h, normalization).map { $0 * Self.sigmoid($0) }
                h = ReferenceConvolution.forward(activated, size: size, weight: convolution.weight.scalars.map(Double.init), outputChannels: 4,
                                                 kernel: SpatialPair(3), bias: convolution.bias!.scalars.map(Double.init),
                                                 stride: SpatialPair(1), padding: SpatialPair(1))
            }
            let residual = Self.excitation(h, batch: 2, channels: 4, pixels: 9, cell.excitation)
            return x.indices.map { x[$0] + residual[$0] }
        }
        let report = GradientCheck.run(inputs: [([2, 4, 3, 3], -1...1)], engine: { cell($0[0]) }) { reference($0[0]) }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
    }
}
