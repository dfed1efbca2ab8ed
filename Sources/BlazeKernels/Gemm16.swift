import CBlazeTarget

// The 16-lane native GEMM (`GemmLanes.sixteen`): the build's kernels when the CPU target has
// AVX-512 (`GemmLanes.build`), and compiled and tested on every target (`lanes: .sixteen`).
//
// Register budget (AVX-512: 32 zmm): an 8×32 tile keeps 8 rows × 2 SIMD16 accumulators = 16
// registers, plus 2 weight vectors and 1 broadcast = 19, so the compiler has room for the
// pointers and never spills (a 12×32 tile would take 27 and leave the 48-row blocks as
// 12+12+12+12 but 49-row maps as 5·12 = 60 rows; 8 rows give 49 = 7·7). Per k: 2 panel loads and
// 8 broadcasts feed 16 FMAs, within two load ports for two FMA ports.
//
// Arithmetic: every output is `sum_k a[k]·w[k]` accumulated from zero in k order (segments in
// order) with `multiplyAdd` (FMA exactly when the 8-lane kernels use it), then the same epilogue
// operations (`TileEpilogue.apply16` is `apply` lane for lane), so the results are bit-identical
// to the 8-lane kernels for every shape, tile position and thread count.

enum EightRowTile: MicroTileHeight { static var rows: Int { 8 } }
enum SevenRowTile: MicroTileHeight { static var rows: Int { 7 } }

/// Panel width of a 16-lane micro-kernel specialization: two SIMD16 vectors (32 columns) or one (16).
protocol PanelVectors { static var two: Bool { get } }
enum ThirtyTwoColumnPanel: PanelVectors { static var two: Bool { true } }
enum SixteenColumnPanel: PanelVectors { static var two: Bool { false } }

/// What a 16-lane micro-kernel's panel holds: float32 weights (`data`), or binary16 ones
/// (`halfData`, ``PanelPrecision/float16WhenExact``) widened exactly as they load, one VCVTPH2PS
/// per 16 on AVX-512 (`blaze_load_half16`). A widened half is the float the float32 panel holds,
/// so both give the same bits.
protocol PanelElements16 {
    associatedtype Element
    static func load16(_ p: UnsafePointer<Element>) -> SIMD16<Float>
}
enum Float32Panel16: PanelElements16 {
    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { loadVector16(p) }
}
enum HalfPanel16: PanelElements16 {
    @inline(__always) static func load16(_ p: UnsafePointer<UInt16>) -> SIMD16<Float> { blaze_load_half16(p) }
}

/// Rows `rowStart..<rowEnd`, panels `panelStart..<panelEnd` of a 16-lane packed matrix (panels
/// 32 wide, the last one 32 or 16; float32 or binary16) with epilogue `E`: 8-row tiles, and 7-row
/// tiles at the end when that covers the rows exactly (49 = 7·7 rather than 7 tiles of 8 = 56
/// rows computed). Tile heights do not change any element's arithmetic. Out of line, one
/// specialization per epilogue.
@inline(never)
func gemmTiles16<E: TileEpilogue>(_: E.Type, rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int,
                                  a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights, lo: Float, hi: Float,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, residual: GemmResidual?, segments: Int,
                                  segmentStride: Int) {
    if let half = w.halfData {
        gemmTiles16(HalfPanel16.self, E.self, panels: UnsafePointer(half), rowStart: rowStart, rowEnd: rowEnd,
                    panelStart: panelStart, panelEnd: panelEnd, a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c,
                    ldc: ldc, residual: residual, segments: segments, segmentStride: segmentStride)
    } else {
        gemmTiles16(Float32Panel16.self, E.self, panels: UnsafePointer(w.data), rowStart: rowStart, rowEnd: rowEnd,
                    panelStart: panelStart, panelEnd: panelEnd, a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c,
                    ldc: ldc, residual: residual, segments: segments, segmentStride: segmentStride)
    }
}

