import Foundation
import Testing
import _TestSupport
import TensorCore

/// Batch and group normalisation: a hand-computed case, the gradients of x, γ and β against
/// central differences of a Double reference, fixed statistics, and the blocked layout.
@Suite struct NormalizationTests {
    /// y = γ_c (x − μ_s) / √(σ²_s + ε) + β_c over planar [N, C, H, W] in Double; `groups` nil
    /// for per-channel sets.
    static func reference(_ x: [Double], scale: [Double], shift: [Double], batch: Int, channels: Int, pixels: Int, groups: Int?,
                          epsilon: Double) -> [Double] {
        func set(_ image: Int, _ channel: Int) -> Int { groups.map { image * $0 + channel / (channels / $0) } ?? channel }
        let sets = groups.map { batch * $0 } ?? channels
        var members = [[Int]](repeating: [], count: sets)
        for image in 0..<batch {
            for channel in 0..<channels {
                for pixel in 0..<pixels { members[set(image, channel)].append((image * channels + channel) * pixels + pixel) }
            }
        }
        var y = [Double](repeating: 0, count: x.count)
        for indices in members {
            let mean = indices.reduce(0) { $0 + x[$1] } / Double(indices.count)
            let variance = indices.reduce(0) { $0 + (x[$1] - mean) * (x[$1] - mean) } / Double(indices.count)
            for index in indices {
                let channel = (index / pixels) % channels
                y[index] = scale[channel] * (x[index] - mean) / (variance + epsilon).squareRoot() + shift[channel]
            }
        }
        return y
    }

