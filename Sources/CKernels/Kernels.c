// AVX-512 versions of the Adam update and binary cross-entropy on logits, and the loops that
// measure a core's peak arithmetic rate (see CKernels.h).
// The transcendental functions follow the Swift references in TensorCore/VectorMath.swift step
// by step (Cody-Waite reduction and a degree-8 series for exp; musl's logf for log), with fused
// multiply-adds where the Swift code multiplies and adds.
#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static int detect_avx512(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & (1u << 27))) return 0;  // OSXSAVE: xgetbv is available
    unsigned int xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    // The OS must save SSE (bit 1), AVX (bit 2) and the three AVX-512 states (bits 5-7).
    if ((xcr0_low & 0xE6u) != 0xE6u) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int f = 1u << 16, dq = 1u << 17, bw = 1u << 30, vl = 1u << 31;
    return (ebx & (f | dq | bw | vl)) == (f | dq | bw | vl);
}

int vae_kernels_have_avx512(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect_avx512();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

AVX512 void vae_adam_update_avx512(float *p, const float *g, float *m, float *v, size_t count,
                                   float beta1, float beta2, float epsilon, float step_size,
                                   float inverse_root_correction2) {
    const __m512 b1 = _mm512_set1_ps(beta1), b2 = _mm512_set1_ps(beta2);
    const __m512 c1 = _mm512_set1_ps(1 - beta1), c2 = _mm512_set1_ps(1 - beta2);
    const __m512 eps = _mm512_set1_ps(epsilon), step = _mm512_set1_ps(step_size);
    const __m512 irc2 = _mm512_set1_ps(inverse_root_correction2);
    size_t i = 0;
    for (; i < count; i += 16) {
        __mmask16 mask = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        __m512 gradient = _mm512_maskz_loadu_ps(mask, g + i);
        __m512 m_new = _mm512_fmadd_ps(b1, _mm512_maskz_loadu_ps(mask, m + i), _mm512_mul_ps(c1, gradient));
        __m512 v_new = _mm512_fmadd_ps(b2, _mm512_maskz_loadu_ps(mask, v + i), _mm512_mul_ps(_mm512_mul_ps(c2, gradient), gradient));
        _mm512_mask_storeu_ps(m + i, mask, m_new);
        _mm512_mask_storeu_ps(v + i, mask, v_new);
        __m512 denominator = _mm512_fmadd_ps(_mm512_sqrt_ps(v_new), irc2, eps);
        __m512 value = _mm512_maskz_loadu_ps(mask, p + i);
        value = _mm512_sub_ps(value, _mm512_div_ps(_mm512_mul_ps(step, m_new), denominator));
        _mm512_mask_storeu_ps(p + i, mask, value);
    }
}

// e^x for x <= 0 (the only inputs below): underflows through subnormals to 0 below -103.97.
AVX512 static inline __m512 exp_nonpositive(__m512 x) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5 * 2^23
    __mmask16 underflow = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-103.97208f), _CMP_LT_OQ);
    x = _mm512_mask_blend_ps(underflow, x, _mm512_setzero_ps());
    __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504f), magic);
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.1219444e-4f), r);
    __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(0x4B400000));
    __m512 tail = _mm512_set1_ps(1.0f / 40320);
    tail = _mm512_fmadd_ps(tail, r, _mm512_set1_ps(1.0f / 5040));
    tail = _mm512_fmadd_ps(tail, r, _mm512_set1_ps(1.0f / 720));
    tail = _mm512_fmadd_ps(tail, r, _mm512_set1_ps(1.0f / 120));
    tail = _mm512_fmadd_ps(tail, r, _mm512_set1_ps(1.0f / 24));
    tail = _mm512_fmadd_ps(tail, r, _mm512_set1_ps(1.0f / 6));
    __m512 r2 = _mm512_mul_ps(r, r);
    __m512 expm1 = _mm512_fmadd_ps(r2, _mm512_fmadd_ps(r, tail, _mm512_set1_ps(0.5f)), r);
    __m512 p = _mm512_add_ps(expm1, _mm512_set1_ps(1.0f));
    // 2^n in two halves so results down to 2^-149 stay exact.
    __m512i half = _mm512_srai_epi32(ni, 1);
    __m512i rest = _mm512_sub_epi32(ni, half);
    __m512 scale1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, _mm512_set1_epi32(127)), 23));
    __m512 scale2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(rest, _mm512_set1_epi32(127)), 23));
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, scale1), scale2);
    return _mm512_mask_blend_ps(underflow, y, _mm512_setzero_ps());
}

