/// CONV_2D on NHWC float32 tensors with weights prepacked once at load time.
///
/// Layouts: input NHWC `[N, H, W, I]`, weights OHWI `[O, KH, KW, I]`, bias `[O]`,
/// output NHWC `[N, OH, OW, O]`. Semantics are TFLite's `reference_ops::Conv`: zero padding
/// (SAME/VALID), strides, dilation, bias added after the sum, then the fused activation.
///
/// Strategy: a 1×1, stride-1, unpadded conv is a GEMM directly on the NHWC input
/// (M = N·H·W pixels, K = I, N = O). Any other conv gathers each 48-pixel block into a
/// per-worker im2col scratch (`[48][KH·KW·I]`, same k order as OHWI) and runs the same GEMM,
/// except a conv on 3 input channels (the stem), which runs its own row kernel (`runStem`,
/// `StemConv.swift`; native 8-lane weights) with the same per-output arithmetic.
public final class Conv2DOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let geometry: WindowGeometry
    public let activation: FusedActivation
    public let backend: GemmBackend
    let packed: PackedGemmWeights
    /// The vector width the GEMM micro-kernels of this conv run (``PackedGemmWeights/lanes``).
    public var lanes: GemmLanes { packed.lanes }
    /// True when the input itself is the GEMM's A matrix (a 1×1, stride-1, unpadded conv).
    public let isPointwise: Bool
    /// K of the GEMM: KH·KW·I.
    let patchSize: Int
    /// True when `run` takes the stem kernel (`runStem`: an undilated window up to 7 wide on 3 input
    /// channels, native 8-lane weights; `stemKernelApplies`), false for the GEMM paths.
    /// Bit-identical either way.
    public let usesStemKernel: Bool

    /// Whether ``run(input:output:scratch:pool:residual:)`` may be given a residual in the output's
    /// own memory (the same `[pixels][O]` floats): true for a pointwise conv with more than one
    /// output channel on the native GEMM, whose tile epilogue reads each residual element before it
    /// writes the output element in its place, and no other tile reads it. Not for OpenBLAS (`sgemm`
    /// writes the output before the residual is added) nor the single-output-channel path (a row is
    /// finished before its residual is added).
    public var residualMayShareOutput: Bool {
        isPointwise && backend == .native && outputShape.channels > 1
    }

    /// The precision of the packed weight panels (``PanelPrecision``): binary16 when the GEMM
    /// took half panels, else float32. Bit-identical either way.
    public var panelPrecision: PanelPrecision { packed.precision }

    /// Output pixels (N·OH·OW) up to which `panels: nil` asks for binary16 panels in a build that
    /// widens halves in one instruction (``PanelPrecision/buildWidensHalves``): maps of 8×8 and
    /// smaller. There each 6-row tile reads the whole panel for few rows, so the panels' bytes
    /// count; on larger maps the conversions cost more than they save.
    public static let halfPanelPixels = 64

    /// True when a PRELU is fused into the epilogue (`preluAlpha` of `init`).
    public var hasFusedPrelu: Bool { packed.preluAlpha != nil }

    /// Validates shapes and prepacks `weights` (OHWI, `weightsShape` = `[O, KH, KW, I]`) and `bias`
    /// (`[O]` or empty for none). Throws `KernelError` when anything does not fit.
    /// `preluAlpha` (`[O]`, one alpha per output channel) fuses a following PRELU into the
    /// epilogue, applied last (after the activation and any residual): bit-identical to the conv
    /// followed by TFLite's PRELU with that alpha broadcast over N, H and W.
    public convenience init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                            strideHeight: Int, strideWidth: Int, dilationHeight: Int = 1, dilationWidth: Int = 1,
                            padding: Padding, activation: FusedActivation, backend: GemmBackend = .preferred,
                            preluAlpha: [Float]? = nil, lanes: GemmLanes = .build, stemKernel: Bool = true,
                            panels: PanelPrecision? = nil) throws {
        try self.init(inputShape: inputShape, weights: WeightRows(weights, weightsShape: weightsShape), weightsShape: weightsShape,
                      bias: bias, strideHeight: strideHeight, strideWidth: strideWidth, dilationHeight: dilationHeight,
                      dilationWidth: dilationWidth, padding: padding, activation: activation, backend: backend,
                      preluAlpha: preluAlpha, lanes: lanes, stemKernel: stemKernel, panels: panels)
    }

    /// The native GEMM width for a conv of `inputChannels` → `outputChannels` over `outputPixels`
    /// output pixels (all images) when `widest` is the widest allowed: 8 lanes where the stem kernel
    /// may take the conv (3 input channels; that kernel is 8-lane: the full model's 128×128×24 stem
    /// 0.363 → 0.277 ms on Zen 4), else ``GemmLanes/preferred(rows:columns:)``. Same bits either way.
    public static func preferredLanes(_ widest: GemmLanes, inputChannels: Int, outputChannels: Int,
                                      outputPixels: Int) -> GemmLanes {
        inputChannels == 3 ? .eight : widest.preferred(rows: outputPixels, columns: outputChannels)
    }

    /// As the `[Float]` initializer, with the OHWI weights read from `weights` (`[O][KH·KW·I]`
    /// rows, read once while packing, never kept) into `store`'s memory when given (see
    /// ``WeightStore``). `weights.n` and `weights.k` must match `weightsShape`. `lanes` picks the
    /// native micro-kernels' vector width (default: this build's, ``GemmLanes/build``; the results
    /// are bit-identical either way). `stemKernel: false` keeps a conv the stem kernel applies to
    /// on the GEMM path (``usesStemKernel``; for tests and measurements, the bits are the same).
    /// `panels` picks the packed panels' precision (``PanelPrecision``); nil: `.float16WhenExact`
    /// for outputs of at most ``halfPanelPixels`` pixels when the build widens halves in one
    /// instruction and the stem kernel does not apply, else `.float32`.
    public init(inputShape: [Int], weights: WeightRows, weightsShape: [Int], bias: [Float],
                strideHeight: Int, strideWidth: Int, dilationHeight: Int = 1, dilationWidth: Int = 1,
                padding: Padding, activation: FusedActivation, backend: GemmBackend = .preferred,
                preluAlpha: [Float]? = nil, store: WeightStore? = nil, lanes: GemmLanes = .build,
                stemKernel: Bool = true, panels: PanelPrecision? = nil) throws {
        let op = "CONV_2D"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard weightsShape.count == 4, validDimensions(weightsShape) else {
            throw KernelError.invalidShape(op: op, what: "weights (OHWI)", shape: weightsShape)
        }
        let (o, kh, kw, i) = (weightsShape[0], weightsShape[1], weightsShape[2], weightsShape[3])
        guard i == input.channels else {
            throw KernelError.shapeMismatch(op: op, detail: "weights input depth \(i) != input channels \(input.channels)")
        }
        guard weights.n == o, weights.k == kh * kw * i else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: o * kh * kw * i, got: weights.n * weights.k)
        }
        guard bias.isEmpty || bias.count == o else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values, output channels \(o)")
        }
        if let preluAlpha, preluAlpha.count != o {
            throw KernelError.shapeMismatch(op: op, detail: "fused PRELU alpha has \(preluAlpha.count) values, output channels \(o)")
        }
        let g = try WindowGeometry(op: op, inputHeight: input.height, inputWidth: input.width,
                                   kernelHeight: kh, kernelWidth: kw, strideHeight: strideHeight,
                                   strideWidth: strideWidth, dilationHeight: dilationHeight,
                                   dilationWidth: dilationWidth, padding: padding)
        self.inputShape = input
        self.outputShape = NHWCShape(batch: input.batch, height: g.outputHeight, width: g.outputWidth, channels: o)
        self.geometry = g
        self.activation = activation
        self.backend = backend
        self.patchSize = kh * kw * i
        self.isPointwise = kh == 1 && kw == 1 && strideHeight == 1 && strideWidth == 1
            && g.padTop == 0 && g.padLeft == 0
        // The stem kernel (3 input channels; float32 panels) is preferred where it applies.
        let stemCandidate = stemKernel && i == 3
        let outputPixels = input.batch * g.outputHeight * g.outputWidth
        let precision = panels ?? (PanelPrecision.buildWidensHalves && !stemCandidate && outputPixels <= Self.halfPanelPixels
            ? .float16WhenExact : .float32)
        packed = bias.withUnsafeBufferPointer { bp in
            (preluAlpha ?? []).withUnsafeBufferPointer { ap in
                PackedGemmWeights(rows: weights, bias: bias.isEmpty ? nil : bp.baseAddress, backend: backend,
                                  preluAlpha: preluAlpha == nil ? nil : ap.baseAddress, store: store, lanes: lanes,
                                  precision: precision)
            }
        }
        usesStemKernel = stemKernel && Self.stemKernelApplies(inputChannels: i, geometry: g, weights: packed)
    }

    /// Writes one im2col row `[KH][KW][I]` for output pixel (oy, ox) of one image (`input` NHWC `[H, W, I]`),
    /// zeros where the window leaves the input. When a whole kernel row is inside the input and
    /// undilated, its `KW·I` floats are contiguous in NHWC and copied in one go.
    @inline(__always)
    func im2colRow(input: UnsafePointer<Float>, oy: Int, ox: Int, row: UnsafeMutablePointer<Float>) {
        let g = geometry, ic = inputShape.channels
        let ix0 = ox * g.strideWidth - g.padLeft
        let rowInside = g.dilationWidth == 1 && ix0 >= 0 && ix0 + g.kernelWidth <= g.inputWidth
        for ky in 0..<g.kernelHeight {
            let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
            let dstRow = row + ky * g.kernelWidth * ic
            if iy < 0 || iy >= g.inputHeight {
                fillZero(dstRow, g.kernelWidth * ic)
            } else if rowInside {
                copyFloats(dstRow, input + (iy * g.inputWidth + ix0) * ic, g.kernelWidth * ic)
            } else {
                for kx in 0..<g.kernelWidth {
                    let ix = ix0 + kx * g.dilationWidth
                    if ix < 0 || ix >= g.inputWidth {
                        fillZero(dstRow + kx * ic, ic)
                    } else {
                        copyFloats(dstRow + kx * ic, input + (iy * g.inputWidth + ix) * ic, ic)
                    }
                }
            }
        }
    }

    /// Floats of scratch `run` needs for a pool of `threads` threads (0 for pointwise and
    /// single-output-channel convs, which need none).
    public func scratchCount(threads: Int) -> Int {
        isPointwise || outputShape.channels == 1 ? 0 : Swift.max(1, threads) * gemmRowsPerUnit * patchSize
    }

    /// Runs the conv. `input` holds `inputShape.elementCount` floats (NHWC), `output`
    /// `outputShape.elementCount` (NHWC), `scratch` at least `scratchCount(threads: pool.threadCount)`.
    /// With `residual` (NHWC `outputShape`, `ld` = O), runs a fused conv + ADD:
    /// `output = act2(act(conv + bias) + residual)`, bit-identical to the two ops in sequence.
    /// Does not validate the pointers (the interpreter owns the buffers it planned).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool, residual: GemmResidual? = nil) {
        let g = geometry
        let ic = inputShape.channels, oc = outputShape.channels
        let pixels = outputShape.batch * g.outputHeight * g.outputWidth
        if pixels < gemmTileRows && backend == .native && packed.panelWidth > 1 && residual == nil && !hasFusedPrelu
            && (isPointwise || scratch != nil) {
            // A few output pixels (the 1×1 heads of iris_landmark and face_landmark): one row at a
            // time on the matrix-vector kernels, which give the GEMM's bits without computing a
            // 6-row tile for one row. Non-pointwise rows are gathered first (im2col).
            var a = input, lda = ic
            if !isPointwise, let scratch {
                let pixelsPerImage = g.outputHeight * g.outputWidth
                for p in 0..<pixels {
                    im2colRow(input: input + (p / pixelsPerImage) * g.inputHeight * g.inputWidth * ic,
                              oy: (p % pixelsPerImage) / g.outputWidth, ox: p % g.outputWidth, row: scratch + p * patchSize)
                }
                a = UnsafePointer(scratch); lda = patchSize
            }
            gemvRows(m: pixels, a: a, lda: lda, weights: packed, activation: activation, c: output, ldc: oc, pool: pool)
            return
        }
        if isPointwise {
            gemm(m: outputShape.batch * g.outputHeight * g.outputWidth, a: input, lda: ic, weights: packed,
                 activation: activation, c: output, ldc: oc, pool: pool, residual: residual)
            return
        }
        if outputShape.channels == 1 {
            runSingleOutputChannel(input: input, output: output, pool: pool, residual: residual)
            return
        }
        // A missing scratch buffer is a programming error of the caller, not a data problem.
        guard let scratch else { preconditionFailure("Conv2DOperator.run: scratch buffer required (scratchCount > 0)") }
        let pixelsPerImage = g.outputHeight * g.outputWidth
        let totalPixels = outputShape.batch * pixelsPerImage
        let units = (totalPixels + gemmRowsPerUnit - 1) / gemmRowsPerUnit
        let k = patchSize
        if usesStemKernel {
            runStem(input: input, output: output, scratch: scratch, pool: pool, residual: residual)
            return
        }
        if backend == .native && packed.panelWidth > 1 {
            runDirectOrIm2col(input: input, output: output, scratch: scratch, pool: pool, residual: residual)
            return
        }
        pool.parallelFor(units) { unit, worker in
            let p0 = unit * gemmRowsPerUnit, p1 = Swift.min(totalPixels, p0 + gemmRowsPerUnit)
            // cols: [rows][KH·KW·I], one im2col row per output pixel, zeros where the window leaves the input.
            let cols = scratch + worker * gemmRowsPerUnit * k
            for p in p0..<p1 {
                let b = p / pixelsPerImage, oy = (p % pixelsPerImage) / g.outputWidth, ox = p % g.outputWidth
                im2colRow(input: input + b * g.inputHeight * g.inputWidth * ic, oy: oy, ox: ox,
                          row: cols + (p - p0) * k)
            }
            gemmRows(m: p1 - p0, a: cols, lda: k, weights: packed, activation: activation,
                     c: output + p0 * oc, ldc: oc, residual: residual?.offset(rows: p0, cols: 0))
        }
    }

    /// Native backend, non-pointwise conv: 6-pixel tiles (4 when N = 24, 8 with 16-lane kernels; fixed positions inside the fixed 48-pixel
    /// units). A tile whose pixels lie in one output row with every window inside the input is a
    /// *direct* tile: the micro-kernel reads each kernel row's `KW·I` floats straight from the NHWC
    /// input (`segments` = KH runs; pixel rows `strideW·I` apart), no im2col copy. Other tiles are
    /// gathered into the worker's scratch as before. Both read the same values in the same k order
    /// (ky, kx, i), so the result is bit-identical to im2col + GEMM.
    func runDirectOrIm2col(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                           scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, residual: GemmResidual?) {
        let g = geometry
        let ic = inputShape.channels, oc = outputShape.channels
        let pixelsPerImage = g.outputHeight * g.outputWidth
        let totalPixels = outputShape.batch * pixelsPerImage
        let units = (totalPixels + gemmRowsPerUnit - 1) / gemmRowsPerUnit
        let k = patchSize
        let lo = activation.lowerBound, hi = activation.upperBound
        let effectiveHeight = (g.kernelHeight - 1) * g.dilationHeight + 1
        let packed = self.packed
        // Pixels per tile: the micro-kernel's rows (4 for the 4×24 kernel of N = 24, 8 for the
        // 16-lane kernels, else 6).
        let tileRows = packed.tileRows
        pool.parallelFor(units) { unit, worker in
            let p0 = unit * gemmRowsPerUnit, p1 = Swift.min(totalPixels, p0 + gemmRowsPerUnit)
            // cols: [tileRows][KH·KW·I] im2col rows for a tile that is not direct.
            let cols = scratch + worker * gemmRowsPerUnit * k
            var tile = p0
            while tile < p1 {
                let rows = Swift.min(tileRows, p1 - tile)
                let b = tile / pixelsPerImage, oy = (tile % pixelsPerImage) / g.outputWidth, ox0 = tile % g.outputWidth
                let iy0 = oy * g.strideHeight - g.padTop
                let ixFirst = ox0 * g.strideWidth - g.padLeft
                let ixLast = (ox0 + rows - 1) * g.strideWidth - g.padLeft
                let direct = g.dilationWidth == 1 && ox0 + rows <= g.outputWidth
                    && iy0 >= 0 && iy0 + effectiveHeight <= g.inputHeight
                    && ixFirst >= 0 && ixLast + g.kernelWidth <= g.inputWidth
                let res = residual?.offset(rows: tile, cols: 0)
                if direct {
                    // The following tiles of the unit that are direct in the same output row join this
                    // one: one GEMM call tiles the whole run (same pixel stride), instead of one call
                    // and its setup per 6 pixels. Tile heights do not change any element's arithmetic.
                    var run = rows
                    while tile + run < p1 {
                        let next = Swift.min(tileRows, p1 - tile - run)
                        let last = ox0 + run + next - 1
                        guard last < g.outputWidth, last * g.strideWidth - g.padLeft + g.kernelWidth <= g.inputWidth else { break }
                        run += next
                    }
                    let a = input + ((b * g.inputHeight + iy0) * g.inputWidth + ixFirst) * ic
                    gemmNativeBlock(rowStart: 0, rowEnd: run, panelStart: 0, panelEnd: packed.panelCount,
                                    a: a, lda: g.strideWidth * ic, weights: packed, lo: lo, hi: hi,
                                    c: output + tile * oc, ldc: oc, residual: res,
                                    segments: g.kernelHeight, segmentStride: g.dilationHeight * g.inputWidth * ic)
                    tile += run
                    continue
                } else {
                    for r in 0..<rows {
                        let p = tile + r
                        let pb = p / pixelsPerImage, py = (p % pixelsPerImage) / g.outputWidth, px = p % g.outputWidth
                        im2colRow(input: input + pb * g.inputHeight * g.inputWidth * ic, oy: py, ox: px, row: cols + r * k)
                    }
                    gemmNativeBlock(rowStart: 0, rowEnd: rows, panelStart: 0, panelEnd: packed.panelCount,
                                    a: cols, lda: k, weights: packed, lo: lo, hi: hi,
                                    c: output + tile * oc, ldc: oc, residual: res)
                }
                tile += rows
            }
        }
    }

    /// O = 1 (the segmentation and tiny heads): a direct conv, one dot product per output pixel over
    /// the in-bounds taps, 8 floats per SIMD lane group; no im2col, no 16-wide panel.
    /// Per pixel: lane-wise sums in a fixed order, reduced once, then the scalar tail, bias and
    /// clamp. Which of the two loops (interior / border) handles a pixel depends only on its
    /// position, so the arithmetic is the same whatever the thread count.
    func runSingleOutputChannel(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool,
                                residual: GemmResidual?) {
        let g = geometry, ic = inputShape.channels
        let w = packed.data, bias = packed.bias[0]
        let lo = activation.lowerBound, hi = activation.upperBound
        let vectorChannels = ic & ~7
        // Interior columns (whole undilated kernel row inside the input): per kernel row the
        // KW·I input floats and the KW·I weights are both contiguous, so it is one dot product.
        var oxLo = 0
        while oxLo < g.outputWidth && oxLo * g.strideWidth - g.padLeft < 0 { oxLo += 1 }
        var oxHi = g.outputWidth
        while oxHi > oxLo && (oxHi - 1) * g.strideWidth - g.padLeft + g.kernelWidth > g.inputWidth { oxHi -= 1 }
        if g.dilationWidth != 1 { oxHi = oxLo }
        let span = g.kernelWidth * ic, vectorSpan = span & ~7
        pool.parallelFor(outputShape.batch * g.outputHeight) { unit, _ in
            let b = unit / g.outputHeight, oy = unit % g.outputHeight
            let image = input + b * g.inputHeight * g.inputWidth * ic
            let iyOrigin = oy * g.strideHeight - g.padTop
            let kyRows = g.validKernelRows(outputRow: oy)
            let kyStart = kyRows.lowerBound, kyEnd = kyRows.upperBound
            // Four pixels at a time: four independent accumulator chains hide the FMA latency
            // (one chain per pixel was latency-bound). Each pixel's operations and their order
            // are exactly those of the one-pixel loop below.
            var ox = oxLo
            let pixelStride = g.strideWidth * ic
            while ox + 4 <= oxHi {
                var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
                var tail0: Float = 0, tail1: Float = 0, tail2: Float = 0, tail3: Float = 0
                let base = image + (iyOrigin * g.inputWidth + ox * g.strideWidth - g.padLeft) * ic
                for ky in kyStart..<kyEnd {
                    let src = base + ky * g.dilationHeight * g.inputWidth * ic
                    let wt = w + ky * span
                    var j = 0
                    while j < vectorSpan {
                        let wv = loadVector(wt + j)
                        acc0.multiplyAdd(loadVector(src + j), wv)
                        acc1.multiplyAdd(loadVector(src + pixelStride + j), wv)
                        acc2.multiplyAdd(loadVector(src + 2 * pixelStride + j), wv)
                        acc3.multiplyAdd(loadVector(src + 3 * pixelStride + j), wv)
                        j += 8
                    }
                    while j < span {
                        tail0 = tail0 + src[j] * wt[j]
                        tail1 = tail1 + src[pixelStride + j] * wt[j]
                        tail2 = tail2 + src[2 * pixelStride + j] * wt[j]
                        tail3 = tail3 + src[3 * pixelStride + j] * wt[j]
                        j += 1
                    }
                }
                let at = unit * g.outputWidth + ox
                output[at] = Swift.min(Swift.max(horizontalSum(acc0) + tail0 + bias, lo), hi)
                output[at + 1] = Swift.min(Swift.max(horizontalSum(acc1) + tail1 + bias, lo), hi)
                output[at + 2] = Swift.min(Swift.max(horizontalSum(acc2) + tail2 + bias, lo), hi)
                output[at + 3] = Swift.min(Swift.max(horizontalSum(acc3) + tail3 + bias, lo), hi)
                ox += 4
            }
            while ox < oxHi {
                defer { ox += 1 }
                var acc = SIMD8<Float>()
                var tail: Float = 0
                let base = image + (iyOrigin * g.inputWidth + ox * g.strideWidth - g.padLeft) * ic
                for ky in kyStart..<kyEnd {
                    let src = base + ky * g.dilationHeight * g.inputWidth * ic
                    let wt = w + ky * span
                    var j = 0
                    while j < vectorSpan { acc.multiplyAdd(loadVector(src + j), loadVector(wt + j)); j += 8 }
                    while j < span { tail = tail + src[j] * wt[j]; j += 1 }
                }
                let total = horizontalSum(acc) + tail
                output[unit * g.outputWidth + ox] = Swift.min(Swift.max(total + bias, lo), hi)
            }
            // The border pixels only, left then right (`0..<oxLo`, `oxHi..<outputWidth`).
            for border in 0..<(oxLo + g.outputWidth - oxHi) {
                let ox = border < oxLo ? border : oxHi + (border - oxLo)
                var acc = SIMD8<Float>()
                var tail: Float = 0
                for ky in kyStart..<kyEnd {
                    let iy = iyOrigin + ky * g.dilationHeight
                    for kx in 0..<g.kernelWidth {
                        let ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth
                        if ix < 0 || ix >= g.inputWidth { continue }
                        let src = image + (iy * g.inputWidth + ix) * ic
                        let wt = w + (ky * g.kernelWidth + kx) * ic
                        var c = 0
                        while c < vectorChannels {
                            acc.multiplyAdd(loadVector(src + c), loadVector(wt + c))
                            c += 8
                        }
                        while c < ic { tail = tail + src[c] * wt[c]; c += 1 }
                    }
                }
                let total = horizontalSum(acc) + tail
                output[unit * g.outputWidth + ox] = Swift.min(Swift.max(total + bias, lo), hi)
            }
            if let residual {
                // Fused ADD, applied to the finished row: act2(conv + skip), as the ADD would.
                let row = output + unit * g.outputWidth
                for ox in 0..<g.outputWidth {
                    row[ox] = residual.activation.apply(row[ox] + residual.value(row: unit * g.outputWidth + ox, col: 0))
                }
            }
            if packed.preluAlpha != nil {
                // Fused PRELU, last, on the finished row (still in L1).
                let row = output + unit * g.outputWidth
                for ox in 0..<g.outputWidth { row[ox] = packed.prelu(row[ox], column: 0) }
            }
        }
    }
}

/// Copies `n` floats; small counts (im2col of 3- or 8-channel inputs) inline instead of a memmove call.
@inline(__always)
func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    if n >= 64 { dst.update(from: src, count: n); return }
    var i = 0
    while i + 8 <= n { storeVector(loadVector(src + i), dst + i); i += 8 }
    while i < n { dst[i] = src[i]; i += 1 }
}

@inline(__always)
func fillZero(_ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { storeVector(SIMD8<Float>(), dst + i); i += 8 }
    while i < n { dst[i] = 0; i += 1 }
}

/// Sum of the 8 lanes in a fixed order: (halves added, then quarters, then the pair).
@inline(__always)
func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let h = v.lowHalf + v.highHalf
    let q = h.lowHalf + h.highHalf
    return q[0] + q[1]
}
