import Testing
import TensorCore
import _TestSupport

/// One convolution case: sizes, kernel, stride, padding (and output padding when transposed).
struct ConvolutionCase: CustomStringConvertible, Sendable {
    var batch = 2, channels = 1, outputChannels = 3, height = 5, width = 4
    var kernel = SpatialPair(3), stride = SpatialPair(1), padding = SpatialPair(0), outputPadding = SpatialPair(0)
    var bias = true

    var size: ImageBatchSize { ImageBatchSize(batch: batch, channels: channels, height: height, width: width) }
    var description: String {
        "\(batch)x\(channels)x\(height)x\(width) -> \(outputChannels), kernel \(kernel), stride \(stride), padding \(padding), output padding \(outputPadding)"
    }

    /// Strides 1 and 2, padding 0 and 1, output padding 0 and 1 (below the stride), non-square
    /// images, 1 and 3 channels in and out.
    static let grid: [ConvolutionCase] = {
        var cases: [ConvolutionCase] = []
        for (channels, outputChannels) in [(1, 3), (3, 1), (3, 2)] {
            for stride in [1, 2] {
                for padding in [0, 1] {
                    for outputPadding in stride == 2 ? [0, 1] : [0] {
                        cases.append(ConvolutionCase(channels: channels, outputChannels: outputChannels, height: 5, width: 4,
                                                     kernel: SpatialPair(3, 2), stride: SpatialPair(stride), padding: SpatialPair(padding),
                                                     outputPadding: SpatialPair(outputPadding), bias: padding == 0))
                    }
                }
            }
        }
        return cases
    }()
}

@Suite struct ConvolutionTests {
    static let tolerance = 2e-3

    @Test(arguments: ConvolutionCase.grid)
    func convolutionGradientsMatchCentralDifferencesOfTheReference(_ c: ConvolutionCase) {
        let inputs: [(shape: [Int], range: ClosedRange<Float>)] = [
            ([c.batch, c.channels, c.height, c.width], -1...1), ([c.outputChannels, c.channels, c.kernel.height, c.kernel.width], -1...1),
        ] + (c.bias ? [([c.outputChannels], -1...1)] : [])
        let report = GradientCheck.run(inputs: inputs, engine: { t in
            Tensor.convolution2D(t[0], weight: t[1], bias: c.bias ? t[2] : nil, stride: c.stride, padding: c.padding)
        }, reference: { v in
            ReferenceConvolution.forward(v[0], size: c.size, weight: v[1], outputChannels: c.outputChannels, kernel: c.kernel,
                                         bias: c.bias ? v[2] : nil, stride: c.stride, padding: c.padding)
        })
        #expect(report.forwardError < 1e-5, "\(c): \(report)")
        #expect(report.gradientError < Self.tolerance, "\(c): \(report)")
    }

    /// Uneven padding (a causal convolution's: rows above only, columns left only or both
    /// sides): values and gradients match the reference padded the same way.
    @Test(arguments: [(SpatialPair(2, 3), SpatialPair(1, 1), SpatialPair(0, 1)), (SpatialPair(1, 3), SpatialPair(0, 2), SpatialPair(0, 0)),
                      (SpatialPair(3, 2), SpatialPair(2, 0), SpatialPair(1, 1))])
    func unevenlyPaddedConvolutionGradientsMatchCentralDifferencesOfTheReference(kernel: SpatialPair, before: SpatialPair, after: SpatialPair) {
        let size = ImageBatchSize(batch: 2, channels: 3, height: 4, width: 5)
        let report = GradientCheck.run(inputs: [([2, 3, 4, 5], -1...1), ([2, 3, kernel.height, kernel.width], -1...1), ([2], -1...1)], engine: { t in
            Tensor.convolution2D(t[0], weight: t[1], bias: t[2], paddingBefore: before, paddingAfter: after).planarImages()
        }, reference: { v in
            ReferenceConvolution.forward(v[0], size: size, weight: v[1], outputChannels: 2, kernel: kernel, bias: v[2], stride: SpatialPair(1),
                                         paddingBefore: before, paddingAfter: after)
        })
        #expect(report.forwardError < 1e-5, "\(report)")
        #expect(report.gradientError < Self.tolerance, "\(report)")
    }

