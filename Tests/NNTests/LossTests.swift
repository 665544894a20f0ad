import Foundation
import Testing
import _TestSupport
import NN
import TensorCore

@Suite struct LossTests {
    func expectClose(_ a: Float, _ b: Double, _ tolerance: Double = 1e-5, _ what: String = "") {
        #expect(abs(Double(a) - b) <= tolerance * max(1, abs(b)), "\(what): \(a) vs \(b)")
    }

    @Test func binaryCrossEntropyOnLogitsMatchesTheDefinition() {
        let x: [Float] = [-3, -0.5, 0, 0.7, 4, 2]
        let t: [Float] = [0, 1, 0.5, 1, 0, 0.3]
        let expected = zip(x, t).map { x, t -> Double in
            let p = 1 / (1 + Foundation.exp(-Double(x)))
            return -(Double(t) * Foundation.log(p) + (1 - Double(t)) * Foundation.log(1 - p))
        }
        let loss = binaryCrossEntropy(logits: Tensor(shape: [2, 3], scalars: x), targets: Tensor(shape: [2, 3], scalars: t), reduction: .none)
        for (a, b) in zip(loss.scalars, expected) { expectClose(a, b) }
        let sum = binaryCrossEntropy(logits: Tensor(shape: [2, 3], scalars: x), targets: Tensor(shape: [2, 3], scalars: t), reduction: .sum)
        expectClose(sum.item, expected.reduce(0, +))
        let mean = binaryCrossEntropy(logits: Tensor(shape: [2, 3], scalars: x), targets: Tensor(shape: [2, 3], scalars: t), reduction: .mean)
        expectClose(mean.item, expected.reduce(0, +) / 6)
    }

