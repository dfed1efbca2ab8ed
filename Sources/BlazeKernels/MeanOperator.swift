/// MEAN of a float32 tensor over a set of axes (TFLite `reference_ops::Mean`, float).
///
/// Summation order (the same as the reference, so results match it bit for bit): each output
/// element starts at `0` and adds its input elements in increasing row-major input index, one
/// `+` at a time; the sum is then divided by the number of reduced elements (a float, exact
/// below 2^24). For the NHWC global pool `axes = [1, 2]` that is `sum over h, then w` per
/// channel, as the reference's 4D special case also does.
///
/// Axes may be negative (counted from the end) and repeated (counted once), as TFLite's
/// `ResolveAxis`. With `keepDims` the reduced dims stay as 1s, else they are removed.
public final class MeanOperator: @unchecked Sendable {
    public let inputShape: [Int]
    /// `inputShape` with the reduced dims set to 1 (`keepDims`) or removed.
    public let outputShape: [Int]
    /// The resolved axes, ascending and unique.
    public let axes: [Int]
    /// The input viewed as `[outer][reduced][inner]` after merging neighbouring dims, when the
    /// reduced axes are contiguous (always true for one axis or NHWC `[1, 2]`); nil otherwise.
    let blocks: (outer: Int, reduced: Int, inner: Int)?
    /// Number of input elements per output element.
    let reducedCount: Int

    /// Validates the shape (rank 1...6, dims in `1...maxDimension`) and the axes (in `-rank..<rank`).
    public init(inputShape: [Int], axes: [Int], keepDims: Bool) throws {
        let op = "MEAN"
        guard (1...6).contains(inputShape.count), validDimensions(inputShape) else {
            throw KernelError.invalidShape(op: op, what: "input", shape: inputShape)
        }
        let rank = inputShape.count
        var resolved: [Int] = []
        for a in axes {
            guard a >= -rank && a < rank else { throw KernelError.invalidParameter(op: op, name: "axis", value: a) }
            let r = a < 0 ? a + rank : a
            if !resolved.contains(r) { resolved.append(r) }
        }
        resolved.sort()
        self.inputShape = inputShape
        self.axes = resolved
        var out: [Int] = []
        for d in 0..<rank {
            if !resolved.contains(d) { out.append(inputShape[d]) } else if keepDims { out.append(1) }
        }
        outputShape = out
        reducedCount = resolved.reduce(1) { $0 * inputShape[$1] }
        if let first = resolved.first, let last = resolved.last, last - first + 1 == resolved.count {
            blocks = (inputShape[..<first].reduce(1, *), reducedCount, inputShape[(last + 1)...].reduce(1, *))
        } else if resolved.isEmpty {
            blocks = (1, 1, inputShape.reduce(1, *))
        } else {
            blocks = nil
        }
    }

    /// `input` row-major `inputShape` → `output` row-major `outputShape`. Parallel over outer
    /// rows and fixed 64-wide inner blocks (each output element is summed by one thread).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let count = Float(reducedCount)
        guard let (outer, reduced, inner) = blocks else {
            // Non-contiguous axes: per output element, walk its inputs in row-major order.
            let total = outputShape.reduce(1, *)
            let shape = inputShape, axes = self.axes
            let chunk = Swift.max(1, 4096 / Swift.max(1, reducedCount))
            pool.parallelFor((total + chunk - 1) / chunk) { unit, _ in
                for o in (unit * chunk)..<Swift.min(total, unit * chunk + chunk) {
                    output[o] = meanGeneric(input: input, shape: shape, axes: axes, outputIndex: o) / count
                }
            }
            return
        }
        let blockWidth = 64
        let innerBlocks = (inner + blockWidth - 1) / blockWidth
        pool.parallelFor(outer * innerBlocks) { unit, _ in
            let o = unit / innerBlocks, c0 = (unit % innerBlocks) * blockWidth
            let c1 = Swift.min(inner, c0 + blockWidth)
            let src = input + o * reduced * inner
            let dst = output + o * inner
            var c = c0
            let countv = SIMD8<Float>(repeating: count)
            while c + 8 <= c1 {
                var sum = SIMD8<Float>()
                for r in 0..<reduced { sum = sum + loadVector(src + r * inner + c) }
                storeVector(sum / countv, dst + c)
                c += 8
            }
            while c < c1 {
                var sum: Float = 0
                for r in 0..<reduced { sum = sum + src[r * inner + c] }
                dst[c] = sum / count
                c += 1
            }
        }
    }
}

/// Sum, in row-major input order, of the inputs that reduce into output element `o` (the
/// output indexed as the input shape with reduced dims of size 1).
func meanGeneric(input: UnsafePointer<Float>, shape: [Int], axes: [Int], outputIndex o: Int) -> Float {
    let rank = shape.count
    // The output element's coordinates in the kept dims.
    var coord = [Int](repeating: 0, count: rank)
    var rest = o
    for d in (0..<rank).reversed() where !axes.contains(d) {
        coord[d] = rest % shape[d]
        rest /= shape[d]
    }
    var sum: Float = 0
    while true {
        var index = 0
        for d in 0..<rank { index = index * shape[d] + coord[d] }
        sum = sum + input[index]
        // Next reduced coordinate, last axis fastest.
        var k = axes.count - 1
        while k >= 0 {
            coord[axes[k]] += 1
            if coord[axes[k]] < shape[axes[k]] { break }
            coord[axes[k]] = 0
            k -= 1
        }
        if k < 0 { return sum }
    }
}

extension Reference {
    /// TFLite `reference_ops::Mean` (generic float path): zero the sums, add every input element
    /// into its output in input order, divide by the reduced count. `axes` resolved (0..<rank).
    public static func mean(input: UnsafePointer<Float>, inputShape: [Int], axes: [Int],
                            output: UnsafeMutablePointer<Float>) {
        let rank = inputShape.count
        let total = inputShape.reduce(1, *)
        var outDims = inputShape
        var reduced = 1
        for d in 0..<rank where axes.contains(d) { outDims[d] = 1; reduced *= inputShape[d] }
        let outCount = outDims.reduce(1, *)
        var sums = [Float](repeating: 0, count: outCount)
        var coord = [Int](repeating: 0, count: rank)
        for i in 0..<total {
            var rest = i
            for d in (0..<rank).reversed() { coord[d] = rest % inputShape[d]; rest /= inputShape[d] }
            var o = 0
            for d in 0..<rank { o = o * outDims[d] + (axes.contains(d) ? 0 : coord[d]) }
            sums[o] = sums[o] + input[i]
        }
        for o in 0..<outCount { output[o] = sums[o] / Float(reduced) }
    }
}
