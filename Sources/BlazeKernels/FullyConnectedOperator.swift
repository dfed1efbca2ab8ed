/// FULLY_CONNECTED on float32 (TFLite `reference_ops::FullyConnected`):
/// `out[b][o] = act(sum_i in[b][i] · W[o][i] + bias[o])`.
///
/// Layouts: input any shape whose element count is `rows · I` (TFLite flattens all but the
/// last `I`; `keep_num_dims` only changes the output's shape, which the caller sets), weights
/// `[O, I]` row-major (TFLite's layout), bias `[O]` or none, output `[rows, O]` row-major.
///
/// The weights are packed once as native GEMM panels (`PackedGemmWeights`, whatever the
/// preferred backend: the batch-1 path needs the panels). Fewer than `gemmTileRows` rows run
/// `gemvRows` (each row against up to 4 panels at once, no 6-row tile wasted on 1 row);
/// more rows run `gemm`. Both compute every element with the same k-ordered multiply-adds and
/// epilogue, so the choice never changes a result.
public final class FullyConnectedOperator: @unchecked Sendable {
    /// Number of input rows (batch): input element count / `inputDepth`.
    public let rows: Int
    /// I: the accumulation depth, `weightsShape[1]`.
    public let inputDepth: Int
    /// O: output features, `weightsShape[0]`.
    public let outputDepth: Int
    /// `[rows, O]`.
    public var outputShape: [Int] { [rows, outputDepth] }
    public let activation: FusedActivation
    let packed: PackedGemmWeights

    /// Validates and packs `weights` (`[O, I]`, `weightsShape`) and `bias` (`[O]` or empty).
    /// Throws when the input's element count is not a multiple of I or a buffer has the wrong size.
    /// `lanes`: the micro-kernels' vector width (default: this build's; results are identical).
    public init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                activation: FusedActivation, lanes: GemmLanes = .build) throws {
        let op = "FULLY_CONNECTED"
        guard !inputShape.isEmpty, inputShape.count <= 6, validDimensions(inputShape) else {
            throw KernelError.invalidShape(op: op, what: "input", shape: inputShape)
        }
        guard weightsShape.count == 2, validDimensions(weightsShape) else {
            throw KernelError.invalidShape(op: op, what: "weights [O, I]", shape: weightsShape)
        }
        let (o, i) = (weightsShape[0], weightsShape[1])
        let total = inputShape.reduce(1, *)
        guard total % i == 0 else {
            throw KernelError.shapeMismatch(op: op, detail: "input \(inputShape) holds \(total) values, not a multiple of the weights' depth \(i)")
        }
        guard weights.count == o * i else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: o * i, got: weights.count)
        }
        guard bias.isEmpty || bias.count == o else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values, output depth \(o)")
        }
        rows = total / i
        inputDepth = i
        outputDepth = o
        self.activation = activation
        packed = weights.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                PackedGemmWeights(weights: wp.baseAddress!, bias: bias.isEmpty ? nil : bp.baseAddress,
                                  n: o, k: i, backend: .native, lanes: lanes)
            }
        }
    }

    /// `input` `[rows][I]` → `output` `[rows][O]`, both row-major.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        if rows < gemmTileRows {
            gemvRows(m: rows, a: input, lda: inputDepth, weights: packed, activation: activation,
                     c: output, ldc: outputDepth, pool: pool)
        } else {
            gemm(m: rows, a: input, lda: inputDepth, weights: packed, activation: activation,
                 c: output, ldc: outputDepth, pool: pool)
        }
    }
}

/// Panels per `gemvRows` work unit (64 output columns for 16-wide panels, 128 for 32-wide).
let gemvPanelsPerUnit = 4

/// Matrix-vector products for a few rows: `C[m×N] = act(A[m×K] · W^T + bias)` on native
/// packed weights (`weights.backend == .native`), one row at a time, up to 4 panels per pass
/// over K (8 independent accumulators). Each element is `sum_k a[k]·w[k]` in k order with
/// `multiplyAdd`, then the GEMM epilogue (`+ bias`, clamp), exactly as the micro-kernels
/// compute it, so the result equals `gemm`'s bit for bit. N = 1 uses the GEMM's dot-product
/// kernel (`gemmDotRow`) as `gemm` does. Parallel over fixed groups of 4 panels; never validates.
public func gemvRows(m: Int, a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                     activation: FusedActivation, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool) {
    let lo = activation.lowerBound, hi = activation.upperBound
    let k = w.k, n = w.n, pw = w.panelWidth
    if pw == 1 {
        for r in 0..<m { c[r * ldc] = gemmDotRow(k: k, a: a + r * lda, w: w.data, bias: w.bias[0], lo: lo, hi: hi) }
        return
    }
    let groups = (w.panelCount + gemvPanelsPerUnit - 1) / gemvPanelsPerUnit
    pool.parallelFor(m * groups) { unit, _ in
        let r = unit / groups, p0 = (unit % groups) * gemvPanelsPerUnit
        let p1 = Swift.min(w.panelCount, p0 + gemvPanelsPerUnit)
        let e = GemmEpilogue(lo: lo, hi: hi, residual: nil)
        let aRow = a + r * lda, cRow = c + r * ldc
        if w.lanes == .sixteen {
            // 32-wide panels (the last 32 or 16; one 16-wide panel when N ≤ 16): up to 128 columns.
            let last = p1 == w.panelCount ? w.lastPanelWidth : pw, cols = Swift.min((p1 - p0) * pw, n - p0 * pw)
            if let half = w.halfData {
                gemvMicroKernel16(HalfPanel16.self, k: k, a: aRow, panel: half + p0 * k * pw, panelCount: p1 - p0,
                                  lastPanelWidth: last, bias: w.bias + p0 * pw, epilogue: e, c: cRow + p0 * pw, cols: cols)
            } else {
                gemvMicroKernel16(Float32Panel16.self, k: k, a: aRow, panel: w.data + p0 * k * pw, panelCount: p1 - p0,
                                  lastPanelWidth: last, bias: w.bias + p0 * pw, epilogue: e, c: cRow + p0 * pw, cols: cols)
            }
            return
        }
        if let half = w.halfData {
            gemvHalfRow(k: k, n: n, a: aRow, half: half, p0: p0, p1: p1, panelCount: w.panelCount,
                        lastPanelWidth: w.lastPanelWidth, bias: w.bias, epilogue: e, c: cRow)
            return
        }
        let allWide = pw == 16 && (p1 < w.panelCount || w.lastPanelWidth == 16)
        if allWide && p1 - p0 == 4 {
            gemvMicroKernel1x64(k: k, a: aRow, panel: w.data + p0 * k * 16, panelStride: k * 16,
                                bias: w.bias + p0 * 16, epilogue: e, c: cRow + p0 * 16, cols: Swift.min(64, n - p0 * 16))
            return
        }
        for p in p0..<p1 {
            let width = p == w.panelCount - 1 ? w.lastPanelWidth : pw
            gemvMicroKernel1xW(k: k, width: width, a: aRow, panel: w.data + p * k * pw, bias: w.bias + p * pw,
                               epilogue: e, c: cRow + p * pw, cols: Swift.min(pw, n - p * pw))
        }
    }
}

