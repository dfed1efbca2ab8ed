// What the compiler targets, as constants Swift can read, lane-wise selects for the kernels and a prefetch hint
// (header only, nothing to link).
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

// Lane-wise selects on 8 floats for the kernels' epilogues (imported as SIMD8<Float>). Swift's
// `replacing(with:where:)` is the same operation, but it reaches the optimizer as a per-lane loop
// (dozens of SIL blocks per call), which made the GEMM micro-kernels too big for the inliner: it
// stopped inlining their epilogue and called it per tile row, spilling the accumulators. These are
// one call in SIL and one instruction after LLVM inlines them. Exact semantics, NaN and signed
// zeros included (no fast-math):
//   blaze_max8(a, b)  = a > b ? a : b   (x86 MAXPS a, b: b when unordered or equal)
//   blaze_min8(a, b)  = a < b ? a : b   (x86 MINPS a, b)
//   blaze_prelu8(x, alpha) = x < 0 ? x * alpha : x
// so `blaze_max8(lo, x)` is TFLite's `x < lo ? lo : x` (std::max(x, lo)) and `blaze_min8(hi, x)`
// its `x > hi ? hi : x`.
#if defined(__AVX__)
#include <immintrin.h>
#elif defined(__SSE__)
#include <xmmintrin.h>
#endif

typedef float blaze_float8 __attribute__((ext_vector_type(8)));

static inline __attribute__((always_inline)) blaze_float8 blaze_max8(blaze_float8 a, blaze_float8 b) {
#if defined(__AVX__)
    return (blaze_float8)_mm256_max_ps((__m256)a, (__m256)b);
#else
    blaze_float8 r;
    for (int i = 0; i < 8; i++) r[i] = a[i] > b[i] ? a[i] : b[i];
    return r;
#endif
}

static inline __attribute__((always_inline)) blaze_float8 blaze_min8(blaze_float8 a, blaze_float8 b) {
#if defined(__AVX__)
    return (blaze_float8)_mm256_min_ps((__m256)a, (__m256)b);
#else
    blaze_float8 r;
    for (int i = 0; i < 8; i++) r[i] = a[i] < b[i] ? a[i] : b[i];
    return r;
#endif
}

static inline __attribute__((always_inline)) blaze_float8 blaze_prelu8(blaze_float8 x, blaze_float8 alpha) {
#if defined(__AVX__)
    __m256 v = (__m256)x;
    __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    return (blaze_float8)_mm256_blendv_ps(v, _mm256_mul_ps(v, (__m256)alpha), negative);
#else
    blaze_float8 r;
    for (int i = 0; i < 8; i++) r[i] = x[i] < 0 ? x[i] * alpha[i] : x[i];
    return r;
#endif
}

// The first `count` lanes (0 ... 8) of 8 floats: loaded from `p` with zeros above (only those
// floats are read), or stored to `p` (only those floats are written). For partial GEMM tiles.
static inline __attribute__((always_inline)) blaze_float8 blaze_load_partial8(const float *p, long count) {
#if defined(__AVX2__)
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count < 0 ? 0 : count > 8 ? 8 : count)), lanes);
    return (blaze_float8)_mm256_maskload_ps(p, mask);
#else
    blaze_float8 r = 0;
    for (long i = 0; i < count && i < 8; i++) r[i] = p[i];
    return r;
#endif
}

static inline __attribute__((always_inline)) void blaze_store_partial8(float *p, blaze_float8 v, long count) {
#if defined(__AVX2__)
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(count < 0 ? 0 : count > 8 ? 8 : count)), lanes);
    _mm256_maskstore_ps(p, mask, (__m256)v);
#else
    for (long i = 0; i < count && i < 8; i++) p[i] = v[i];
#endif
}

// The 8×8 block of floats at `src` (row r at `src + r·ld`, 8 floats each) transposed into
// `out` (64 floats): floats `8i ..< 8i+8` hold element i of every row (row r at `8i + r`).
// Pure data movement, so every form below gives the same floats. With AVX: each register is
// built from two 128-bit row halves (rows r and r+4, one a load, one VINSERTF128 from memory),
// then 8 unpacks and 8 shuffles: 16 shuffles per block, against ~40 when the compiler assembles
// the columns from 4×4 transposes of 128-bit halves. SSE (baseline x86-64): four 4×4 transposes.
#if defined(__AVX__)
// The AVX transpose of blaze_transpose8x8 into eight registers `c0` … `c7` (declared here):
// `cI` = element I of every row. Shared by the plain and the `_kept` form.
#define BLAZE_TRANSPOSE8X8_AVX(src, ld, c0, c1, c2, c3, c4, c5, c6, c7)                                        \
    /* rI = [row I, columns 0-3 | row I+4, columns 0-3]; uI the same for columns 4-7. */                         \
    __m256 r0 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src)), _mm_loadu_ps(src + 4 * ld), 1);  \
    __m256 r1 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + ld)), _mm_loadu_ps(src + 5 * ld), 1); \
    __m256 r2 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + 2 * ld)), _mm_loadu_ps(src + 6 * ld), 1); \
    __m256 r3 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + 3 * ld)), _mm_loadu_ps(src + 7 * ld), 1); \
    __m256 u0 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + 4)), _mm_loadu_ps(src + 4 * ld + 4), 1); \
    __m256 u1 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + ld + 4)), _mm_loadu_ps(src + 5 * ld + 4), 1); \
    __m256 u2 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + 2 * ld + 4)), _mm_loadu_ps(src + 6 * ld + 4), 1); \
    __m256 u3 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(src + 3 * ld + 4)), _mm_loadu_ps(src + 7 * ld + 4), 1); \
    /* Rows 0,1 interleaved (a0 b0 a1 b1 | e0 f0 e1 f1), then rows 2,3; shuffles pick column pairs. */         \
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);                                   \
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);                                   \
    __m256 v0 = _mm256_unpacklo_ps(u0, u1), v1 = _mm256_unpackhi_ps(u0, u1);                                   \
    __m256 v2 = _mm256_unpacklo_ps(u2, u3), v3 = _mm256_unpackhi_ps(u2, u3);                                   \
    __m256 c0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), c1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)); \
    __m256 c2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), c3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)); \
    __m256 c4 = _mm256_shuffle_ps(v0, v2, _MM_SHUFFLE(1, 0, 1, 0)), c5 = _mm256_shuffle_ps(v0, v2, _MM_SHUFFLE(3, 2, 3, 2)); \
    __m256 c6 = _mm256_shuffle_ps(v1, v3, _MM_SHUFFLE(1, 0, 1, 0)), c7 = _mm256_shuffle_ps(v1, v3, _MM_SHUFFLE(3, 2, 3, 2))
#endif

