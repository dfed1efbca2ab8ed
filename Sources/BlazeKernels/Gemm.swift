import COpenBLAS

/// Which matrix-multiply implementation a conv operator uses.
public enum GemmBackend: Sendable, Equatable, CaseIterable {
    /// The hand-written 6×16 SIMD micro-kernel on prepacked weight panels (default: it wins on
    /// the BlazePose shapes, see `Tests/KernelTests/GemmBenchTests.swift`).
    case native
    /// OpenBLAS `cblas_sgemm` (single-threaded inside; we thread over row blocks ourselves).
    case openBLAS
}

/// Weights of `C[M×N] = A[M×K] · B[K×N] + bias`, prepacked once at load time.
///
/// Source layout: `W[N][K]` row-major, i.e. `B` transposed — exactly a conv's OHWI weights
/// seen as `[O, KH·KW·I]`. Native layout: panels of `nr = 16` output columns; panel `p`
/// holds for every `k` the 16 values `W[16p ..< 16p+16][k]` contiguously (zero past `N`),
/// so the micro-kernel streams one panel with unit stride.
public final class PackedGemmWeights: @unchecked Sendable {
    /// Columns per native panel (two SIMD8 registers).
    public static let panelWidth = 16
    public let k: Int
    public let n: Int
    public let backend: GemmBackend
    let panelCount: Int
    /// native: `[panelCount][k][16]`; openBLAS: `W[N][K]` copied as is.
    let data: UnsafeMutablePointer<Float>
    /// `[panelCount * 16]`, zero past N (zero everywhere when there is no bias).
    let bias: UnsafeMutablePointer<Float>

    /// Packs `weights` (`[n][k]`, row-major) and `bias` (`[n]` or nil). Does not validate: callers
    /// (the operator wrappers) check that the buffers hold `n*k` and `n` floats.
    public init(weights: UnsafePointer<Float>, bias biasIn: UnsafePointer<Float>?, n: Int, k: Int,
                backend: GemmBackend) {
        self.k = k; self.n = n; self.backend = backend
        let pw = Self.panelWidth
        panelCount = (n + pw - 1) / pw
        bias = .allocate(capacity: panelCount * pw)
        bias.initialize(repeating: 0, count: panelCount * pw)
        if let biasIn { bias.update(from: biasIn, count: n) }
        switch backend {
        case .native:
            let count = panelCount * k * pw
            data = .allocate(capacity: count)
            data.initialize(repeating: 0, count: count)
            for col in 0..<n {
                let panel = col / pw, lane = col % pw
                let dst = data + panel * k * pw + lane
                let src = weights + col * k
                for kk in 0..<k { dst[kk * pw] = src[kk] }
            }
        case .openBLAS:
            OpenBLAS.useSingleThread()
            data = .allocate(capacity: Swift.max(1, n * k))
            data.initialize(from: weights, count: n * k)
        }
    }

    deinit {
        data.deallocate()
        bias.deallocate()
    }
}

/// Rows of A per micro-tile of the native kernel.
@usableFromInline let gemmTileRows = 6
/// Rows per parallel work unit. Fixed (never derived from the thread count), so the same
/// kernel calls happen whatever the number of threads.
public let gemmRowsPerUnit = 48

