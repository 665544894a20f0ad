import Foundation
import Testing
import _TestSupport
import NN
import TensorCore

/// The log-likelihoods of images per row: the discretised logistic (mixture), the learned-variance
/// Gaussian and the Bernoulli, against Double references, finite differences, normalisation and
/// PyTorch.
@Suite struct LogLikelihoodTests {
    /// `count` 8-bit levels k / 255 from a seeded generator, with the edge levels 0 and 1 among them.
    static func levels(_ count: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        var values = (0..<count).map { _ in (generator.nextUniform() * 256).rounded(.down) / 255 }
        for index in stride(from: 0, to: count, by: 7) { values[index] = index % 2 == 0 ? 0 : 1 }
        return values.map { min($0, 1) }
    }

    /// Parameters for `layout` over `pixels` pixels: logits, means in [−1.2, 1.2], log-scales in
    /// [−8, 0.5] (some clamped at −7, some so small that their bins hold under 1e-5), coefficients.
    static func parameters(_ layout: DiscretizedLogisticLayout, batch: Int, pixels: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        var values = [Float](repeating: 0, count: batch * layout.parameterChannels * pixels)
        for row in 0..<batch {
            for channel in 0..<layout.parameterChannels {
                let isMean = (0..<layout.components).contains { k in (0..<layout.channels).contains { layout.meanChannel(k, $0) == channel } }
                let isScale = (0..<layout.components).contains { k in (0..<layout.channels).contains { layout.logScaleChannel(k, $0) == channel } }
                for pixel in 0..<pixels {
                    let u = generator.nextUniform()
                    values[(row * layout.parameterChannels + channel) * pixels + pixel] = isMean ? 2.4 * u - 1.2 : isScale ? 8.5 * u - 8 : 4 * u - 2
                }
            }
        }
        return values
    }

    static let layouts: [DiscretizedLogisticLayout] = [.single(channels: 3), .single(channels: 1), .mixture(channels: 3, components: 3),
                                                       .mixture(channels: 1, components: 2), .mixture(channels: 3, components: 1)]

    @Test(arguments: layouts)
    func theDiscretisedLogisticKernelMatchesItsDoubleReference(layout: DiscretizedLogisticLayout) {
        let (batch, pixels) = (3, 37)  // two full vectors of pixels and a tail
        let p = Self.parameters(layout, batch: batch, pixels: pixels, seed: 5)
        let x = Self.levels(batch * layout.channels * pixels, seed: 6)
        let fast = discretizedLogisticLogLikelihood(parameters: Tensor(shape: [batch, p.count / batch], scalars: p),
                                                    targets: Tensor(shape: [batch, x.count / batch], scalars: x), layout: layout)
        let reference = discretizedLogisticLogLikelihoodReference(parameters: p.map(Double.init), targets: x.map(Double.init), batch: batch, layout: layout)
        for (a, b) in zip(fast.scalars, reference) {
            #expect(abs(Double(a) - b) <= 1e-5 * max(1, abs(b)), "\(layout): \(a) against \(b)")
        }
    }

    @Test(arguments: layouts)
    func theDiscretisedLogisticGradientsMatchFiniteDifferences(layout: DiscretizedLogisticLayout) {
        let (batch, pixels) = (2, 19)
        let x = Self.levels(batch * layout.channels * pixels, seed: 8)
        let report = GradientCheck.run(inputs: [([batch, layout.parameterChannels * pixels], -1.5...1.5)], seed: 9, engine: { t in
            discretizedLogisticLogLikelihood(parameters: t[0], targets: Tensor(shape: [batch, x.count / batch], scalars: x), layout: layout)
        }) { v in
            discretizedLogisticLogLikelihoodReference(parameters: v[0], targets: x.map(Double.init), batch: batch, layout: layout)
        }
        #expect(report.forwardError < 1e-4 && report.gradientError < 2e-3, "\(layout): \(report)")
    }

    @Test(arguments: [DiscretizedLogisticLayout.single(channels: 1), .mixture(channels: 1, components: 4)])
    func aPixelsProbabilitiesOverThe256LevelsSumToOne(layout: DiscretizedLogisticLayout) {
        // One pixel's parameters, repeated for each of the 256 levels as 256 one-pixel images.
        for seed in [1, 2, 3] as [UInt64] {
            let one = Self.parameters(layout, batch: 1, pixels: 1, seed: seed)
            let p = Tensor(shape: [256, one.count], scalars: (0..<256).flatMap { _ in one })
            let x = Tensor(shape: [256, 1], scalars: (0..<256).map { Float($0) / 255 })
            let total = discretizedLogisticLogLikelihood(parameters: p, targets: x, layout: layout).scalars.reduce(0.0) { $0 + exp(Double($1)) }
            #expect(abs(total - 1) < 1e-4, "\(layout), seed \(seed): the levels' probabilities sum to \(total)")
        }
    }

    @Test func theMeanOfOneLogisticIsItsMeanClippedToTheLevels() {
        let layout = DiscretizedLogisticLayout.single(channels: 1)
        // Means −1.5, −0.5, 0.5, 1.5 over four pixels (log-scales after them).
        let p = Tensor(shape: [1, 8], scalars: [-1.5, -0.5, 0.5, 1.5, 0, 0, 0, 0])
        #expect(discretizedLogisticMean(parameters: p, layout: layout).scalars == [0, 0.25, 0.75, 1])
    }

