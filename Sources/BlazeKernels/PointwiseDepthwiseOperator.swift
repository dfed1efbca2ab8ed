/// A pointwise CONV_2D (1×1, stride 1, unpadded: native GEMM or sparse) and the
/// DEPTHWISE_CONV_2D that reads its output, run together in row bands: MobileNetV2's expand →
/// depthwise pair (hand_landmark, pose_landmark_full, palm and face models, and the pose
/// detector's sparse 16 → 64 expansion on its 112×112 map).
///
/// Layouts: input NHWC `[N, H, W, I]` (the pointwise conv's input), intermediate NHWC
/// `[N, H, W, C]` (the pointwise output = the depthwise input, never stored whole), output NHWC
/// `[N, OH, OW, C·M]` (the depthwise output).
///
/// Why: the expanded map is the largest tensor of such a block (112×112×64 = 3.2 MB in
/// hand_landmark_lite). Run apart, the pointwise conv writes it to memory and the depthwise conv
/// reads it back; a 1×1 conv with K = 16 spends more time on that write than on its sums.
/// Here each worker keeps a band of `bandRows` intermediate rows in its scratch (about 96 KiB, or
/// `3·(window − stride)` rows when that is more; in L2): for each output row it computes the intermediate rows the window needs that the band
/// lacks (one GEMM call, or one sparse pixel range, over those rows' pixels), moving the rows it
/// still needs to the band's front when it is full, then runs the depthwise row on the band.
///
/// With a ``projection`` (the block's 1×1 conv reading the depthwise output, with its fused ADD)
/// the depthwise rows go to `projectedRows` rows of scratch instead, and each time those hold one
/// of the projection's tiles (or the worker's range ends) the projection runs on them
/// (`gemmRows` or `SparseConv1x1Operator.runPixels`), writing the step's output: the depthwise
/// output is not stored either. Output NHWC `[N, OH, OW, P]` then. In-process, alternating call by
/// call (`ProjectedBandBenchmarkTests`, Zen 4): the detector's 56×56×144 block 0.94× the time of the
/// pair and the projection apart at 1 thread, 0.74× at 2; its 112×112 one 1.01× and 0.77×;
/// pose_landmark_full's and hand_landmark_full's dense blocks 0.90–0.99×.
///
/// Bits: a GEMM or sparse output element's arithmetic depends only on its pixel and channel, not
/// on the rows computed with it (`gemmRows`, `SparseConv1x1Operator.runPixels`), and a depthwise
/// row reads the same values in the same order, so the output is bit-identical to the two
/// (or three) operators one after the other, for any band size and thread count. Work is split into one
/// contiguous range of output rows per thread, so the two cores stream different halves of the
/// map; the intermediate rows at a range's edge are computed by both (the window's overlap, 1–2 rows).
public final class PointwiseDepthwiseOperator: @unchecked Sendable {
    /// The dense pointwise conv, nil when it is sparse.
    public let pointwise: Conv2DOperator?
    /// The sparse pointwise conv, nil when it is dense.
    public let sparsePointwise: SparseConv1x1Operator?
    public let depthwise: DepthwiseConv2DOperator
    /// Intermediate rows `[bandRows][W][C]` one worker's band holds (≥ the window's height).
    public let bandRows: Int
    /// The 1×1 conv reading the depthwise output in the same step, nil when there is none.
    public let projection: PointwiseProjection?
    /// The step's output, NHWC: the depthwise output `[N, OH, OW, C·M]`, or with a ``projection``
    /// its output `[N, OH, OW, P]`.
    public var outputShape: NHWCShape { projection?.outputShape ?? depthwise.outputShape }
    /// Depthwise output rows a worker keeps for the ``projection`` (`[projectedRows][OW][C·M]`,
    /// enough pixels for one of its tiles); 0 without one.
    public let projectedRows: Int
    /// The pointwise input, NHWC `[N, H, W, I]`.
    public let inputShape: NHWCShape
    /// Floats of a worker's scratch after its band: the sparse conv's tile scratch (0 for dense).
    let pointwiseScratch: Int
    /// Floats of a worker's scratch for the projection's own use (the sparse conv's tile scratch).
    let projectionScratch: Int

    static let operatorName = "CONV_2D + DEPTHWISE_CONV_2D"

    /// Pairs two prepared operators. Throws `KernelError` unless `pointwise` is a native-GEMM 1×1
    /// conv (`isPointwise`), `depthwise` reads exactly its output shape, and the depthwise layer
    /// computes rows independently (not its small-map path). `bandBytes` sizes the band (at least
    /// the window's rows plus a stride, and `3·(window − stride)` rows, whatever its value).
    public convenience init(pointwise: Conv2DOperator, depthwise: DepthwiseConv2DOperator, projection: PointwiseProjection? = nil,
                            bandBytes: Int = 96 * 1024) throws {
        guard pointwise.isPointwise, pointwise.backend == .native else {
            throw KernelError.shapeMismatch(op: Self.operatorName, detail: "the first conv is not a native 1×1, stride-1, unpadded conv")
        }
        try self.init(dense: pointwise, sparse: nil, inputShape: pointwise.inputShape, intermediate: pointwise.outputShape,
                      depthwise: depthwise, projection: projection, bandBytes: bandBytes)
    }