@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func storeVector(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Stores one 16-wide output row `(v0, v1)` after bias and clamp, writing only `cols` values.
@inline(__always)
func storeTileRow(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, bias0: SIMD8<Float>, bias1: SIMD8<Float>,
                  lo: SIMD8<Float>, hi: SIMD8<Float>, to c: UnsafeMutablePointer<Float>, cols: Int) {
    // Bias after the sum, then max-then-min: TFLite's order (ActivationFunctionWithMinMax).
    let r0 = (v0 + bias0).replacing(with: lo, where: (v0 + bias0) .< lo)
    let r1 = (v1 + bias1).replacing(with: lo, where: (v1 + bias1) .< lo)
    let s0 = r0.replacing(with: hi, where: r0 .> hi)
    let s1 = r1.replacing(with: hi, where: r1 .> hi)
    if cols == 16 {
        storeVector(s0, c); storeVector(s1, c + 8)
    } else {
        for j in 0..<Swift.min(cols, 8) { c[j] = s0[j] }
        if cols > 8 { for j in 8..<cols { c[j] = s1[j - 8] } }
    }
}

/// The 6×16 micro-kernel: `C[rows×cols] = clamp(A[rows×K] · panel + bias)`.
///
/// - a: first row of A, rows `lda` floats apart (only `rows` ≤ 6 are read).
/// - panel: `[K][16]` packed weights; bias: `[16]`.
/// - c: output, rows `ldc` apart; only `rows × cols` values are written.
/// Each output is `sum_k a[k]*b[k]` accumulated in k order with separate multiply and add
/// (no FMA contraction), so the arithmetic is identical in every tile position and build.
@inline(__always)
func gemmMicroKernel6x16(k: Int, a: UnsafePointer<Float>, lda: Int, rows: Int,
                         panel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         lo: Float, hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    // Missing rows alias row 0: computed and then discarded, which keeps one code path.
    let a0 = a
    let a1 = rows > 1 ? a + lda : a
    let a2 = rows > 2 ? a + 2 * lda : a
    let a3 = rows > 3 ? a + 3 * lda : a
    let a4 = rows > 4 ? a + 4 * lda : a
    let a5 = rows > 5 ? a + 5 * lda : a
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
    var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
    var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var b = panel
    var kk = 0
    while kk < k {
        let b0 = loadVector(b), b1 = loadVector(b + 8)
        var av = SIMD8<Float>(repeating: a0[kk])
        c00 = c00 + av * b0; c01 = c01 + av * b1
        av = SIMD8<Float>(repeating: a1[kk])
        c10 = c10 + av * b0; c11 = c11 + av * b1
        av = SIMD8<Float>(repeating: a2[kk])
        c20 = c20 + av * b0; c21 = c21 + av * b1
        av = SIMD8<Float>(repeating: a3[kk])
        c30 = c30 + av * b0; c31 = c31 + av * b1
        av = SIMD8<Float>(repeating: a4[kk])
        c40 = c40 + av * b0; c41 = c41 + av * b1
        av = SIMD8<Float>(repeating: a5[kk])
        c50 = c50 + av * b0; c51 = c51 + av * b1
        b += 16
        kk &+= 1
    }
    let bias0 = loadVector(bias), bias1 = loadVector(bias + 8)
    let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
    storeTileRow(c00, c01, bias0: bias0, bias1: bias1, lo: lov, hi: hiv, to: c, cols: cols)
    if rows > 1 { storeTileRow(c10, c11, bias0: bias0, bias1: bias1, lo: lov, hi: hiv, to: c + ldc, cols: cols) }
    if rows > 2 { storeTileRow(c20, c21, bias0: bias0, bias1: bias1, lo: lov, hi: hiv, to: c + 2 * ldc, cols: cols) }
    if rows > 3 { storeTileRow(c30, c31, bias0: bias0, bias1: bias1, lo: lov, hi: hiv, to: c + 3 * ldc, cols: cols) }
    if rows > 4 { storeTileRow(c40, c41, bias0: bias0, bias1: bias1, lo: lov, hi: hiv, to: c + 4 * ldc, cols: cols) }
    if rows > 5 { storeTileRow(c50, c51, bias0: bias0, bias1: bias1, lo: lov, hi: hiv, to: c + 5 * ldc, cols: cols) }
}

/// Single-threaded GEMM on a block of rows: `C[m×N] = act(A[m×K] · W^T + bias)`.
///
/// - a: `[m][lda]` row-major, the first `K` floats of each row are used (NHWC pixels × channels).
/// - c: `[m][ldc]` row-major, the first `N` floats of each row are written.
/// Never validates. Each output element's arithmetic depends only on (row, col), not on `m`.
public func gemmRows(m: Int, a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                     activation: FusedActivation, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let lo = activation.lowerBound, hi = activation.upperBound
    let k = w.k, n = w.n, pw = PackedGemmWeights.panelWidth
    switch w.backend {
    case .native:
        var row = 0
        while row < m {
            let rows = Swift.min(gemmTileRows, m - row)
            let aRow = a + row * lda
            let cRow = c + row * ldc
            for p in 0..<w.panelCount {
                gemmMicroKernel6x16(k: k, a: aRow, lda: lda, rows: rows,
                                    panel: w.data + p * k * pw, bias: w.bias + p * pw,
                                    lo: lo, hi: hi, c: cRow + p * pw, ldc: ldc,
                                    cols: Swift.min(pw, n - p * pw))
            }
            row += gemmTileRows
        }
    case .openBLAS:
        if m == 0 { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(lda), w.data, Int32(k), 0, c, Int32(ldc))
        for r in 0..<m {
            let cr = c + r * ldc
            for j in 0..<n { cr[j] = Swift.min(Swift.max(cr[j] + w.bias[j], lo), hi) }
        }
    }
}

/// Multithreaded GEMM over all `m` rows, split into fixed `gemmRowsPerUnit`-row blocks
/// (and, when there are few rows, into column panels) so results do not depend on the
/// thread count.
public func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                 activation: FusedActivation, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool) {
    let rowUnits = (m + gemmRowsPerUnit - 1) / gemmRowsPerUnit
    if w.backend == .native && rowUnits < 4 && w.panelCount > 1 {
        // Few rows (deep layers, 2×2 or 4×4 maps): split over 16-column panels instead.
        let panelUnits = w.panelCount
        pool.parallelFor(rowUnits * panelUnits) { unit, _ in
            let ru = unit / panelUnits, p = unit % panelUnits
            let r0 = ru * gemmRowsPerUnit, r1 = Swift.min(m, r0 + gemmRowsPerUnit)
            gemmPanel(rowStart: r0, rowEnd: r1, panel: p, a: a, lda: lda, weights: w,
                      activation: activation, c: c, ldc: ldc)
        }
        return
    }
    pool.parallelFor(rowUnits) { unit, _ in
        let r0 = unit * gemmRowsPerUnit, r1 = Swift.min(m, r0 + gemmRowsPerUnit)
        gemmRows(m: r1 - r0, a: a + r0 * lda, lda: lda, weights: w, activation: activation,
                 c: c + r0 * ldc, ldc: ldc)
    }
}

