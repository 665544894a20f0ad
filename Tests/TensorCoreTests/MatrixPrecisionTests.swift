import Foundation
import Testing
import TensorCore

/// The bf16 matrix path: conversions against the scalar rounding reference, and every product
/// (forward and both gradients, all transpose flags, accumulation) against a Double product of
/// the bf16-rounded factors. A bf16 product differs from the fp32 one by the rounding of its
/// factors, so finite differences of the fp32 function are not its oracle; the rounded factors are.
@Suite struct MatrixPrecisionTests {
    /// The product of the factors rounded to bf16, accumulated in Double.
    static func roundedProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k {
                    let x = a[transposeA ? p * m + i : i * k + p], y = b[transposeB ? j * k + p : p * n + j]
                    total += Double(ReferenceMath.bfloat16(x)) * Double(ReferenceMath.bfloat16(y))
                }
                c[i * n + j] = total
            }
        }
        return c
    }

    /// The largest |engine − reference| relative to the reference's scale (its largest |value|).
    static func relativeError(_ engine: [Float], _ reference: [Double]) -> Double {
        let scale = max(reference.map { abs($0) }.max() ?? 0, 1e-12)
        return zip(engine, reference).map { abs(Double($0) - $1) }.max()! / scale
    }

    @Test func bfloat16ConversionRoundsToNearestEvenLikeTheReference() {
        var values: [Float] = [0, -0, 1, -1, 0.1, -3.14159, 65504, 1e-30, -1e-38, 3.0e38, 3.4e38, .infinity, -.infinity,
                               .greatestFiniteMagnitude, .leastNormalMagnitude, .leastNonzeroMagnitude,
                               Float(bitPattern: 0x3F80_8000),  // halfway between 1 and the next bf16: ties to even (down)
                               Float(bitPattern: 0x3F81_8000),  // halfway, odd below: ties to even (up)
                               Float(bitPattern: 0x3F80_8001),  // just above halfway: up
                               Float(bitPattern: 0x3F80_7FFF),  // just below halfway: down
                               Float(bitPattern: 0x7F7F_FFFF)]  // rounds past the largest finite bf16 to ∞
        var generator = RandomGenerator(seed: 3)
        for _ in 0..<1000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())) ) }
        values.removeAll { $0.isNaN }
        let converted = values.withUnsafeBufferPointer { BFloat16Buffer(converting: $0.baseAddress!, count: $0.count) }.bitPatterns
        for (value, bits) in zip(values, converted) {
            // A subnormal may also become a zero of its sign (AVX512-BF16's instruction treats
            // subnormal inputs as zero, as training's flush-to-zero mode does anyway).
            let flushed: UInt16 = value.sign == .minus ? 0x8000 : 0
            let allowed = value.isSubnormal ? [ReferenceMath.bfloat16Bits(value), flushed] : [ReferenceMath.bfloat16Bits(value)]
            #expect(allowed.contains(bits), "\(value) (0x\(String(value.bitPattern, radix: 16))): got 0x\(String(bits, radix: 16))")
        }
        let nan = [Float.nan, -Float.nan]
        let nanBits = nan.withUnsafeBufferPointer { BFloat16Buffer(converting: $0.baseAddress!, count: 2) }.bitPatterns
        #expect(nanBits.allSatisfy { ReferenceMath.float(bfloat16Bits: $0).isNaN })
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func bf16MatmulAndItsGradientsEqualProductsOfTheRoundedFactors(transposeA: Bool, transposeB: Bool) {
        let (m, n, k) = (13, 7, 37)
        var generator = RandomGenerator(seed: 5)
        let a = Tensor.randomUniform(transposeA ? [k, m] : [m, k], low: -2, high: 2, using: &generator, requiresGradient: true)
        let b = Tensor.randomUniform(transposeB ? [n, k] : [k, n], low: -2, high: 2, using: &generator, requiresGradient: true)
        let seed = Tensor.randomUniform([m, n], low: -1, high: 1, using: &generator).scalars
        let y = withPrecision(.bf16) { Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
        #expect(Self.relativeError(y.scalars, Self.roundedProduct(a.scalars, b.scalars, m: m, n: n, k: k, transposeA: transposeA,
                                                                   transposeB: transposeB)) < 1e-6)
        y.backward(seed: seed)
        // dop(A) = dC · op(B)ᵀ and dop(B) = op(A)ᵀ · dC, each from rounded factors; stored as A and B are.
        let opB = (0..<(k * n)).map { index in b.scalars[transposeB ? (index % n) * k + index / n : index] }  // op(B) as [k, n]
        let opA = (0..<(m * k)).map { index in a.scalars[transposeA ? (index % k) * m + index / k : index] }  // op(A) as [m, k]
        let dOpA = Self.roundedProduct(seed, opB, m: m, n: k, k: n, transposeA: false, transposeB: true)  // [m, k]
        let dOpB = Self.roundedProduct(opA, seed, m: k, n: n, k: m, transposeA: true, transposeB: false)  // [k, n]
        let dA = transposeA ? (0..<(k * m)).map { dOpA[($0 % m) * k + $0 / m] } : dOpA
        let dB = transposeB ? (0..<(n * k)).map { dOpB[($0 % k) * n + $0 / k] } : dOpB
        #expect(Self.relativeError(a.gradient!, dA) < 1e-6)
        #expect(Self.relativeError(b.gradient!, dB) < 1e-6)
    }

    @Test func bf16LinearAddsItsBiasAndAccumulatesGradients() {
        let (batch, inputs, outputs) = (9, 33, 6)
        var generator = RandomGenerator(seed: 9)
        let x = Tensor.randomUniform([batch, inputs], low: -1, high: 1, using: &generator, requiresGradient: true)
        let weight = Tensor.randomUniform([outputs, inputs], low: -1, high: 1, using: &generator, requiresGradient: true)
        let bias = Tensor.randomUniform([outputs], low: -1, high: 1, using: &generator, requiresGradient: true)
        let seed = Tensor.randomUniform([batch, outputs], low: -1, high: 1, using: &generator).scalars
        let product = Self.roundedProduct(x.scalars, weight.scalars, m: batch, n: outputs, k: inputs, transposeA: false, transposeB: true)
        let expected = product.enumerated().map { $0.element + Double(bias.scalars[$0.offset % outputs]) }
        for pass in 1...2 {  // the second pass accumulates onto the first's gradients (the sum post-op)
            let y = withPrecision(.bf16) { Tensor.linear(x, weight: weight, bias: bias) }
            #expect(Self.relativeError(y.scalars, expected) < 1e-6)
            y.backward(seed: seed)
            let dX = Self.roundedProduct(seed, weight.scalars, m: batch, n: inputs, k: outputs, transposeA: false, transposeB: false)
            let dW = Self.roundedProduct(seed, x.scalars, m: outputs, n: inputs, k: batch, transposeA: true, transposeB: false)
            let db = (0..<outputs).map { j in (0..<batch).reduce(0.0) { $0 + Double(seed[$1 * outputs + j]) } }
            #expect(Self.relativeError(x.gradient!, dX.map { $0 * Double(pass) }) < 1e-6)
            #expect(Self.relativeError(weight.gradient!, dW.map { $0 * Double(pass) }) < 1e-6)
            #expect(Self.relativeError(bias.gradient!, db.map { $0 * Double(pass) }) < 1e-6)
        }
    }

    @Test func bf16DiffersFromFP32ByTheRoundingOfTheFactorsOnly() {
        var generator = RandomGenerator(seed: 11)
        let a = Tensor.randomUniform([64, 200], low: -1, high: 1, using: &generator)
        let b = Tensor.randomUniform([200, 50], low: -1, high: 1, using: &generator)
        let single = Tensor.matmul(a, b).scalars
        let half = withPrecision(.bf16) { Tensor.matmul(a, b) }.scalars
        let difference = zip(single, half).map { abs($0 - $1) }.max()!
        // Each factor's relative rounding error is at most 2⁻⁹; over 200 terms of size ≤ 1 the
        // error stays far below 200 · 2 · 2⁻⁹ but is not zero.
        #expect(difference > 0 && difference < 0.1, "largest difference \(difference)")
    }

    @Test func thePrecisionHoldsInsideItsScopeOnly() throws {
        #expect(Precision.current == .fp32)
        withPrecision(.bf16) { #expect(Precision.current == .bf16) }
        struct Failure: Error {}
        #expect(throws: Failure.self) { try withPrecision(.bf16) { () throws(Failure) in throw Failure() } }
        #expect(Precision.current == .fp32)
    }
}