/// `gemmTiles16` on panels of `P` (`panels`: `[panelCount][k][32]`, the last `[k][lastPanelWidth]`).
@inline(__always)
func gemmTiles16<P: PanelElements16, E: TileEpilogue>(_: P.Type, _: E.Type, panels: UnsafePointer<P.Element>,
                                                      rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int,
                                                      a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                                                      lo: Float, hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                      residual: GemmResidual?, segments: Int, segmentStride: Int) {
    let length = rowEnd - rowStart
    let shortTiles = (8 - length % 8) % 8
    let fullEnd = length >= 7 * shortTiles ? rowEnd - 7 * shortTiles : rowEnd
    gemmTiles16(EightRowTile.self, P.self, E.self, panels: panels, rowStart: rowStart, rowEnd: fullEnd,
                panelStart: panelStart, panelEnd: panelEnd, a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc,
                residual: residual, segments: segments, segmentStride: segmentStride)
    if fullEnd < rowEnd {
        gemmTiles16(SevenRowTile.self, P.self, E.self, panels: panels, rowStart: fullEnd, rowEnd: rowEnd,
                    panelStart: panelStart, panelEnd: panelEnd, a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c,
                    ldc: ldc, residual: residual, segments: segments, segmentStride: segmentStride)
    }
}

/// `gemmTiles16` for one tile height: each tile runs the 32- or 16-wide kernel of that height per panel.
@inline(__always)
func gemmTiles16<Height: MicroTileHeight, P: PanelElements16, E: TileEpilogue>(
    _: Height.Type, _: P.Type, _: E.Type, panels: UnsafePointer<P.Element>, rowStart: Int, rowEnd: Int,
    panelStart: Int, panelEnd: Int, a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights, lo: Float,
    hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int, residual: GemmResidual?, segments: Int, segmentStride: Int
) {
    let k = w.k, n = w.n, pw = w.panelWidth
    let segmentLength = k / segments
    let alpha = w.preluAlpha.map { UnsafePointer($0) }
    var row = rowStart
    while row < rowEnd {
        let rows = Swift.min(Height.rows, rowEnd - row)
        let aRow = a + row * lda
        let cRow = c + row * ldc
        var p = panelStart
        while p < panelEnd {
            let e = E(lo: lo, hi: hi, residual: residual?.offset(rows: row, cols: p * pw),
                      preluAlpha: alpha.map { $0 + p * pw })
            let width = p == w.panelCount - 1 ? w.lastPanelWidth : pw
            let cols = Swift.min(width, n - p * pw)
            if width == 32 {
                gemmMicroKernel16(Height.self, ThirtyTwoColumnPanel.self, P.self, k: segmentLength, segments: segments,
                                  segmentStride: segmentStride, a: aRow, lda: lda, rows: rows,
                                  panel: panels + p * k * pw, bias: w.bias + p * pw, epilogue: e,
                                  c: cRow + p * pw, ldc: ldc, cols: cols)
            } else {
                gemmMicroKernel16(Height.self, SixteenColumnPanel.self, P.self, k: segmentLength, segments: segments,
                                  segmentStride: segmentStride, a: aRow, lda: lda, rows: rows,
                                  panel: panels + p * k * pw, bias: w.bias + p * pw, epilogue: e,
                                  c: cRow + p * pw, ldc: ldc, cols: cols)
            }
            p &+= 1
        }
        row += Height.rows
    }
}