static inline __attribute__((always_inline)) void blaze_transpose8x8(const float *src, long ld, float *out) {
#if defined(__AVX__)
    BLAZE_TRANSPOSE8X8_AVX(src, ld, c0, c1, c2, c3, c4, c5, c6, c7);
    _mm256_storeu_ps(out + 0, c0); _mm256_storeu_ps(out + 8, c1); _mm256_storeu_ps(out + 16, c2); _mm256_storeu_ps(out + 24, c3);
    _mm256_storeu_ps(out + 32, c4); _mm256_storeu_ps(out + 40, c5); _mm256_storeu_ps(out + 48, c6); _mm256_storeu_ps(out + 56, c7);
#elif defined(__SSE__)
    // Four 4×4 transposes: rows 4v..4v+3 × columns 4h..4h+3 of `src` → columns 4h.. of `out`.
    for (int h = 0; h < 2; h++) {
        for (int v = 0; v < 2; v++) {
            const float *s = src + 4 * v * ld + 4 * h;
            __m128 a = _mm_loadu_ps(s), b = _mm_loadu_ps(s + ld), c = _mm_loadu_ps(s + 2 * ld), d = _mm_loadu_ps(s + 3 * ld);
            _MM_TRANSPOSE4_PS(a, b, c, d);
            _mm_storeu_ps(out + 8 * (4 * h) + 4 * v, a);
            _mm_storeu_ps(out + 8 * (4 * h + 1) + 4 * v, b);
            _mm_storeu_ps(out + 8 * (4 * h + 2) + 4 * v, c);
            _mm_storeu_ps(out + 8 * (4 * h + 3) + 4 * v, d);
        }
    }
#else
    for (int i = 0; i < 8; i++)
        for (int r = 0; r < 8; r++) out[8 * i + r] = src[r * ld + i];
#endif
}

// As blaze_transpose8x8, with the eight transposed rows passed through an empty asm statement
// before they are stored: for a block that is then computed on (the sparse kernel's epilogue:
// bias, clamps, residual), LLVM otherwise merges the unpacks and shuffles with that arithmetic
// into 128-bit halves, element inserts and stack spills (about twice the instructions).
static inline __attribute__((always_inline)) void blaze_transpose8x8_kept(const float *src, long ld, float *out) {
#if defined(__AVX__)
    BLAZE_TRANSPOSE8X8_AVX(src, ld, c0, c1, c2, c3, c4, c5, c6, c7);
    __asm__("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7));
    _mm256_storeu_ps(out + 0, c0); _mm256_storeu_ps(out + 8, c1); _mm256_storeu_ps(out + 16, c2); _mm256_storeu_ps(out + 24, c3);
    _mm256_storeu_ps(out + 32, c4); _mm256_storeu_ps(out + 40, c5); _mm256_storeu_ps(out + 48, c6); _mm256_storeu_ps(out + 56, c7);
#else
    blaze_transpose8x8(src, ld, out);
#endif
}

// The same operations on 16 floats (imported as SIMD16<Float>), for the 16-lane GEMM micro-kernels
// (`GemmLanes.sixteen`): one AVX-512 instruction each under __AVX512F__, else the 8-float
// versions above on the two halves (two AVX instructions), so both kernel widths build and run
// on every target with the same per-lane results.
typedef float blaze_float16 __attribute__((ext_vector_type(16)));

static inline __attribute__((always_inline)) blaze_float16 blaze_join16(blaze_float8 lo, blaze_float8 hi) {
    return __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

static inline __attribute__((always_inline)) blaze_float8 blaze_low8(blaze_float16 v) {
    return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
}

static inline __attribute__((always_inline)) blaze_float8 blaze_high8(blaze_float16 v) {
    return __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
}

static inline __attribute__((always_inline)) blaze_float16 blaze_max16(blaze_float16 a, blaze_float16 b) {
#if defined(__AVX512F__)
    return (blaze_float16)_mm512_max_ps((__m512)a, (__m512)b);
#else
    return blaze_join16(blaze_max8(blaze_low8(a), blaze_low8(b)), blaze_max8(blaze_high8(a), blaze_high8(b)));
#endif
}

static inline __attribute__((always_inline)) blaze_float16 blaze_min16(blaze_float16 a, blaze_float16 b) {
#if defined(__AVX512F__)
    return (blaze_float16)_mm512_min_ps((__m512)a, (__m512)b);
#else
    return blaze_join16(blaze_min8(blaze_low8(a), blaze_low8(b)), blaze_min8(blaze_high8(a), blaze_high8(b)));
#endif
}

static inline __attribute__((always_inline)) blaze_float16 blaze_prelu16(blaze_float16 x, blaze_float16 alpha) {
#if defined(__AVX512F__)
    __m512 v = (__m512)x;
    __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
    return (blaze_float16)_mm512_mask_mul_ps(v, negative, v, (__m512)alpha);
#else
    return blaze_join16(blaze_prelu8(blaze_low8(x), blaze_low8(alpha)), blaze_prelu8(blaze_high8(x), blaze_high8(alpha)));
#endif
}

// The first `count` lanes (0 ... 16) of 16 floats, loaded (zeros above; only those floats are
// read) or stored (only those floats are written).
static inline __attribute__((always_inline)) blaze_float16 blaze_load_partial16(const float *p, long count) {
    long n = count < 0 ? 0 : count > 16 ? 16 : count;
#if defined(__AVX512F__)
    return (blaze_float16)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
#else
    return blaze_join16(blaze_load_partial8(p, n), blaze_load_partial8(p + 8, n - 8));
#endif
}

static inline __attribute__((always_inline)) void blaze_store_partial16(float *p, blaze_float16 v, long count) {
    long n = count < 0 ? 0 : count > 16 ? 16 : count;
#if defined(__AVX512F__)
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), (__m512)v);
#else
    blaze_store_partial8(p, blaze_low8(v), n);
    blaze_store_partial8(p + 8, blaze_high8(v), n - 8);
#endif
}

// A read prefetch hint into all cache levels (no fault, no effect on results). Static inline:
// header only, nothing to link.
static inline void blaze_prefetch_read(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 0, 3);
#else
    (void)address;
#endif
}

// Load-time helpers for the model reader (TFLite's constants and sparse tensors). Loops over
// memory in plain C, so that LLVM vectorises them for the build's target (Swift's versions of the
// same loops stayed scalar: unaligned loads, short-circuiting compares).

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// IEEE binary16 bits `h` widened exactly to binary32 bits, NaN payloads kept as they are (a
// signalling NaN stays signalling; TFLite's FP16 library does the same): sign, then exponent and
// mantissa moved into place and the exponent rebiased (15 -> 127; 31 -> 255 for inf/NaN); zero and
// subnormals through one exact float subtraction, 2^-14 * (1 + m/1024) - 2^-14 = m * 2^-24.
static inline __attribute__((always_inline)) uint32_t blaze_half_to_float_bits(uint32_t h) {
    uint32_t sign = (h & 0x8000u) << 16;
    uint32_t bits = (h & 0x7fffu) << 13;
    uint32_t exponent = bits & 0x0f800000u;
    bits += exponent == 0x0f800000u ? 0x70000000u : 0x38000000u;
    union { uint32_t u; float f; } subnormal;
    subnormal.u = bits + 0x00800000u;
    subnormal.f -= 0x1p-14f;
    bits = exponent == 0 ? subnormal.u : bits;
    return bits | sign;
}

