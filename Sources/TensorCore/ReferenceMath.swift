import Foundation

/// Plain scalar implementations of the vectorised functions, written from the definitions
/// with the C library. They are the oracle the fast kernels are tested against.
package enum ReferenceMath {
    /// e^x.
    package static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    /// e^x − 1, accurate near 0.
    package static func expm1(_ x: Float) -> Float { Foundation.expm1(x) }
    /// The natural logarithm.
    package static func log(_ x: Float) -> Float { Foundation.log(x) }
    /// σ(x) = 1 / (1 + e^−x), evaluated without overflow for either sign of x.
    package static func sigmoid(_ x: Float) -> Float { x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }
    /// softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^−|x|), stable for large |x|.
    package static func softplus(_ x: Float) -> Float { max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
    /// The hyperbolic tangent.
    package static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    /// max(x, 0).
    package static func relu(_ x: Float) -> Float { max(x, 0) }
    /// SiLU: x σ(x).
    package static func silu(_ x: Float) -> Float { x * sigmoid(x) }
    /// ELU: x for x > 0, alpha (e^x − 1) otherwise.
    package static func elu(_ x: Float, alpha: Float = 1) -> Float { x > 0 ? x : alpha * Foundation.expm1(x) }

    /// x rounded to bfloat16 (the upper 16 bits of its fp32 pattern), to nearest with ties to
    /// even; a NaN stays a (quiet) NaN, ±∞ stay ±∞, and values past bf16's largest finite
    /// value round to ±∞ as fp32 would.
    package static func bfloat16Bits(_ x: Float) -> UInt16 {
        if x.isNaN { return UInt16(truncatingIfNeeded: x.bitPattern >> 16) | 0x0040 }
        let bits = x.bitPattern
        let halfway: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ halfway) >> 16)
    }

    /// The value of a bfloat16 bit pattern.
    package static func float(bfloat16Bits bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// x rounded to bfloat16, as a Float.
    package static func bfloat16(_ x: Float) -> Float { float(bfloat16Bits: bfloat16Bits(x)) }
}