// log(u) for u in [1, 2] (the only inputs below): musl's logf.
AVX512 static inline __m512 log_one_to_two(__m512 u) {
    __m512i bits = _mm512_add_epi32(_mm512_castps_si512(u), _mm512_set1_epi32(0x3F800000 - 0x3F3504F3));
    __m512i k = _mm512_sub_epi32(_mm512_srai_epi32(bits, 23), _mm512_set1_epi32(0x7F));
    bits = _mm512_add_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(0x007FFFFF)), _mm512_set1_epi32(0x3F3504F3));
    __m512 f = _mm512_sub_ps(_mm512_castsi512_ps(bits), _mm512_set1_ps(1.0f));
    __m512 s = _mm512_div_ps(f, _mm512_add_ps(f, _mm512_set1_ps(2.0f)));
    __m512 z = _mm512_mul_ps(s, s);
    __m512 w = _mm512_mul_ps(z, z);
    __m512 t1 = _mm512_mul_ps(w, _mm512_fmadd_ps(w, _mm512_set1_ps(0.24279079f), _mm512_set1_ps(0.40000972f)));
    __m512 t2 = _mm512_mul_ps(z, _mm512_fmadd_ps(w, _mm512_set1_ps(0.28498787f), _mm512_set1_ps(0.66666663f)));
    __m512 half_square = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), f), f);
    __m512 dk = _mm512_cvtepi32_ps(k);
    __m512 y = _mm512_fmadd_ps(s, _mm512_add_ps(_mm512_add_ps(half_square, t2), t1), _mm512_mul_ps(dk, _mm512_set1_ps(9.0580006e-6f)));
    y = _mm512_add_ps(_mm512_sub_ps(y, half_square), f);
    return _mm512_fmadd_ps(dk, _mm512_set1_ps(0.69313812f), y);
}

AVX512 float vae_binary_cross_entropy_logits_avx512(const float *x, const float *t, float *derivative,
                                                    float *values, size_t count) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 sign = _mm512_set1_ps(-0.0f);
    __m512 total = _mm512_setzero_ps();
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 mask = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        __m512 logit = _mm512_maskz_loadu_ps(mask, x + i);
        __m512 target = _mm512_maskz_loadu_ps(mask, t + i);
        __m512 e = exp_nonpositive(_mm512_or_ps(logit, sign));  // e^-|x|
        __m512 u = _mm512_add_ps(one, e);
        __m512 reciprocal = _mm512_div_ps(one, u);
        if (derivative) {
            __mmask16 nonnegative = _mm512_cmp_ps_mask(logit, _mm512_setzero_ps(), _CMP_GE_OQ);
            __m512 numerator = _mm512_mask_blend_ps(nonnegative, e, one);
            _mm512_mask_storeu_ps(derivative + i, mask, _mm512_fmsub_ps(numerator, reciprocal, target));
        }
        // log(1 + e) with the rounding of u = 1 + e corrected: log(u) - ((u - 1) - e) / u.
        __m512 softplus = _mm512_fnmadd_ps(_mm512_sub_ps(_mm512_sub_ps(u, one), e), reciprocal, log_one_to_two(u));
        __m512 term = _mm512_add_ps(_mm512_fnmadd_ps(logit, target, _mm512_max_ps(logit, _mm512_setzero_ps())), softplus);
        term = _mm512_maskz_mov_ps(mask, term);
        if (values) _mm512_mask_storeu_ps(values + i, mask, term);
        total = _mm512_add_ps(total, term);
    }
    return _mm512_reduce_add_ps(total);
}

