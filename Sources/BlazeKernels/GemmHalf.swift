import CBlazeTarget

// The native GEMM on binary16 weight panels (`PanelPrecision.float16WhenExact`): the 8-lane 6×16
// and 5×16 tiles of `gemmMicroKernelX16`, the 6×8 tile of an 8-wide last panel and the few-row
// kernels of `gemvRows`, with each weight vector loaded as 8 halves and widened
// (`blaze_load_half8`: one F16C VCVTPH2PS, or exact scalar code on a target without it).
//
// Arithmetic: widening a binary16 value is exact, and NaN weights never reach half panels, so each
// weight is the float the float32 panel holds. Every output is then the same `sum_k a[k]·w[k]`
// accumulated from zero in k order with `multiplyAdd`, and the same epilogue: bit-identical to the
// float32 panels for every shape, tile position and thread count.
//
// Why: the landmark models' convs on 8×8 maps and smaller hold 2.5 M of full's 3.0 M conv weights
// (10 of 12 MB as float32), and on so few pixels a weight is loaded once per 6-row tile, a
// handful of times per run. Half panels halve the memory a load faults in and packs, and the bytes
// each run streams. Larger maps keep float32 panels (`Conv2DOperator`'s `halfPanelPixels`): there
// a panel is reloaded once per 6 rows, and the conversions would compete with the multiply-adds.

/// `gemmNativeTiles` on half panels: rows `rowStart..<rowEnd` in 6-row tiles (the last may be
/// shorter), ending in 5-row tiles when that covers the rows exactly (as the float32 path does);
/// panels `panelStart..<panelEnd` (`half`: `[panelCount][k][16]`), 16 wide but for an 8-wide last
/// panel (its 6×8 tiles cover the 5-row ones too). Out of line, one specialization per epilogue,
/// so the float32 kernels' code is what it was.
@inline(never)
func gemmHalfTiles<E: TileEpilogue>(_: E.Type, rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int,
                                    a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                                    half: UnsafePointer<UInt16>, lo: Float, hi: Float,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, residual: GemmResidual?,
                                    segments: Int, segmentStride: Int) {
    let k = w.k, n = w.n
    let segmentLength = k / segments
    let alpha = w.preluAlpha.map { UnsafePointer($0) }
    let length = rowEnd - rowStart
    let fiveRowTiles = (6 - length % 6) % 6
    let sixRowEnd = length >= 5 * fiveRowTiles ? rowEnd - 5 * fiveRowTiles : rowEnd
    var row = rowStart
    while row < rowEnd {
        let six = row < sixRowEnd
        let rows = Swift.min(six ? 6 : 5, (six ? sixRowEnd : rowEnd) - row)
        let aRow = a + row * lda
        let cRow = c + row * ldc
        var p = panelStart
        while p < panelEnd {
            let e = E(lo: lo, hi: hi, residual: residual?.offset(rows: row, cols: p * 16),
                      preluAlpha: alpha.map { $0 + p * 16 })
            let panel = half + p * k * 16
            if p == w.panelCount - 1 && w.lastPanelWidth == 8 {
                gemmMicroKernelHalf6x8(k: segmentLength, segments: segments, segmentStride: segmentStride, a: aRow, lda: lda,
                                       rows: rows, panel: panel, bias: w.bias + p * 16, epilogue: e, c: cRow + p * 16,
                                       ldc: ldc, cols: Swift.min(8, n - p * 16))
            } else if six {
                gemmMicroKernelHalfX16(SixRowTile.self, k: segmentLength, segments: segments, segmentStride: segmentStride,
                                       a: aRow, lda: lda, rows: rows, panel: panel, bias: w.bias + p * 16,
                                       epilogue: e, c: cRow + p * 16, ldc: ldc, cols: Swift.min(16, n - p * 16))
            } else {
                gemmMicroKernelHalfX16(FiveRowTile.self, k: segmentLength, segments: segments, segmentStride: segmentStride,
                                       a: aRow, lda: lda, rows: rows, panel: panel, bias: w.bias + p * 16,
                                       epilogue: e, c: cRow + p * 16, ldc: ldc, cols: Swift.min(16, n - p * 16))
            }
            p &+= 1
        }
        row += six ? 6 : 5
    }
}