    @Test func theMixturesMeanWeighsItsComponentsCoupledMeans() {
        // One RGB pixel, two components of weights softmax(−1, 2). Component 1's channel means
        // (0.2, −0.4, 0.6) with coefficient arguments a = (0.5, 0, 1) give G = −0.4 + tanh(0.5) · 0.2,
        // B = 0.6 + tanh(1) · G; component 0's are 0.9 each, uncoupled.
        let layout = DiscretizedLogisticLayout.mixture(channels: 3, components: 2)
        var p = [Float](repeating: 0, count: layout.parameterChannels)
        p[layout.logitChannel(0)] = -1
        p[layout.logitChannel(1)] = 2
        for (c, value) in [0.2, -0.4, 0.6].enumerated() { p[layout.meanChannel(1, c)] = Float(value); p[layout.meanChannel(0, c)] = 0.9 }
        p[layout.coefficientChannel(1, 1, 0)] = 0.5
        p[layout.coefficientChannel(1, 2, 1)] = 1
        let image = discretizedLogisticMean(parameters: Tensor(shape: [1, p.count], scalars: p), layout: layout).scalars
        let g = -0.4 + tanh(0.5) * 0.2, b = 0.6 + tanh(1.0) * g
        let w0 = exp(-1.0) / (exp(-1.0) + exp(2.0))
        let expected = [0.2, g, b].map { Float(min(max((w0 * 0.9 + (1 - w0) * $0 + 1) / 2, 0), 1)) }
        for (a, e) in zip(image, expected) { #expect(abs(a - e) < 1e-6, "\(image) against \(expected)") }
    }

    /// The PyTorch reference on the same inputs: `VAE_WRITE_LOGISTIC_CASES=FOLDER swift test -c
    /// release --filter theDiscretisedLogisticMatchesPyTorch` writes each case's parameters and
    /// targets there, and `python3 reference/discretized_logistic.py FOLDER` printed these
    /// log-likelihoods per image (PixelCNN++'s `discretized_mix_logistic_loss` in float64).
    static let pytorch: [String: [Double]] = [
        "grey-mixture": [-284.8533711, -383.6852684, -843.1332189, -487.2130587],
        "rgb-mixture": [-1999.1876, -1747.36645, -2698.233423, -2596.403619],
        "rgb-single": [-16888.54788, -12947.2856, -17547.93785, -12863.61856],
    ]

    @Test func theDiscretisedLogisticMatchesPyTorch() throws {
        let cases: [(name: String, layout: DiscretizedLogisticLayout, height: Int, width: Int)] = [
            ("rgb-mixture", .mixture(channels: 3, components: 5), 4, 6), ("grey-mixture", .mixture(channels: 1, components: 3), 5, 5),
            ("rgb-single", .single(channels: 3), 3, 7),
        ]
        let batch = 4
        for (index, entry) in cases.enumerated() {
            let pixels = entry.height * entry.width
            let p = Self.parameters(entry.layout, batch: batch, pixels: pixels, seed: 30 + UInt64(index))
            let x = Self.levels(batch * entry.layout.channels * pixels, seed: 40 + UInt64(index))
            if let folder = ProcessInfo.processInfo.environment["VAE_WRITE_LOGISTIC_CASES"] {
                let url = URL(fileURLWithPath: folder).appendingPathComponent(entry.name)
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                try p.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: url.appendingPathComponent("parameters.bin"))
                try x.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: url.appendingPathComponent("targets.bin"))
                let shape = ["batch": batch, "channels": entry.layout.channels, "height": entry.height, "width": entry.width,
                             "components": entry.layout.components, "mixture": entry.layout.isMixture ? 1 : 0]
                try JSONSerialization.data(withJSONObject: shape, options: [.sortedKeys]).write(to: url.appendingPathComponent("shape.json"))
            }
            if ProcessInfo.processInfo.environment["VAE_WRITE_LOGISTIC_CASES"] != nil { continue }
            let ours = discretizedLogisticLogLikelihood(parameters: Tensor(shape: [batch, p.count / batch], scalars: p),
                                                        targets: Tensor(shape: [batch, x.count / batch], scalars: x), layout: entry.layout)
            let theirs = try #require(Self.pytorch[entry.name], "no PyTorch figures for \(entry.name)")
            #expect(theirs.count == batch)
            for (a, b) in zip(ours.scalars, theirs) {
                #expect(abs(Double(a) - b) <= 1e-4 * abs(b), "\(entry.name): ours \(a), PyTorch \(b)")
            }
        }
    }

    @Test(arguments: [[12], [3]])
    func theLearnedVarianceGaussianMatchesItsClosedFormAndFiniteDifferences(varianceShape: [Int]) {
        // Three rows of 12 values: 3 channels of 4 values, planar.
        let report = GradientCheck.run(inputs: [([3, 12], 0...1), (varianceShape, -2...1), ([3, 12], 0...1)], constants: [2], engine: { t in
            gaussianLogLikelihood(means: t[0], logVariance: t[1], targets: t[2])
        }) { v in
            (0..<3).map { row in
                (0..<12).reduce(0.0) { total, j in
                    let logVariance = v[1][varianceShape[0] == 12 ? j : j / 4], d = v[2][row * 12 + j] - v[0][row * 12 + j]
                    return total - 0.5 * (d * d / exp(logVariance) + logVariance + log(2 * Double.pi))
                }
            }
        }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
    }

    @Test func theBernoulliLogLikelihoodIsMinusTheRowsCrossEntropy() {
        let report = GradientCheck.run(inputs: [([4, 37], -6...6), ([4, 37], 0...1)], constants: [1], engine: { t in
            bernoulliLogLikelihood(logits: t[0], targets: t[1])
        }) { v in
            (0..<4).map { row in
                (0..<37).reduce(0.0) { total, j in
                    let (l, t) = (v[0][row * 37 + j], v[1][row * 37 + j])
                    return total - (max(l, 0) - l * t + log1p(exp(-abs(l))))
                }
            }
        }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
    }
}