// Widens `count` little-endian binary16 values at `source` (any alignment) to binary32 at
// `destination`, every value exactly as `blaze_half_to_float_bits`. With F16C, 8 at a time by
// VCVTPH2PS, which gives the same bits for everything but signalling NaNs (it sets their quiet
// bit): a block holding any NaN (|h| > 0x7c00, never in real weights) is widened by the scalar
// code instead, so the result is the same with and without F16C.
static inline void blaze_widen_halves(const void *source, float *destination, long count) {
    const unsigned char *s = (const unsigned char *)source;
    uint32_t *d = (uint32_t *)destination;
    long i = 0;
#if defined(__F16C__) && defined(__AVX__)
    const __m128i magnitudeMask = _mm_set1_epi16(0x7fff), infinity = _mm_set1_epi16(0x7c00);
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(s + 2 * i));
        // Magnitudes are below 0x8000, so the signed compare is the unsigned one.
        __m128i nan = _mm_cmpgt_epi16(_mm_and_si128(h, magnitudeMask), infinity);
        if (__builtin_expect(_mm_movemask_epi8(nan) != 0, 0)) {
            for (long j = i; j < i + 8; j++) d[j] = blaze_half_to_float_bits((uint32_t)s[2 * j] | (uint32_t)s[2 * j + 1] << 8);
        } else {
            _mm256_storeu_ps(destination + i, _mm256_cvtph_ps(h));
        }
    }
    if (i + 4 <= count) {
        // Four more by one 4-lane VCVTPH2PS (short runs: the sparse kernel's rows of a chunk).
        __m128i h = _mm_loadl_epi64((const __m128i *)(s + 2 * i));
        __m128i nan = _mm_cmpgt_epi16(_mm_and_si128(h, magnitudeMask), infinity);
        if (__builtin_expect((_mm_movemask_epi8(nan) & 0xff) != 0, 0)) {
            for (long j = i; j < i + 4; j++) d[j] = blaze_half_to_float_bits((uint32_t)s[2 * j] | (uint32_t)s[2 * j + 1] << 8);
        } else {
            _mm_storeu_ps(destination + i, _mm_cvtph_ps(h));
        }
        i += 4;
    }
    if (i < count) {
        // The last one to three through the same 4-lane conversion of a zero-padded copy (the
        // scalar code below costs ~10 instructions a value).
        uint16_t tail[4] = {0, 0, 0, 0};
        for (long j = i; j < count; j++) tail[j - i] = (uint16_t)(s[2 * j] | s[2 * j + 1] << 8);
        __m128i h = _mm_loadl_epi64((const __m128i *)tail);
        __m128i nan = _mm_cmpgt_epi16(_mm_and_si128(h, magnitudeMask), infinity);
        if (__builtin_expect((_mm_movemask_epi8(nan) & 0xff) == 0, 1)) {
            float widened[4];
            _mm_storeu_ps(widened, _mm_cvtph_ps(h));
            for (long j = i; j < count; j++) destination[j] = widened[j - i];
            i = count;
        }
    }
#endif
    for (; i < count; i++) d[i] = blaze_half_to_float_bits((uint32_t)s[2 * i] | (uint32_t)s[2 * i + 1] << 8);
}

// 1 when the GEMM picks binary16 weight panels on its own (`PanelPrecision.automatic`): the target
// converts 8 halves to floats in one instruction (F16C VCVTPH2PS) and has AVX2 for the checks.
// Not on Zen 1 / Zen+ (`-target-cpu znver1`): their 128-bit units run each 256-bit multiply-add and
// conversion as two halves, and the widening then costs more than the smaller panels save (full,
// 1 thread, per-layer minima: CONV_2D 24.63 ms with half panels, 23.03 with float32).
#if defined(__F16C__) && defined(__AVX2__) && !defined(__znver1__)
#define BLAZE_TARGET_HALF_PANELS 1
#else
#define BLAZE_TARGET_HALF_PANELS 0
#endif

// Eight binary16 weights at `p` (a packed half panel: native-endian, any alignment) as floats, each
// exactly its binary32 value. A NaN weight never gets here: packing refuses NaNs. With
// F16C one VCVTPH2PS; otherwise the exact scalar widening (for tests of the half path on any build).
static inline __attribute__((always_inline)) blaze_float8 blaze_load_half8(const uint16_t *p) {
#if defined(__F16C__) && defined(__AVX__)
    return (blaze_float8)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
#else
    blaze_float8 r;
    for (int i = 0; i < 8; i++) {
        union { uint32_t u; float f; } v;
        v.u = blaze_half_to_float_bits(p[i]);
        r[i] = v.f;
    }
    return r;
#endif
}

// The binary16 weight at `p` as a float in all 8 lanes, exactly (the sparse kernel's values when
// stored as binary16). With F16C a VPBROADCASTW and one VCVTPH2PS; otherwise the scalar widening.
static inline __attribute__((always_inline)) blaze_float8 blaze_broadcast_half8(const uint16_t *p) {
#if defined(__F16C__) && defined(__AVX2__)
    return (blaze_float8)_mm256_cvtph_ps(_mm_set1_epi16((short)*p));
#else
    union { uint32_t u; float f; } v;
    v.u = blaze_half_to_float_bits(*p);
    return (blaze_float8){v.f, v.f, v.f, v.f, v.f, v.f, v.f, v.f};
#endif
}

// Sixteen binary16 weights at `p` as floats (`blaze_load_half8` twice wide), for the 16-lane
// kernels' binary16 panels: one VCVTPH2PS to a zmm under AVX-512 (exact, as the 8-lane form);
// otherwise the two halves through `blaze_load_half8` (same values).
static inline __attribute__((always_inline)) blaze_float16 blaze_load_half16(const uint16_t *p) {
#if defined(__AVX512F__)
    return (blaze_float16)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
#else
    return blaze_join16(blaze_load_half8(p), blaze_load_half8(p + 8));
#endif
}

// The binary16 bits of binary32 `bits` when that value is exactly a binary16 (zeros, infinities,
// normal and subnormal halves: nothing is rounded), else -1; NaNs give -1 (their payloads would not
// survive the narrowing and widening).
static inline long blaze_half_bits_exact(uint32_t bits) {
    uint32_t sign = (bits >> 16) & 0x8000u, exponent = (bits >> 23) & 0xffu, mantissa = bits & 0x7fffffu;
    if (exponent == 0xffu) return mantissa == 0 ? (long)(sign | 0x7c00u) : -1;
    if (exponent == 0) return mantissa == 0 ? (long)sign : -1;   // float subnormals are below half's range
    int e = (int)exponent - 127;
    if (e > 15 || e < -24) return -1;
    if (e >= -14) {
        if (mantissa & 0x1fffu) return -1;
        return (long)(sign | (uint32_t)(e + 15) << 10 | mantissa >> 13);
    }
    // A half subnormal h * 2^-24 (h = 1 ... 1023). The float is significand * 2^(e - 23) with the
    // 24-bit significand 1.mantissa * 2^23, so h = significand * 2^(e + 1): a right shift by
    // 14 ... 23 that must drop only zero bits.
    uint32_t significand = mantissa | 0x800000u;
    int shift = -(e + 1);
    if (significand & ((1u << shift) - 1u)) return -1;
    return (long)(sign | (significand >> shift));
}

#if defined(__F16C__) && defined(__AVX2__)
// Eight floats narrowed to binary16 (VCVTPS2PH) into `*h`: 1 when every one is exactly a binary16
// (widened back, the bits are unchanged, and none is a NaN), else 0.
static inline __attribute__((always_inline)) int blaze_narrow8_exact(__m256 v, __m128i *h) {
    *h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i same = _mm256_cmpeq_epi32(_mm256_castps_si256(v), _mm256_castps_si256(_mm256_cvtph_ps(*h)));
    __m256 ordered = _mm256_cmp_ps(v, v, _CMP_ORD_Q);
    return _mm256_movemask_ps(_mm256_and_ps(_mm256_castsi256_ps(same), ordered)) == 0xff;
}
#endif

