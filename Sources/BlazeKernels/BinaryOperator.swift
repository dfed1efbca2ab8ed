import CBlazeTarget

/// The element-wise binary ops of `BinaryOperator`, each as TFLite's float reference kernel:
/// - `add`: `a + b` (`reference_ops::Add` / `BroadcastAdd4DSlow`);
/// - `mul`: `a * b` (`reference_ops::Mul` / `BroadcastMul4DSlow`);
/// - `prelu`: `a < 0 ? a * b : a` with `a` the input and `b` alpha (`ApplyPrelu` through
///   `BroadcastBinaryFunction4DSlow`). A NaN or `-0` input is passed through unchanged.
public enum BinaryKind: Sendable, Equatable, CaseIterable {
    case add, mul, prelu

    /// The TFLite operator name (for error messages).
    public var name: String {
        switch self {
        case .add: return "ADD"
        case .mul: return "MUL"
        case .prelu: return "PRELU"
        }
    }

    /// The scalar operation, exactly as the reference kernel computes it.
    @inlinable
    public func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .mul: return a * b
        case .prelu: return a < 0 ? a * b : a
        }
    }
}

/// ADD, MUL or PRELU of two float32 tensors with NumPy-style broadcasting (rank ≤ 4,
/// right-aligned; each dim equal or 1), then the fused activation: `out = act(op(a, b))`.
/// For PRELU, `a` is the input and `b` alpha (TFLite's PRELU has no fused activation: pass
/// `.none`).
///
/// Same-shape inputs take a SIMD path over fixed 16K-element chunks. Other shapes are first
/// collapsed (dims of size 1 in the output dropped, neighbouring dims merged where both inputs
/// either span or broadcast both), so the innermost run is as long as possible and each
/// input is either contiguous or a repeated scalar along it; those runs are SIMD too. Every
/// element is one scalar op and one clamp, so all paths are bit-identical to
/// `Reference.binary` for any thread count.
public final class BinaryOperator: @unchecked Sendable {
    public let kind: BinaryKind
    /// Output shape, always rank 4 (inputs are extended with leading 1s).
    public let outputShape: [Int]
    public let activation: FusedActivation
    let sameShape: Bool
    /// The collapsed iteration space: rank 4, innermost last; `inner` = `dims[3]`.
    let dims: [Int]
    /// Element strides of a and b over `dims` (0 where the input is broadcast).
    let stridesA: [Int], stridesB: [Int]

    /// Validates the shapes (rank ≤ 4, every dim in `1...maxDimension`, broadcast-compatible).
    public init(kind: BinaryKind, aShape: [Int], bShape: [Int], activation: FusedActivation) throws {
        let op = kind.name
        for (what, s) in [("a", aShape), ("b", bShape)] where s.count > 4 || !validDimensions(s) {
            throw KernelError.invalidShape(op: op, what: what, shape: s)
        }
        let a4 = Array(repeating: 1, count: 4 - aShape.count) + aShape
        let b4 = Array(repeating: 1, count: 4 - bShape.count) + bShape
        var out = [Int](repeating: 1, count: 4)
        for d in 0..<4 {
            guard a4[d] == b4[d] || a4[d] == 1 || b4[d] == 1 else {
                throw KernelError.shapeMismatch(op: op, detail: "cannot broadcast \(aShape) with \(bShape) (dim \(d))")
            }
            out[d] = Swift.max(a4[d], b4[d])
        }
        self.kind = kind
        outputShape = out
        self.activation = activation
        sameShape = a4 == b4
        // Collapse: drop output dims of size 1; merge a dim into the previous one when each
        // input spans both (size == output size) or broadcasts both (size 1).
        var cd: [Int] = [], ca: [Int] = [], cb: [Int] = []
        for d in 0..<4 where out[d] > 1 {
            if let last = cd.last, let lastA = ca.last, let lastB = cb.last,
               (lastA == last) == (a4[d] == out[d]), (lastB == last) == (b4[d] == out[d]) {
                cd[cd.count - 1] *= out[d]
                ca[ca.count - 1] *= a4[d]
                cb[cb.count - 1] *= b4[d]
            } else {
                cd.append(out[d]); ca.append(a4[d]); cb.append(b4[d])
            }
        }
        let pad = 4 - cd.count
        dims = Array(repeating: 1, count: pad) + cd
        stridesA = Self.broadcastStrides(Array(repeating: 1, count: pad) + ca)
        stridesB = Self.broadcastStrides(Array(repeating: 1, count: pad) + cb)
    }