/// The 16-lane micro-kernels, `Height`×32 (`ThirtyTwoColumnPanel`, 2 SIMD16 per row) and
/// `Height`×16 (`SixteenColumnPanel`), `Height` 8 or 7: `C[rows×cols] = epilogue(A[rows×K] · panel + bias)`.
///
/// - a: first row of A, rows `lda` floats apart (only `rows` ≤ `Height.rows` are read).
/// - panel: `[K][32]` or `[K][16]` packed weights (float32 or binary16: `P`); bias: `[32]` or `[16]`.
/// - c: output, rows `ldc` apart; only `rows × cols` values are written.
/// - segments, segmentStride: K read as `segments` runs of `k` floats (a direct conv tile), as in
///   `gemmMicroKernelX16`.
/// Missing rows alias row 0 (computed, then discarded), as in the 8-lane kernels.
@inline(__always)
func gemmMicroKernel16<Height: MicroTileHeight, Width: PanelVectors, P: PanelElements16, E: TileEpilogue>(
    _: Height.Type, _: Width.Type, _: P.Type, k: Int, segments: Int, segmentStride: Int, a: UnsafePointer<Float>, lda: Int,
    rows: Int, panel: UnsafePointer<P.Element>, bias: UnsafePointer<Float>, epilogue e: E,
    c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int
) {
    var c00 = SIMD16<Float>(), c01 = SIMD16<Float>()
    var c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
    var c20 = SIMD16<Float>(), c21 = SIMD16<Float>()
    var c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
    var c40 = SIMD16<Float>(), c41 = SIMD16<Float>()
    var c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
    var c60 = SIMD16<Float>(), c61 = SIMD16<Float>()
    var c70 = SIMD16<Float>(), c71 = SIMD16<Float>()
    let step = Width.two ? 32 : 16
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
        let a6 = rows > 6 ? base + 6 * lda : base
        let a7 = rows > 7 ? base + 7 * lda : base
        var kk = 0
        while kk < k {
            let b0 = P.load16(b)
            let b1 = Width.two ? P.load16(b + 16) : SIMD16<Float>()
            var av = SIMD16<Float>(repeating: a0[kk])
            c00.multiplyAdd(av, b0); if Width.two { c01.multiplyAdd(av, b1) }
            av = SIMD16<Float>(repeating: a1[kk])
            c10.multiplyAdd(av, b0); if Width.two { c11.multiplyAdd(av, b1) }
            av = SIMD16<Float>(repeating: a2[kk])
            c20.multiplyAdd(av, b0); if Width.two { c21.multiplyAdd(av, b1) }
            av = SIMD16<Float>(repeating: a3[kk])
            c30.multiplyAdd(av, b0); if Width.two { c31.multiplyAdd(av, b1) }
            av = SIMD16<Float>(repeating: a4[kk])
            c40.multiplyAdd(av, b0); if Width.two { c41.multiplyAdd(av, b1) }
            av = SIMD16<Float>(repeating: a5[kk])
            c50.multiplyAdd(av, b0); if Width.two { c51.multiplyAdd(av, b1) }
            av = SIMD16<Float>(repeating: a6[kk])
            c60.multiplyAdd(av, b0); if Width.two { c61.multiplyAdd(av, b1) }
            if Height.rows > 7 {
                av = SIMD16<Float>(repeating: a7[kk])
                c70.multiplyAdd(av, b0); if Width.two { c71.multiplyAdd(av, b1) }
            }
            b += step
            kk &+= 1
        }
        segment &+= 1
    }
    let bias0 = loadVector16(bias)
    let bias1 = Width.two ? loadVector16(bias + 16) : SIMD16<Float>()
    storeTileRow16(Width.self, c00, c01, bias0: bias0, bias1: bias1, epilogue: e, row: 0, to: c, cols: cols)
    if rows > 1 { storeTileRow16(Width.self, c10, c11, bias0: bias0, bias1: bias1, epilogue: e, row: 1, to: c + ldc, cols: cols) }
    if rows > 2 { storeTileRow16(Width.self, c20, c21, bias0: bias0, bias1: bias1, epilogue: e, row: 2, to: c + 2 * ldc, cols: cols) }
    if rows > 3 { storeTileRow16(Width.self, c30, c31, bias0: bias0, bias1: bias1, epilogue: e, row: 3, to: c + 3 * ldc, cols: cols) }
    if rows > 4 { storeTileRow16(Width.self, c40, c41, bias0: bias0, bias1: bias1, epilogue: e, row: 4, to: c + 4 * ldc, cols: cols) }
    if rows > 5 { storeTileRow16(Width.self, c50, c51, bias0: bias0, bias1: bias1, epilogue: e, row: 5, to: c + 5 * ldc, cols: cols) }
    if rows > 6 { storeTileRow16(Width.self, c60, c61, bias0: bias0, bias1: bias1, epilogue: e, row: 6, to: c + 6 * ldc, cols: cols) }
    if Height.rows > 7 && rows > 7 {
        storeTileRow16(Width.self, c70, c71, bias0: bias0, bias1: bias1, epilogue: e, row: 7, to: c + 7 * ldc, cols: cols)
    }
}