    /// As ``init(pointwise:depthwise:bandBytes:)`` with a sparse 1×1 conv (`SparseConv1x1Operator`,
    /// always 1×1, stride 1, unpadded; one that reads its input as it is, no `resize`) computing
    /// the intermediate rows.
    public convenience init(sparse: SparseConv1x1Operator, depthwise: DepthwiseConv2DOperator, projection: PointwiseProjection? = nil,
                            bandBytes: Int = 96 * 1024) throws {
        guard sparse.resize == nil else {
            throw KernelError.shapeMismatch(op: Self.operatorName, detail: "the sparse conv computes a resize of its input")
        }
        try self.init(dense: nil, sparse: sparse, inputShape: sparse.inputShape, intermediate: sparse.outputShape,
                      depthwise: depthwise, projection: projection, bandBytes: bandBytes)
    }

    private init(dense: Conv2DOperator?, sparse: SparseConv1x1Operator?, inputShape: NHWCShape, intermediate: NHWCShape,
                 depthwise: DepthwiseConv2DOperator, projection: PointwiseProjection?, bandBytes: Int) throws {
        let op = Self.operatorName
        guard depthwise.inputShape == intermediate else {
            throw KernelError.shapeMismatch(op: op, detail: "depthwise input \(depthwise.inputShape) != pointwise output \(intermediate)")
        }
        guard depthwise.usesRowPath else {
            throw KernelError.shapeMismatch(op: op, detail: "the depthwise conv runs by channel blocks (small map)")
        }
        let g = depthwise.geometry
        let window = (g.kernelHeight - 1) * g.dilationHeight + 1
        let rowBytes = Swift.max(1, g.inputWidth * depthwise.inputShape.channels * 4)
        // The window's rows always fit (a window taller than the map reads at most H rows). When the
        // band is full, the rows the next window shares with the last (window − stride) move to its
        // front: at least 3·(window − stride) rows keep that move to at most half the rows computed
        // after it (a 5×5 stride-1 window in 6 rows moved 4 rows for every 2 new ones).
        bandRows = Swift.min(g.inputHeight, Swift.max(window + g.strideHeight, Swift.max(0, bandBytes) / rowBytes,
                                                      3 * (window - g.strideHeight)))
        pointwise = dense
        sparsePointwise = sparse
        self.inputShape = inputShape
        pointwiseScratch = sparse?.scratchCount(threads: 1) ?? 0
        self.depthwise = depthwise
        if let projection {
            guard projection.inputShape == depthwise.outputShape else {
                throw KernelError.shapeMismatch(op: op, detail: "projection input \(projection.inputShape) != depthwise output \(depthwise.outputShape)")
            }
            switch projection {
            case .dense(let conv):
                guard conv.isPointwise, conv.backend == .native, !conv.hasFusedPrelu, conv.outputShape.channels > 1 else {
                    throw KernelError.shapeMismatch(op: op, detail: "the projection is not a native 1×1, stride-1, unpadded conv with several outputs and no PRELU")
                }
            case .sparse(let conv):
                guard conv.resize == nil else {
                    throw KernelError.shapeMismatch(op: op, detail: "the sparse projection computes a resize of its input")
                }
            }
            // Rows for one tile of the projection (its sparse tile width, or 64 GEMM rows).
            let width = Swift.max(1, depthwise.outputShape.width)
            projectedRows = Swift.max(1, (projection.tilePixels + width - 1) / width)
        } else {
            projectedRows = 0
        }
        projectionScratch = projection?.scratchCount ?? 0
        self.projection = projection
    }

    /// Floats of scratch `run` needs: per thread one band `[bandRows][W][C]`, then (sparse) the
    /// sparse conv's tile scratch; with a ``projection``, then `[projectedRows][OW][C·M]` depthwise
    /// output rows and (sparse) the projection's tile scratch.
    public func scratchCount(threads: Int) -> Int {
        Swift.max(1, threads) * perWorker
    }

    var bandFloats: Int { bandRows * depthwise.inputShape.width * depthwise.inputShape.channels }
    var projectedFloats: Int { projectedRows * depthwise.outputShape.width * depthwise.outputShape.channels }
    var perWorker: Int { bandFloats + pointwiseScratch + projectedFloats + projectionScratch }