// `src[0 ..< count]` as binary16 bits in `dst` when every value is exactly a binary16 (as
// `blaze_half_bits_exact`; NaNs are not); returns 1, or 0 at the first value that is not (`dst`
// then holds an unspecified prefix). With F16C 8 at a time (`blaze_narrow8_exact`); the rest one
// by one.
static inline int blaze_narrow_exact(const float *src, long count, uint16_t *dst) {
    long i = 0;
#if defined(__F16C__) && defined(__AVX2__)
    for (; i + 8 <= count; i += 8) {
        __m128i h;
        if (!blaze_narrow8_exact(_mm256_loadu_ps(src + i), &h)) return 0;
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
#endif
    for (; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, src + i, 4);
        long h = blaze_half_bits_exact(bits);
        if (h < 0) return 0;
        dst[i] = (uint16_t)h;
    }
    return 1;
}

// Packs one binary16 GEMM panel: the `columns` weight rows at `src` (`[columns][k]`, row-major)
// transposed to `[k][width]` binary16 at `dst` (zeros past `columns`), when every value is exactly
// a binary16 (`blaze_half_bits_exact`): returns 1; returns 0 as soon as one is not (`dst` then
// holds garbage). `transposePanel` and the exactness check in one pass: with F16C and AVX2 each
// 8×8 block is transposed in registers (BLAZE_TRANSPOSE8X8_AVX) and narrowed straight into its
// 8 destination rows; leftover columns and k values (and every value without F16C) one by one.
static inline int blaze_transpose_narrow_panel(const float *src, long k, long columns, long width, uint16_t *dst) {
    if (columns < width) {
        for (long kk = 0; kk < k; kk++)
            for (long lane = columns; lane < width; lane++) dst[kk * width + lane] = 0;
    }
    long k0 = 0;
#if defined(__F16C__) && defined(__AVX2__)
    const long blocked = columns / 8 * 8;
    for (; k0 + 8 <= k; k0 += 8) {
        for (long lane0 = 0; lane0 < blocked; lane0 += 8) {
            const float *block = src + lane0 * k + k0;
            BLAZE_TRANSPOSE8X8_AVX(block, k, c0, c1, c2, c3, c4, c5, c6, c7);
            __m256 rows[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
            for (int i = 0; i < 8; i++) {
                __m128i h;
                if (!blaze_narrow8_exact(rows[i], &h)) return 0;
                _mm_storeu_si128((__m128i *)(dst + (k0 + i) * width + lane0), h);
            }
        }
        for (long lane = blocked; lane < columns; lane++) {
            for (long kk = k0; kk < k0 + 8; kk++) {
                uint32_t bits;
                memcpy(&bits, src + lane * k + kk, 4);
                long h = blaze_half_bits_exact(bits);
                if (h < 0) return 0;
                dst[kk * width + lane] = (uint16_t)h;
            }
        }
    }
#endif
    for (long kk = k0; kk < k; kk++) {
        for (long lane = 0; lane < columns; lane++) {
            uint32_t bits;
            memcpy(&bits, src + lane * k + kk, 4);
            long h = blaze_half_bits_exact(bits);
            if (h < 0) return 0;
            dst[kk * width + lane] = (uint16_t)h;
        }
    }
    return 1;
}

// Packs one binary16 GEMM panel straight from binary16 weight rows (a model's FLOAT16 data): the
// `columns` rows at `src` (`[columns][k]` little-endian halves, row-major, any alignment)
// transposed to `[k][width]` at `dst` (zeros past `columns`). Returns 0 as soon as a value is a
// NaN (`dst` then holds garbage), else 1. Every other half widens exactly (VCVTPH2PS only changes
// NaNs: it quiets them), so the panel holds the bits `blaze_transpose_narrow_panel` gives for the
// widened rows, without widening them first. With SSE2 each 8×8 block is 8 row loads, 24 unpacks
// and 8 stores; leftover columns and k values one by one.
static inline int blaze_transpose_half_panel(const void *src, long k, long columns, long width, uint16_t *dst) {
    const unsigned char *s = (const unsigned char *)src;
    if (columns < width) {
        for (long kk = 0; kk < k; kk++)
            for (long lane = columns; lane < width; lane++) dst[kk * width + lane] = 0;
    }
    long k0 = 0;
#if defined(__SSE2__)
    const long blocked = columns / 8 * 8;
    const __m128i magnitude = _mm_set1_epi16(0x7fff), infinity = _mm_set1_epi16(0x7c00);
    for (; k0 + 8 <= k; k0 += 8) {
        for (long lane0 = 0; lane0 < blocked; lane0 += 8) {
            // r[i]: row lane0 + i, values k0 ..< k0 + 8.
            __m128i r[8], nan = _mm_setzero_si128();
            for (int i = 0; i < 8; i++) {
                r[i] = _mm_loadu_si128((const __m128i *)(s + 2 * ((lane0 + i) * k + k0)));
                nan = _mm_or_si128(nan, _mm_cmpgt_epi16(_mm_and_si128(r[i], magnitude), infinity));
            }
            if (_mm_movemask_epi8(nan) != 0) return 0;
            // a: pairs of rows interleaved; b: quads; c[j]: the 8 rows' value k0 + j.
            __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
            __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
            __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
            __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
            __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
            __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
            __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
            __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
            __m128i c[8] = {
                _mm_unpacklo_epi64(b0, b4), _mm_unpackhi_epi64(b0, b4), _mm_unpacklo_epi64(b1, b5), _mm_unpackhi_epi64(b1, b5),
                _mm_unpacklo_epi64(b2, b6), _mm_unpackhi_epi64(b2, b6), _mm_unpacklo_epi64(b3, b7), _mm_unpackhi_epi64(b3, b7)};
            for (int j = 0; j < 8; j++) _mm_storeu_si128((__m128i *)(dst + (k0 + j) * width + lane0), c[j]);
        }
        for (long lane = blocked; lane < columns; lane++) {
            for (long kk = k0; kk < k0 + 8; kk++) {
                uint16_t h;
                memcpy(&h, s + 2 * (lane * k + kk), 2);
                if ((h & 0x7fff) > 0x7c00) return 0;
                dst[kk * width + lane] = h;
            }
        }
    }
#endif
    for (long kk = k0; kk < k; kk++) {
        for (long lane = 0; lane < columns; lane++) {
            uint16_t h;
            memcpy(&h, s + 2 * (lane * k + kk), 2);
            if ((h & 0x7fff) > 0x7c00) return 0;
            dst[kk * width + lane] = h;
        }
    }
    return 1;
}

// How many of `count` little-endian binary16 (`blaze_count_nonzero_halves`) or binary32 values
// at `source` (any alignment) are not +-0 (magnitude bits not all zero). With SSE2 the halves go
// 8 per compare, counted in 16-bit lanes flushed every 32767 steps (LLVM's loop kept 64-bit lanes).
static inline long blaze_count_nonzero_halves(const void *source, long count) {
    const unsigned char *s = (const unsigned char *)source;
    long n = 0, i = 0;
#if defined(__SSE2__)
    const __m128i magnitude = _mm_set1_epi16(0x7fff), zero = _mm_setzero_si128(), ones = _mm_set1_epi16(1);
    while (i + 8 <= count) {
        __m128i zeros = _mm_setzero_si128();   // per lane: how many +-0 in this stretch
        long stop = count - i < 8L * 32767 ? count : i + 8L * 32767;
        for (; i + 8 <= stop; i += 8) {
            __m128i h = _mm_and_si128(_mm_loadu_si128((const __m128i *)(s + 2 * i)), magnitude);
            zeros = _mm_sub_epi16(zeros, _mm_cmpeq_epi16(h, zero));
        }
        __m128i pairs = _mm_madd_epi16(zeros, ones);   // 4 x int32
        int32_t lanes[4];
        _mm_storeu_si128((__m128i *)lanes, pairs);
        n -= (long)lanes[0] + lanes[1] + lanes[2] + lanes[3];
    }
    n += i;
#endif
    for (; i < count; i++) n += (((uint32_t)s[2 * i] | (uint32_t)(s[2 * i + 1] & 0x7f) << 8) != 0);
    return n;
}

static inline long blaze_count_nonzero_floats(const void *source, long count) {
    const unsigned char *s = (const unsigned char *)source;
    long n = 0;
    for (long i = 0; i < count; i++) {
        uint32_t bits = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 | (uint32_t)s[4 * i + 2] << 16 | (uint32_t)(s[4 * i + 3] & 0x7f) << 24;
        n += bits != 0;
    }
    return n;
}

// How many positions j in 1 ..< count have p[j] <= p[j - 1] (not strictly increasing there).
// With SSE2 the 8- and 16-bit ones go 16 or 8 per compare (x <= y: the saturating x - y is 0),
// counted in 8- or 16-bit lanes flushed before they can overflow (LLVM's loops kept 64-bit lanes).
static inline long blaze_descents_u8(const uint8_t *p, long count) {
    long n = 0, j = 1;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    while (j + 16 <= count) {
        __m128i acc = _mm_setzero_si128();   // per byte lane, at most 255 steps
        long stop = count - j < (16L * 255) ? count : j + 16L * 255;
        for (; j + 16 <= stop; j += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(p + j)), y = _mm_loadu_si128((const __m128i *)(p + j - 1));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_subs_epu8(x, y), zero));
        }
        __m128i sums = _mm_sad_epu8(acc, zero);   // 2 x uint64
        n += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
    }
