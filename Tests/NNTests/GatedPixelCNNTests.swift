import Foundation
import Testing
import NN
import TensorCore
import _TestSupport

/// The gated PixelCNN: causal by construction (no output depends on its own or a later
/// position, checked by perturbing every position), its masks, its shifted vertical stack, its
/// likelihood and its sampler.
@Suite struct GatedPixelCNNTests {
    static func network(classes: Int? = nil, kernel: Int = 3, layers: Int = 3) -> GatedPixelCNN {
        var generator = RandomGenerator(seed: 5)
        return GatedPixelCNN(GatedPixelCNNConfiguration(codes: 5, height: 4, width: 5, classes: classes, channels: 8, layers: layers, kernel: kernel,
                                                        outputChannels: 12), using: &generator)
    }

    /// Changing the value at position p changes no logits at positions ≤ p, and (with enough
    /// layers to reach it) changes those after it.
    @Test(arguments: [(nil, 3), (3, 3), (nil, 5)] as [(Int?, Int)])
    func noOutputDependsOnItsOwnOrALaterPosition(classes: Int?, kernel: Int) {
        let network = Self.network(classes: classes, kernel: kernel, layers: 4)
        var generator = RandomGenerator(seed: 8)
        let positions = 20
        let codes = (0..<(2 * positions)).map { _ in Int32(generator.next() % 5) }
        let labels = classes.map { _ in [1, 2] }
        let base = withoutGradients { network.logits(codes: codes, count: 2, labels: labels).scalars }
        var laterChanged = 0
        for position in 0..<positions {
            var perturbed = codes
            perturbed[positions + position] = (perturbed[positions + position] + 1) % 5  // the second grid
            let changed = withoutGradients { network.logits(codes: perturbed, count: 2, labels: labels).scalars }
            for other in 0..<positions {
                let before = base[((positions + other) * 5)..<((positions + other + 1) * 5)]
                let after = changed[((positions + other) * 5)..<((positions + other + 1) * 5)]
                if other <= position {
                    #expect(Array(before) == Array(after), "position \(other) moved when \(position) changed")
                } else if Array(before) != Array(after) {
                    laterChanged += 1
                }
            }
            #expect(Array(base[0..<(positions * 5)]) == Array(changed[0..<(positions * 5)]), "the other grid moved")
        }
        #expect(laterChanged > positions * (positions - 1) / 4, "later positions should see earlier ones: \(laterChanged)")
    }

    @Test func theMasksKeepTheUpperHalfAndTheLeftHalf() {
        #expect(CausalMask.vertical.values(kernel: SpatialPair(3)) == [1, 1, 1, 1, 1, 1, 0, 0, 0])
        #expect(CausalMask.horizontal(includesCentre: true).values(kernel: SpatialPair(1, 5)) == [1, 1, 1, 0, 0])
        #expect(CausalMask.horizontal(includesCentre: false).values(kernel: SpatialPair(1, 5)) == [1, 1, 0, 0, 0])
    }

    @Test func shiftingDownMovesEveryRowOneDownAndItsGradientBack() {
        let (batch, channels, height, width) = (2, 3, 4, 3)
        let report = GradientCheck.run(inputs: [([batch, channels, height, width], -1...1)], engine: { t in t[0].shiftedDown() }, reference: { v in
            var y = [Double](repeating: 0, count: v[0].count)
            for plane in 0..<(batch * channels) { for i in 1..<height { for j in 0..<width {
                y[(plane * height + i) * width + j] = v[0][(plane * height + i - 1) * width + j]
            } } }
            return y
        })
        #expect(report.forwardError == 0 && report.gradientError < 1e-3, "\(report)")
    }