    static func broadcastStrides(_ s: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: 4)
        var running = 1
        for d in (0..<4).reversed() {
            strides[d] = s[d] == 1 ? 0 : running
            running *= s[d]
        }
        return strides
    }

    /// Computes `act(op(a, b))`: `a` and `b` row-major in their own shapes, `output` row-major
    /// in `outputShape`. `output` may alias `a` when `a` already has the output shape (each
    /// element is read before it is written); never validates.
    public func run(a: UnsafePointer<Float>, b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        switch kind {
        case .add: run(AddOp.self, a: a, b: b, output: output, pool: pool)
        case .mul: run(MulOp.self, a: a, b: b, output: output, pool: pool)
        case .prelu: run(PReluOp.self, a: a, b: b, output: output, pool: pool)
        }
    }

    /// One specialization per op, so the inner loops carry no switch.
    @inline(__always)
    func run<Op: BinaryFloatOp>(_: Op.Type, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let lo = activation.lowerBound, hi = activation.upperBound
        let chunk = 16384
        if sameShape {
            // Fixed 16K-element chunks: parallel without any dependence on the thread count.
            let total = outputShape.reduce(1, *)
            pool.parallelFor((total + chunk - 1) / chunk) { unit, _ in
                let start = unit * chunk, end = Swift.min(total, start + chunk)
                binaryRun(Op.self, a: a + start, strideA: 1, b: b + start, strideB: 1, output: output + start,
                          count: end - start, lo: lo, hi: hi)
            }
            return
        }
        let (d1, d2, inner) = (dims[1], dims[2], dims[3])
        let sa = stridesA, sb = stridesB
        let rows = dims[0] * d1 * d2
        // Whole innermost runs per unit, about 16K elements (fixed by the shapes).
        let rowsPerUnit = Swift.max(1, chunk / inner)
        if dims[0] == 1 && d1 == 1 {
            // Two collapsed dims (e.g. a per-channel PRELU alpha or bias over H·W pixels): each
            // row's operands are one stride apart, no index arithmetic per row. For 8 or 16
            // channels the divisions of the general loop below cost more than the row itself.
            let rowA = sa[2], rowB = sb[2], strideA = sa[3], strideB = sb[3]
            if rowA == inner && strideA == 1 && rowB == 0 && strideB == 1 && (inner == 8 || inner == 16) {
                // A per-channel operand over 8 or 16 channels (hand_recrop's PRELU alpha over
                // 128×128×8): its vectors stay in registers across rows, no call per 8-float row.
                // Whole rows of 8 or 16 take binaryRun's vector path, so the bits are the same.
                let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
                let b0 = loadVector(b), b1 = inner == 16 ? loadVector(b + 8) : b0
                pool.parallelFor((rows + rowsPerUnit - 1) / rowsPerUnit) { unit, _ in
                    let r0 = unit * rowsPerUnit, r1 = Swift.min(rows, r0 + rowsPerUnit)
                    var at = r0 * inner
                    let end = r1 * inner
                    while at < end {
                        storeVector(blaze_min8(hiv, blaze_max8(lov, Op.vector(loadVector(a + at), b0))), output + at)
                        if inner == 16 {
                            storeVector(blaze_min8(hiv, blaze_max8(lov, Op.vector(loadVector(a + at + 8), b1))), output + at + 8)
                        }
                        at += inner
                    }
                }
                return
            }
            pool.parallelFor((rows + rowsPerUnit - 1) / rowsPerUnit) { unit, _ in
                let r0 = unit * rowsPerUnit, r1 = Swift.min(rows, r0 + rowsPerUnit)
                var r = r0
                while r < r1 {
                    binaryRun(Op.self, a: a + r * rowA, strideA: strideA, b: b + r * rowB, strideB: strideB,
                              output: output + r * inner, count: inner, lo: lo, hi: hi)
                    r += 1
                }
            }
            return
        }
        pool.parallelFor((rows + rowsPerUnit - 1) / rowsPerUnit) { unit, _ in
            let r0 = unit * rowsPerUnit, r1 = Swift.min(rows, r0 + rowsPerUnit)
            for r in r0..<r1 {
                let i0 = r / (d1 * d2), i1 = (r / d2) % d1, i2 = r % d2
                binaryRun(Op.self, a: a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2], strideA: sa[3],
                          b: b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2], strideB: sb[3],
                          output: output + r * inner, count: inner, lo: lo, hi: hi)
            }
        }
    }
}