/// Stores row `row` of a 16-lane tile (`v0`, and `v1` for a 32-wide panel) after the epilogue,
/// writing only `cols` values.
@inline(__always)
func storeTileRow16<Width: PanelVectors, E: TileEpilogue>(_: Width.Type, _ v0: SIMD16<Float>, _ v1: SIMD16<Float>,
                                                          bias0: SIMD16<Float>, bias1: SIMD16<Float>, epilogue e: E,
                                                          row: Int, to c: UnsafeMutablePointer<Float>, cols: Int) {
    let s0 = e.apply16(v0, bias: bias0, row: row, col0: 0, cols: cols)
    if cols >= 16 { storeVector16(s0, c) } else { storePartialVector16(s0, c, count: cols) }
    if Width.two && cols > 16 {
        let s1 = e.apply16(v1, bias: bias1, row: row, col0: 16, cols: cols - 16)
        if cols == 32 { storeVector16(s1, c + 16) } else { storePartialVector16(s1, c + 16, count: cols - 16) }
    }
}

/// `gemvRows` on a 16-lane packed matrix: one row of A against up to 4 consecutive panels
/// (`panel + j·k·32`, the last of the matrix possibly 16 wide; float32 or binary16: `P`), 8 SIMD16
/// accumulators, the same k-ordered multiply-adds and epilogue as `gemmMicroKernel16`; writes
/// `cols` ≤ 128 values.
@inline(__always)
func gemvMicroKernel16<P: PanelElements16>(_: P.Type, k: Int, a: UnsafePointer<Float>, panel: UnsafePointer<P.Element>,
                                           panelCount: Int, lastPanelWidth: Int, bias: UnsafePointer<Float>,
                                           epilogue e: GemmEpilogue, c: UnsafeMutablePointer<Float>, cols: Int) {
    let stride = k &* 32
    let p0 = panel, p1 = panel + stride, p2 = panel + 2 * stride, p3 = panel + 3 * stride
    // all: [8] accumulators, columns 16j ..< 16j+16 in all[j] (on the stack: no allocation in a run).
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 8) { all in
        all.initialize(repeating: SIMD16<Float>())
        var kk = 0
        if panelCount == 4 && lastPanelWidth == 32 {
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
            while kk < k {
                let av = SIMD16<Float>(repeating: a[kk])
                let o = kk &* 32
                a0.multiplyAdd(av, P.load16(p0 + o)); a1.multiplyAdd(av, P.load16(p0 + o + 16))
                a2.multiplyAdd(av, P.load16(p1 + o)); a3.multiplyAdd(av, P.load16(p1 + o + 16))
                a4.multiplyAdd(av, P.load16(p2 + o)); a5.multiplyAdd(av, P.load16(p2 + o + 16))
                a6.multiplyAdd(av, P.load16(p3 + o)); a7.multiplyAdd(av, P.load16(p3 + o + 16))
                kk &+= 1
            }
            all[0] = a0; all[1] = a1; all[2] = a2; all[3] = a3; all[4] = a4; all[5] = a5; all[6] = a6; all[7] = a7
        } else {
            // Fewer panels (at most 4: ≤ 128 columns) or a 16-wide last one: panel by panel (each
            // column's chain is the same).
            for j in 0..<Swift.min(panelCount, 4) {
                let width = j == panelCount - 1 ? lastPanelWidth : 32
                let pj = panel + j * stride
                var v0 = SIMD16<Float>(), v1 = SIMD16<Float>()
                kk = 0
                if width == 32 {
                    while kk < k {
                        let av = SIMD16<Float>(repeating: a[kk])
                        v0.multiplyAdd(av, P.load16(pj + kk &* 32)); v1.multiplyAdd(av, P.load16(pj + kk &* 32 + 16))
                        kk &+= 1
                    }
                } else {
                    while kk < k {
                        v0.multiplyAdd(SIMD16<Float>(repeating: a[kk]), P.load16(pj + kk &* 16))
                        kk &+= 1
                    }
                }
                all[2 * j] = v0; all[2 * j + 1] = v1
            }
        }
        for j in 0..<8 where j * 16 < cols {
            let r = e.apply16(all[j], bias: loadVector16(bias + j * 16), row: 0, col0: 0, cols: 16)
            let count = Swift.min(16, cols - j * 16)
            if count == 16 { storeVector16(r, c + j * 16) } else { storePartialVector16(r, c + j * 16, count: count) }
        }
    }
}