/// The 6×16 and 5×16 micro-kernels on a binary16 panel (`Height`: `SixRowTile` or `FiveRowTile`):
/// `C[rows×cols] = epilogue(A[rows×K] · panel + bias)`, as `gemmMicroKernelX16` with `panel`
/// `[K][16]` halves. Missing rows alias row 0 (computed, then not stored).
@inline(__always)
func gemmMicroKernelHalfX16<Height: MicroTileHeight, E: TileEpilogue>(
    _: Height.Type, k: Int, segments: Int, segmentStride: Int, a: UnsafePointer<Float>, lda: Int, rows: Int,
    panel: UnsafePointer<UInt16>, bias: UnsafePointer<Float>, epilogue e: E,
    c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int
) {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
    var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
    var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var b = panel
    var segment = 0
    while segment < segments {
        let base = a + segment * segmentStride
        let a0 = base
        let a1 = rows > 1 ? base + lda : base
        let a2 = rows > 2 ? base + 2 * lda : base
        let a3 = rows > 3 ? base + 3 * lda : base
        let a4 = rows > 4 ? base + 4 * lda : base
        let a5 = rows > 5 ? base + 5 * lda : base
        var kk = 0
        while kk < k {
            let b0 = blaze_load_half8(b), b1 = blaze_load_half8(b + 8)
            var av = SIMD8<Float>(repeating: a0[kk])
            c00.multiplyAdd(av, b0); c01.multiplyAdd(av, b1)
            av = SIMD8<Float>(repeating: a1[kk])
            c10.multiplyAdd(av, b0); c11.multiplyAdd(av, b1)
            av = SIMD8<Float>(repeating: a2[kk])
            c20.multiplyAdd(av, b0); c21.multiplyAdd(av, b1)
            av = SIMD8<Float>(repeating: a3[kk])
            c30.multiplyAdd(av, b0); c31.multiplyAdd(av, b1)
            av = SIMD8<Float>(repeating: a4[kk])
            c40.multiplyAdd(av, b0); c41.multiplyAdd(av, b1)
            if Height.rows > 5 {
                av = SIMD8<Float>(repeating: a5[kk])
                c50.multiplyAdd(av, b0); c51.multiplyAdd(av, b1)
            }
            b += 16
            kk &+= 1
        }
        segment &+= 1
    }
    storeTile6x16(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, bias: bias, epilogue: e,
                  rows: Height.rows > 5 ? rows : Swift.min(rows, 5), c: c, ldc: ldc, cols: cols)
}

/// The 6×8 micro-kernel on a binary16 panel `[K][8]` (an 8-wide last panel): `gemmMicroKernel6x8`
/// with each weight vector widened as it is loaded. Missing rows alias row 0.
@inline(__always)
func gemmMicroKernelHalf6x8<E: TileEpilogue>(k: Int, segments: Int, segmentStride: Int, a: UnsafePointer<Float>, lda: Int,
                                             rows: Int, panel: UnsafePointer<UInt16>, bias: UnsafePointer<Float>,
                                             epilogue e: E, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>()
    var c3 = SIMD8<Float>(), c4 = SIMD8<Float>(), c5 = SIMD8<Float>()
    var b = panel
    var segment = 0
    while segment < segments {
        let base = a + segment * segmentStride
        let a0 = base
        let a1 = rows > 1 ? base + lda : base
        let a2 = rows > 2 ? base + 2 * lda : base
        let a3 = rows > 3 ? base + 3 * lda : base
        let a4 = rows > 4 ? base + 4 * lda : base
        let a5 = rows > 5 ? base + 5 * lda : base
        var kk = 0
        while kk < k {
            let b0 = blaze_load_half8(b)
            c0.multiplyAdd(SIMD8<Float>(repeating: a0[kk]), b0)
            c1.multiplyAdd(SIMD8<Float>(repeating: a1[kk]), b0)
            c2.multiplyAdd(SIMD8<Float>(repeating: a2[kk]), b0)
            c3.multiplyAdd(SIMD8<Float>(repeating: a3[kk]), b0)
            c4.multiplyAdd(SIMD8<Float>(repeating: a4[kk]), b0)
            c5.multiplyAdd(SIMD8<Float>(repeating: a5[kk]), b0)
            b += 8
            kk &+= 1
        }
        segment &+= 1
    }
    storeTile6x8(c0, c1, c2, c3, c4, c5, bias: bias, epilogue: e, rows: rows, c: c, ldc: ldc, cols: cols)
}