    /// Runs the operators: `input` NHWC `inputShape`, `output` NHWC `outputShape`, `scratch` at
    /// least `scratchCount(threads: pool.threadCount)` floats. `residual` (NHWC `outputShape`, only
    /// with a ``projection``) is the projection's fused ADD, as `Conv2DOperator.run` takes it; it may
    /// be the output's own memory, not the input's. Never validates the pointers.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool, residual: GemmResidual? = nil) {
        // A missing scratch buffer is a programming error of the caller, not a data problem.
        guard let scratch else { preconditionFailure("PointwiseDepthwiseOperator.run: scratch buffer required") }
        let g = depthwise.geometry
        let h = g.inputHeight, w = g.inputWidth, c = depthwise.inputShape.channels
        let inChannels = inputShape.channels
        let rowFloats = w * c, bandRows = self.bandRows, perWorker = self.perWorker
        let dense = pointwise, sparse = sparsePointwise
        let projection = self.projection, projectedRows = self.projectedRows
        let ow = g.outputWidth, cm = depthwise.outputShape.channels, oh = g.outputHeight
        let bandFloats = self.bandFloats, projectedFloats = self.projectedFloats, pointwiseScratch = self.pointwiseScratch
        let chunks = Swift.max(1, Swift.min(g.outputHeight, pool.threadCount))
        pool.parallelFor(outputShape.batch * chunks) { unit, worker in
            let b = unit / chunks, chunk = unit % chunks
            let o0 = g.outputHeight * chunk / chunks, o1 = g.outputHeight * (chunk + 1) / chunks
            // band: [bandRows][W][C], intermediate rows base..<hi of image b at band rows 0..<(hi - base).
            let band = scratch + worker * perWorker
            // With a projection: depthwise output rows first...oy of image b, `[projectedRows][OW][C·M]`.
            let rows = band + bandFloats + pointwiseScratch
            var first = o0
            var base = 0, hi = 0
            var lastNeeded = 0
            for oy in o0..<o1 { lastNeeded = Swift.max(lastNeeded, rowsNeeded(g, outputRow: oy).upperBound) }
            for oy in o0..<o1 {
                let need = rowsNeeded(g, outputRow: oy)
                if !need.isEmpty {
                    if need.lowerBound >= hi {
                        base = need.lowerBound; hi = base      // nothing in the band is needed again
                    } else if need.upperBound > base + bandRows {
                        // Keep rows need.lowerBound..<hi: move them to the band's front.
                        let keep = hi - need.lowerBound
                        band.update(from: band + (need.lowerBound - base) * rowFloats, count: keep * rowFloats)
                        base = need.lowerBound
                    }
                    if need.upperBound > hi {
                        // Fill the band as far as this range of output rows needs, in one GEMM call
                        // (or one sparse pixel range).
                        let fillEnd = Swift.min(base + bandRows, lastNeeded)
                        let into = band + (hi - base) * rowFloats
                        if let dense {
                            gemmRows(m: (fillEnd - hi) * w, a: input + (b * h + hi) * w * inChannels, lda: inChannels,
                                     weights: dense.packed, activation: dense.activation, c: into, ldc: c)
                        } else if let sparse {
                            sparse.runPixels(input: input, pixel0: (b * h + hi) * w, pixels: (fillEnd - hi) * w, output: into,
                                             scratch: band + bandFloats)
                        }
                        hi = fillEnd
                    }
                }
                // The depthwise row reads only rows need (all in the band) through a base that
                // places band row 0 at intermediate row `base` of image b.
                let bandBase = UnsafePointer(band) - (b * h + base) * rowFloats
                guard let projection else {
                    depthwise.runRow(input: bandBase, b: b, oy: oy, output: output)
                    continue
                }
                // Into the rows kept for the projection (a base that places row `first` at their start);
                // once they hold a tile's pixels, or at the range's end, the projection runs over them.
                depthwise.runRow(input: bandBase, b: b, oy: oy, output: rows - (b * oh + first) * ow * cm)
                if oy + 1 - first == projectedRows || oy + 1 == o1 {
                    let p0 = (b * oh + first) * ow
                    projection.run(pixels: (oy + 1 - first) * ow, from: rows, output: output + p0 * projection.outputShape.channels,
                                   residual: residual?.offset(rows: p0, cols: 0), scratch: rows + projectedFloats)
                    first = oy + 1
                }
            }
        }
    }

    /// Intermediate rows output row `oy`'s window reads (empty when it lies in the padding).
    @inline(__always)
    private func rowsNeeded(_ g: WindowGeometry, outputRow oy: Int) -> Range<Int> {
        let ky = g.validKernelRows(outputRow: oy)
        guard !ky.isEmpty else { return 0..<0 }
        let origin = oy * g.strideHeight - g.padTop
        return (origin + ky.lowerBound * g.dilationHeight)..<(origin + (ky.upperBound - 1) * g.dilationHeight + 1)
    }
}