#endif
    for (; j < count; j++) n += p[j] <= p[j - 1];
    return n;
}

static inline long blaze_descents_u16(const uint16_t *p, long count) {
    long n = 0, j = 1;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128(), ones = _mm_set1_epi16(1);
    while (j + 8 <= count) {
        __m128i acc = _mm_setzero_si128();   // per 16-bit lane, at most 32767 steps
        long stop = count - j < 8L * 32767 ? count : j + 8L * 32767;
        for (; j + 8 <= stop; j += 8) {
            __m128i x = _mm_loadu_si128((const __m128i *)(p + j)), y = _mm_loadu_si128((const __m128i *)(p + j - 1));
            acc = _mm_sub_epi16(acc, _mm_cmpeq_epi16(_mm_subs_epu16(x, y), zero));
        }
        int32_t lanes[4];
        _mm_storeu_si128((__m128i *)lanes, _mm_madd_epi16(acc, ones));
        n += (long)lanes[0] + lanes[1] + lanes[2] + lanes[3];
    }
#endif
    for (; j < count; j++) n += p[j] <= p[j - 1];
    return n;
}

static inline long blaze_descents_i32(const int32_t *p, long count) {
    long n = 0;
    for (long j = 1; j < count; j++) n += p[j] <= p[j - 1];
    return n;
}

// `out[j] = (int32_t)p[j] + shift` for j in 0 ..< count (sparse indices widened into columns;
// the sums must fit int32, as the caller checks).
static inline void blaze_columns_u8(const uint8_t *p, long count, int32_t shift, int32_t *out) {
    for (long j = 0; j < count; j++) out[j] = (int32_t)p[j] + shift;
}

static inline void blaze_columns_u16(const uint16_t *p, long count, int32_t shift, int32_t *out) {
    for (long j = 0; j < count; j++) out[j] = (int32_t)p[j] + shift;
}

static inline void blaze_columns_i32(const int32_t *p, long count, int32_t shift, int32_t *out) {
    for (long j = 0; j < count; j++) out[j] = (int32_t)((uint32_t)p[j] + (uint32_t)shift);
}

// The sparse 1x1 kernel's 16-bit entry offsets: `out[j] = scale * min(max(columns[j] - first, 0), last)`
// for j in 0 ..< count (the clamp keeps every offset inside its chunk even for columns outside
// it, which a checked reader never gives; `scale * last` must fit uint16).
static inline void blaze_chunk_offsets_u16(const int32_t *columns, long count, int32_t first, int32_t last,
                                           int32_t scale, uint16_t *out) {
    for (long j = 0; j < count; j++) {
        int32_t c = columns[j] - first;
        c = c < 0 ? 0 : c;
        c = c > last ? last : c;
        out[j] = (uint16_t)(scale * c);
    }
}

// blaze_scan_below_W(q, j, count, b): the first position from j on (j <= count) whose index is
// >= b, count when none: on increasing indices, where the run below b ends. 16 (8-bit) or 8
// (16-bit) indices per SSE2 compare and mask (x >= b: the saturating b - x is 0), else 16 per
// compare LLVM vectorises; the rest one at a time.
static inline long blaze_scan_below_u8(const uint8_t *q, long j, long count, uint8_t b) {
#if defined(__SSE2__)
    const __m128i bound = _mm_set1_epi8((char)b), zero = _mm_setzero_si128();
    for (; j + 16 <= count; j += 16) {
        int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_subs_epu8(bound, _mm_loadu_si128((const __m128i *)(q + j))), zero));
        if (mask) return j + __builtin_ctz((unsigned)mask);
    }
#endif
    while (j < count && q[j] < b) j++;
    return j;
}

static inline long blaze_scan_below_u16(const uint16_t *q, long j, long count, uint16_t b) {
#if defined(__SSE2__)
    const __m128i bound = _mm_set1_epi16((short)b), zero = _mm_setzero_si128();
    for (; j + 8 <= count; j += 8) {
        int mask = _mm_movemask_epi8(_mm_cmpeq_epi16(_mm_subs_epu16(bound, _mm_loadu_si128((const __m128i *)(q + j))), zero));
        if (mask) return j + (__builtin_ctz((unsigned)mask) >> 1);
    }
#endif
    while (j < count && q[j] < b) j++;
    return j;
}

static inline long blaze_scan_below_i32(const int32_t *q, long j, long count, int32_t b) {
    for (; j + 16 <= count; j += 16) {
        unsigned mask = 0;
        for (int k = 0; k < 16; k++) mask |= (unsigned)(q[j + k] >= b) << k;
        if (mask) return j + __builtin_ctz(mask);
    }
    while (j < count && q[j] < b) j++;
    return j;
}

