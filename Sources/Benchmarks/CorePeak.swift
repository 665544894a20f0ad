import CKernels
import Dispatch
import TensorCore

/// The arithmetic peak of this machine's cores, measured, so that a training step can be read
/// against its floor: the FLOP it must do divided by the rate the cores can do them at.
///
/// Each thread runs rounds of 16 independent 512-bit instructions on registers only
/// (`vfmadd231ps` for fp32, 32 FLOP each; `vdpbf16ps` for bf16, 64 FLOP each), enough chains to
/// cover the latency of every pipe. A Zen 4 core issues one 512-bit FMA per cycle (its two
/// 256-bit pipes together), 32 fp32 FLOP a cycle; a core with full-width pipes issues two.
public enum CorePeak {
    /// GFLOP/s per thread when `threads` threads run the peak loop at once (best of five runs of
    /// about 0.1 s): fp32 fused multiply-adds, or bf16 dot products for `.bf16`. Nil where the
    /// processor lacks the instructions (AVX-512 F, and AVX512_BF16 for bf16).
    public static func gigaflops(_ precision: Precision, threads: Int = 1) -> Double? {
        precondition(threads >= 1, "threads must be at least 1")
        let (available, flopPerRound, run): (Bool, Double, @Sendable (Int) -> Void) = switch precision {
        case .fp32: (vae_kernels_have_avx512() == 1, 512, { vae_peak_multiply_add_f32($0) })
        case .bf16: (vae_kernels_have_avx512_bf16() == 1, 1024, { vae_peak_dot_product_bf16($0) })
        }
        guard available else { return nil }
        let rounds = precision == .fp32 ? 20_000_000 : 10_000_000
        var best = 0.0
        for _ in 0..<5 {
            let started = BLAS.now()
            DispatchQueue.concurrentPerform(iterations: threads) { _ in run(rounds) }
            let seconds = BLAS.now() - started
            best = max(best, flopPerRound * Double(rounds) / seconds / 1e9)
        }
        return best
    }

    /// The floor of a step that does `flops` FLOP on `threads` threads that each do
    /// `gigaflops` GFLOP/s at most (a rate from ``gigaflops(_:threads:)``): seconds.
    public static func floorSeconds(flops: Double, gigaflops: Double, threads: Int) -> Double {
        flops / (gigaflops * 1e9 * Double(threads))
    }
}