int vae_kernels_have_avx512_bf16(void) {
    if (!vae_kernels_have_avx512()) return 0;
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return 0;
    return (eax & (1u << 5)) != 0;  // AVX512_BF16
}

// Sixteen accumulators, each one instruction a round: enough independent chains to cover the
// latency (4-5 cycles) of two pipes. Written in assembly so that no compiler spills or reorders.
#define PEAK_ROUND(op)                                                                            \
    op " %%zmm30, %%zmm31, %%zmm0\n\t" op " %%zmm30, %%zmm31, %%zmm1\n\t"                         \
    op " %%zmm30, %%zmm31, %%zmm2\n\t" op " %%zmm30, %%zmm31, %%zmm3\n\t"                         \
    op " %%zmm30, %%zmm31, %%zmm4\n\t" op " %%zmm30, %%zmm31, %%zmm5\n\t"                         \
    op " %%zmm30, %%zmm31, %%zmm6\n\t" op " %%zmm30, %%zmm31, %%zmm7\n\t"                         \
    op " %%zmm30, %%zmm31, %%zmm8\n\t" op " %%zmm30, %%zmm31, %%zmm9\n\t"                         \
    op " %%zmm30, %%zmm31, %%zmm10\n\t" op " %%zmm30, %%zmm31, %%zmm11\n\t"                       \
    op " %%zmm30, %%zmm31, %%zmm12\n\t" op " %%zmm30, %%zmm31, %%zmm13\n\t"                       \
    op " %%zmm30, %%zmm31, %%zmm14\n\t" op " %%zmm30, %%zmm31, %%zmm15\n\t"

#define PEAK_CLOBBERS                                                                             \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",        \
    "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm30", "xmm31", "cc"

AVX512 void vae_peak_multiply_add_f32(size_t rounds) {
    if (rounds == 0) return;
    __asm__ volatile(
        "vxorps %%xmm30, %%xmm30, %%xmm30\n\t"
        "vxorps %%xmm31, %%xmm31, %%xmm31\n\t"
        "1:\n\t" PEAK_ROUND("vfmadd231ps")
        "dec %0\n\t"
        "jnz 1b\n\t"
        : "+r"(rounds) : : PEAK_CLOBBERS);
}

__attribute__((target("avx512f,avx512bf16"))) void vae_peak_dot_product_bf16(size_t rounds) {
    if (rounds == 0) return;
    __asm__ volatile(
        "vxorps %%xmm30, %%xmm30, %%xmm30\n\t"
        "vxorps %%xmm31, %%xmm31, %%xmm31\n\t"
        "1:\n\t" PEAK_ROUND("vdpbf16ps")
        "dec %0\n\t"
        "jnz 1b\n\t"
        : "+r"(rounds) : : PEAK_CLOBBERS);
}

#else

int vae_kernels_have_avx512(void) { return 0; }

int vae_kernels_have_avx512_bf16(void) { return 0; }

void vae_peak_multiply_add_f32(size_t rounds) { (void)rounds; __builtin_trap(); }

void vae_peak_dot_product_bf16(size_t rounds) { (void)rounds; __builtin_trap(); }

void vae_adam_update_avx512(float *p, const float *g, float *m, float *v, size_t count,
                            float beta1, float beta2, float epsilon, float step_size,
                            float inverse_root_correction2) {
    (void)p; (void)g; (void)m; (void)v; (void)count; (void)beta1; (void)beta2; (void)epsilon;
    (void)step_size; (void)inverse_root_correction2;
    __builtin_trap();
}

float vae_binary_cross_entropy_logits_avx512(const float *x, const float *t, float *derivative,
                                             float *values, size_t count) {
    (void)x; (void)t; (void)derivative; (void)values; (void)count;
    __builtin_trap();
}

#endif
