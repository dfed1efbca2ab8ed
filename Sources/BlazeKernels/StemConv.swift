// The stem convolution: CONV_2D on 3 input channels (the RGB input layer of every landmark and
// detector model: 3×3 windows, K = 27, or 5×5, K = 75), run directly on the NHWC input by one out-of-line
// row loop with the micro-kernel inlined, instead of 48-pixel GEMM units, per-tile kernel calls
// (a 3-segment direct GEMM tile, or an im2col copy at the border) and their setup.
//
// Arithmetic: each output is the same chain as the GEMM's: from 0, one `multiplyAdd` per tap in
// k order (ky, kx, i), taps outside the input as `0 · w` (what the im2col rows hold), then the
// same `TileEpilogue` (bias, activation, fused ADD, fused PRELU). So the results are bit-identical
// to the im2col / direct GEMM path (and to the 16-lane kernels, which still take that path).

/// Shape of a stem micro-tile: output pixels × 8-float vectors of output channels.
protocol StemTile {
    /// Output pixels per tile.
    static var rows: Int { get }
    /// 8-channel vectors per pixel: 1 (an 8-wide panel), 2 (a 16-wide panel), 3 (N = 24: the
    /// 16-wide panel and the 8-wide one together).
    static var vectors: Int { get }
}
/// 6 pixels × 16 channels (12 accumulators, 2 weight vectors, 1 broadcast).
enum StemTile6x16: StemTile { static var rows: Int { 6 }; static var vectors: Int { 2 } }
/// 4 pixels × 24 channels (12 accumulators, 3 weight vectors, 1 broadcast).
enum StemTile4x24: StemTile { static var rows: Int { 4 }; static var vectors: Int { 3 } }
/// 6 pixels × 8 channels (an 8-wide panel).
enum StemTile6x8: StemTile { static var rows: Int { 6 }; static var vectors: Int { 1 } }

/// The stem micro-kernels (`stemMicroKernel6x16`, `4x24`, `6x8` are its specializations):
/// `T.rows` output pixels of a KH×KW, 3-channel conv against one packed panel (two for 4×24).
///
/// - a: `[kernelHeight][rowStride]` input rows, pixel `r`'s window starting at `a + r·pixelStride`
///   in each (the `rowTaps` = KW·3 floats `kx·3 + i` of a window row are contiguous, NHWC); every
///   window of the tile is read (a border tile passes a zero-padded patch).
/// - panel: `[K][16]` (vectors 2 or 3) or `[K][8]` (vectors 1) packed weights, K = KH·KW·3,
///   k = (ky·KW + kx)·3 + i; panel8: `[K][8]`, the 4×24 tile's second panel (unused otherwise).
///   bias: `[8·vectors]`.
/// - c: output, pixels `ldc` apart; only the first `rows` pixels and `cols` channels are written.
/// - rowTaps is a run-time value: with the constant 9, LLVM unrolled the tap loop by 3 and
///   spilled accumulators of the 4×24 tile to the stack.
/// Each output: from 0, `multiplyAdd` per k in order, then `e.apply` per 8 channels.
@inline(__always)
func stemMicroKernel<T: StemTile, E: TileEpilogue>(_: T.Type, a: UnsafePointer<Float>, rowStride: Int, pixelStride: Int,
                                                   kernelHeight: Int, rowTaps: Int, rows: Int, panel: UnsafePointer<Float>, panel8: UnsafePointer<Float>,
                                                   bias: UnsafePointer<Float>, epilogue e: E,
                                                   c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c22 = SIMD8<Float>()
    var c30 = SIMD8<Float>(), c31 = SIMD8<Float>(), c32 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
    var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    let step = T.vectors == 1 ? 8 : 16
    var w = panel, w8 = panel8
    var ky = 0
    while ky < kernelHeight {
        // Kernel row ky: pixel r's rowTaps floats at a0 + r·pixelStride.
        let a0 = a + ky * rowStride
        let a1 = a0 + pixelStride, a2 = a1 + pixelStride, a3 = a2 + pixelStride
        let a4 = a3 + pixelStride, a5 = a4 + pixelStride
        var j = 0
        while j < rowTaps {
            let b0 = loadVector(w)
            let b1 = T.vectors > 1 ? loadVector(w + 8) : SIMD8<Float>()
            let b2 = T.vectors > 2 ? loadVector(w8) : SIMD8<Float>()
            var av = SIMD8<Float>(repeating: a0[j])
            c00.multiplyAdd(av, b0)
            if T.vectors > 1 { c01.multiplyAdd(av, b1) }
            if T.vectors > 2 { c02.multiplyAdd(av, b2) }
            av = SIMD8<Float>(repeating: a1[j])
            c10.multiplyAdd(av, b0)
            if T.vectors > 1 { c11.multiplyAdd(av, b1) }
            if T.vectors > 2 { c12.multiplyAdd(av, b2) }
            av = SIMD8<Float>(repeating: a2[j])
            c20.multiplyAdd(av, b0)
            if T.vectors > 1 { c21.multiplyAdd(av, b1) }
            if T.vectors > 2 { c22.multiplyAdd(av, b2) }
            av = SIMD8<Float>(repeating: a3[j])
            c30.multiplyAdd(av, b0)
            if T.vectors > 1 { c31.multiplyAdd(av, b1) }
            if T.vectors > 2 { c32.multiplyAdd(av, b2) }
            if T.rows > 4 {
                av = SIMD8<Float>(repeating: a4[j])
                c40.multiplyAdd(av, b0)
                if T.vectors > 1 { c41.multiplyAdd(av, b1) }
                av = SIMD8<Float>(repeating: a5[j])
                c50.multiplyAdd(av, b0)
                if T.vectors > 1 { c51.multiplyAdd(av, b1) }
            }
            w += step
            if T.vectors > 2 { w8 += 8 }
            j &+= 1
        }
        ky &+= 1
    }
    if T.vectors == 3 {
        storeTile4x24(c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, bias: bias, epilogue: e,
                      rows: rows, c: c, ldc: ldc)
    } else if T.vectors == 2 {
        storeTile6x16(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, bias: bias, epilogue: e,
                      rows: rows, c: c, ldc: ldc, cols: cols)
    } else {
        storeTile6x8(c00, c10, c20, c30, c40, c50, bias: bias, epilogue: e, rows: rows, c: c, ldc: ldc, cols: cols)
    }
}