// The sparse reader's checks and the sparse 1x1 kernel's build, read straight from a CSR's index
// vector at its stored width (uint8, uint16, int32: one function per width W, from one macro;
// `TOP` is the width's largest value):
//
// blaze_index_bounds_W(p, count, &low, &high): the smallest and largest of p[0 ..< count]
//   (count >= 1), in one pass.
// blaze_start_descents_W(p, starts, n, begin, end): how many distinct starts s of the
//   non-decreasing starts[0 ..< n] with begin < s < end hold p[s] <= p[s - 1] (the descents a
//   whole-vector `blaze_descents_W` counts that are only segment boundaries).
// blaze_increasing_below_W(p, count, bound): 1 when p[0 ..< count] strictly increase and all lie in
//   0 ..< bound (first and last checked, the order in one pass that ORs the descents at the
//   indices' own width), else 0.
// blaze_sparse_runs_W(p, starts, rows, chunkWidth, chunks, runs): for each row r (entries
//   starts[r] ..< starts[r + 1], non-decreasing starts) and chunk c, how many of its entries lie
//   in chunk c (columns c * chunkWidth ..< (c + 1) * chunkWidth), at runs[c * rows + r]: on
//   strictly increasing indices each chunk boundary is found by a forward scan
//   (`blaze_scan_below_W`: 8 to 16 indices per compare and mask; no pass per chunk, no division).
//   On any other contents the runs of a row
//   are still >= 0 and add up to its entries.
// blaze_sparse_place_W(...): the kernel's entries for rows r0 ..< r1, see the comment at the macro.
#define BLAZE_CSR_HELPERS(W, T, TOP)                                                                     \
static inline void blaze_index_bounds_##W(const T *p, long count, long *low, long *high) {               \
    T lo = p[0], hi = p[0];                                                                              \
    for (long j = 1; j < count; j++) { T x = p[j]; lo = x < lo ? x : lo; hi = x > hi ? x : hi; }         \
    *low = (long)lo; *high = (long)hi;                                                                   \
}                                                                                                        \
static inline long blaze_start_descents_##W(const T *p, const int32_t *starts, long n, long begin, long end) { \
    long count = 0, previous = begin;                                                                    \
    for (long r = 0; r < n; r++) {                                                                       \
        long s = starts[r];                                                                              \
        if (s != previous && s > begin && s < end && p[s] <= p[s - 1]) count++;                          \
        previous = s;                                                                                    \
    }                                                                                                    \
    return count;                                                                                        \
}                                                                                                        \
static inline int blaze_increasing_below_##W(const T *p, long count, long bound) {                     \
    if (count <= 0) return 1;                                                                            \
    if ((long)p[0] < 0 || (long)p[count - 1] >= bound) return 0;                                         \
    T descents = 0;                                                                                      \
    for (long j = 1; j < count; j++) descents |= (T)(p[j] <= p[j - 1]);                                  \
    return descents == 0;                                                                                \
}                                                                                                        \
static inline void blaze_sparse_runs_##W(const T *p, const int32_t *starts, long rows, long chunkWidth,  \
                                         long chunks, long *runs) {                                      \
    for (long r = 0; r < rows; r++) {                                                                    \
        const T *q = p + starts[r];                                                                      \
        long count = (long)starts[r + 1] - (long)starts[r], j = 0, previous = 0;                         \
        for (long c = 0; c + 1 < chunks; c++) {                                                          \
            long boundary = (c + 1) * chunkWidth;                                                        \
            if (boundary > (long)(TOP)) {                                                                \
                j = count;                                                                               \
            } else {                                                                                     \
                j = blaze_scan_below_##W(q, j, count, (T)boundary);                                      \
            }                                                                                            \
            runs[c * rows + r] = j - previous;                                                           \
            previous = j;                                                                                \
        }                                                                                                \
        runs[(chunks - 1) * rows + r] = count - previous;                                                \
    }                                                                                                    \
}                                                                                                        \
static inline void blaze_sparse_place_##W(const T *p, const void *values, int half, const int32_t *starts, \
                                          const long *runs, const int32_t *rowStart, long rows,          \
                                          long chunks, long chunkWidth, long inputs, long stride,        \
                                          long r0, long r1, uint16_t *offsets, float *out) {             \
    for (long r = r0; r < r1; r++) {                                                                     \
        long first = starts[r], count = (long)starts[r + 1] - first, start = 0;                          \
        for (long c = 0; c < chunks; c++) {                                                              \
            long slot = c * rows + r, position = rowStart[slot], limit = rowStart[slot + 1];             \
            long n = runs[slot];                                                                         \
            n = n < count - start ? n : count - start;                                                   \
            n = n < limit - position ? n : limit - position;                                             \
            n = n < 0 ? 0 : n;                                                                           \
            long chunkStart = c * chunkWidth;                                                            \
            long width = inputs - chunkStart < chunkWidth ? inputs - chunkStart : chunkWidth;            \
            uint16_t *o = offsets + position;                                                            \
            /* Vector steps may run past the run, up to its slots' end (the padding, rewritten below) \
               and the last row's last entry (so reads stay inside the stored vectors). */               \
            long room = limit - position, stored = (long)starts[rows] - (first + start);                \
            room = room < stored ? room : stored;                                                        \
            blaze_run_offsets_##W(p + first + start, n, room, (int32_t)chunkStart, (int32_t)(width - 1), \
                                  (int32_t)stride, o);                                                   \
            if (half) {                                                                                  \
                blaze_widen_halves_room((const unsigned char *)values + 2 * (first + start), out + position, n, room); \
            } else {                                                                                     \
                blaze_copy_floats((const unsigned char *)values + 4 * (first + start), out + position, n); \
            }                                                                                            \
            uint16_t last = n > 0 ? o[n - 1] : 0;                                                        \
            for (long e = position + n; e < limit; e++) { offsets[e] = last; out[e] = 0; }               \
            start += n;                                                                                  \
        }                                                                                                \
    }                                                                                                    \
}

// blaze_run_offsets_W(p, n, room, first, last, scale, out): `out[j] = scale * min(max(p[j] - first,
//   0), last)` for j in 0 ..< n (the sparse kernel's 16-bit offsets of one run, every index
//   clamped into its chunk; `scale * last` must fit uint16), with `room` >= n indices readable and
//   offsets writable (past n: meaningless values the caller rewrites). For 8- and 16-bit indices
//   8 at a time in 16-bit lanes with SSE2 (saturating subtract, min as a - (a -sat b), low 16 bits
//   of the product: the same values), the tail in one 4- or 8-lane step where the room allows;
//   LLVM left the scalar loop scalar inside the larger function.
//
// One step of 8 (or 4) offsets from 16-bit lanes `x`: the clamp and the product.
#if defined(__SSE2__)
static inline __attribute__((always_inline)) __m128i blaze_offsets8(__m128i x, __m128i lo, __m128i top, __m128i factor) {
    x = _mm_subs_epu16(x, lo);
    x = _mm_sub_epi16(x, _mm_subs_epu16(x, top));
    return _mm_mullo_epi16(x, factor);
}
#endif

// One offset of `blaze_run_offsets_W`: `x` (an index minus its chunk's first) clamped into
// 0 ... last, times `scale`.
static inline uint16_t blaze_offset1(int32_t x, int32_t last, int32_t scale) {
    x = x < 0 ? 0 : x;
    x = x > last ? last : x;
    return (uint16_t)(scale * x);
}

static inline void blaze_run_offsets_u16(const uint16_t *p, long n, long room, int32_t first, int32_t last,
                                         int32_t scale, uint16_t *out) {
    long j = 0;
#if defined(__SSE2__)
    if (first >= 0 && first <= 0xffff && last >= 0 && last <= 0xffff) {
        const __m128i lo = _mm_set1_epi16((short)first), top = _mm_set1_epi16((short)last);
        const __m128i factor = _mm_set1_epi16((short)scale);
        for (; j < n && j + 8 <= room; j += 8) {
            _mm_storeu_si128((__m128i *)(out + j), blaze_offsets8(_mm_loadu_si128((const __m128i *)(p + j)), lo, top, factor));
        }
        if (j < n && j + 4 <= room) {
            _mm_storel_epi64((__m128i *)(out + j), blaze_offsets8(_mm_loadl_epi64((const __m128i *)(p + j)), lo, top, factor));
            j += 4;
        }
    }
#endif
    for (; j < n; j++) out[j] = blaze_offset1((int32_t)p[j] - first, last, scale);
}

