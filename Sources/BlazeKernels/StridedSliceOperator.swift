/// STRIDED_SLICE of a float32 tensor (rank 1...5) with TFLite's semantics
/// (`reference_ops::StridedSlice` with `strided_slice_logic.h`):
///
/// - the index arrays are padded at the front to rank 5 (leading dims taken whole);
/// - per axis, `start` = `begin` (or the first element in iteration order when the axis's
///   `begin_mask` bit is set), `+ size` when negative, clamped to `[0, size-1]`;
/// - `stop` = `end` (or past the last element when the `end_mask` bit is set; `start + 1` for
///   a `shrink_axis_mask` axis), `+ size` when negative, clamped to `[0, size]` for a positive
///   stride and `[-1, size-1]` for a negative one;
/// - the axis yields `start, start + stride, …` while before `stop`; shrunk axes are dropped
///   from the output shape.
///
/// Rejected with `KernelError` (TFLite rejects or mishandles them too): `ellipsis_mask` and
/// `new_axis_mask` bits, `offset`, a zero stride, a negative stride on a shrunk axis (the
/// reference loop yields no element there), and an empty result.
public struct StridedSliceOperator: Sendable {
    public let inputShape: [Int]
    /// The output shape without the shrunk axes (rank ≥ 1: `[1]` when every axis is shrunk).
    public let outputShape: [Int]
    /// Per padded axis (rank 5): first input index, step, and number of elements taken.
    public let start: [Int], stride: [Int], count: [Int]
    /// Input element strides of the padded rank-5 shape.
    let inputStrides: [Int]

    public init(inputShape: [Int], begin: [Int], end: [Int], strides: [Int], beginMask: Int = 0, endMask: Int = 0,
                ellipsisMask: Int = 0, newAxisMask: Int = 0, shrinkAxisMask: Int = 0, offset: Bool = false) throws {
        let op = "STRIDED_SLICE"
        let rank = inputShape.count
        guard (1...5).contains(rank), validDimensions(inputShape) else {
            throw KernelError.invalidShape(op: op, what: "input", shape: inputShape)
        }
        for (what, v) in [("begin", begin), ("end", end), ("strides", strides)] where v.count != rank {
            throw KernelError.invalidShape(op: op, what: "\(what) (must have one value per input dim, \(rank))", shape: [v.count])
        }
        if ellipsisMask != 0 { throw KernelError.invalidParameter(op: op, name: "ellipsis_mask (unsupported)", value: ellipsisMask) }
        if newAxisMask != 0 { throw KernelError.invalidParameter(op: op, name: "new_axis_mask (unsupported)", value: newAxisMask) }
        if offset { throw KernelError.invalidParameter(op: op, name: "offset (unsupported)", value: 1) }
        let valid = (1 << rank) - 1
        for (name, mask) in [("begin_mask", beginMask), ("end_mask", endMask), ("shrink_axis_mask", shrinkAxisMask)]
        where mask & ~valid != 0 {
            throw KernelError.invalidParameter(op: op, name: name, value: mask)
        }
        let pad = 5 - rank
        let dims = Array(repeating: 1, count: pad) + inputShape
        var starts: [Int] = [], steps: [Int] = [], counts: [Int] = [], out: [Int] = []
        for d in 0..<5 {
            if d < pad {
                starts.append(0); steps.append(1); counts.append(1)
                continue
            }
            let axis = d - pad, size = dims[d], step = strides[axis]
            guard step != 0 && abs(step) <= maxDimension else {
                throw KernelError.invalidParameter(op: op, name: "stride of axis \(axis)", value: step)
            }
            let shrink = shrinkAxisMask & (1 << axis) != 0
            if shrink && step < 0 {
                throw KernelError.invalidParameter(op: op, name: "negative stride of shrunk axis \(axis)", value: step)
            }
            // Indices beyond ±2^24 clamp like any out-of-range index; bound them first so no
            // arithmetic below can overflow.
            let b = Swift.min(Swift.max(begin[axis], -2 * maxDimension), 2 * maxDimension)
            let e = Swift.min(Swift.max(end[axis], -2 * maxDimension), 2 * maxDimension)
            var first: Int
            if beginMask & (1 << axis) != 0 {
                first = step > 0 ? 0 : size - 1
            } else {
                first = b < 0 ? b + size : b
                first = Swift.min(Swift.max(first, 0), size - 1)
            }
            var stop: Int
            if shrink {
                stop = first + 1
            } else if endMask & (1 << axis) != 0 {
                stop = step > 0 ? size : -1
            } else {
                stop = e < 0 ? e + size : e
                stop = step > 0 ? Swift.min(Swift.max(stop, 0), size) : Swift.min(Swift.max(stop, -1), size - 1)
            }
            let n = step > 0 ? (stop - first + step - 1) / step : (first - stop + (-step) - 1) / (-step)
            guard n > 0 else {
                throw KernelError.invalidParameter(op: op, name: "elements along axis \(axis) (empty slice)", value: Swift.max(0, n))
            }
            starts.append(first); steps.append(step); counts.append(n)
            if !shrink { out.append(n) }
        }
        self.inputShape = inputShape
        outputShape = out.isEmpty ? [1] : out
        start = starts; stride = steps; count = counts
        var s = [Int](repeating: 1, count: 5)
        for d in (0..<4).reversed() { s[d] = s[d + 1] * dims[d + 1] }
        inputStrides = s
    }

