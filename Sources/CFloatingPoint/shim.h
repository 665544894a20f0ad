// The SSE control register (MXCSR): flush-to-zero (bit 15) and denormals-are-zero (bit 6).
// Swift has no intrinsics for it, so these two inline functions expose it.
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
static inline unsigned int vae_floating_point_control(void) { return _mm_getcsr(); }
static inline void vae_set_floating_point_control(unsigned int value) { _mm_setcsr(value); }
static inline unsigned int vae_flush_subnormals_bits(void) { return 0x8040u; }
#else
static inline unsigned int vae_floating_point_control(void) { return 0; }
static inline void vae_set_floating_point_control(unsigned int value) { (void)value; }
static inline unsigned int vae_flush_subnormals_bits(void) { return 0; }
#endif