static inline void blaze_run_offsets_u8(const uint8_t *p, long n, long room, int32_t first, int32_t last,
                                        int32_t scale, uint16_t *out) {
    long j = 0;
#if defined(__SSE2__)
    if (first >= 0 && first <= 0xffff && last >= 0 && last <= 0xffff) {
        const __m128i lo = _mm_set1_epi16((short)first), top = _mm_set1_epi16((short)last);
        const __m128i factor = _mm_set1_epi16((short)scale), zero = _mm_setzero_si128();
        for (; j < n && j + 8 <= room; j += 8) {
            __m128i x = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p + j)), zero);
            _mm_storeu_si128((__m128i *)(out + j), blaze_offsets8(x, lo, top, factor));
        }
        if (j < n && j + 4 <= room) {
            int32_t four;
            memcpy(&four, p + j, 4);
            __m128i x = _mm_unpacklo_epi8(_mm_cvtsi32_si128(four), zero);
            _mm_storel_epi64((__m128i *)(out + j), blaze_offsets8(x, lo, top, factor));
            j += 4;
        }
    }
#endif
    for (; j < n; j++) out[j] = blaze_offset1((int32_t)p[j] - first, last, scale);
}

static inline void blaze_run_offsets_i32(const int32_t *p, long n, long room, int32_t first, int32_t last,
                                         int32_t scale, uint16_t *out) {
    (void)room;
    for (long j = 0; j < n; j++) out[j] = blaze_offset1((int32_t)((uint32_t)p[j] - (uint32_t)first), last, scale);
}

// As `blaze_widen_halves` for `count` values, with `room` >= count floats writable at
// `destination` and halves readable at `source`: 8-lane steps, then the tail in one 4- or 8-lane
// step where the room allows (values past `count` are written but meaningless; the caller
// rewrites those slots). The first `count` values are exactly `blaze_widen_halves`'s.
static inline __attribute__((always_inline)) void blaze_widen_halves_room(const void *source, float *destination, long count, long room) {
    long i = 0;
#if defined(__F16C__) && defined(__AVX__)
    const unsigned char *s = (const unsigned char *)source;
    const __m128i magnitudeMask = _mm_set1_epi16(0x7fff), infinity = _mm_set1_epi16(0x7c00);
    for (; i < count && i + 4 <= room; ) {
        int eight = i + 8 <= room;
        __m128i h = eight ? _mm_loadu_si128((const __m128i *)(s + 2 * i)) : _mm_loadl_epi64((const __m128i *)(s + 2 * i));
        __m128i nan = _mm_cmpgt_epi16(_mm_and_si128(h, magnitudeMask), infinity);
        if (__builtin_expect(_mm_movemask_epi8(nan) != 0, 0)) break;   // the exact code below from here
        if (eight) { _mm256_storeu_ps(destination + i, _mm256_cvtph_ps(h)); i += 8; }
        else { _mm_storeu_ps(destination + i, _mm_cvtph_ps(h)); i += 4; }
    }
    if (i >= count) return;
#endif
    blaze_widen_halves((const unsigned char *)source + 2 * i, destination + i, count - i);
}

// Copies `count` little-endian binary32 values (any alignment) to `destination`.
static inline void blaze_copy_floats(const void *source, float *destination, long count) {
    const unsigned char *s = (const unsigned char *)source;
    uint32_t *d = (uint32_t *)destination;
    for (long i = 0; i < count; i++) {
        d[i] = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 | (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24;
    }
}

// blaze_sparse_place_W(p, values, half, starts, runs, rowStart, rows, chunks, chunkWidth, inputs,
//   stride, r0, r1, offsets, out): pass 2 of the sparse 1x1 kernel's build for rows r0 ..< r1.
//   Row r's entries are p[starts[r] ...] (their columns) and `values` at the same positions
//   (binary16 when `half`, else binary32; little-endian, any alignment); its run in chunk c is the
//   next runs[c * rows + r] of them (pass 1), written from slot rowStart[c * rows + r] as offsets
//   `stride * (column - c * chunkWidth)` (the column clamped into the chunk) and float32 values,
//   then +0 weights on the last offset up to the next row start (the padding, or slots a run
//   shortened by the clamps left). Every write stays inside the row's slots for any contents
//   (and every read inside entries starts[r0] ..< starts[rows]): the runs' last few entries go
//   through 8- or 4-lane steps that may cover slots of the padding (rewritten after) instead of
//   a scalar loop per entry (the detector's runs are 4 to 40 entries long).
BLAZE_CSR_HELPERS(u8, uint8_t, 0xff)
BLAZE_CSR_HELPERS(u16, uint16_t, 0xffff)
BLAZE_CSR_HELPERS(i32, int32_t, 0x7fffffff)
#undef BLAZE_CSR_HELPERS

// One RGB8 pixel of OpenCV's fixed-point bilinear remap (`remapBilinear`, 8-bit, 3 channels):
// per channel c, `sum = s[t0+c]·k0 + s[t1+c]·k1 + s[t2+c]·k2 + s[t3+c]·k3` (bytes times weights
// summing to at most 2^15: exact in 32 bits), `dst[c] = clamp((sum + round) >> shift, 0, 255)`.
// With SSE4.1 the three channels go in 32-bit lanes from one 4-byte load per tap, so each tap's
// 4th byte (the next pixel's) is read too, and multiplied into lane 3, which is never stored:
// the caller guarantees `t3 + 4` bytes are readable (t3, the last row's right tap, is the largest
// offset). The same integers either way.
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif
static inline __attribute__((always_inline)) void blaze_bilinear_rgb8(const uint8_t *s, const long *t, const int32_t *k,
                                                                      int32_t round, int32_t shift, uint8_t *dst) {
#if defined(__SSE4_1__)
    int32_t b0, b1, b2, b3;
    __builtin_memcpy(&b0, s + t[0], 4); __builtin_memcpy(&b1, s + t[1], 4);
    __builtin_memcpy(&b2, s + t[2], 4); __builtin_memcpy(&b3, s + t[3], 4);
    __m128i sum = _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b0)), _mm_set1_epi32(k[0]));
    sum = _mm_add_epi32(sum, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b1)), _mm_set1_epi32(k[1])));
    sum = _mm_add_epi32(sum, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b2)), _mm_set1_epi32(k[2])));
    sum = _mm_add_epi32(sum, _mm_mullo_epi32(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(b3)), _mm_set1_epi32(k[3])));
    __m128i v = _mm_sra_epi32(_mm_add_epi32(sum, _mm_set1_epi32(round)), _mm_cvtsi32_si128(shift));
    // Signed 32 → 16 (saturating: the sums are far inside) → unsigned 8 with saturation: the clamp.
    __m128i halves = _mm_packs_epi32(v, v);
    uint32_t packed = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(halves, halves));
    dst[0] = (uint8_t)packed; dst[1] = (uint8_t)(packed >> 8); dst[2] = (uint8_t)(packed >> 16);
#else
    for (int c = 0; c < 3; c++) {
        int32_t sum = (int32_t)s[t[0] + c] * k[0] + (int32_t)s[t[1] + c] * k[1]
                    + (int32_t)s[t[2] + c] * k[2] + (int32_t)s[t[3] + c] * k[3];
        int32_t v = (sum + round) >> shift;
        dst[c] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
#endif
}

