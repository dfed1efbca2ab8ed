import CBlazeTarget

/// A 1×1 conv of a bilinearly upsampled map, computed in the other order: the conv on the small
/// map, then the resize of its output.
///
/// TFLite's graph is `act(conv(resize(x)) + bias)`, optionally followed by a fused ADD
/// (`act2(· + skip)`) and a folded PRELU (`v < 0 ? v·alpha : v`, last). A 1×1 conv is a linear
/// map of each pixel's channels, and every output value of a bilinear resize is a weighted sum of
/// input pixels whose weights sum to 1 (also at the borders, where TFLite's weights may exceed 1).
/// So `conv(resize(x)) = resize(conv(x))` for the conv without its bias. This operator computes
/// the latter: `conv` (no bias, no activation) on the resize's `[N, h, w, I]` input into scratch
/// (`[N, h, w, O]`), then per output pixel the resize of those `O` channels (into the worker's
/// buffer), `+ bias`, the activation, the fused ADD and the PRELU. A resize that doubles both
/// sides (the detector's 7×7×1152 → 14×14 and 14×14×192 → 28×28 decoders) makes 4× fewer
/// multiply-adds this way. The float roundings differ from the graph's order (the resize of
/// `I` inputs against the resize of `O` sums); `compare` measures the difference against LiteRT.
///
/// Layouts: input NHWC `[N, h, w, I]`, output NHWC `[N, H, W, O]`, bias `[O]` (or none), PRELU
/// alpha `[O]` (or none).
public final class ResizedPointwiseOperator: @unchecked Sendable {
    /// The 1×1 conv on the small map, `[N, h, w, I] → [N, h, w, O]`, built without bias and activation.
    public let conv: PointwiseProjection
    /// The resize of the conv's output, `[N, h, w, O] → [N, H, W, O]`.
    public let resize: ResizeBilinearOperator
    /// The conv's activation, applied after the resize and the bias.
    public let activation: FusedActivation
    /// `[O]` padded to a multiple of 8 with zeros (zeros for a conv without bias).
    let bias: UnsafeMutablePointer<Float>
    /// A folded PRELU's alpha, `[O]` padded to a multiple of 8 with zeros; nil for none.
    let preluAlpha: UnsafeMutablePointer<Float>?

    /// Input: `[N, h, w, I]`, NHWC.
    public var inputShape: NHWCShape { conv.inputShape }
    /// Output: `[N, H, W, O]`, NHWC.
    public var outputShape: NHWCShape { resize.outputShape }

