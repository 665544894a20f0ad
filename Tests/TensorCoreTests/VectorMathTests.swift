import Foundation
import Testing
import _TestSupport
import TensorCore

/// Every fast kernel against Double over its normal range, and against its scalar reference.
@Suite struct VectorMathTests {
    /// Samples spread over [low, high] plus random points, evaluated 16 at a time.
    func maximumUlp(low: Float, high: Float, samples: Int = 200_000,
                    _ fast: (FloatVector) -> FloatVector, _ exact: (Double) -> Double) -> (Double, Float) {
        var generator = RandomGenerator(seed: 11)
        var worst = (0.0, Float(0))
        var x = FloatVector()
        for i in 0..<samples {
            let lane = i % 16
            x[lane] = i % 2 == 0 ? low + (high - low) * Float(i) / Float(samples) : low + (high - low) * generator.nextUniform()
            guard lane == 15 else { continue }
            let y = fast(x)
            for l in 0..<16 {
                let ulps = ulpDistance(y[l], exact(Double(x[l])))
                if ulps > worst.0 { worst = (ulps, x[l]) }
            }
        }
        return worst
    }

    /// The worst ulp error over x = m · 2^e with random m in [1, 2) and e in [-140, 109]:
    /// every binade from subnormals to the largest floats.
    func maximumUlpOverAllBinades(seed: UInt64, _ fast: (FloatVector) -> FloatVector, _ exact: (Double) -> Double) -> Double {
        var generator = RandomGenerator(seed: seed)
        var worst = 0.0
        for _ in 0..<20_000 {
            var x = FloatVector()
            for l in 0..<16 {
                let exponent = Int(generator.next(upperBound: UInt64(250))) - 140
                x[l] = Float(sign: .plus, exponent: exponent, significand: 1 + generator.nextUniform())
            }
            let y = fast(x)
            for l in 0..<16 { worst = max(worst, ulpDistance(y[l], exact(Double(x[l])))) }
        }
        return worst
    }

    @Test func expIsWithinTwoUlpOverTheNormalRange() {
        let (ulps, at) = maximumUlp(low: -87.3, high: 88.7, VectorMath.exp, Foundation.exp)
        #expect(ulps <= 2, "exp is \(ulps) ulp off at \(at)")
    }

    @Test func expUnderflowsAndOverflowsLikeTheCLibrary() {
        let y = VectorMath.exp(FloatVector([-200, -104, -103, 89, 100, .infinity, -.infinity, 0, 1, -1, 10, -10, 50, -50, .nan, 88.7]))
        #expect(y[0] == 0 && y[1] == 0 && y[2] > 0)
        #expect(y[3] == .infinity && y[4] == .infinity && y[5] == .infinity && y[6] == 0)
        #expect(y[7] == 1 && y[14].isNaN && y[15].isFinite)
    }

    @Test func expm1IsWithinTwoUlpIncludingNearZero() {
        for (low, high) in [(Float(-20), Float(20)), (-0.01, 0.01), (-1e-6, 1e-6)] {
            let (ulps, at) = maximumUlp(low: low, high: high, VectorMath.expm1, Foundation.expm1)
            #expect(ulps <= 2, "expm1 is \(ulps) ulp off at \(at)")
        }
    }

    @Test func logIsWithinTwoUlpFromSubnormalsToTheLargestFloat() {
        let worst = maximumUlpOverAllBinades(seed: 3, VectorMath.log) { Foundation.log($0) }
        #expect(worst <= 2, "log is \(worst) ulp off")
        let special = VectorMath.log(FloatVector([0, -1, .infinity, .nan, 1, 2, 0.5, 10, 1, 1, 1, 1, 1, 1, 1, 1]))
        #expect(special[0] == -.infinity && special[1].isNaN && special[2] == .infinity && special[3].isNaN && special[4] == 0)
    }

    @Test func sigmoidIsWithinTwoUlp() {
        let (ulps, at) = maximumUlp(low: -80, high: 30, VectorMath.sigmoid) { 1 / (1 + Foundation.exp(-$0)) }
        #expect(ulps <= 2, "sigmoid is \(ulps) ulp off at \(at)")
    }

    @Test func softplusIsWithinTwoUlp() {
        let (ulps, at) = maximumUlp(low: -80, high: 80, VectorMath.softplus) { Foundation.log1p(Foundation.exp($0)) }
        #expect(ulps <= 2, "softplus is \(ulps) ulp off at \(at)")
    }

    @Test func tanhIsWithinTwoUlpIncludingNearZero() {
        for (low, high) in [(Float(-12), Float(12)), (-0.1, 0.1), (-1e-5, 1e-5)] {
            let (ulps, at) = maximumUlp(low: low, high: high, VectorMath.tanh, Foundation.tanh)
            #expect(ulps <= 2, "tanh is \(ulps) ulp off at \(at)")
        }
    }

    @Test func squareRootIsWithinOneUlpFromSubnormalsToTheLargestFloat() {
        let worst = maximumUlpOverAllBinades(seed: 8, VectorMath.squareRoot) { $0.squareRoot() }
        #expect(worst <= 1, "sqrt is \(worst) ulp off")
        let special = VectorMath.squareRoot(FloatVector([0, -1, .infinity, .nan, 4, 1e-40, 2, 9, 1, 1, 1, 1, 1, 1, 1, 1]))
        #expect(special[0] == 0 && special[1].isNaN && special[2] == .infinity && special[3].isNaN && special[4] == 2)
    }

    @Test func fastKernelsMatchTheirScalarReferences() {
        var generator = RandomGenerator(seed: 5)
        let count = 1000  // not a multiple of 16: exercises the tail
        var x = [Float](repeating: 0, count: count)
        x.withUnsafeMutableBufferPointer { generator.fillUniform($0, low: -20, high: 20) }
        let functions: [UnaryFunction] = [.exp, .sigmoid, .tanh, .relu, .softplus, .negate, .square, .elu(alpha: 1), .elu(alpha: 0.5), .silu, .leakyRelu(slope: 0.2)]
        for function in functions {
            var fast = [Float](repeating: 0, count: count), slow = fast
            ElementwiseKernels.apply(function, x, &fast, count: count)
            ElementwiseKernels.applyReference(function, x, &slow, count: count)
            for i in 0..<count {
                #expect(abs(fast[i] - slow[i]) <= 3 * max(abs(slow[i]).ulp, Float.leastNormalMagnitude), "\(function) at \(x[i]): \(fast[i]) vs \(slow[i])")
            }
        }
        let positive = x.map { abs($0) + 1e-3 }
        for function in [UnaryFunction.log, .sqrt] {
            var fast = [Float](repeating: 0, count: count), slow = fast
            ElementwiseKernels.apply(function, positive, &fast, count: count)
            ElementwiseKernels.applyReference(function, positive, &slow, count: count)
            for i in 0..<count { #expect(abs(fast[i] - slow[i]) <= 3 * abs(slow[i]).ulp, "\(function) at \(positive[i])") }
        }
    }
}
