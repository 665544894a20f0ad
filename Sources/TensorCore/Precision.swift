/// The number format of the operands of matrix multiplies (`Tensor.matmul`, `Tensor.linear`).
///
/// Whatever the precision, parameters, gradients, optimizer state, activations, losses and
/// reductions stay fp32: only the two factors of a product are rounded, and the product is
/// accumulated and returned in fp32 (mixed precision).
public enum Precision: String, Codable, CaseIterable, Sendable {
    /// fp32 operands: OpenBLAS's sgemm.
    case fp32
    /// bfloat16 operands (fp32's sign, 8 exponent bits and the top 7 of its 23 fraction bits,
    /// rounded to nearest, ties to even) with fp32 accumulation and fp32 results: oneDNN's
    /// matmul, which runs its AVX512-BF16 kernels where the processor has them. A bf16 value
    /// carries about 3 significant decimal digits (relative rounding error at most 2⁻⁸).
    case bf16

    @TaskLocal static var scoped: Precision = .fp32

    /// The precision that matrix multiplies started now use (fp32 unless inside `withPrecision`).
    public static var current: Precision { scoped }
}

/// Runs `body` with matrix multiplies in `precision` (on this thread and in the tasks it starts).
public func withPrecision<Result, Failure: Error>(_ precision: Precision, _ body: () throws(Failure) -> Result) throws(Failure) -> Result {
    var outcome: Swift.Result<Result, Failure>!
    Precision.$scoped.withValue(precision) { outcome = Swift.Result { () throws(Failure) -> Result in try body() } }
    return try outcome.get()
}
