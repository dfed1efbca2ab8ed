/// CONCATENATION of float32 tensors of equal rank along any axis (negative axes count from
/// the end), as TFLite's `reference_ops::Concatenation`, followed by the fused activation.
public final class ConcatenationOperator: @unchecked Sendable {
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    public let axis: Int
    public let activation: FusedActivation
    /// Product of the dims before / after the axis.
    let outer: Int, inner: Int

    public init(inputShapes: [[Int]], axis: Int, activation: FusedActivation = .none) throws {
        let op = "CONCATENATION"
        guard let first = inputShapes.first else {
            throw KernelError.invalidParameter(op: op, name: "input count", value: 0)
        }
        let rank = first.count
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < rank else { throw KernelError.invalidParameter(op: op, name: "axis", value: axis) }
        for (i, s) in inputShapes.enumerated() {
            guard s.count == rank, validDimensions(s) else {
                throw KernelError.invalidShape(op: op, what: "input \(i)", shape: s)
            }
            for d in 0..<rank where d != resolved && s[d] != first[d] {
                throw KernelError.shapeMismatch(op: op, detail: "input \(i) dim \(d) is \(s[d]), input 0 has \(first[d])")
            }
        }
        self.inputShapes = inputShapes
        self.axis = resolved
        self.activation = activation
        var out = first
        out[resolved] = inputShapes.reduce(0) { $0 + $1[resolved] }
        guard validDimensions(out) else { throw KernelError.invalidShape(op: op, what: "output", shape: out) }
        outputShape = out
        outer = first[..<resolved].reduce(1, *)
        inner = first[(resolved + 1)...].reduce(1, *)
    }

    /// `inputs[i]` holds `inputShapes[i]` (row-major); `output` holds `outputShape`.
    public func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let lo = activation.lowerBound, hi = activation.upperBound
        let outRow = outputShape[axis] * inner
        let ax = axis, inn = inner
        pool.parallelFor(outer) { o, _ in
            var dst = output + o * outRow
            for (i, shape) in inputShapes.enumerated() {
                let n = shape[ax] * inn
                let src = inputs[i] + o * n
                if activation == .none {
                    dst.update(from: src, count: n)
                } else {
                    for j in 0..<n { dst[j] = Swift.min(Swift.max(src[j], lo), hi) }
                }
                dst += n
            }
        }
    }
}

extension Reference {
    /// TFLite `reference_ops::Concatenation` (float) + activation.
    public static func concatenation(inputs: [UnsafePointer<Float>], inputShapes: [[Int]], axis: Int,
                                     activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        let rank = inputShapes[0].count
        let ax = axis < 0 ? axis + rank : axis
        let outer = inputShapes[0][..<ax].reduce(1, *)
        let inner = inputShapes[0][(ax + 1)...].reduce(1, *)
        var k = 0
        for o in 0..<outer {
            for (i, s) in inputShapes.enumerated() {
                for j in 0..<(s[ax] * inner) {
                    output[k] = activation.apply(inputs[i][o * s[ax] * inner + j])
                    k += 1
                }
            }
        }
    }
}
