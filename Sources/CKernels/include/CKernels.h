// Wide-vector kernels for the hot loops a baseline x86-64 Swift build leaves on 128-bit SSE:
// the Adam update and binary cross-entropy on logits. Each is compiled for AVX-512 (F, VL, BW,
// DQ) and chosen at run time only where the processor and the operating system support it;
// elsewhere `vae_kernels_have_avx512()` is 0 and the Swift kernels (the references the tests
// compare against) run instead.
// Also here: the register-only loops with which benchmarks measure a core's peak rate.
#ifndef VAE_CKERNELS_H
#define VAE_CKERNELS_H

#include <stddef.h>

/// 1 when the AVX-512 kernels below may be called (the processor has AVX-512 F, VL, BW and DQ
/// and the operating system saves the 512-bit registers), 0 otherwise. Cached after the first call.
int vae_kernels_have_avx512(void);

/// One Adam step over `count` packed values (PyTorch's update):
/// m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
/// p <- p - step_size * m / (sqrt(v) * inverse_root_correction2 + epsilon).
/// Call only when `vae_kernels_have_avx512()` is 1.
void vae_adam_update_avx512(float *p, const float *g, float *m, float *v, size_t count,
                            float beta1, float beta2, float epsilon, float step_size,
                            float inverse_root_correction2);

/// Binary cross-entropy on logits over `count` elements, stable for any x:
/// l(x, t) = max(x, 0) - x t + log(1 + e^-|x|), dl/dx = sigmoid(x) - t.
/// Returns the sum of the terms; writes each term to `values` and each derivative to
/// `derivative` when they are not NULL. Call only when `vae_kernels_have_avx512()` is 1.
float vae_binary_cross_entropy_logits_avx512(const float *x, const float *t, float *derivative,
                                             float *values, size_t count);

/// 1 when the processor also has AVX512_BF16 (`vdpbf16ps`), 0 otherwise.
int vae_kernels_have_avx512_bf16(void);

/// The core's peak arithmetic rate, for benchmarks: `rounds` rounds of 16 independent 512-bit
/// fused multiply-adds (`vfmadd231ps`, 32 FLOP each, 512 FLOP a round) on registers only.
/// Call only when `vae_kernels_have_avx512()` is 1.
void vae_peak_multiply_add_f32(size_t rounds);

/// The same with 512-bit bf16 dot products (`vdpbf16ps`: 32 pairs multiplied and added into 16
/// fp32 lanes, 64 FLOP each, 1,024 FLOP a round). Call only when
/// `vae_kernels_have_avx512_bf16()` is 1.
void vae_peak_dot_product_bf16(size_t rounds);

#endif
