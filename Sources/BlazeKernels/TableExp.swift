#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `expf` by the table method that glibc, musl and Arm's optimized-routines use,
/// computed the way glibc's x86-64 build for CPUs with FMA computes it, here 8 lanes at a time:
/// LOGISTIC's vector path (``UnaryOperator``).
///
/// The method, in double precision: `k = round(x · 32/ln 2)` (by adding and subtracting
/// `1.5·2⁵²`), `r = x · 32/ln 2 − k`, so `exp(x) = 2^(k/32) · 2^(r/32)`; `2^(k/32)` is the
/// table entry for `k mod 32` with `k / 32` added to its exponent field, and `2^(r/32)` the cubic
/// `(C0·r + C1)·r² + (C2·r + 1)`. Every multiply-add is fused (one rounding), as the FMA build
/// of glibc has them: both the reduction (`fma(32/ln 2, x, 1.5·2⁵²)`, `fma(32/ln 2, x, −k)`) and
/// the polynomial. The product `y · 2^(k/32)` is rounded once to float.
///
/// Exactness: on the CI machines (Debian's glibc 2.36, x86-64 with FMA) this gives `expf`'s bits
/// for every float with |x| < 88 (2,237,661,184 inputs, checked exhaustively; `TableExpTests`
/// checks a stride of them on every run and all of them when asked). Without fusing the
/// reduction it differs at two of them, 0x4202422f and 0xc27c65d9 (glibc's build for CPUs
/// without FMA should round there as the unfused form does; not checked, every machine here has
/// FMA). Another C library may use another method, so the vector path is taken only after
/// ``matchesLibm`` compared both on probe inputs, these two among them.
///
/// The constants: the table holds `bits(2^(i/32)) − (i << 47)` for `i` in `0..<32`, with
/// `2^(i/32)` rounded to the nearest double (computed to 60 digits); the polynomial's
/// coefficients are those of the method, scaled by `1/32ⁿ`.
public enum TableExp {
    /// `32 / ln 2`.
    static let invLn2N: Double = 0x1.71547652b82fep+5
    /// `1.5 · 2⁵²`: adding it rounds `x · 32/ln 2` to an integer, left in the low mantissa bits.
    static let shift: Double = 0x1.8p+52
    static let c0: Double = 0x1.c6af84b912394p-20
    static let c1: Double = 0x1.ebfce50fac4f3p-13
    static let c2: Double = 0x1.62e42ff0c52d6p-6

    /// `[32]`: `bits(2^(i/32)) − (i << 47)`; adding `k << 47` to entry `k mod 32` gives
    /// `bits(2^(k/32))`.
    static let table: UnsafePointer<UInt64> = {
        let entries: [UInt64] = [
            0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
            0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
            0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
            0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
            0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
            0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
            0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
            0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
        ]
        let pointer = UnsafeMutablePointer<UInt64>.allocate(capacity: 32)
        pointer.initialize(from: entries, count: 32)
        return UnsafePointer(pointer)
    }()

    /// The largest |x| the method is used for here (exclusive): below it `expf` takes no special
    /// path; at and above it (overflow, results that underflow to zero, infinities, NaN) callers
    /// use `expf` itself.
    public static let limit: Float = 88

    /// `expf(x)` for |x| < ``limit`` (other inputs give unspecified values).
    @inline(__always)
    static func exp(_ x: Float, table: UnsafePointer<UInt64>) -> Float {
        let xd = Double(x)
        let shifted = shift.addingProduct(invLn2N, xd)
        let ki = shifted.bitPattern
        let kd = shifted - shift
        let r = (-kd).addingProduct(invLn2N, xd)
        let s = Double(bitPattern: table[Int(truncatingIfNeeded: ki & 31)] &+ (ki &<< 47))
        let z = c1.addingProduct(c0, r)
        let r2 = r * r
        var y = Double(1).addingProduct(c2, r)
        y = y.addingProduct(z, r2)
        return Float(y * s)
    }

    /// `expf(x)` by the table method, for |x| < ``limit`` (other inputs give unspecified values).
    public static func exp(_ x: Float) -> Float { exp(x, table: table) }

    /// ``exp(_:)`` of 8 lanes, each lane exactly as the scalar form computes it: lanes with
    /// |x| ≥ ``limit`` or NaN give unspecified values.
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> { exp(x, table: table) }

    /// ``exp(_:table:)`` of 8 lanes, each as the scalar form computes it: lanes with
    /// |x| ≥ ``limit`` or NaN give unspecified values.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>, table: UnsafePointer<UInt64>) -> SIMD8<Float> {
        var xd = SIMD8<Double>()
        for l in 0..<8 { xd[l] = Double(x[l]) }
        let shifted = SIMD8<Double>(repeating: shift).addingProduct(SIMD8(repeating: invLn2N), xd)
        let kd = shifted - SIMD8(repeating: shift)
        let r = (-kd).addingProduct(SIMD8(repeating: invLn2N), xd)
        var s = SIMD8<Double>()
        for l in 0..<8 {
            let ki = shifted[l].bitPattern
            s[l] = Double(bitPattern: table[Int(truncatingIfNeeded: ki & 31)] &+ (ki &<< 47))
        }
        let z = SIMD8<Double>(repeating: c1).addingProduct(SIMD8(repeating: c0), r)
        let r2 = r * r
        var y = SIMD8<Double>(repeating: 1).addingProduct(SIMD8(repeating: c2), r)
        y = y.addingProduct(z, r2)
        y = y * s
        var out = SIMD8<Float>()
        for l in 0..<8 { out[l] = Float(y[l]) }
        return out
    }

    /// Probe inputs for ``matchesLibm``: the two floats where fusing the reduction changes the
    /// result (0x4202422f ≈ 32.54, 0xc27c65d9 ≈ −63.10), then 4,096 bit patterns spread over
    /// (−88, 88).
    static var probes: [Float] {
        var inputs: [Float] = [Float(bitPattern: 0x4202_422f), Float(bitPattern: 0xc27c_65d9)]
        let top = Float(88).bitPattern   // patterns below it are the floats in [0, 88)
        for i in 0..<2048 {
            let bits = UInt32(truncatingIfNeeded: UInt64(top) * UInt64(i) / 2048) | UInt32(i % 7)
            inputs.append(Float(bitPattern: bits))
            inputs.append(-Float(bitPattern: bits))
        }
        return inputs
    }

    /// Whether this process's `expf` gives ``exp(_:table:)``'s bits (both the scalar and the
    /// 8-lane form) on every ``probes`` input: true with glibc on an x86-64 CPU with FMA. Found
    /// once per process (~0.1 ms).
    public static let matchesLibm: Bool = {
        let inputs = probes
        var i = 0
        while i + 8 <= inputs.count {
            var lanes = SIMD8<Float>()
            for l in 0..<8 { lanes[l] = inputs[i + l] }
            let vector = exp(lanes, table: table)
            for l in 0..<8 {
                let expected = expf(inputs[i + l]).bitPattern
                guard vector[l].bitPattern == expected, exp(inputs[i + l], table: table).bitPattern == expected else { return false }
            }
            i += 8
        }
        return true
    }()
}