    /// A masked convolution (its kept block run padded unevenly) equals the full k x k (or 1 x k)
    /// convolution with "same" padding whose weight is the block with zeros at the masked taps.
    @Test(arguments: [(CausalMask.vertical, SpatialPair(3)), (.vertical, SpatialPair(5, 3)), (.horizontal(includesCentre: true), SpatialPair(1, 5)),
                      (.horizontal(includesCentre: false), SpatialPair(1, 3))])
    func aMaskedConvolutionIsTheFullConvolutionWithItsMaskedWeight(mask: CausalMask, kernel: SpatialPair) {
        var generator = RandomGenerator(seed: 11)
        let convolution = MaskedConv2D(inputChannels: 3, outputChannels: 4, kernel: kernel, mask: mask, using: &generator)
        let kept = mask.keptKernel(of: kernel)
        #expect(convolution.weight.shape == [4, 3, kept.height, kept.width])
        let taps = mask.values(kernel: kernel)
        var full = [Double](repeating: 0, count: 4 * 3 * kernel.height * kernel.width)
        for filter in 0..<12 { for u in 0..<kept.height { for v in 0..<kept.width {
            let tap = u * kernel.width + v
            full[filter * kernel.height * kernel.width + tap] = Double(convolution.weight.scalars[(filter * kept.height + u) * kept.width + v]) * Double(taps[tap])
        } } }
        let size = ImageBatchSize(batch: 2, channels: 3, height: 5, width: 6)
        let x = Tensor.randomUniform([2, 3, 5, 6], low: -1, high: 1, using: &generator)
        let expected = ReferenceConvolution.forward(x.scalars.map(Double.init), size: size, weight: full, outputChannels: 4, kernel: kernel,
                                                    bias: convolution.bias.scalars.map(Double.init), stride: SpatialPair(1),
                                                    padding: SpatialPair(kernel.height / 2, kernel.width / 2))
        let output = withoutGradients { convolution(x) }
        #expect(output.shape == [2, 4, 5, 6])
        let error = zip(output.scalars, expected).map { abs(Double($0) - $1) }.max()!
        #expect(error < 1e-5, "largest difference \(error)")
    }

    /// The loss is Σ −log softmax(logits)[value], and its gradient matches central differences for
    /// a weight; the first layer's horizontal centre column (masked) gets no gradient.
    @Test func theLikelihoodIsTheSoftmaxCrossEntropyAndItsGradientMatchesDifferences() {
        let network = Self.network(classes: 2)
        let codes: [Int32] = (0..<20).map { Int32($0 % 5) }
        let loss = network.negativeLogLikelihood(codes: codes, count: 1, labels: [1])
        let logits = withoutGradients { network.logits(codes: codes, count: 1, labels: [1]).scalars }
        var expected = 0.0
        for p in 0..<20 {
            let row = logits[(p * 5)..<(p * 5 + 5)].map(Double.init)
            let largest = row.max()!
            expected += largest + log(row.reduce(0) { $0 + exp($1 - largest) }) - row[Int(codes[p])]
        }
        #expect(abs(Double(loss.item) - expected) < 1e-4 * expected)
        loss.backward()
        let first = network.layers[0].horizontal.weight.gradient!
        for (index, value) in first.enumerated() where index % 2 == 1 { #expect(value == 0) }  // 1 x 2 blocks: the centre is column 1
        #expect(first.contains { $0 != 0 })
        for weight in [network.layers[1].vertical.weight, network.layers[2].verticalToHorizontal.weight, network.layers[1].condition!.weight] {
            let gradient = weight.gradient!
            let probe = 4
            let h: Float = 1e-2
            let original = weight.pointer[probe]
            weight.pointer[probe] = original + h
            let plus = withoutGradients { network.negativeLogLikelihood(codes: codes, count: 1, labels: [1]).item }
            weight.pointer[probe] = original - h
            let minus = withoutGradients { network.negativeLogLikelihood(codes: codes, count: 1, labels: [1]).item }
            weight.pointer[probe] = original
            #expect(abs(Double((plus - minus) / (2 * h)) - Double(gradient[probe])) < 2e-2 * max(1, abs(Double(gradient[probe]))))
        }
    }

    /// At a low temperature the sampler takes each position's most likely value given those drawn;
    /// the same seed draws the same grids.
    @Test func theSamplerFollowsTheNetworkAndItsSeed() {
        let network = Self.network()
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let first = network.sample(count: 3, labels: nil, using: &a)
        #expect(first == network.sample(count: 3, labels: nil, using: &b))
        #expect(first.allSatisfy { (0..<5).contains($0) } && first.count == 60)
        var c = RandomGenerator(seed: 4)
        let cold = network.sample(count: 1, labels: nil, temperature: 1e-4, using: &c)
        let logits = withoutGradients { network.logits(codes: cold, count: 1, labels: nil).scalars }
        for p in 0..<20 {
            let row = Array(logits[(p * 5)..<(p * 5 + 5)])
            #expect(Int(cold[p]) == row.indices.max { row[$0] < row[$1] }!)
        }
    }
}
