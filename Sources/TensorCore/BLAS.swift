import COpenBLAS

/// The OpenBLAS library behind matrix multiply.
public enum BLAS {
    /// Sets OpenBLAS's thread count. One thread is the default: two help only when the other
    /// core is idle (see the platform notes).
    public static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "BLAS thread count must be at least 1, got \(count)")
        openblas_set_num_threads(Int32(count))
    }

    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The OpenBLAS kernel in use (for example "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// C = alpha * op(A) * op(B) + beta * C, row-major, through `cblas_sgemm`.
    /// op(A) is [m, k], op(B) is [k, n], C is [m, n]; A is stored [m, k] or, transposed, [k, m].
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        beta: Float, c: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c, Int32(n))
    }
}
