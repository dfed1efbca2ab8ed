// What the compiler targets, as constants Swift can read, and a prefetch hint (header only, nothing to link).
//
// Swift has no #if for CPU features, but swiftc's `-target-cpu` reaches the Clang importer,
// so these macros follow the flag set of the build: with `-Xswiftc -target-cpu -Xswiftc native`
// on an FMA machine BLAZE_TARGET_FMA is 1, with no CPU flags (baseline x86-64) it is 0.
#ifndef BLAZE_TARGET_H
#define BLAZE_TARGET_H

// 1 when the target has fused multiply-add (x86 FMA3), so `addingProduct` is one instruction.
#if defined(__FMA__)
#define BLAZE_TARGET_FMA 1
#else
#define BLAZE_TARGET_FMA 0
#endif

// Widest SIMD register the target has, in bits (what SIMD8/SIMD16<Float> can use).
#if defined(__AVX512F__)
#define BLAZE_TARGET_SIMD_BITS 512
#elif defined(__AVX__)
#define BLAZE_TARGET_SIMD_BITS 256
#elif defined(__SSE2__) || defined(__ARM_NEON) || defined(__ARM_NEON__)
#define BLAZE_TARGET_SIMD_BITS 128
#else
#define BLAZE_TARGET_SIMD_BITS 0
#endif

// A read prefetch hint into all cache levels (no fault, no effect on results). Static inline:
// header only, nothing to link.
static inline void blaze_prefetch_read(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 0, 3);
#else
    (void)address;
#endif
}

#endif
