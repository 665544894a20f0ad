import Foundation
import Testing
import Optimizers
import TensorCore

/// The AVX-512 Adam kernel (C) against the Swift update it replaces, and the gradient clearing
/// that costs no pass over memory.
@Suite struct AdamKernelTests {
    @Test(.enabled(if: AVX512Kernels.isAvailable, "the processor has no AVX-512"))
    func avx512AdamUpdateMatchesTheSwiftReference() {
        var generator = RandomGenerator(seed: 11)
        let count = 1037  // 64 full vectors and a tail of 13
        func randomValues(_ scale: Float) -> [Float] {
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: scale) }
            return values
        }
        let p0 = randomValues(1), g = randomValues(0.1), m0 = randomValues(0.01)
        let v0 = randomValues(0.001).map { $0 * $0 }
        var (p1, m1, v1) = (p0, m0, v0), (p2, m2, v2) = (p0, m0, v0)
        // Step 3 of lr 1e-3: the corrections PyTorch's Adam applies there.
        let c = Adam.Coefficients(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: Float(1e-3 / (1 - pow(0.9, 3.0))),
                                  inverseRootCorrection2: Float(1 / (1 - pow(0.999, 3.0)).squareRoot()))
        g.withUnsafeBufferPointer { g in
            Adam.update(&p1, UnsafeMutablePointer(mutating: g.baseAddress!), &m1, &v1, count: count, c)
            AVX512Kernels.adamUpdate(values: &p2, gradients: g.baseAddress!, firstMoment: &m2, secondMoment: &v2, count: count,
                                     beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, stepSize: c.stepSize,
                                     inverseRootCorrection2: c.inverseRootCorrection2)
        }
        for i in 0..<count {
            // Both moments are sums of two terms; rounding is relative to the terms, which may cancel.
            let firstScale = c.beta1 * abs(m0[i]) + (1 - c.beta1) * abs(g[i])
            #expect(abs(m1[i] - m2[i]) <= 3e-7 * firstScale, "first moment \(i): \(m1[i]) vs \(m2[i])")
            #expect(abs(v1[i] - v2[i]) <= 1e-6 * abs(v1[i]) + 1e-15, "second moment \(i): \(v1[i]) vs \(v2[i])")
            // The step changes p by at most ~lr/(1 - 0.9^3); its rounding must agree to 1e-5 of it.
            #expect(abs((p1[i] - p0[i]) - (p2[i] - p0[i])) <= 1e-5 * abs(p1[i] - p0[i]) + 2e-7 * abs(p0[i]), "value \(i)")
        }
        #expect(p2 != p0, "the kernel changed nothing")
    }

    @Test func aParameterNoGradientReachedGetsAZeroGradientAfterClearing() {
        let a = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
        let b = Tensor(shape: [3], scalars: [3, 4, 5], requiresGradient: true)
        let optimizer = SGD(parameters: [a, b], learningRate: 0.5)
        (a.sum() + b.sum()).backward()  // both get gradient 1
        optimizer.step()
        #expect(b.scalars == [2.5, 3.5, 4.5])
        optimizer.zeroGradients()
        #expect(b.gradient == [0, 0, 0])
        (a * 2).sum().backward()  // only a: b's stale gradient of 1 must not be applied again
        optimizer.step()
        #expect(a.scalars == [-0.5, 0.5])
        #expect(b.scalars == [2.5, 3.5, 4.5])
        #expect(b.gradient == [0, 0, 0])
    }

    @Test func clearedGradientsAreOverwrittenNotAddedTo() {
        let a = Tensor(shape: [2], scalars: [1, 2], requiresGradient: true)
        let pack = ParameterPack([a])
        (a * 3).sum().backward()
        pack.zeroGradients()
        (a * 2).sum().backward()
        #expect(a.gradient == [2, 2])
        (a * 2).sum().backward()  // without clearing, contributions add
        #expect(a.gradient == [4, 4])
    }
}