    @Test(arguments: ConvolutionCase.grid)
    func transposedConvolutionGradientsMatchCentralDifferencesOfTheReference(_ c: ConvolutionCase) {
        let inputs: [(shape: [Int], range: ClosedRange<Float>)] = [
            ([c.batch, c.channels, c.height, c.width], -1...1), ([c.channels, c.outputChannels, c.kernel.height, c.kernel.width], -1...1),
        ] + (c.bias ? [([c.outputChannels], -1...1)] : [])
        let report = GradientCheck.run(inputs: inputs, engine: { t in
            Tensor.transposedConvolution2D(t[0], weight: t[1], bias: c.bias ? t[2] : nil, stride: c.stride, padding: c.padding,
                                           outputPadding: c.outputPadding)
        }, reference: { v in
            ReferenceConvolution.transposed(v[0], size: c.size, weight: v[1], outputChannels: c.outputChannels, kernel: c.kernel,
                                            bias: c.bias ? v[2] : nil, stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
        })
        #expect(report.forwardError < 1e-5, "\(c): \(report)")
        #expect(report.gradientError < Self.tolerance, "\(c): \(report)")
    }

    /// The rectified ops (`relu: true`, both directions, with and without a bias, planar and
    /// channel-blocked outputs): values and gradients match the reference followed by max(·, 0).
    @Test(arguments: [(false, 3, true), (true, 3, true), (true, 3, false), (false, 16, true), (true, 16, true), (true, 16, false)])
    func rectifiedConvolutionsMatchTheReferenceFollowedByAReLU(transposed: Bool, channels: Int, bias: Bool) {
        let c = ConvolutionCase(batch: 2, channels: channels, outputChannels: channels == 16 ? 16 : 2, height: 5, width: 4, kernel: SpatialPair(3),
                                stride: SpatialPair(2), padding: SpatialPair(1), outputPadding: SpatialPair(transposed ? 1 : 0), bias: bias)
        let weightShape = transposed ? [c.channels, c.outputChannels, 3, 3] : [c.outputChannels, c.channels, 3, 3]
        let report = GradientCheck.run(inputs: [([c.batch, c.channels, c.height, c.width], -1...1), (weightShape, -0.3...0.3)]
                                           + (bias ? [([c.outputChannels], -0.5...0.5)] : []),
                                       engine: { t in
            (transposed
                ? Tensor.transposedConvolution2D(t[0], weight: t[1], bias: bias ? t[2] : nil, stride: c.stride, padding: c.padding,
                                                 outputPadding: c.outputPadding, relu: true)
                : Tensor.convolution2D(t[0], weight: t[1], bias: bias ? t[2] : nil, stride: c.stride, padding: c.padding, relu: true)).planarImages()
        }, reference: { v in
            (transposed
                ? ReferenceConvolution.transposed(v[0], size: c.size, weight: v[1], outputChannels: c.outputChannels, kernel: c.kernel,
                                                  bias: bias ? v[2] : nil, stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
                : ReferenceConvolution.forward(v[0], size: c.size, weight: v[1], outputChannels: c.outputChannels, kernel: c.kernel,
                                               bias: bias ? v[2] : nil, stride: c.stride, padding: c.padding)).map { max($0, 0) }
        })
        #expect(report.forwardError < 1e-5, "\(c): \(report)")
        #expect(report.gradientError < Self.tolerance, "\(c): \(report)")
    }

    /// A rectified op gives exactly what the op followed by `relu()` gives: the same floats out
    /// and the same gradients of x, the weight and the bias (the fused pass changes no rounding).
    @Test(arguments: [false, true])
    func rectifiedConvolutionsEqualTheOpFollowedByReLU(transposed: Bool) {
        var generator = RandomGenerator(seed: 11)
        let x = Tensor.randomUniform([3, 16, 6, 6], low: -1, high: 1, using: &generator, requiresGradient: true)
        let weight = Tensor.randomUniform(transposed ? [16, 32, 4, 4] : [32, 16, 4, 4], low: -0.2, high: 0.2, using: &generator, requiresGradient: true)
        let bias = Tensor.randomUniform([32], low: -0.5, high: 0.5, using: &generator, requiresGradient: true)
        func run(fused: Bool) -> (y: [Float], x: [Float], weight: [Float], bias: [Float]) {
            for tensor in [x, weight, bias] { tensor.zeroGradient() }
            let y = transposed
                ? Tensor.transposedConvolution2D(x, weight: weight, bias: bias, stride: SpatialPair(2), padding: SpatialPair(1), relu: fused)
                : Tensor.convolution2D(x, weight: weight, bias: bias, stride: SpatialPair(2), padding: SpatialPair(1), relu: fused)
            let output = fused ? y : y.relu()
            let planar = output.planarImages()
            planar.backward(seed: (0..<planar.count).map { Float(($0 * 7919) % 13) - 6 })
            return (planar.scalars, x.gradient!, weight.gradient!, bias.gradient!)
        }
        let unfused = run(fused: false), fused = run(fused: true)
        func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count) }
        #expect(differing(fused.y, unfused.y) == 0)
        #expect(fused.y.contains(0) && fused.y.contains { $0 > 0 })
        #expect(differing(fused.x, unfused.x) == 0)
        #expect(differing(fused.weight, unfused.weight) == 0)
        #expect(differing(fused.bias, unfused.bias) == 0)
    }

