import CBlazeTarget

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element-wise float32 activations as TFLite's reference kernels:
/// RELU `max(0, x)`, RELU6 `min(max(0, x), 6)`, LOGISTIC `1 / (1 + exp(-x))` (float `expf`),
/// HARD_SWISH `x * min(6, max(0, x + 3)) / 6` (`reference_ops::HardSwish`: the product first,
/// then the division by 6, with C++'s `std::max`/`std::min` comparison order).
public enum UnaryKind: Sendable, Equatable, CaseIterable {
    case relu, relu6, logistic, hardSwish
}

/// Runs a `UnaryKind` over `count` contiguous floats (any layout; in-place allowed).
public final class UnaryOperator: @unchecked Sendable {
    public let kind: UnaryKind
    public let count: Int

    public init(kind: UnaryKind, shape: [Int]) throws {
        guard validDimensions(shape) else {
            throw KernelError.invalidShape(op: "\(kind)".uppercased(), what: "input", shape: shape)
        }
        self.kind = kind
        count = shape.reduce(1, *)
    }

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let total = count, kind = self.kind
        let chunk = 16384
        pool.parallelFor((total + chunk - 1) / chunk) { unit, _ in
            let start = unit * chunk, end = Swift.min(total, start + chunk)
            switch kind {
            case .relu, .relu6:
                let hi: Float = kind == .relu6 ? 6 : .infinity
                let zero = SIMD8<Float>(), hiv = SIMD8<Float>(repeating: hi)
                var i = start
                while i + 8 <= end {
                    var v = loadVector(input + i)
                    v = blaze_max8(zero, v)
                    v = blaze_min8(hiv, v)
                    storeVector(v, output + i)
                    i += 8
                }
                while i < end { output[i] = Swift.min(Swift.max(input[i], 0), hi); i += 1 }
            case .logistic:
                Self.logistic(input + start, output + start, count: end - start)
            case .hardSwish:
                let zero = SIMD8<Float>(), three = SIMD8<Float>(repeating: 3), six = SIMD8<Float>(repeating: 6)
                var i = start
                while i + 8 <= end {
                    let x = loadVector(input + i)
                    let t = x + three
                    let m = blaze_max8(t, zero)  // std::max(0, t): t > 0 ? t : 0
                    let r = blaze_min8(m, six)   // std::min(6, m): m < 6 ? m : 6
                    storeVector(x * r / six, output + i)
                    i += 8
                }
                while i < end { output[i] = hardSwish(input[i]); i += 1 }
            }
        }
    }
}

extension UnaryOperator {
    /// LOGISTIC runs 8 lanes at a time (``TableExp``) when the build targets FMA (without it each
    /// fused multiply-add would be a library call) and this process's `expf` gives the same bits
    /// on the probe inputs; else `expf` one value at a time. The outputs are the same either way:
    /// `1 / (1 + expf(-x))`.
    static let vectorLogistic = BuildTarget.hasFMA && TableExp.matchesLibm

    /// LOGISTIC of `count` contiguous floats on the calling thread, `output[i] = 1 / (1 + expf(-input[i]))`
    /// (in place allowed), as ``run(input:output:pool:)`` computes it: for sigmoids outside an
    /// interpreter, e.g. the pose pipeline's segmentation mask (`[H, W]` logits).
    public static func logistic(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        logistic(input, output, count: count, path: vectorLogistic ? .lanes : .scalar)
    }

    /// The two ways LOGISTIC computes (``logistic(_:_:count:path:)``).
    public enum LogisticPath: Sendable {
        /// 8 lanes at a time by ``TableExp`` (saturated lanes exact without `expf`), `expf` for the rest.
        case lanes
        /// `expf` value by value.
        case scalar
    }

