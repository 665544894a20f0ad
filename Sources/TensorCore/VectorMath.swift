// Vectorised transcendental functions on 16 Float32 lanes.
//
// Shapes: every function maps SIMD16<Float> -> SIMD16<Float> lane by lane.
// Accuracy: within 2 ulp of the correctly rounded result over the normal range (the tests
// compare against Double). Only `+ - * /`, comparisons, `replace(with:where:)` and bit casts
// are used: the operations that stay vectorised in a baseline x86-64 build.

/// The vector the kernels compute on: 16 floats, one AVX-512 register (four SSE registers in a
/// baseline build).
@usableFromInline package typealias FloatVector = SIMD16<Float>
/// 16 32-bit integers, for bit manipulation beside `FloatVector`.
@usableFromInline package typealias IntVector = SIMD16<Int32>

/// Vectorised elementary functions on `FloatVector`, each checked against `ReferenceMath`.
package enum VectorMath {
    @usableFromInline static let log2e: Float = 1.442_695_04
    @usableFromInline static let ln2High: Float = 0.693_359_375  // 9 bits: n * ln2High is exact
    @usableFromInline static let ln2Low: Float = -2.121_944_4e-4
    /// 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer.
    @usableFromInline static let roundingMagic: Float = 12_582_912
    @usableFromInline static let roundingMagicBits: Int32 = 0x4B40_0000

    /// |x|, by clearing the sign bit.
    @inlinable @inline(__always)
    package static func abs(_ x: FloatVector) -> FloatVector {
        let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF
        return unsafeBitCast(bits, to: FloatVector.self)
    }

    /// max(x, 0).
    @inlinable @inline(__always)
    package static func positivePart(_ x: FloatVector) -> FloatVector {
        var y = x
        y.replace(with: 0, where: x .< 0)
        return y
    }

    /// √x without division: 1/√x by Newton steps from an estimate made of the exponent bits,
    /// then one Heron correction; within 1 ulp, and several times faster than `squareRoot()`,
    /// which the baseline build leaves as one scalar instruction per lane. √0 = 0, √(x < 0) = NaN,
    /// √inf = inf; subnormal inputs take the exact scalar path.
    @inlinable @inline(__always)
    package static func squareRoot(_ x: FloatVector) -> FloatVector {
        let tiny = x .< Float.leastNormalMagnitude
        if any(tiny .& (x .> 0)) { return x.squareRoot() }
        // y ≈ 1/√x from the exponent bits (within 4%), three multiply-only Newton steps
        // y ← y (3 - x y²) / 2 (error 4% -> 2e-3 -> 7e-6 -> 1e-10), then r = x y and one
        // Heron correction r ← r + (x - r²) y / 2. No division: divisions dominated Adam's pass.
        var y = unsafeBitCast(0x5F37_5A86 &- (unsafeBitCast(x, to: SIMD16<UInt32>.self) &>> 1), to: FloatVector.self)
        let halfX = 0.5 * x
        y = y * (1.5 - halfX * y * y)
        y = y * (1.5 - halfX * y * y)
        y = y * (1.5 - halfX * y * y)
        var r = x * y
        r = r + (x - r * r) * (0.5 * y)
        r.replace(with: 0, where: x .== 0)
        r.replace(with: .nan, where: x .< 0)
        r.replace(with: x, where: (x .== .infinity) .| (x .!= x))
        return r
    }

    /// Splits x = n ln2 + r with n an integer and |r| <= ln2 / 2 (Cody-Waite).
    @inlinable @inline(__always)
    static func reduce(_ x: FloatVector) -> (n: IntVector, r: FloatVector) {
        let t = x * log2e + roundingMagic
        let n = t - roundingMagic
        let r = (x - n * ln2High) - n * ln2Low
        let nInt = unsafeBitCast(t, to: IntVector.self) &- roundingMagicBits
        return (nInt, r)
    }

    /// 2^n for n in [-126, 127], built from the exponent bits.
    @inlinable @inline(__always)
    static func powerOfTwo(_ n: IntVector) -> FloatVector {
        unsafeBitCast((n &+ 127) &<< 23, to: FloatVector.self)
    }

    /// e^r - 1 for |r| <= ln2 / 2: Taylor series to degree 8 (truncation < 1e-9 relative).
    @inlinable @inline(__always)
    static func expm1Reduced(_ r: FloatVector) -> FloatVector {
        var tail = FloatVector(repeating: 1.0 / 40320)
        tail = tail * r + (1.0 / 5040)
        tail = tail * r + (1.0 / 720)
        tail = tail * r + (1.0 / 120)
        tail = tail * r + (1.0 / 24)
        tail = tail * r + (1.0 / 6)
        return r + r * r * (0.5 + r * tail)
    }

    /// e^x. Overflows to +inf above 88.7228, underflows through subnormals to 0 below -103.97.
    @inlinable @inline(__always)
    package static func exp(_ x: FloatVector) -> FloatVector {
        let overflow = x .> 88.722_83
        let underflow = x .< -103.972_08
        var clamped = x
        clamped.replace(with: 0, where: overflow .| underflow)
        let (n, r) = reduce(clamped)
        let p = 1 + expm1Reduced(r)
        // Scale by 2^n in two halves so that results down to 2^-149 stay exact.
        let half = n &>> 1
        var y = p * powerOfTwo(half) * powerOfTwo(n &- half)
        y.replace(with: .infinity, where: overflow)
        y.replace(with: 0, where: underflow)
        return y
    }

    /// e^x - 1, accurate near 0 where `exp(x) - 1` cancels.
    /// Uses 2^n (expm1(r) + 1) - 1 = 2^n expm1(r) + (2^n - 1), whose product is exact.
    @inlinable @inline(__always)
    package static func expm1(_ x: FloatVector) -> FloatVector {
        let large = x .> 10
        var clamped = x
        clamped.replace(with: 10, where: large)
        clamped.replace(with: -87, where: x .< -87)
        let (n, r) = reduce(clamped)
        let scale = powerOfTwo(n)
        var y = scale * expm1Reduced(r) + (scale - 1)
        if any(large) { y.replace(with: exp(x) - 1, where: large) }
        return y
    }

    /// Natural logarithm (the musl logf algorithm): x = 2^k (1 + f) with 1 + f in
    /// [sqrt(2)/2, sqrt(2)); log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f).
    /// log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf.
    @inlinable @inline(__always)
    package static func log(_ x: FloatVector) -> FloatVector {
        let subnormal = x .< Float.leastNormalMagnitude
        var scaled = x
        scaled.replace(with: x * 33_554_432, where: subnormal)  // 2^25
        var bits = unsafeBitCast(scaled, to: IntVector.self) &+ (0x3F80_0000 &- 0x3F35_04F3)
        var k = (bits &>> 23) &- 0x7F
        k.replace(with: k &- 25, where: subnormal)
        bits = (bits & 0x007F_FFFF) &+ 0x3F35_04F3
        let f = unsafeBitCast(bits, to: FloatVector.self) - 1
        let s = f / (2 + f)
        let z = s * s
        let w = z * z
        let t1 = w * (0.400_009_72 + w * 0.242_790_79)
        let t2 = z * (0.666_666_63 + w * 0.284_987_87)
        let halfSquare = 0.5 * f * f
        let dk = unsafeBitCast(k &+ roundingMagicBits, to: FloatVector.self) - roundingMagic
        var y = s * (halfSquare + t2 + t1) + dk * 9.058_000_6e-6 - halfSquare + f + dk * 0.693_138_12
        y.replace(with: -.infinity, where: x .== 0)
        y.replace(with: .nan, where: x .< 0)
        y.replace(with: x, where: (x .== .infinity) .| (x .!= x))
        return y
    }

    /// log(1 + e) for e >= 0, with the rounding of 1 + e corrected: log(u) - ((u - 1) - e) / u.
    @inlinable @inline(__always)
    package static func log1pPositive(_ e: FloatVector) -> FloatVector {
        let u = 1 + e
        return log(u) - ((u - 1) - e) / u
    }

    /// 1 / (1 + e^-x) = (x >= 0 ? 1 : e) / (1 + e) with e = e^-|x|: no overflow. The rounding
    /// error of 1 + e is carried (Fast2Sum: s + t = 1 + e exactly) and corrected for.
    @inlinable @inline(__always)
    package static func sigmoid(_ x: FloatVector) -> FloatVector {
        let e = exp(-abs(x))
        let s = 1 + e
        let t = e - (s - 1)
        var numerator = FloatVector(repeating: 1)
        numerator.replace(with: e, where: x .< 0)
        let y = numerator / s
        return y - y * (t / s)
    }

    /// log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
    @inlinable @inline(__always)
    package static func softplus(_ x: FloatVector) -> FloatVector {
        positivePart(x) + log1pPositive(exp(-abs(x)))
    }

    /// tanh x: below |x| = 0.55 the odd Taylor series to x^19 (truncation < 1e-9 relative);
    /// above, sign(x) (1 - 2p / (1 + p)) with p = e^-2|x|, which has no cancellation there.
    @inlinable @inline(__always)
    package static func tanh(_ x: FloatVector) -> FloatVector {
        let magnitudeOfX = abs(x)
        let small = magnitudeOfX .< 0.55
        var y = FloatVector(repeating: 0)
        if any(small) {
            let x2 = x * x
            var p = FloatVector(repeating: -443_861_162.0 / 1_856_156_927_625.0)
            p = p * x2 + (6_404_582.0 / 10_854_718_875.0)
            p = p * x2 - (929_569.0 / 638_512_875.0)
            p = p * x2 + (21_844.0 / 6_081_075.0)
            p = p * x2 - (1_382.0 / 155_925.0)
            p = p * x2 + (62.0 / 2_835.0)
            p = p * x2 - (17.0 / 315.0)
            p = p * x2 + (2.0 / 15.0)
            p = p * x2 - (1.0 / 3.0)
            y = x + x * x2 * p
        }
        if !all(small) {
            let p = exp(-2 * magnitudeOfX)
            let magnitude = 1 - 2 * p / (1 + p)
            let sign = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
            let signed = unsafeBitCast(unsafeBitCast(magnitude, to: SIMD16<UInt32>.self) | sign, to: FloatVector.self)
            y.replace(with: signed, where: .!small)
        }
        return y
    }
}
