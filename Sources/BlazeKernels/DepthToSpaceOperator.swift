/// DEPTH_TO_SPACE (DCR order, as TFLite's `reference_ops::DepthToSpace`) on NHWC float32:
/// `out[b, y, x, d] = in[b, y / bs, x / bs, ((y % bs)·bs + x % bs)·outC + d]`, `outC = inC / bs²`.
public final class DepthToSpaceOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let blockSize: Int

    public init(inputShape: [Int], blockSize: Int) throws {
        let op = "DEPTH_TO_SPACE"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard blockSize > 0 && blockSize <= maxDimension else { throw KernelError.invalidParameter(op: op, name: "block size", value: blockSize) }
        guard input.channels % (blockSize * blockSize) == 0 else {
            throw KernelError.shapeMismatch(op: op, detail: "input channels \(input.channels) not divisible by block size² \(blockSize * blockSize)")
        }
        self.inputShape = input
        self.blockSize = blockSize
        outputShape = NHWCShape(batch: input.batch, height: input.height * blockSize, width: input.width * blockSize,
                                channels: input.channels / (blockSize * blockSize))
    }

    /// Copies runs of `outC` contiguous floats; parallel over output rows.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let bs = blockSize, oc = outputShape.channels, ow = outputShape.width, oh = outputShape.height
        let ic = inputShape.channels, iw = inputShape.width, ih = inputShape.height
        pool.parallelFor(outputShape.batch * oh) { row, _ in
            let b = row / oh, y = row % oh
            let src = input + ((b * ih + y / bs) * iw) * ic + (y % bs) * bs * oc
            let dst = output + row * ow * oc
            for x in 0..<ow {
                (dst + x * oc).update(from: src + (x / bs) * ic + (x % bs) * oc, count: oc)
            }
        }
    }
}

extension Reference {
    /// TFLite `reference_ops::DepthToSpace` (float), element by element.
    public static func depthToSpace(input: UnsafePointer<Float>, inputShape: NHWCShape, blockSize bs: Int,
                                    output: UnsafeMutablePointer<Float>) {
        let oc = inputShape.channels / (bs * bs)
        let oh = inputShape.height * bs, ow = inputShape.width * bs
        for b in 0..<inputShape.batch { for y in 0..<oh { for x in 0..<ow { for d in 0..<oc {
            let ic = ((y % bs) * bs + x % bs) * oc + d
            output[((b * oh + y) * ow + x) * oc + d] =
                input[((b * inputShape.height + y / bs) * inputShape.width + x / bs) * inputShape.channels + ic]
        } } } }
    }
}