extension Conv2DOperator {
    /// True when `runStem` can run this conv: the native 8-lane float32 GEMM weights, more than one output
    /// channel, 3 input channels, an undilated window at most 7 wide, a pixel stride of at most 8
    /// (so the patch fits the scratch).
    static func stemKernelApplies(inputChannels: Int, geometry g: WindowGeometry, weights: PackedGemmWeights) -> Bool {
        weights.backend == .native && weights.lanes == .eight && weights.panelWidth > 1 && weights.halfData == nil
            && inputChannels == 3
            && g.kernelWidth <= 7 && g.dilationHeight == 1 && g.dilationWidth == 1 && g.strideWidth <= 8
    }

    /// Floats of one worker's zero-padded patch: `[KH][(6 − 1)·strideW + KW][3]`, within the
    /// `gemmRowsPerUnit · KH·KW·3` floats `scratchCount` gives each worker (5·strideW + KW ≤ 48·KW).
    var stemPatchFloats: Int { geometry.kernelHeight * ((6 - 1) * geometry.strideWidth + geometry.kernelWidth) * 3 }

    /// The stem conv (see `stemKernelApplies`): one unit per output row; tiles of 6 pixels (4 for
    /// N = 24) along the row. A tile whose windows are all inside the input reads it directly;
    /// any other (the padded border, a short last tile) reads a zero-padded copy of its windows
    /// in the worker's `scratch` (`[threads][stemPatchFloats]`). Bit-identical to the GEMM path.
    func runStem(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, residual: GemmResidual?) {
        let w = packed
        let lo = activation.lowerBound, hi = activation.upperBound
        switch (w.preluAlpha != nil, epilogueIsUnclamped(lo: lo, hi: hi, residual: residual)) {
        case (false, false):
            runStemRows(GemmEpilogue.self, input: input, output: output, scratch: scratch, pool: pool, residual: residual)
        case (false, true):
            runStemRows(UnclampedGemmEpilogue.self, input: input, output: output, scratch: scratch, pool: pool,
                        residual: residual)
        case (true, false):
            runStemRows(PreluGemmEpilogue<GemmEpilogue>.self, input: input, output: output, scratch: scratch, pool: pool,
                        residual: residual)
        case (true, true):
            runStemRows(PreluGemmEpilogue<UnclampedGemmEpilogue>.self, input: input, output: output, scratch: scratch,
                        pool: pool, residual: residual)
        }
    }

    /// `runStem` with epilogue `E`: one output row per unit.
    func runStemRows<E: TileEpilogue>(_: E.Type, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                      scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, residual: GemmResidual?) {
        let g = geometry, w = packed
        let patchFloats = stemPatchFloats
        let lo = activation.lowerBound, hi = activation.upperBound
        let oc = outputShape.channels
        pool.parallelFor(outputShape.batch * g.outputHeight) { unit, worker in
            stemRow(E.self, unit: unit, input: input, output: output, patch: scratch + worker * patchFloats,
                    geometry: g, weights: w, outputChannels: oc, lo: lo, hi: hi, residual: residual)
        }
    }
}

