/// ADD of two float32 tensors with NumPy-style broadcasting (rank ≤ 4, right-aligned),
/// then the fused activation: `out = act(a + b)` as TFLite's `reference_ops::Add` /
/// `BroadcastAdd4DSlow`. Same-shape inputs take a SIMD path; other shapes a strided loop.
public final class AddOperator: @unchecked Sendable {
    /// Output shape, always rank 4 (inputs are extended with leading 1s).
    public let outputShape: [Int]
    public let activation: FusedActivation
    /// Element strides of a and b over the 4 output dims (0 where the input is broadcast).
    let stridesA: [Int], stridesB: [Int]
    let sameShape: Bool

    public init(aShape: [Int], bShape: [Int], activation: FusedActivation) throws {
        let op = "ADD"
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
        outputShape = out
        self.activation = activation
        sameShape = a4 == b4
        stridesA = Self.broadcastStrides(a4)
        stridesB = Self.broadcastStrides(b4)
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

    /// Adds `a` and `b` (row-major, their own shapes) into `output` (`outputShape`).
    public func run(a: UnsafePointer<Float>, b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let lo = activation.lowerBound, hi = activation.upperBound
        let total = outputShape.reduce(1, *)
        if sameShape {
            // Fixed 16K-element chunks: parallel without any dependence on the thread count.
            let chunk = 16384
            pool.parallelFor((total + chunk - 1) / chunk) { unit, _ in
                let start = unit * chunk, end = Swift.min(total, start + chunk)
                let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
                var i = start
                while i + 8 <= end {
                    var r = loadVector(a + i) + loadVector(b + i)
                    r = r.replacing(with: lov, where: r .< lov)
                    r = r.replacing(with: hiv, where: r .> hiv)
                    storeVector(r, output + i)
                    i += 8
                }
                while i < end { output[i] = Swift.min(Swift.max(a[i] + b[i], lo), hi); i += 1 }
            }
            return
        }
        let (d0, d1, d2, d3) = (outputShape[0], outputShape[1], outputShape[2], outputShape[3])
        let sa = stridesA, sb = stridesB
        pool.parallelFor(d0 * d1) { unit, _ in
            let i0 = unit / d1, i1 = unit % d1
            var o = output + (i0 * d1 + i1) * d2 * d3
            for i2 in 0..<d2 {
                let pa = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2]
                let pb = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2]
                for i3 in 0..<d3 {
                    o[i3] = Swift.min(Swift.max(pa[i3 * sa[3]] + pb[i3 * sb[3]], lo), hi)
                }
                o += d3
            }
        }
    }
}

extension Reference {
    /// TFLite `BroadcastAdd4DSlow` (float): shapes right-aligned to rank 4, dims equal or 1.
    public static func add(a: UnsafePointer<Float>, aShape: [Int], b: UnsafePointer<Float>, bShape: [Int],
                           activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
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
            output[flat] = activation.apply(a[index(a4, i)] + b[index(b4, i)])
            flat += 1
        } } } }
    }
}
