import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// The AVX-512 loops of the `CKernels` C target, for the processors that have AVX-512.
///
/// A baseline x86-64 Swift build runs `SIMD16<Float>` on 128-bit SSE registers, and Swift cannot
/// compile one function for a wider instruction set and pick it at run time; C can. These are
/// the loops that dominated the time outside matrix multiplies (the Adam update and binary
/// cross-entropy on logits, about 0.75 of 1.0 s per MNIST epoch). Each has a Swift version (the
/// reference the tests compare against, and the path on every other processor); `isAvailable`
/// says which one runs.
package enum AVX512Kernels {
    /// Whether the processor has AVX-512 (F, VL, BW, DQ) and the operating system saves its
    /// registers, so the kernels below may run. `VAE_NO_AVX512=1` in the environment turns them off
    /// (for comparisons and for reproducing a run from a processor without them).
    package static let isAvailable: Bool = {
        if let value = getenv("VAE_NO_AVX512"), String(cString: value) == "1" { return false }
        return vae_kernels_have_avx512() == 1
    }()

    /// One Adam step over `count` packed values (see `Adam`). Requires `isAvailable`.
    package static func adamUpdate(values: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                                  firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>, count: Int,
                                  beta1: Float, beta2: Float, epsilon: Float, stepSize: Float, inverseRootCorrection2: Float) {
        precondition(isAvailable, "the AVX-512 Adam kernel needs AVX-512")
        vae_adam_update_avx512(values, gradients, firstMoment, secondMoment, count, beta1, beta2, epsilon, stepSize,
                               inverseRootCorrection2)
    }

    /// Σ ℓ(x, t) over `count` elements, ℓ(x, t) = max(x, 0) - x t + log(1 + e^-|x|), writing each
    /// term to `values` and dℓ/dx = σ(x) - t to `derivative` when given. Requires `isAvailable`.
    package static func binaryCrossEntropyLogits(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                                                derivative: UnsafeMutablePointer<Float>?, values: UnsafeMutablePointer<Float>?,
                                                count: Int) -> Float {
        precondition(isAvailable, "the AVX-512 cross-entropy kernel needs AVX-512")
        return vae_binary_cross_entropy_logits_avx512(logits, targets, derivative, values, count)
    }
}
