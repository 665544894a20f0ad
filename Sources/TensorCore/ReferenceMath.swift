import Foundation

/// Plain scalar implementations of the vectorised functions, written from the definitions
/// with the C library. They are the oracle the fast kernels are tested against.
public enum ReferenceMath {
    public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    public static func expm1(_ x: Float) -> Float { Foundation.expm1(x) }
    public static func log(_ x: Float) -> Float { Foundation.log(x) }
    public static func sigmoid(_ x: Float) -> Float { x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }
    public static func softplus(_ x: Float) -> Float { max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
    public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    public static func relu(_ x: Float) -> Float { max(x, 0) }
    public static func elu(_ x: Float, alpha: Float = 1) -> Float { x > 0 ? x : alpha * Foundation.expm1(x) }
}
