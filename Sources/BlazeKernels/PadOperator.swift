/// PAD with constant 0 on a rank-4 float32 tensor (TFLite `reference_ops::Pad`).
///
/// `paddings` is `[4][2]`: `(before, after)` per dimension of NHWC, all ≥ 0. Channel padding
/// (used by the landmark models to widen residual branches) is supported like any other dim.
public final class PadOperator: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let paddings: [[Int]]

    public init(inputShape: [Int], paddings: [[Int]]) throws {
        let op = "PAD"
        guard inputShape.count == 4, validDimensions(inputShape) else {
            throw KernelError.invalidShape(op: op, what: "input", shape: inputShape)
        }
        guard paddings.count == 4, paddings.allSatisfy({ $0.count == 2 }) else {
            throw KernelError.invalidShape(op: op, what: "paddings", shape: [paddings.count, paddings.first?.count ?? 0])
        }
        for (d, p) in paddings.enumerated() where p[0] < 0 || p[1] < 0 || p[0] > maxDimension || p[1] > maxDimension {
            throw KernelError.invalidParameter(op: op, name: "padding of dim \(d)", value: p[0] < 0 || p[0] > maxDimension ? p[0] : p[1])
        }
        self.inputShape = inputShape
        self.paddings = paddings
        outputShape = (0..<4).map { inputShape[$0] + paddings[$0][0] + paddings[$0][1] }
        guard validDimensions(outputShape) else { throw KernelError.invalidShape(op: op, what: "output", shape: outputShape) }
    }

    /// Copies `input` into the interior of `output` and zeroes the border. Parallel over output rows (N·H).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (ih, iw, ic) = (inputShape[1], inputShape[2], inputShape[3])
        let (oh, ow, oc) = (outputShape[1], outputShape[2], outputShape[3])
        let (pb, ph, pw, pc) = (paddings[0][0], paddings[1][0], paddings[2][0], paddings[3][0])
        let ib = inputShape[0]
        pool.parallelFor(outputShape[0] * oh) { row, _ in
            let b = row / oh, y = row % oh
            let out = output + row * ow * oc
            let iy = y - ph, ibatch = b - pb
            if iy < 0 || iy >= ih || ibatch < 0 || ibatch >= ib {
                out.update(repeating: 0, count: ow * oc)
                return
            }
            out.update(repeating: 0, count: pw * oc)
            let src = input + ((ibatch * ih + iy) * iw) * ic
            for x in 0..<iw {
                let dst = out + (pw + x) * oc
                if pc > 0 { dst.update(repeating: 0, count: pc) }
                (dst + pc).update(from: src + x * ic, count: ic)
                let tail = oc - pc - ic
                if tail > 0 { (dst + pc + ic).update(repeating: 0, count: tail) }
            }
            (out + (pw + iw) * oc).update(repeating: 0, count: (ow - pw - iw) * oc)
        }
    }
}

extension Reference {
    /// TFLite `reference_ops::Pad` with constant 0 (rank 4): every output element is either the
    /// input element at `index - before` or 0.
    public static func pad(input: UnsafePointer<Float>, inputShape: [Int], paddings: [[Int]],
                           output: UnsafeMutablePointer<Float>) {
        let o = (0..<4).map { inputShape[$0] + paddings[$0][0] + paddings[$0][1] }
        var flat = 0
        for i0 in 0..<o[0] { for i1 in 0..<o[1] { for i2 in 0..<o[2] { for i3 in 0..<o[3] {
            let src = [i0 - paddings[0][0], i1 - paddings[1][0], i2 - paddings[2][0], i3 - paddings[3][0]]
            var inside = true
            var idx = 0
            for d in 0..<4 {
                if src[d] < 0 || src[d] >= inputShape[d] { inside = false }
                idx = idx * inputShape[d] + src[d]
            }
            output[flat] = inside ? input[idx] : 0
            flat += 1
        } } } }
    }
}