    /// `conv` (its output `[N, h, w, O]`, no bias and no activation of its own: the caller builds
    /// it so), `resize` on that output, the conv's `bias` (`[O]`, or empty) and activation, and a
    /// folded PRELU's `preluAlpha` (`[O]`; nil for none).
    public init(conv: PointwiseProjection, resize: ResizeBilinearOperator, bias: [Float], activation: FusedActivation,
                preluAlpha: [Float]? = nil) throws {
        let op = "CONV_2D after RESIZE_BILINEAR"
        guard resize.inputShape == conv.outputShape else {
            throw KernelError.shapeMismatch(op: op, detail: "resize input \(resize.inputShape.dims) is not the conv's output \(conv.outputShape.dims)")
        }
        let o = conv.outputShape.channels
        guard bias.isEmpty || bias.count == o else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values, output channels \(o)")
        }
        if let preluAlpha, preluAlpha.count != o {
            throw KernelError.shapeMismatch(op: op, detail: "PRELU alpha has \(preluAlpha.count) values, output channels \(o)")
        }
        let padded = (o + 7) / 8 * 8
        func copy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, padded))
            p.initialize(repeating: 0, count: Swift.max(1, padded))
            for (c, v) in values.enumerated() { p[c] = v }
            return p
        }
        self.conv = conv
        self.resize = resize
        self.activation = activation
        self.bias = copy(bias)
        self.preluAlpha = preluAlpha.map(copy)
    }

    deinit {
        bias.deallocate()
        preluAlpha?.deallocate()
    }

    /// Floats of the conv's output kept in scratch, rounded up to 16.
    var smallMapCount: Int { (conv.outputShape.elementCount + 15) / 16 * 16 }
    /// Floats of one worker's pixel buffer (`[O]`, rounded up to 16).
    var pixelFloats: Int { (outputShape.channels + 15) / 16 * 16 }

    /// Scratch floats `run` needs with `threads` threads: the conv's small output, one pixel
    /// buffer per thread, then the conv's own scratch.
    public func scratchCount(threads: Int) -> Int {
        let t = Swift.max(1, threads)
        return smallMapCount + t * pixelFloats + conv.scratchCount(threads: t)
    }

    /// Whether `run` may be given a residual in the output's own memory: each pixel is resized
    /// into the worker's buffer, and each output value reads only its own skip value before it
    /// is written.
    public var residualMayShareOutput: Bool { true }

    /// `input` `[N, h, w, I]` → `output` `[N, H, W, O]`; `scratch` at least `scratchCount(threads:)`
    /// floats for `pool`'s thread count. With `residual` (rows of the output's pixels, `ld` ≥ the
    /// channels it holds): `output = act2(act(resize(conv(x)) + bias) + residual)`. Per output
    /// value: the resize's `((t0 + t1) + t2) + t3` of the conv's sums, `+ bias`, max then min, the
    /// skip, max then min, the PRELU; the same bits for every thread count. Does not validate the
    /// pointers.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, residual: GemmResidual? = nil) {
        let small = scratch   // [N, h, w, O]: the conv's sums on the small map
        let pixels = scratch + smallMapCount   // [threads][pixelFloats]: one resized pixel per worker
        let convScratch = pixels + pool.threadCount * pixelFloats
        conv.run(input: input, output: small, scratch: convScratch, pool: pool)
        let o = outputShape.channels, ih = resize.inputShape.height, iw = resize.inputShape.width
        let oh = outputShape.height, ow = outputShape.width
        let lo = activation.lowerBound, hi = activation.upperBound
        let bias = UnsafePointer(self.bias), alpha = preluAlpha.map { UnsafePointer($0) }
        let perWorker = pixelFloats
        pool.parallelFor(outputShape.batch * oh) { row, worker in
            let n = row / oh, y = row % oh
            let (y0, y1, dy) = resize.rowsTable[y]
            let r0 = UnsafePointer(small + (n * ih + y0) * iw * o), r1 = UnsafePointer(small + (n * ih + y1) * iw * o)
            let out = output + row * ow * o   // [W][O]: this output row
            let sums = pixels + worker * perWorker   // [O]: one output pixel's resized sums
            for x in 0..<ow {
                // Resized into the worker's buffer first: the output may be the skip's memory.
                ResizeBilinearOperator.interpolate(row0: r0, row1: r1, column: resize.columns[x], dy: dy, channels: o,
                                                   into: sums)
                Self.finish(sums, into: out + x * o, channels: o, bias: bias, lo: lo, hi: hi,
                            residual: residual?.offset(rows: row * ow + x, cols: 0), preluAlpha: alpha)
            }
        }
    }

    /// One pixel's epilogue (`sums`: its `[O]` resized sums; `pixel`: its `[O]` output values):
    /// `+ bias`, max then min, then with `residual` (this pixel's skip row, which may be `pixel`
    /// itself) `+ skip` (`+0` past its channels), max then min, then with `preluAlpha` (`[O]`,
    /// padded to 8) `v < 0 ? v·alpha : v`.
    @inline(__always)
    static func finish(_ sums: UnsafePointer<Float>, into pixel: UnsafeMutablePointer<Float>, channels o: Int,
                       bias: UnsafePointer<Float>, lo: Float, hi: Float, residual: GemmResidual?,
                       preluAlpha: UnsafePointer<Float>?) {
        let lo8 = SIMD8<Float>(repeating: lo), hi8 = SIMD8<Float>(repeating: hi)
        let lo2 = SIMD8<Float>(repeating: residual?.activation.lowerBound ?? -.infinity)
        let hi2 = SIMD8<Float>(repeating: residual?.activation.upperBound ?? .infinity)
        let vectorEnd = Swift.min(o, residual.map { Swift.max(0, $0.channels) } ?? o) & ~7
        var c = 0
        while c < vectorEnd {
            var r = clampVector(loadVector(sums + c) + loadVector(bias + c), lo8, hi8)
            if let residual { r = clampVector(r + loadVector(residual.data + c), lo2, hi2) }
            if let preluAlpha { r = blaze_prelu8(r, loadVector(preluAlpha + c)) }
            storeVector(r, pixel + c)
            c += 8
        }
        while c < o {
            // The vector selects, one lane: `x < lo ? lo : x`, then `r > hi ? hi : r`.
            var r = sums[c] + bias[c]
            r = r < lo ? lo : r
            r = r > hi ? hi : r
            if let residual {
                r = r + residual.value(row: 0, col: c)
                r = r < residual.activation.lowerBound ? residual.activation.lowerBound : r
                r = r > residual.activation.upperBound ? residual.activation.upperBound : r
            }
            if let preluAlpha, r < 0 { r = r * preluAlpha[c] }
            pixel[c] = r
            c += 1
        }
    }
}