// One row of BT.601 limited-range YCbCr to RGB8 (PoseImage's Y4M reader), each pixel exactly as
// Swift's `bt601LimitedToRGB` computes it (the same integer operations; Clang, which compiles this
// header for Swift, shifts a negative int32 arithmetically, as Swift's `>>` does):
//   luma = 76309·(Y − 16); u = Cb − 128; v = Cr − 128
//   R = (luma + 104597·v + 2¹⁵) >> 16, G = (luma − 25675·u − 53279·v + 2¹⁵) >> 16,
//   B = (luma + 132201·u + 2¹⁵) >> 16, each clamped to 0…255.
// `y`: [width]; `cb`, `cr`: the row's chroma, [(width + 1) / 2] when `half_columns` (4:2:0: pixel x
// takes sample x / 2), else [width]; NULL for both (mono): Cb = Cr = 128. `rgb`: [width][3].
// Plain loops, one per layout, which the compiler vectorises.
static inline int32_t blaze_clamp_u8(int32_t v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }
static inline __attribute__((always_inline)) void blaze_ycbcr_pixel(uint8_t y, int32_t u, int32_t v, uint8_t *rgb) {
    int32_t luma = 76309 * ((int32_t)y - 16);
    rgb[0] = (uint8_t)blaze_clamp_u8((luma + 104597 * v + 32768) >> 16);
    rgb[1] = (uint8_t)blaze_clamp_u8((luma - 25675 * u - 53279 * v + 32768) >> 16);
    rgb[2] = (uint8_t)blaze_clamp_u8((luma + 132201 * u + 32768) >> 16);
}
static inline void blaze_ycbcr_row_to_rgb(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *rgb,
                                          long width, int half_columns) {
    if (cb == NULL || cr == NULL) {
        for (long x = 0; x < width; x++) blaze_ycbcr_pixel(y[x], 0, 0, rgb + 3 * x);
    } else if (half_columns) {
        // Pairs of pixels sharing one chroma sample (a loop over x with `x / 2` stays scalar).
        long pairs = width / 2;
        for (long p = 0; p < pairs; p++) {
            int32_t u = (int32_t)cb[p] - 128, v = (int32_t)cr[p] - 128;
            blaze_ycbcr_pixel(y[2 * p], u, v, rgb + 6 * p);
            blaze_ycbcr_pixel(y[2 * p + 1], u, v, rgb + 6 * p + 3);
        }
        if (width & 1) blaze_ycbcr_pixel(y[width - 1], (int32_t)cb[pairs] - 128, (int32_t)cr[pairs] - 128, rgb + 3 * (width - 1));
    } else {
        for (long x = 0; x < width; x++) blaze_ycbcr_pixel(y[x], (int32_t)cb[x] - 128, (int32_t)cr[x] - 128, rgb + 3 * x);
    }
}

// RGB8 `rgb` [h][w][3] to BT.601 limited-range 4:2:0 planes, as PoseImage's Y4MWriter defines them:
//   y  [h][w]:   16 + ((16829·R + 33039·G + 6416·B + 2¹⁵) >> 16);
//   cb, cr [⌈h/2⌉][⌈w/2⌉]: per 2×2 block (2×1, 1×2 or 1×1 at an odd edge) of n pixels with channel
//   sums R, G, B: clamp(128 + floor((c·(R, G, B) + 2¹⁵·n) / (2¹⁶·n)), 16, 240) with
//   c = (−9714, −19070, 28784) for Cb and (28784, −24103, −4681) for Cr. n is 1, 2 or 4, so the
//   floor division is an arithmetic shift by 16, 17 or 18. Integer arithmetic: any order gives the
//   same bytes. Plain loops, which the compiler vectorises.
static inline uint8_t blaze_chroma_byte(int32_t v, int shift) {
    int32_t q = 128 + ((v + (1 << (shift - 1))) >> shift);
    return (uint8_t)(q < 16 ? 16 : (q > 240 ? 240 : q));
}
static inline void blaze_rgb_to_yuv420(const uint8_t *rgb, long w, long h, uint8_t *yp, uint8_t *cbp, uint8_t *crp) {
    for (long i = 0; i < w * h; i++) {
        int32_t r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        yp[i] = (uint8_t)(16 + ((16829 * r + 33039 * g + 6416 * b + 32768) >> 16));
    }
    long cw = (w + 1) / 2, ch = (h + 1) / 2, pairs = w / 2;
    for (long cy = 0; cy < ch; cy++) {
        const uint8_t *row0 = rgb + 2 * cy * w * 3;
        const uint8_t *row1 = (2 * cy + 1 < h) ? row0 + w * 3 : row0;
        int rows = (2 * cy + 1 < h) ? 2 : 1;
        uint8_t *cbRow = cbp + cy * cw, *crRow = crp + cy * cw;
        int shift = rows == 2 ? 18 : 17;   // blocks of two columns
        for (long cx = 0; cx < pairs; cx++) {
            const uint8_t *a = row0 + 6 * cx, *c = row1 + 6 * cx;
            int32_t r = a[0] + a[3], g = a[1] + a[4], b = a[2] + a[5];
            if (rows == 2) { r += c[0] + c[3]; g += c[1] + c[4]; b += c[2] + c[5]; }
            cbRow[cx] = blaze_chroma_byte(-9714 * r - 19070 * g + 28784 * b, shift);
            crRow[cx] = blaze_chroma_byte(28784 * r - 24103 * g - 4681 * b, shift);
        }
        if (w & 1) {   // the last column alone
            const uint8_t *a = row0 + (w - 1) * 3, *c = row1 + (w - 1) * 3;
            int32_t r = a[0], g = a[1], b = a[2];
            if (rows == 2) { r += c[0]; g += c[1]; b += c[2]; }
            cbRow[pairs] = blaze_chroma_byte(-9714 * r - 19070 * g + 28784 * b, rows == 2 ? 17 : 16);
            crRow[pairs] = blaze_chroma_byte(28784 * r - 24103 * g - 4681 * b, rows == 2 ? 17 : 16);
        }
    }
}

// Blends colour (r, g, b) into `count` RGB8 pixels `px` [count][3], as PoseImage's `RGBImage.blend`
// defines it: w = min(m, 1) · alpha for a pixel whose weight m = weights[i] is > 0, then per channel
// out = round(v + (t − v) · w) (half away from zero) clamped to 0…255. A pixel with m ≤ 0 or NaN gets
// w = 0, which gives back its own value exactly (v + ±0 = v, an integer), so no branch is needed.
// The same float operations in the same order as the Swift definition, none fused (Swift never
// contracts a · b + c; contraction is off here).
static inline void blaze_blend_rgb8(uint8_t *px, const float *weights, long count, float r, float g, float b,
                                    float alpha) {
#pragma clang fp contract(off)
    const float target[3] = {r, g, b};
    for (long i = 0; i < count; i++) {
        float m = weights[i];
        float w = m > 0 ? (1 < m ? 1.0f : m) * alpha : 0.0f;
        for (int c = 0; c < 3; c++) {
            float v = (float)px[3 * i + c];
            float d = (target[c] - v) * w;
            float o = __builtin_roundf(v + d);
            px[3 * i + c] = (uint8_t)(o < 0 ? 0 : (o > 255 ? 255 : o));
        }
    }
}

// The command-line tool's malloc policy (glibc only; the library leaves malloc to its host
// process): blocks up to 32 MiB come from the heap, and freed heap memory up to 256 MiB stays
// mapped, so arrays that each video frame allocates and frees again are not fresh mmaps whose
// pages fault in and are zeroed every frame (glibc's default maps blocks from 128 KiB).
#if defined(__GLIBC__)
#include <malloc.h>
static inline void blaze_keep_freed_heap_mapped(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}
#endif

#endif