    /// Sixteen channels in and out at stride 1 (as a VQ-VAE decoder's first layer on its code
    /// grid), where oneDNN picks channel-blocked kernels: values and gradients match the reference.
    @Test(arguments: [false, true])
    func wideStrideOneConvolutionsMatchTheReference(transposed: Bool) {
        let c = ConvolutionCase(batch: 1, channels: 16, outputChannels: 16, height: 4, width: 4, kernel: SpatialPair(3), stride: SpatialPair(1),
                                padding: SpatialPair(1), bias: true)
        let weightShape = transposed ? [c.channels, c.outputChannels, 3, 3] : [c.outputChannels, c.channels, 3, 3]
        let report = GradientCheck.run(inputs: [([c.batch, c.channels, c.height, c.width], -1...1), (weightShape, -0.2...0.2), ([c.outputChannels], -1...1)],
                                       engine: { t in
            (transposed ? Tensor.transposedConvolution2D(t[0], weight: t[1], bias: t[2], stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
                : Tensor.convolution2D(t[0], weight: t[1], bias: t[2], stride: c.stride, padding: c.padding)).planarImages()
        }, reference: { v in
            transposed
                ? ReferenceConvolution.transposed(v[0], size: c.size, weight: v[1], outputChannels: c.outputChannels, kernel: c.kernel, bias: v[2],
                                                  stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
                : ReferenceConvolution.forward(v[0], size: c.size, weight: v[1], outputChannels: c.outputChannels, kernel: c.kernel, bias: v[2],
                                               stride: c.stride, padding: c.padding)
        })
        #expect(report.forwardError < 1e-5, "\(report)")
        #expect(report.gradientError < Self.tolerance, "\(report)")
    }

    /// A chain with 16 and 32 channels, where oneDNN passes channel-blocked tensors between the
    /// layers (odd pixel counts, so blocks straddle vectors): the result, made planar, equals the
    /// references' chain, and so do the gradients.
    @Test func blockedChainsMatchTheReferenceChain() {
        var generator = RandomGenerator(seed: 3)
        let size = ImageBatchSize(batch: 3, channels: 1, height: 11, width: 9)
        let x = Tensor.randomUniform(size.shape(.planar), low: 0, high: 1, using: &generator, requiresGradient: true)
        let w1 = Tensor.randomUniform([16, 1, 3, 3], low: -0.5, high: 0.5, using: &generator, requiresGradient: true)
        let b1 = Tensor.randomUniform([16], low: -0.5, high: 0.5, using: &generator, requiresGradient: true)
        let w2 = Tensor.randomUniform([16, 32, 3, 3], low: -0.2, high: 0.2, using: &generator, requiresGradient: true)
        let b2 = Tensor.randomUniform([32], low: -0.5, high: 0.5, using: &generator, requiresGradient: true)
        let w3 = Tensor.randomUniform([1, 32, 3, 3], low: -0.2, high: 0.2, using: &generator, requiresGradient: true)
        let h1 = Tensor.convolution2D(x, weight: w1, bias: b1, stride: SpatialPair(2), padding: SpatialPair(1))
        let h2 = Tensor.transposedConvolution2D(h1.tanh(), weight: w2, bias: b2, stride: SpatialPair(2), padding: SpatialPair(1),
                                                outputPadding: SpatialPair(0))
        #expect(h1.imageLayout != .planar && h2.imageLayout != .planar, "oneDNN chose planar layouts: \(h1.shape), \(h2.shape)")
        let y = Tensor.convolution2D(h2.tanh(), weight: w3, bias: nil, padding: SpatialPair(1)).planarImages()
        #expect(y.shape == [3, 1, 11, 9])

        func chain(_ v: [[Double]]) -> [Double] {
            let a = ReferenceConvolution.forward(v[0], size: size, weight: v[1], outputChannels: 16, kernel: SpatialPair(3), bias: v[2],
                                                 stride: SpatialPair(2), padding: SpatialPair(1)).map { Foundation.tanh($0) }
            let b = ReferenceConvolution.transposed(a, size: ImageBatchSize(batch: 3, channels: 16, height: 6, width: 5), weight: v[3],
                                                    outputChannels: 32, kernel: SpatialPair(3), bias: v[4], stride: SpatialPair(2),
                                                    padding: SpatialPair(1), outputPadding: SpatialPair(0)).map { Foundation.tanh($0) }
            return ReferenceConvolution.forward(b, size: ImageBatchSize(batch: 3, channels: 32, height: 11, width: 9), weight: v[5],
                                                outputChannels: 1, kernel: SpatialPair(3), bias: nil, stride: SpatialPair(1), padding: SpatialPair(1))
        }
        let parameters = [x, w1, b1, w2, b2, w3]
        let values = parameters.map { $0.scalars.map(Double.init) }
        let expected = chain(values)
        var forwardError = 0.0
        for (a, b) in zip(y.scalars, expected) { forwardError = max(forwardError, GradientCheck.relativeError(Double(a), b)) }
        #expect(forwardError < 1e-5)

        // Gradient of Σ y² against central differences of the reference chain, on a sample of entries.
        y.squared().sum().backward()
        func loss(_ v: [[Double]]) -> Double { chain(v).reduce(0) { $0 + $1 * $1 } }
        var gradientError = 0.0
        for (index, tensor) in parameters.enumerated() {
            let gradient = tensor.gradient!
            for element in stride(from: 0, to: tensor.count, by: max(1, tensor.count / 12)) {
                var plus = values, minus = values
                let h = 1e-6
                plus[index][element] += h
                minus[index][element] -= h
                let numeric = (loss(plus) - loss(minus)) / (2 * h)
                gradientError = max(gradientError, GradientCheck.relativeError(Double(gradient[element]), numeric))
            }
        }
        #expect(gradientError < Self.tolerance)
    }

    @Test func blockingAndUnblockingAreInversePermutations() {
        var generator = RandomGenerator(seed: 5)
        let x = Tensor.randomUniform([2, 16, 3, 2], low: -1, high: 1, using: &generator, requiresGradient: true)
        let blocked = x.blockedImages(8)
        #expect(blocked.shape == [2, 2, 3, 2, 8])
        #expect(blocked.imageBatchSize == x.imageBatchSize)
        // Channel 9 of pixel (1, 0) of image 1 sits in block 1, lane 1.
        let blockedIndex: Int = (((1 * 2 + 1) * 3 + 1) * 2 + 0) * 8 + 1
        let planarIndex: Int = ((1 * 16 + 9) * 3 + 1) * 2 + 0
        #expect(blocked.scalars[blockedIndex] == x.scalars[planarIndex])
        let back = blocked.planarImages()
        #expect(back.scalars == x.scalars)
        (back * 2).sum().backward()
        #expect(x.gradient == [Float](repeating: 2, count: x.count))
    }

    /// After the first training step of a conv stack, further steps create no primitives and
    /// take no new buffers.
    @Test func steadyStateStepsCreateNoPrimitivesAndAllocateNothing() {
        var generator = RandomGenerator(seed: 9)
        let x = Tensor.randomUniform([4, 1, 28, 28], low: 0, high: 1, using: &generator)
        let w1 = Tensor.randomUniform([32, 1, 3, 3], low: -0.3, high: 0.3, using: &generator, requiresGradient: true)
        let w2 = Tensor.randomUniform([32, 8, 3, 3], low: -0.1, high: 0.1, using: &generator, requiresGradient: true)
        let b2 = Tensor.randomUniform([8], low: -0.1, high: 0.1, using: &generator, requiresGradient: true)
        func step() {
            let h = Tensor.convolution2D(x, weight: w1, bias: nil, stride: SpatialPair(2), padding: SpatialPair(1)).relu()
            let y = Tensor.transposedConvolution2D(h, weight: w2, bias: b2, stride: SpatialPair(2), padding: SpatialPair(1),
                                                   outputPadding: SpatialPair(1))
            y.squared().mean().backward()
            for w in [w1, w2, b2] { w.zeroGradient() }
        }
        step(); step()
        // Tests running in parallel may create primitives and buffers during a window; a step
        // that creates them shows in every window, so one clean window out of five is the criterion.
        var windows: [(primitives: Int, buffers: Int)] = []
        let cleanWindow = (0..<5).contains { _ in
            let (primitives, buffers) = (OneDNN.primitiveCount, BufferPool.shared.allocationCount)
            for _ in 0..<5 { step() }
            windows.append((OneDNN.primitiveCount - primitives, BufferPool.shared.allocationCount - buffers))
            return windows.last! == (0, 0)
        }
        #expect(cleanWindow, "every window of five steps created primitives or buffers: \(windows)")
    }
}

import Foundation

/// bf16 convolutions: both ops, forward and every gradient, against the reference on the
/// bf16-rounded operands in Double (a bf16 op rounds what each pass reads and accumulates in
/// fp32). The reference is linear in each operand, so each gradient entry is the reference's
/// output for a unit operand, weighted by the rounded output gradient.
@Suite struct BFloat16ConvolutionTests {
    static func rounded(_ values: [Float]) -> [Double] { values.map { Double(ReferenceMath.bfloat16($0)) } }

    static func check(_ c: ConvolutionCase, transposed: Bool) {
        var generator = RandomGenerator(seed: 21)
        let weightShape = transposed ? [c.channels, c.outputChannels, c.kernel.height, c.kernel.width]
                                     : [c.outputChannels, c.channels, c.kernel.height, c.kernel.width]
        let x = Tensor.randomUniform(c.size.shape(.planar), low: -1, high: 1, using: &generator, requiresGradient: true)
        let weight = Tensor.randomUniform(weightShape, low: -1, high: 1, using: &generator, requiresGradient: true)
        let bias = Tensor.randomUniform([c.outputChannels], low: -1, high: 1, using: &generator, requiresGradient: true)
        func reference(_ x: [Double], _ weight: [Double], _ bias: [Double]?) -> [Double] {
            transposed
                ? ReferenceConvolution.transposed(x, size: c.size, weight: weight, outputChannels: c.outputChannels, kernel: c.kernel, bias: bias,
                                                  stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
                : ReferenceConvolution.forward(x, size: c.size, weight: weight, outputChannels: c.outputChannels, kernel: c.kernel, bias: bias,
                                               stride: c.stride, padding: c.padding)
        }
        let y = withPrecision(.bf16) {
            transposed
                ? Tensor.transposedConvolution2D(x, weight: weight, bias: bias, stride: c.stride, padding: c.padding, outputPadding: c.outputPadding)
                : Tensor.convolution2D(x, weight: weight, bias: bias, stride: c.stride, padding: c.padding)
        }.planarImages()
        let (roundedX, roundedWeight) = (rounded(x.scalars), rounded(weight.scalars))
        let expected = reference(roundedX, roundedWeight, bias.scalars.map(Double.init))
        let scale = expected.map { abs($0) }.max()!
        #expect(zip(y.scalars, expected).map { abs(Double($0) - $1) }.max()! < 1e-5 * scale, "\(c) forward")
        let seed = Tensor.randomUniform(y.shape, low: -1, high: 1, using: &generator).scalars
        (y * Tensor(shape: y.shape, scalars: seed)).sum().backward()
        let roundedSeed = rounded(seed)
        func unit(_ count: Int, _ index: Int) -> [Double] { (0..<count).map { $0 == index ? 1 : 0 } }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        // About 64 entries of each gradient, spread over it (one reference call each).
        func sample(_ count: Int) -> [Int] { Array(stride(from: 0, to: count, by: max(1, count / 64))) }
        let (xEntries, weightEntries) = (sample(x.count), sample(weight.count))
        let dX = xEntries.map { dot(roundedSeed, reference(unit(x.count, $0), roundedWeight, nil)) }
        let dW = weightEntries.map { dot(roundedSeed, reference(roundedX, unit(weight.count, $0), nil)) }
        // The forward op's bias gradient comes from oneDNN's backward-weights pass, which reads the
        // rounded output gradient; the transposed op sums the fp32 gradient itself.
        let dB = (0..<c.outputChannels).map { channel in
            dot(transposed ? seed.map(Double.init) : roundedSeed, reference([Double](repeating: 0, count: x.count), [Double](repeating: 0, count: weight.count),
                                                 unit(c.outputChannels, channel)))
        }
        let (xGradient, weightGradient) = (x.gradient!, weight.gradient!)
        for (name, engine, oracle) in [("dx", xEntries.map { xGradient[$0] }, dX), ("dw", weightEntries.map { weightGradient[$0] }, dW),
                                       ("db", bias.gradient!, dB)] {
            let size = max(oracle.map { abs($0) }.max()!, 1e-9)
            #expect(zip(engine, oracle).map { abs(Double($0) - $1) }.max()! < 1e-5 * size, "\(c) \(name)")
        }
    }

    @Test(arguments: ConvolutionCase.grid.filter { $0.padding == SpatialPair(1) })
    func bf16ConvolutionsEqualTheReferenceOnRoundedOperands(_ c: ConvolutionCase) {
        Self.check(c, transposed: false)
        Self.check(c, transposed: true)
    }

    /// Channels that fill oneDNN's blocks, where its bf16 kernels run (the small cases above may
    /// fall back to fp32 for lack of a bf16 kernel; these do not).
    @Test func bf16ConvolutionsOfBlockedChannelsEqualTheReference() {
        let c = ConvolutionCase(batch: 2, channels: 16, outputChannels: 16, height: 6, width: 5, kernel: SpatialPair(3),
                                stride: SpatialPair(2), padding: SpatialPair(1), outputPadding: SpatialPair(1), bias: true)
        Self.check(c, transposed: false)
        Self.check(c, transposed: true)
        #expect(OneDNN.convolutionReport.contains { $0.contains("16x") && $0.contains(", bf16:") })
    }
}