    /// ``logistic(_:_:count:)`` by the given path, whatever the build: for tests that check the
    /// 8-lane path where the kernel would not take it (without FMA hardware each fused multiply-add
    /// is a library call, correct but slow). `.lanes` gives `expf`'s bits where
    /// ``TableExp/matchesLibm``; elsewhere ``TableExp``'s own.
    public static func logistic(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int,
                                path: LogisticPath) {
        guard count > 0 else { return }
        switch path {
        case .lanes: logistic8(input, output, 0, count)
        case .scalar: for i in 0..<count { output[i] = 1 / (1 + expf(-input[i])) }
        }
    }

    /// `output[i] = 1 / (1 + expf(-input[i]))` for `i` in `start..<end`, 8 values at a time:
    /// with `x = -input[i]`,
    /// - |x| < 88: ``TableExp`` (`expf`'s bits);
    /// - x ≤ −88 (−∞ too): exactly 1, as with `expf`: `expf(x) ≤ expf(−88) < 6.1e-39`, far below
    ///   half an ulp of 1 (2⁻²⁴), so `1 + expf(x)` rounds to 1;
    /// - x > 0x1.62e42ep6 (≈ 88.7228, glibc's overflow bound; ln(FLT_MAX) ≈ 88.72283905 lies between
    ///   it and the next float, whose exp exceeds FLT_MAX by more than half an ulp): `expf` is +∞,
    ///   so exactly 0 (`1 / +∞`).
    /// A group with another value (88 ≤ x ≤ the bound, NaN), and the last `count mod 8`, use `expf`.
    /// Saturated groups are common in segmentation outputs: on a uniform random input, 94% of
    /// selfie_segmentation's 256×256 output values were exactly 0.
    @inline(__always)
    static func logistic8(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ start: Int, _ end: Int) {
        let table = TableExp.table
        let hi = SIMD8<Float>(repeating: TableExp.limit), lo = SIMD8<Float>(repeating: -TableExp.limit)
        let overflow = SIMD8<Float>(repeating: 0x1.62e42ep6)
        let one = SIMD8<Float>(repeating: 1), zero = SIMD8<Float>()
        var i = start
        while i + 8 <= end {
            let x = -loadVector(input + i)
            let inside = (x .< hi) .& (x .> lo)
            if all(inside) {
                storeVector(one / (one + TableExp.exp(x, table: table)), output + i)
            } else {
                let ones = x .<= lo, zeros = x .> overflow
                if all(inside .| ones .| zeros) {
                    var r = one / (one + TableExp.exp(x.replacing(with: zero, where: .!inside), table: table))
                    r.replace(with: one, where: ones)
                    r.replace(with: zero, where: zeros)
                    storeVector(r, output + i)
                } else {
                    for j in i..<(i + 8) { output[j] = 1 / (1 + expf(-input[j])) }
                }
            }
            i += 8
        }
        while i < end { output[i] = 1 / (1 + expf(-input[i])); i += 1 }
    }
}

/// HARD_SWISH of one value, as `reference_ops::HardSwish`: `x * min(6, max(0, x + 3)) / 6`
/// with `std::max(a, b) = a < b ? b : a` and `std::min(a, b) = b < a ? b : a`.
@inline(__always)
func hardSwish(_ x: Float) -> Float {
    let t = x + 3
    let m: Float = 0 < t ? t : 0
    let r: Float = m < 6 ? m : 6
    return x * r / 6
}

extension Reference {
    /// TFLite reference RELU / RELU6 / LOGISTIC / HARD_SWISH (float), element by element.
    public static func unary(_ kind: UnaryKind, input: UnsafePointer<Float>, count: Int,
                             output: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let x = input[i]
            switch kind {
            case .relu: output[i] = Swift.max(Float(0), x)
            case .relu6: output[i] = Swift.min(Swift.max(Float(0), x), 6)
            case .logistic: output[i] = 1 / (1 + expf(-x))
            case .hardSwish: output[i] = x * Swift.min(6, Swift.max(0, x + 3)) / 6
            }
        }
    }
}