/// `gemvRows` for one row on binary16 panels (`half`: `[panelCount][k][16]`, the last panel
/// `lastPanelWidth` (16 or 8) wide): panels `p0..<p1`, four 16-wide ones at a time (64 columns,
/// 8 accumulators) while four remain, then one at a time. The float32 kernels' arithmetic
/// (`gemvMicroKernel1x64`, `gemvMicroKernel1xW`): each output `sum_k a[k]·w[k]` from zero in k
/// order, then the epilogue.
@inline(never)
func gemvHalfRow(k: Int, n: Int, a: UnsafePointer<Float>, half: UnsafePointer<UInt16>, p0: Int, p1: Int,
                 panelCount: Int, lastPanelWidth: Int,
                 bias: UnsafePointer<Float>, epilogue e: GemmEpilogue, c: UnsafeMutablePointer<Float>) {
    @inline(__always) func finish(_ v: SIMD8<Float>, column: Int) {
        guard column < n else { return }
        let r = e.apply(v, bias: loadVector(bias + column), row: 0, col0: 0, cols: 8)
        let count = Swift.min(8, n - column)
        if count == 8 { storeVector(r, c + column) } else { for l in 0..<count { c[column + l] = r[l] } }
    }
    // Panels before `wideEnd` are 16 wide.
    let wideEnd = lastPanelWidth == 16 ? p1 : Swift.min(p1, panelCount - 1)
    var p = p0
    while p + 4 <= wideEnd {
        let w0 = half + p * k * 16, w1 = w0 + k * 16, w2 = w1 + k * 16, w3 = w2 + k * 16
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
        var c4 = SIMD8<Float>(), c5 = SIMD8<Float>(), c6 = SIMD8<Float>(), c7 = SIMD8<Float>()
        var kk = 0
        while kk < k {
            let av = SIMD8<Float>(repeating: a[kk])
            let o = kk &* 16
            c0.multiplyAdd(av, blaze_load_half8(w0 + o)); c1.multiplyAdd(av, blaze_load_half8(w0 + o + 8))
            c2.multiplyAdd(av, blaze_load_half8(w1 + o)); c3.multiplyAdd(av, blaze_load_half8(w1 + o + 8))
            c4.multiplyAdd(av, blaze_load_half8(w2 + o)); c5.multiplyAdd(av, blaze_load_half8(w2 + o + 8))
            c6.multiplyAdd(av, blaze_load_half8(w3 + o)); c7.multiplyAdd(av, blaze_load_half8(w3 + o + 8))
            kk &+= 1
        }
        let column = p * 16
        finish(c0, column: column); finish(c1, column: column + 8)
        finish(c2, column: column + 16); finish(c3, column: column + 24)
        finish(c4, column: column + 32); finish(c5, column: column + 40)
        finish(c6, column: column + 48); finish(c7, column: column + 56)
        p += 4
    }
    while p < wideEnd {
        let w0 = half + p * k * 16
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>()
        var kk = 0
        while kk < k {
            let av = SIMD8<Float>(repeating: a[kk])
            c0.multiplyAdd(av, blaze_load_half8(w0 + kk &* 16)); c1.multiplyAdd(av, blaze_load_half8(w0 + kk &* 16 + 8))
            kk &+= 1
        }
        finish(c0, column: p * 16); finish(c1, column: p * 16 + 8)
        p += 1
    }
    if p < p1 {
        // The 8-wide last panel `[k][8]`.
        let w0 = half + p * k * 16
        var c0 = SIMD8<Float>()
        var kk = 0
        while kk < k {
            c0.multiplyAdd(SIMD8<Float>(repeating: a[kk]), blaze_load_half8(w0 + kk &* 8))
            kk &+= 1
        }
        finish(c0, column: p * 16)
    }
}