/// Native GEMM restricted to rows `rowStart..<rowEnd` and one 16-column panel.
func gemmPanel(rowStart: Int, rowEnd: Int, panel p: Int, a: UnsafePointer<Float>, lda: Int,
               weights w: PackedGemmWeights, activation: FusedActivation,
               c: UnsafeMutablePointer<Float>, ldc: Int) {
    let pw = PackedGemmWeights.panelWidth
    var row = rowStart
    while row < rowEnd {
        let rows = Swift.min(gemmTileRows, rowEnd - row)
        gemmMicroKernel6x16(k: w.k, a: a + row * lda, lda: lda, rows: rows,
                            panel: w.data + p * w.k * pw, bias: w.bias + p * pw,
                            lo: activation.lowerBound, hi: activation.upperBound,
                            c: c + row * ldc + p * pw, ldc: ldc, cols: Swift.min(pw, w.n - p * pw))
        row += gemmTileRows
    }
}

/// OpenBLAS configuration helpers.
public enum OpenBLAS {
    /// The core OpenBLAS detected (e.g. "Zen", "Haswell"; "Prescott" means a slow misdetection).
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }
    /// Makes OpenBLAS single-threaded: we thread over row blocks ourselves, deterministically.
    public static func useSingleThread() { openblas_set_num_threads(1) }
}