/// One row against 4 consecutive 16-wide panels (`panel + j·panelStride`, each `[K][16]`):
/// 64 columns, 8 accumulators; writes `cols` ≤ 64 values.
@inline(__always)
func gemvMicroKernel1x64(k: Int, a: UnsafePointer<Float>, panel: UnsafePointer<Float>, panelStride: Int,
                         bias: UnsafePointer<Float>, epilogue e: GemmEpilogue, c: UnsafeMutablePointer<Float>, cols: Int) {
    var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
    var c4 = SIMD8<Float>(), c5 = SIMD8<Float>(), c6 = SIMD8<Float>(), c7 = SIMD8<Float>()
    let p0 = panel, p1 = panel + panelStride, p2 = panel + 2 * panelStride, p3 = panel + 3 * panelStride
    var kk = 0
    while kk < k {
        let av = SIMD8<Float>(repeating: a[kk])
        let o = kk &* 16
        c0.multiplyAdd(av, loadVector(p0 + o)); c1.multiplyAdd(av, loadVector(p0 + o + 8))
        c2.multiplyAdd(av, loadVector(p1 + o)); c3.multiplyAdd(av, loadVector(p1 + o + 8))
        c4.multiplyAdd(av, loadVector(p2 + o)); c5.multiplyAdd(av, loadVector(p2 + o + 8))
        c6.multiplyAdd(av, loadVector(p3 + o)); c7.multiplyAdd(av, loadVector(p3 + o + 8))
        kk &+= 1
    }
    let acc = [c0, c1, c2, c3, c4, c5, c6, c7]
    for j in 0..<8 where j * 8 < cols {
        let r = e.apply(acc[j], bias: loadVector(bias + j * 8), row: 0, col0: 0, cols: 8)
        let count = Swift.min(8, cols - j * 8)
        if count == 8 { storeVector(r, c + j * 8) } else { for l in 0..<count { c[j * 8 + l] = r[l] } }
    }
}

/// One row against one panel `[K][width]` (width 16 or 8); writes `cols` ≤ width values.
@inline(__always)
func gemvMicroKernel1xW(k: Int, width: Int, a: UnsafePointer<Float>, panel: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>, epilogue e: GemmEpilogue, c: UnsafeMutablePointer<Float>, cols: Int) {
    var c0 = SIMD8<Float>(), c1 = SIMD8<Float>()
    var kk = 0
    if width == 16 {
        while kk < k {
            let av = SIMD8<Float>(repeating: a[kk])
            c0.multiplyAdd(av, loadVector(panel + kk &* 16)); c1.multiplyAdd(av, loadVector(panel + kk &* 16 + 8))
            kk &+= 1
        }
    } else {
        while kk < k {
            c0.multiplyAdd(SIMD8<Float>(repeating: a[kk]), loadVector(panel + kk &* 8))
            kk &+= 1
        }
    }
    // Columns 8j ..< 8j+8 from accumulator j (no array: nothing is allocated in a run).
    @inline(__always) func finish(_ v: SIMD8<Float>, _ j: Int) {
        let r = e.apply(v, bias: loadVector(bias + j * 8), row: 0, col0: 0, cols: 8)
        let count = Swift.min(8, cols - j * 8)
        if count == 8 { storeVector(r, c + j * 8) } else { for l in 0..<count { c[j * 8 + l] = r[l] } }
    }
    if cols > 0 { finish(c0, 0) }
    if cols > 8 { finish(c1, 1) }
}

extension Reference {
    /// TFLite `reference_ops::FullyConnected` (float): input `[rows][I]`, weights `[O][I]`,
    /// bias `[O]` or nil, output `[rows][O]`; `total` summed from 0 in i order, then `+ bias`.
    public static func fullyConnected(input: UnsafePointer<Float>, rows: Int, inputDepth: Int,
                                      weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputDepth: Int,
                                      activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        for b in 0..<rows {
            for o in 0..<outputDepth {
                var total: Float = 0
                for d in 0..<inputDepth { total += input[b * inputDepth + d] * weights[o * inputDepth + d] }
                output[b * outputDepth + o] = activation.apply(total + (bias?[o] ?? 0))
            }
        }
    }
}