    @Test func oneChannelIsCentredAndScaledByItsBiasedDeviation() {
        let x = Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4])
        let (y, statistics) = x.normalized(over: .channels, scale: Tensor(shape: [1], scalars: [2]), shift: Tensor(shape: [1], scalars: [0.5]),
                                           epsilon: 0)
        #expect(statistics.mean == [2.5] && statistics.variance == [1.25] && statistics.valuesPerSet == 4)
        let deviation = Float(1.25).squareRoot()
        let expected = [-1.5, -0.5, 0.5, 1.5].map { 2 * Float($0) / deviation + 0.5 }
        #expect(zip(y.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(y.scalars)")
    }

    @Test(arguments: [nil, 1, 2, 6] as [Int?])
    func theGradientsMatchFiniteDifferences(groups: Int?) {
        let (batch, channels, height, width) = (3, 6, 2, 3)
        let sets: NormalizationSets = groups.map { .groups($0) } ?? .channels
        let report = GradientCheck.run(inputs: [([batch, channels, height, width], -2...2), ([channels], 0.5...1.5), ([channels], -1...1)],
                                       engine: { $0[0].normalized(over: sets, scale: $0[1], shift: $0[2], epsilon: 1e-3).output }) {
            Self.reference($0[0], scale: $0[1], shift: $0[2], batch: batch, channels: channels, pixels: height * width, groups: groups, epsilon: 1e-3)
        }
        #expect(report.forwardError < 1e-5, "\(sets): \(report)")
        #expect(report.gradientError < 2e-3, "\(sets): \(report)")
    }

    /// Fixed statistics (batch normalisation at evaluation) make an affine map per channel.
    @Test func fixedStatisticsGiveAnAffineMapAndItsGradients() {
        let (mean, variance): ([Float], [Float]) = ([0.5, -1, 0.25], [1.5, 0.5, 2])
        let report = GradientCheck.run(inputs: [([2, 3, 2, 2], -2...2), ([3], 0.5...1.5), ([3], -1...1)],
                                       engine: { $0[0].normalized(mean: mean, variance: variance, scale: $0[1], shift: $0[2], epsilon: 1e-5) }) { v in
            (0..<v[0].count).map { index in
                let channel = (index / 4) % 3
                return v[1][channel] * (v[0][index] - Double(mean[channel])) / (Double(variance[channel]) + 1e-5).squareRoot() + v[2][channel]
            }
        }
        #expect(report.forwardError < 1e-5 && report.gradientError < 2e-3, "\(report)")
    }

    /// A channel-blocked batch is normalised as its planar images, gradients included.
    @Test(arguments: [NormalizationSets.channels, .groups(4)])
    func aBlockedBatchIsNormalisedAsItsPlanarImages(sets: NormalizationSets) {
        var generator = RandomGenerator(seed: 6)
        let planar = Tensor.randomUniform([2, 16, 3, 3], low: -1, high: 1, using: &generator, requiresGradient: true)
        let scale = Tensor.randomUniform([16], low: 0.5, high: 1.5, using: &generator, requiresGradient: true)
        let shift = Tensor.randomUniform([16], low: -1, high: 1, using: &generator, requiresGradient: true)
        let weights = Tensor.randomUniform([2, 16, 3, 3], low: -1, high: 1, using: &generator)
        let expected = planar.normalized(over: sets, scale: scale, shift: shift, epsilon: 1e-5)
        (expected.output * weights).sum().backward()
        let (planarGradient, scaleGradient) = (planar.gradient!, scale.gradient!)

        let copy = Tensor(shape: planar.shape, scalars: planar.scalars, requiresGradient: true)
        let scaleCopy = Tensor(shape: [16], scalars: scale.scalars, requiresGradient: true)
        let blocked = copy.blockedImages(8).normalized(over: sets, scale: scaleCopy, shift: shift, epsilon: 1e-5)
        #expect(blocked.output.shape == [2, 2, 3, 3, 8])
        #expect(zip(blocked.statistics.mean, expected.statistics.mean).allSatisfy { abs($0 - $1) < 1e-6 })
        let back = blocked.output.planarImages()
        #expect(zip(back.scalars, expected.output.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
        (back * weights).sum().backward()
        #expect(zip(copy.gradient!, planarGradient).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(scaleCopy.gradient!, scaleGradient).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// The vectorised kernels against the plain reference loops: outputs, statistics and the
    /// gradients of x, γ and β, planar and blocked, per channel and per group, with runs that
    /// fill whole vectors and runs with tails (3x3 and 2x5 pixels).
    @Test(arguments: [([3, 6, 2, 5], nil as Int?, nil as Int?), ([2, 16, 3, 3], nil, 8), ([2, 16, 4, 4], 4, 16), ([2, 32, 3, 3], 2, 16),
                      ([4, 8, 1, 1], 1, nil), ([2, 16, 3, 3], 4, 8)])
    func theVectorisedKernelsMatchTheReferenceLoops(shape: [Int], groups: Int?, block: Int?) {
        let sets: NormalizationSets = groups.map { .groups($0) } ?? .channels
        var generator = RandomGenerator(seed: 11)
        let values = Tensor.randomUniform(shape, low: -2, high: 3, using: &generator).scalars
        let scaleValues = Tensor.randomUniform([shape[1]], low: 0.5, high: 1.5, using: &generator).scalars
        let shiftValues = Tensor.randomUniform([shape[1]], low: -1, high: 1, using: &generator).scalars
        let weights = Tensor.randomUniform(shape, low: -1, high: 1, using: &generator)
        func run(reference: Bool, fixed: Bool) -> (output: [Float], statistics: NormalizationStatistics?, gradients: [[Float]]) {
            let x = Tensor(shape: shape, scalars: values, requiresGradient: true)
            let scale = Tensor(shape: [shape[1]], scalars: scaleValues, requiresGradient: true)
            let shift = Tensor(shape: [shape[1]], scalars: shiftValues, requiresGradient: true)
            let input = block.map { x.blockedImages($0) } ?? x
            var statistics: NormalizationStatistics? = nil
            let output: Tensor
            if fixed {
                let (mean, variance) = ((0..<shape[1]).map { Float($0) * 0.1 - 0.3 }, (0..<shape[1]).map { 0.5 + Float($0) * 0.05 })
                output = reference ? input.referenceNormalized(mean: mean, variance: variance, scale: scale, shift: shift, epsilon: 1e-5)
                    : input.normalized(mean: mean, variance: variance, scale: scale, shift: shift, epsilon: 1e-5)
            } else {
                let result = reference ? input.referenceNormalized(over: sets, scale: scale, shift: shift, epsilon: 1e-5)
                    : input.normalized(over: sets, scale: scale, shift: shift, epsilon: 1e-5)
                (output, statistics) = (result.output, result.statistics)
            }
            let planar = output.planarImages()
            (planar * weights).sum().backward()
            return (planar.scalars, statistics, [x.gradient!, scale.gradient!, shift.gradient!])
        }
        for fixed in (groups == nil ? [false, true] : [false]) {
            let (fast, plain) = (run(reference: false, fixed: fixed), run(reference: true, fixed: fixed))
            #expect(zip(fast.output, plain.output).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "\(shape) \(sets) fixed \(fixed): outputs")
            if let a = fast.statistics, let b = plain.statistics {
                #expect(zip(a.mean + a.variance, b.mean + b.variance).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "\(shape) \(sets): statistics")
            }
            for (index, (a, b)) in zip(fast.gradients, plain.gradients).enumerated() {
                #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 2e-5 * max(1, abs($1)) }, "\(shape) \(sets) fixed \(fixed): gradient \(index)")
            }
        }
    }
}