/// ADD with broadcasting and a fused activation: `BinaryOperator` of kind `.add`.
public typealias AddOperator = BinaryOperator

extension BinaryOperator {
    /// ADD (`kind: .add`); kept for callers that name the op by its type.
    public convenience init(aShape: [Int], bShape: [Int], activation: FusedActivation) throws {
        try self.init(kind: .add, aShape: aShape, bShape: bShape, activation: activation)
    }
}

/// A binary op as a scalar and an 8-lane function with identical per-element results.
protocol BinaryFloatOp {
    static func scalar(_ a: Float, _ b: Float) -> Float
    static func vector(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float>
}

enum AddOp: BinaryFloatOp {
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) static func vector(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a + b }
}

enum MulOp: BinaryFloatOp {
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) static func vector(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a * b }
}

enum PReluOp: BinaryFloatOp {
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a < 0 ? a * b : a }
    @inline(__always) static func vector(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        blaze_prelu8(a, b)
    }
}

/// `count` outputs `clamp(op(a[i·strideA], b[i·strideB]))`; strides are 0 (a repeated scalar)
/// or 1 (contiguous), SIMD in either case.
@inline(__always)
func binaryRun<Op: BinaryFloatOp>(_: Op.Type, a: UnsafePointer<Float>, strideA: Int, b: UnsafePointer<Float>,
                                  strideB: Int, output: UnsafeMutablePointer<Float>, count: Int, lo: Float, hi: Float) {
    let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
    @inline(__always) func clamp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        blaze_min8(hiv, blaze_max8(lov, v))
    }
    var i = 0
    if strideA == 1 && strideB == 1 {
        while i + 8 <= count {
            storeVector(clamp(Op.vector(loadVector(a + i), loadVector(b + i))), output + i)
            i += 8
        }
    } else if strideA == 1 && strideB == 0 {
        let bv = SIMD8<Float>(repeating: b[0])
        while i + 8 <= count {
            storeVector(clamp(Op.vector(loadVector(a + i), bv)), output + i)
            i += 8
        }
    } else if strideA == 0 && strideB == 1 {
        let av = SIMD8<Float>(repeating: a[0])
        while i + 8 <= count {
            storeVector(clamp(Op.vector(av, loadVector(b + i))), output + i)
            i += 8
        }
    }
    while i < count {
        output[i] = Swift.min(Swift.max(Op.scalar(a[i * strideA], b[i * strideB]), lo), hi)
        i += 1
    }
}

extension Reference {
    /// TFLite's `BroadcastAdd4DSlow` / `BroadcastMul4DSlow` / PRELU broadcast (float): shapes
    /// right-aligned to rank 4, dims equal or 1; output `act(kind.apply(a, b))` row-major.
    public static func binary(_ kind: BinaryKind, a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>,
                              bShape: [Int], activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        let a4 = Array(repeating: 1, count: 4 - aShape.count) + aShape
        let b4 = Array(repeating: 1, count: 4 - bShape.count) + bShape
        let o4 = (0..<4).map { Swift.max(a4[$0], b4[$0]) }
        func index(_ s: [Int], _ i: [Int]) -> Int {
            var idx = 0
            for d in 0..<4 { idx = idx * s[d] + (s[d] == 1 ? 0 : i[d]) }
            return idx
        }
        var flat = 0
        for i0 in 0..<o4[0] { for i1 in 0..<o4[1] { for i2 in 0..<o4[2] { for i3 in 0..<o4[3] {
            let i = [i0, i1, i2, i3]
            output[flat] = activation.apply(kind.apply(a[index(a4, i)], b[index(b4, i)]))
            flat += 1
        } } } }
    }

    /// `binary(.add, ...)`.
    public static func add(a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
                           activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        binary(.add, a: a, aShape: aShape, b: b, bShape: bShape, activation: activation, output: output)
    }
}