    @Test(.enabled(if: AVX512Kernels.isAvailable, "the processor has no AVX-512"))
    func avx512CrossEntropyKernelMatchesTheSwiftReference() {
        var generator = RandomGenerator(seed: 3)
        let count = 4099  // 256 full vectors and a tail of 3
        var x = [Float](repeating: 0, count: count), t = [Float](repeating: 0, count: count)
        x.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: 6) }
        t.withUnsafeMutableBufferPointer { generator.fillUniform($0) }
        // The edges: zero, large of both signs, where e^-|x| underflows, tiny logits.
        let edges: [Float] = [0, -0.0, 100, -100, 88, -88, 104, -104, 1e-30, -1e-30, 20, -20]
        for (i, value) in edges.enumerated() { x[i] = value; t[i] = i % 2 == 0 ? 1 : 0 }
        var valuesReference = [Float](repeating: 0, count: count), valuesFast = valuesReference
        var derivativeReference = valuesReference, derivativeFast = valuesReference
        let sumReference = binaryCrossEntropyLogitsTerms(logits: x, targets: t, derivative: &derivativeReference,
                                                         values: &valuesReference, count: count)
        let sumFast = AVX512Kernels.binaryCrossEntropyLogits(logits: x, targets: t, derivative: &derivativeFast,
                                                             values: &valuesFast, count: count)
        for i in 0..<count {
            // max(x, 0) - x t cancels: the rounding is relative to |x|, not to the term.
            #expect(abs(valuesFast[i] - valuesReference[i]) <= 4e-7 * max(1, abs(x[i])), "term \(i) at x = \(x[i])")
            #expect(abs(derivativeFast[i] - derivativeReference[i]) <= 3e-7, "derivative \(i) at x = \(x[i])")
        }
        #expect(abs(sumFast - sumReference) <= 1e-5 * abs(sumReference))
        // Without the optional outputs the sum is the same.
        let sumOnly = AVX512Kernels.binaryCrossEntropyLogits(logits: x, targets: t, derivative: nil, values: nil, count: count)
        #expect(sumOnly == sumFast)
    }

    @Test func binaryCrossEntropyOnLogitsStaysFiniteAtPlusMinusHundred() {
        let x = Tensor(shape: [4], scalars: [100, -100, 100, -100], requiresGradient: true)
        let t = Tensor(shape: [4], scalars: [1, 0, 0, 1])
        let loss = binaryCrossEntropy(logits: x, targets: t, reduction: .none)
        #expect(loss.scalars.allSatisfy { $0.isFinite })
        expectClose(loss.scalars[0], 0); expectClose(loss.scalars[1], 0)
        expectClose(loss.scalars[2], 100); expectClose(loss.scalars[3], 100)
        loss.backward(seed: [1, 1, 1, 1])
        let gradient = x.gradient!  // σ(±100) - t: σ(-100) = 3.7e-44 is not quite 0
        #expect(gradient[0] == 0 && abs(gradient[1]) < 1e-40 && gradient[2] == 1 && gradient[3] == -1)
    }

    @Test func binaryCrossEntropyOnProbabilitiesClampsLikePyTorchAndKeras() {
        let p = Tensor(shape: [4], scalars: [0, 1, 0.25, 0.9])
        let t = Tensor(shape: [4], scalars: [1, 0, 1, 0])
        let pytorch = binaryCrossEntropy(probabilities: p, targets: t, clamp: .pytorch, reduction: .none).scalars
        #expect(pytorch[0] == 100 && pytorch[1] == 100)
        expectClose(pytorch[2], -Foundation.log(0.25)); expectClose(pytorch[3], -Foundation.log(0.1), 1e-5)
        let keras = binaryCrossEntropy(probabilities: p, targets: t, clamp: .keras, reduction: .none).scalars
        expectClose(keras[0], -Foundation.log(1e-7), 1e-4)
        #expect(keras.allSatisfy { $0.isFinite })
    }

    @Test func gaussianKLMatchesTheClosedFormAndIsZeroAtThePrior() {
        let mu: [Float] = [0.5, -1, 0, 2, 0.1, -0.3]
        let logVariance: [Float] = [0, -1, 0.5, -2, 1, 0.2]
        let expected = (0..<2).map { r in
            (0..<3).reduce(0.0) { total, j in
                let m = Double(mu[r * 3 + j]), v = Double(logVariance[r * 3 + j])
                return total - 0.5 * (1 + v - m * m - Foundation.exp(v))
            }
        }
        let kl = gaussianKLDivergence(mean: Tensor(shape: [2, 3], scalars: mu), logVariance: Tensor(shape: [2, 3], scalars: logVariance), reduction: .none)
        for (a, b) in zip(kl.scalars, expected) { expectClose(a, b) }
        let std = logVariance.map { Float(Foundation.exp(Double($0) / 2)) }
        let fromStd = gaussianKLDivergence(mean: Tensor(shape: [2, 3], scalars: mu), standardDeviation: Tensor(shape: [2, 3], scalars: std), reduction: .none)
        for (a, b) in zip(fromStd.scalars, expected) { expectClose(a, b, 1e-5) }
        let prior = gaussianKLDivergence(mean: .zeros([4, 5]), logVariance: .zeros([4, 5]), reduction: .sum)
        #expect(prior.item == 0)
    }

    @Test func softmaxCrossEntropyMatchesTheDefinitionForLargeLogits() {
        let logits: [Float] = [1, 2, 3, 1000, 1001, 999]
        let loss = softmaxCrossEntropy(logits: Tensor(shape: [2, 3], scalars: logits), labels: [0, 1], reduction: .none)
        let row1 = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0)) - 1
        let row2 = Foundation.log(Foundation.exp(0.0) + Foundation.exp(1.0) + Foundation.exp(-1.0)) - 1
        expectClose(loss.scalars[0], row1); expectClose(loss.scalars[1], row2)
    }

    @Test func meanSquaredErrorMatchesTheDefinition() {
        let loss = meanSquaredError(predictions: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), targets: Tensor(shape: [2, 2], scalars: [0, 2, 5, 3]))
        expectClose(loss.item, (1 + 0 + 4 + 1) / 4.0)
    }

    // MARK: Gradients against Double references

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    @Test(arguments: [Reduction.none, .sum, .mean])
    func lossGradientsMatchFiniteDifferences(reduction: Reduction) {
        func reduce(_ terms: [Double]) -> [Double] {
            switch reduction {
            case .none: terms
            case .sum: [terms.reduce(0, +)]
            case .mean: [terms.reduce(0, +) / Double(terms.count)]
            }
        }
        let shape = [3, 17]  // 17: a vector and a tail
        let bce = GradientCheck.run(inputs: [(shape, -5...5), (shape, 0...1)], constants: [1], engine: {
            binaryCrossEntropy(logits: $0[0], targets: $0[1], reduction: reduction)
        }) { v in reduce(zip(v[0], v[1]).map { x, t in max(x, 0) - x * t + Foundation.log1p(Foundation.exp(-abs(x))) }) }
        #expect(bce.gradientError < 2e-3 && bce.forwardError < 1e-4, "BCE logits \(bce)")

        for clamp in [ProbabilityClamp.pytorch, .keras] {
            let report = GradientCheck.run(inputs: [(shape, 0.05...0.95), (shape, 0...1)], constants: [1], engine: {
                binaryCrossEntropy(probabilities: $0[0], targets: $0[1], clamp: clamp, reduction: reduction)
            }) { v in reduce(zip(v[0], v[1]).map { p, t in -(t * Foundation.log(p) + (1 - t) * Foundation.log(1 - p)) }) }
            #expect(report.gradientError < 2e-3 && report.forwardError < 1e-4, "BCE probabilities \(clamp) \(report)")
        }

        let mse = GradientCheck.run(inputs: [(shape, -2...2), (shape, -2...2)], constants: [1], engine: {
            meanSquaredError(predictions: $0[0], targets: $0[1], reduction: reduction)
        }) { v in reduce(zip(v[0], v[1]).map { ($0 - $1) * ($0 - $1) }) }
        #expect(mse.gradientError < 2e-3 && mse.forwardError < 1e-4, "MSE \(mse)")

        let latent = [4, 19]
        func klRows(_ mu: [Double], _ spread: [Double], _ term: (Double, Double) -> Double) -> [Double] {
            (0..<4).map { r in (0..<19).reduce(0.0) { $0 + term(mu[r * 19 + $1], spread[r * 19 + $1]) } }
        }
        let klLogVariance = GradientCheck.run(inputs: [(latent, -2...2), (latent, -2...1)], engine: {
            gaussianKLDivergence(mean: $0[0], logVariance: $0[1], reduction: reduction)
        }) { v in reduce(klRows(v[0], v[1]) { m, lv in -0.5 * (1 + lv - m * m - Foundation.exp(lv)) }) }
        #expect(klLogVariance.gradientError < 2e-3 && klLogVariance.forwardError < 1e-4, "KL logvar \(klLogVariance)")

        let klStd = GradientCheck.run(inputs: [(latent, -2...2), (latent, 0.2...2)], engine: {
            gaussianKLDivergence(mean: $0[0], standardDeviation: $0[1], reduction: reduction)
        }) { v in reduce(klRows(v[0], v[1]) { m, s in -0.5 * (1 + 2 * Foundation.log(s) - m * m - s * s) }) }
        #expect(klStd.gradientError < 2e-3 && klStd.forwardError < 1e-4, "KL std \(klStd)")

        let labels = [3, 0, 9, 5, 1]
        let softmax = GradientCheck.run(inputs: [([5, 10], -4...4)], engine: {
            softmaxCrossEntropy(logits: $0[0], labels: labels, reduction: reduction)
        }) { v in
            reduce((0..<5).map { r in
                let row = v[0][(r * 10)..<(r * 10 + 10)]
                return Foundation.log(row.reduce(0) { $0 + Foundation.exp($1) }) - row[r * 10 + labels[r]]
            })
        }
        #expect(softmax.gradientError < 2e-3 && softmax.forwardError < 1e-4, "softmax CE \(softmax)")
    }
}