/// One output row (`unit` = b·OH + oy) of the stem conv with epilogue `E`: tiles of 6 pixels (4 for
/// N = 24) along the row, the micro-kernels inlined here. A tile whose windows are all inside the
/// input reads it directly; any other (the padded border, a short last tile) reads a zero-padded
/// copy of its windows in `patch` (`[KH][(tileRows − 1)·strideW + KW][3]` floats).
/// input: NHWC `[N, H, W, 3]`; output: NHWC `[N, OH, OW, outputChannels]`.
@inline(never)
func stemRow<E: TileEpilogue>(_: E.Type, unit: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                              patch: UnsafeMutablePointer<Float>, geometry g: WindowGeometry, weights w: PackedGemmWeights,
                              outputChannels oc: Int, lo: Float, hi: Float, residual: GemmResidual?) {
    let tileRows = w.usesTile4x24 ? 4 : 6
    let sw = g.strideWidth
    let pixelStride = sw * 3, rowStride = g.inputWidth * 3
    let kh = g.kernelHeight, kw = g.kernelWidth
    let patchPixels = (tileRows - 1) * sw + kw
    // Interior columns: windows wholly inside the input row.
    let oxLo = g.padLeft <= 0 ? 0 : (g.padLeft + sw - 1) / sw
    let oxHi = g.inputWidth + g.padLeft < kw ? 0 : Swift.min(g.outputWidth, (g.inputWidth + g.padLeft - kw) / sw + 1)
    let alpha = w.preluAlpha.map { UnsafePointer($0) }
    let k = w.k, rowTaps = kw * 3
    let b = unit / g.outputHeight, oy = unit % g.outputHeight
    let image = input + b * g.inputHeight * g.inputWidth * 3
    let iy0 = oy * g.strideHeight - g.padTop
    let rowsInside = iy0 >= 0 && iy0 + kh <= g.inputHeight
    var ox = 0
    while ox < g.outputWidth {
        let rows = Swift.min(tileRows, g.outputWidth - ox)
        let pixel = unit * g.outputWidth + ox
        let a: UnsafePointer<Float>, rs: Int
        if rowsInside && rows == tileRows && ox >= oxLo && ox + rows <= oxHi {
            a = image + (iy0 * g.inputWidth + ox * sw - g.padLeft) * 3
            rs = rowStride
        } else {
            // Zero-padded copy of the tile's windows: [KH][patchPixels][3].
            let ix0 = ox * sw - g.padLeft
            for ky in 0..<kh {
                let iy = iy0 + ky
                let dst = patch + ky * patchPixels * 3
                for px in 0..<patchPixels {
                    let ix = ix0 + px
                    if iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth {
                        let src = image + (iy * g.inputWidth + ix) * 3
                        dst[px * 3] = src[0]; dst[px * 3 + 1] = src[1]; dst[px * 3 + 2] = src[2]
                    } else {
                        dst[px * 3] = 0; dst[px * 3 + 1] = 0; dst[px * 3 + 2] = 0
                    }
                }
            }
            a = UnsafePointer(patch)
            rs = patchPixels * 3
        }
        let cTile = output + pixel * oc
        if w.usesTile4x24 {
            let e = E(lo: lo, hi: hi, residual: residual?.offset(rows: pixel, cols: 0), preluAlpha: alpha)
            stemMicroKernel(StemTile4x24.self, a: a, rowStride: rs, pixelStride: pixelStride, kernelHeight: kh, rowTaps: rowTaps, rows: rows,
                            panel: w.data, panel8: w.data + k * 16, bias: w.bias, epilogue: e,
                            c: cTile, ldc: oc, cols: 24)
        } else {
            let pw = w.panelWidth
            var p = 0
            while p < w.panelCount {
                let width = p == w.panelCount - 1 ? w.lastPanelWidth : pw
                let e = E(lo: lo, hi: hi, residual: residual?.offset(rows: pixel, cols: p * pw),
                          preluAlpha: alpha.map { $0 + p * pw })
                let panel = w.data + p * k * pw
                let cols = Swift.min(width, w.n - p * pw)
                if width == 16 {
                    stemMicroKernel(StemTile6x16.self, a: a, rowStride: rs, pixelStride: pixelStride, kernelHeight: kh, rowTaps: rowTaps,
                                    rows: rows, panel: panel, panel8: panel, bias: w.bias + p * pw, epilogue: e,
                                    c: cTile + p * pw, ldc: oc, cols: cols)
                } else {
                    stemMicroKernel(StemTile6x8.self, a: a, rowStride: rs, pixelStride: pixelStride, kernelHeight: kh, rowTaps: rowTaps,
                                    rows: rows, panel: panel, panel8: panel, bias: w.bias + p * pw, epilogue: e,
                                    c: cTile + p * pw, ldc: oc, cols: cols)
                }
                p &+= 1
            }
        }
        ox += rows
    }
}