    /// Number of output elements.
    public var elementCount: Int { count.reduce(1, *) }

    /// Copies the slice of `input` (row-major `inputShape`) into `output` (row-major
    /// `outputShape`). Innermost runs with stride 1 are block copies. Parallel over fixed
    /// groups of output rows; never validates.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let rows = count[0] * count[1] * count[2] * count[3]
        let inner = count[4]
        let rowsPerUnit = Swift.max(1, 16384 / inner)
        let (c1, c2, c3) = (count[1], count[2], count[3])
        let st = start, sp = stride, s = inputStrides
        pool.parallelFor((rows + rowsPerUnit - 1) / rowsPerUnit) { unit, _ in
            for r in (unit * rowsPerUnit)..<Swift.min(rows, unit * rowsPerUnit + rowsPerUnit) {
                let i0 = r / (c1 * c2 * c3), i1 = (r / (c2 * c3)) % c1, i2 = (r / c3) % c2, i3 = r % c3
                let src = input + (st[0] + i0 * sp[0]) * s[0] + (st[1] + i1 * sp[1]) * s[1]
                    + (st[2] + i2 * sp[2]) * s[2] + (st[3] + i3 * sp[3]) * s[3] + st[4]
                let dst = output + r * inner
                if sp[4] == 1 {
                    dst.update(from: src, count: inner)
                } else {
                    for j in 0..<inner { dst[j] = src[j * sp[4]] }
                }
            }
        }
    }
}

extension Reference {
    /// TFLite `reference_ops::StridedSlice` (float) written out: pad the index arrays and
    /// masks to rank 5 (`StridedSlicePadIndices`), compute each axis's start and stop
    /// (`StartForAxis`, `StopForAxis`), then nested loops until `LoopCondition`. No
    /// ellipsis/new-axis masks. Returns the number of elements written.
    @discardableResult
    public static func stridedSlice(input: UnsafePointer<Float>, inputShape: [Int], begin: [Int], end: [Int],
                                    strides: [Int], beginMask: Int, endMask: Int, shrinkAxisMask: Int,
                                    output: UnsafeMutablePointer<Float>) -> Int {
        let pad = 5 - inputShape.count
        let dims = Array(repeating: 1, count: pad) + inputShape
        let b = Array(repeating: 0, count: pad) + begin
        let e = Array(repeating: 0, count: pad) + end
        let s = Array(repeating: 1, count: pad) + strides
        let lowMask = (1 << pad) - 1
        let bm = (beginMask << pad) | lowMask, em = (endMask << pad) | lowMask, sm = shrinkAxisMask << pad
        func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { hi < v ? hi : (v < lo ? lo : v) }
        var starts = [Int](repeating: 0, count: 5), stops = [Int](repeating: 0, count: 5)
        for axis in 0..<5 {
            var start = b[axis]
            if bm & (1 << axis) != 0 { start = s[axis] > 0 ? Int(Int32.min) : Int(Int32.max) }
            if start < 0 { start += dims[axis] }
            start = clamp(start, 0, dims[axis] - 1)
            starts[axis] = start
            // A shrunk axis takes exactly `start` (current TFLite returns `start + 1` before
            // looking at end_mask; the operator rejects negative strides there).
            if sm & (1 << axis) != 0 { stops[axis] = start + 1; continue }
            var stop = e[axis]
            if em & (1 << axis) != 0 { stop = s[axis] > 0 ? Int(Int32.max) : Int(Int32.min) }
            if stop < 0 { stop += dims[axis] }
            stop = s[axis] > 0 ? clamp(stop, 0, dims[axis]) : clamp(stop, -1, dims[axis] - 1)
            stops[axis] = stop
        }
        func done(_ i: Int, _ axis: Int) -> Bool { s[axis] > 0 ? i >= stops[axis] : i <= stops[axis] }
        var n = 0
        var i0 = starts[0]
        while !done(i0, 0) {
            var i1 = starts[1]
            while !done(i1, 1) {
                var i2 = starts[2]
                while !done(i2, 2) {
                    var i3 = starts[3]
                    while !done(i3, 3) {
                        var i4 = starts[4]
                        while !done(i4, 4) {
                            output[n] = input[(((i0 * dims[1] + i1) * dims[2] + i2) * dims[3] + i3) * dims[4] + i4]
                            n += 1
                            i4 += s[4]
                        }
                        i3 += s[3]
                    }
                    i2 += s[2]
                }
                i1 += s[1]
            }
            i0 += s[0]
        }
        return n
    }
}
