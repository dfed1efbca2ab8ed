#if canImport(Glibc)
import Glibc
#endif
import CBlazeTarget
import COpenBLAS

/// Which matrix-multiply implementation a conv operator uses.
public enum GemmBackend: Sendable, Equatable, CaseIterable {
    /// The hand-written SIMD micro-kernels (6×16, 5×16, 6×8, 4×24) on prepacked weight panels.
    case native
    /// OpenBLAS `cblas_sgemm` (single-threaded inside; we thread over row blocks ourselves).
    case openBLAS

    /// The faster backend for this build, measured on the BlazePose conv shapes
    /// (`Tests/KernelTests/GemmBenchTests.swift`): the native kernel when its micro-kernel uses
    /// FMA (``gemmUsesFMA``: a CPU target with FMA, e.g. `-Xswiftc -target-cpu -Xswiftc native`),
    /// OpenBLAS otherwise (without FMA the native kernel is about half as fast).
    public static var preferred: GemmBackend {
        gemmUsesFMA ? .native : .openBLAS
    }
}

/// Vector width of the native GEMM micro-kernels, and with it the tile and the packed panel width.
///
/// Both widths are compiled on every target and give bit-identical results (every output is the
/// same k-ordered chain of multiply-adds followed by the same epilogue, whatever the tile); what
/// differs is speed. ``build`` is this build's choice, fixed at compile time from the CPU target.
public enum GemmLanes: Int, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// 8-lane vectors (`SIMD8<Float>`: one AVX2 ymm or two NEON registers): 16-wide panels, 6×16
    /// tiles (12 accumulators, 2 weight vectors and a broadcast in 16 registers), 5×16, 6×8, 4×24.
    case eight = 8
    /// 16-lane vectors (`SIMD16<Float>`: one AVX-512 zmm): 32-wide panels, 8×32 tiles (16
    /// accumulators, 2 weight vectors and a broadcast: 19 of AVX-512's 32 registers), 7-row
    /// tiles to end a block, 16-wide last panels. On a target without AVX-512 each SIMD16
    /// operation is two 8-lane ones (correct, for tests; not faster).
    case sixteen = 16

    /// This build's width: `.sixteen` when the CPU target has AVX-512 (`BLAZE_TARGET_SIMD_BITS`
    /// ≥ 512 in `CBlazeTarget/target.h`, which follows `-target-cpu`), else `.eight`. A constant.
    public static var build: GemmLanes { targetHas512BitVectors ? .sixteen : .eight }

    /// The width a native GEMM of `rows` (output pixels) × `n` columns runs at when this is the
    /// widest the build allows: `.eight` stays `.eight`; `.sixteen` gives way to `.eight` where its
    /// kernels do more work for the same bits: fewer than `gemmTileRows` rows (the 8-lane few-row
    /// kernels), and where its 32- and 16-wide panels pad N to more columns than the 8-lane ones
    /// (N = 24: 32 against 24; N = 39: 48 against 40). Measured on Zen 4 (AVX-512), 1 thread,
    /// per layer: N = 24 on 64×64 and 128×128 maps 0.157 → 0.115 and 0.364 → 0.274 ms, N = 39
    /// 1.04 → 0.94 ms, 1×1 maps with N = 117 / 195 0.020 → 0.012 ms; N a multiple of 32 is
    /// 12–18% faster at 16 lanes and keeps them.
    public func preferred(rows: Int, columns n: Int) -> GemmLanes {
        guard self == .sixteen, rows >= gemmTileRows, n > 8 else { return .eight }
        return Self.paddedColumns(.sixteen, n) > Self.paddedColumns(.eight, n) ? .eight : .sixteen
    }

    /// Columns the native kernels compute for N > 8 columns at `lanes`: the panels of
    /// `PackedGemmWeights.nativePanels`, the last one at its own width (at 8 lanes N = 24 is a 16-
    /// and an 8-wide panel, which the 4×24 tile covers as they are).
    static func paddedColumns(_ lanes: GemmLanes, _ n: Int) -> Int {
        let (width, last) = PackedGemmWeights.nativePanels(columns: n, lanes: lanes)
        return ((n + width - 1) / width - 1) * width + last
    }

    /// E.g. "16-lane (8x32 tiles)".
    public var description: String { self == .sixteen ? "16-lane (8x32 tiles)" : "8-lane (6x16 tiles)" }
}

/// `BLAZE_TARGET_SIMD_BITS >= 512`, a constant the optimizer folds (a function, so that the branch
/// it removes is not reported as unreachable code).
@inline(__always) @usableFromInline var targetHas512BitVectors: Bool { BLAZE_TARGET_SIMD_BITS >= 512 }

/// What a GEMM's packed weight panels hold: float32, or binary16 that the micro-kernel widens as it
/// loads them (F16C `VCVTPH2PS`). Widening is exact, so both give the same bits; binary16 panels
/// take half the memory to fault in at load and to stream at run time.
public enum PanelPrecision: Sendable, Equatable {
    /// float32 panels.
    case float32
    /// binary16 panels when every weight is exactly a binary16 value (weights that came from a
    /// model's float16 data always are; NaNs never), else float32. Only for the native kernels'
    /// 16- and 32-wide panels (N > 8; at 8 lanes the last panel may be 8 wide); other matrices
    /// stay float32.
    case float16WhenExact

    /// Whether this build picks binary16 panels on its own: it widens binary16 in one instruction
    /// (F16C with AVX2) and its target is not Zen 1 / Zen+, where that widening costs more than it
    /// saves (`BLAZE_TARGET_HALF_PANELS` in `CBlazeTarget/target.h`, from `-target-cpu`). Otherwise
    /// half panels are used only on request (`--half-panels`, tests).
    public static var buildWidensHalves: Bool { BLAZE_TARGET_HALF_PANELS != 0 }
}

/// Weights of `C[M×N] = A[M×K] · B[K×N] + bias`, prepacked once at load time.
///
/// Source layout: `W[N][K]` row-major, i.e. `B` transposed — exactly a conv's OHWI weights
/// seen as `[O, KH·KW·I]`. Native layout: panels of `pw` (32, 16 or 8) output columns; panel `p`
/// holds for every `k` the `pw` values `W[pw·p ..< pw·p+pw][k]` contiguously (zero past `N`),
/// so the micro-kernel streams one panel with unit stride.
public final class PackedGemmWeights: @unchecked Sendable {
    /// Columns per native panel. 8-lane kernels: 16 (two SIMD8 registers), or 8 when N ≤ 8 so
    /// narrow layers do not compute a half-empty panel. 16-lane kernels (`lanes == .sixteen`):
    /// 32 (two SIMD16 registers), or 16 when N ≤ 16. N = 1 uses a dot-product kernel instead
    /// (panel width 1: the weights as given).
    public let panelWidth: Int
    /// Width of the last panel: with 16-wide panels, 8 when it would hold at most 8 columns
    /// (N = 24, 39, 40 …), so it runs the 6×8 kernel instead of computing 16 columns; with
    /// 32-wide panels, 16 when it would hold at most 16 (N = 48, 80 …), run by the 8×16 kernel;
    /// `panelWidth` otherwise. Panel `p` always starts at `p·k·panelWidth` floats.
    public let lastPanelWidth: Int
    /// The micro-kernels' vector width for this matrix: the requested one, except that N ≤ 8
    /// (one 8-wide panel) and N = 1 always run the 8-lane kernels, and OpenBLAS reports `.eight`.
    public let lanes: GemmLanes
    /// Rows per micro-tile: 8 with 16-lane kernels (blocks may end in 7-row tiles); 4 for N = 24
    /// (one 4×24 kernel covers the 16- and the 8-wide panel); else 6 (`gemmTileRows`; blocks may
    /// end in 5-row tiles).
    var tileRows: Int { lanes == .sixteen ? gemmTileRows16 : usesTile4x24 ? 4 : gemmTileRows }
    /// N = 24 packed as a 16-wide and an 8-wide panel, run by `gemmMicroKernel4x24`.
    var usesTile4x24: Bool { n == 24 && panelWidth == 16 && backend == .native && lanes == .eight && halfData == nil }
    public let k: Int
    public let n: Int
    public let backend: GemmBackend
    let panelCount: Int
    /// native: `[panelCount][k][panelWidth]` (the last panel `[k][lastPanelWidth]`); openBLAS: `W[N][K]` copied as is. In `store`'s memory when
    /// there is one, else an allocation of its own.
    let data: UnsafeMutablePointer<Float>
    /// binary16 panels (``PanelPrecision/float16WhenExact`` taken): `[panelCount][k][panelWidth]`
    /// weight bits (16 wide at 8 lanes, 32 at 16; the last panel `[k][lastPanelWidth]`), in
    /// `store`'s memory when there is one; `data`
    /// is then a placeholder no kernel reads.
    /// Nil for float32 panels.
    let halfData: UnsafeMutablePointer<UInt16>?
    /// The precision the panels were packed in.
    public var precision: PanelPrecision { halfData == nil ? .float32 : .float16WhenExact }
    /// The memory `data` lives in (kept alive by it), or nil.
    let store: WeightStore?
    /// `[panelCount * panelWidth]` (at least 16), zero past N (zero everywhere when there is no bias).
    let bias: UnsafeMutablePointer<Float>
    /// A fused PRELU's per-column alpha, laid out like `bias` (`[panelCount * panelWidth]`, at least
    /// 16, zero past N), or nil: the epilogue then ends with `x < 0 ? x · alpha : x`.
    let preluAlpha: UnsafeMutablePointer<Float>?

    /// Packs `weights` (`[n][k]`, row-major), `bias` (`[n]` or nil) and a fused PRELU's `preluAlpha`
    /// (`[n]` or nil). Does not validate: callers (the operator wrappers) check that the buffers
    /// hold `n*k` and `n` floats.
    /// `lanes` picks the native micro-kernels' vector width (default: this build's, ``GemmLanes/build``).
    public convenience init(weights: UnsafePointer<Float>, bias biasIn: UnsafePointer<Float>?, n: Int, k: Int,
                            backend: GemmBackend, preluAlpha alphaIn: UnsafePointer<Float>? = nil,
                            lanes: GemmLanes = .build) {
        self.init(rows: WeightRows(n: n, k: k, values: weights), bias: biasIn, backend: backend, preluAlpha: alphaIn,
                  lanes: lanes)
    }

    /// Packs the `[n][k]` matrix `rows` (read once, panel by panel: in place for values in memory,
    /// else through the reader into `store`'s staging rows), `bias` (`[n]` or nil) and a fused
    /// PRELU's `preluAlpha` (`[n]` or nil). With a `store`, the packed panels live in its memory and
    /// its pool packs them in parallel (each panel is written by one thread, so the bits do not
    /// depend on the thread count); without, in an allocation of their own. `lanes` picks the
    /// native micro-kernels' vector width and with it the panel width (default: this build's,
    /// ``GemmLanes/build``; results are bit-identical either way). Does not validate.
    /// `precision` `.float16WhenExact` packs binary16 panels when the matrix allows (see
    /// ``PanelPrecision``), else float32 ones.
    public init(rows: WeightRows, bias biasIn: UnsafePointer<Float>?, backend: GemmBackend,
                preluAlpha alphaIn: UnsafePointer<Float>? = nil, store: WeightStore? = nil,
                lanes requestedLanes: GemmLanes = .build, precision: PanelPrecision = .float32) {
        let n = rows.n, k = rows.k
        self.k = k; self.n = n; self.backend = backend
        self.store = store
        let lanes: GemmLanes = backend == .native && requestedLanes == .sixteen && n > 8 ? .sixteen : .eight
        self.lanes = lanes
        let (pw, last) = backend == .openBLAS ? (16, 16) : Self.nativePanels(columns: n, lanes: lanes)
        panelWidth = pw
        panelCount = (n + pw - 1) / pw
        lastPanelWidth = last
        let biasCount = Swift.max(16, panelCount * pw)
        bias = .allocate(capacity: biasCount)
        bias.initialize(repeating: 0, count: biasCount)
        if let biasIn { bias.update(from: biasIn, count: n) }
        if let alphaIn {
            let alpha = UnsafeMutablePointer<Float>.allocate(capacity: biasCount)
            alpha.initialize(repeating: 0, count: biasCount)
            alpha.update(from: alphaIn, count: n)
            preluAlpha = alpha
        } else {
            preluAlpha = nil
        }
        switch backend {
        case .native:
            // Panel p at p·k·pw; the last one holds only k·lastPanelWidth floats.
            let count = panelCount == 0 ? 0 : (panelCount - 1) * k * pw + k * lastPanelWidth
            if precision == .float16WhenExact && pw >= 16 && count > 0, store?.replaySkips(.halfPanels) != true,
               let half = Self.packHalfPanels(rows, count: count, panelCount: panelCount, panelWidth: pw,
                                              lastPanelWidth: lastPanelWidth, store: store) {
                halfData = half
                data = .allocate(capacity: 1)
                return
            }
            halfData = nil
            // A piece replayed from a packed-weight cache holds these panels already.
            let (memory, cached) = store?.allocate(.floatPanels, floats: count) ?? (.allocate(capacity: Swift.max(1, count)), false)
            data = memory
            if !cached {
                Self.packPanels(rows, into: data, panelCount: panelCount, panelWidth: pw, lastPanelWidth: lastPanelWidth,
                                store: store)
            }
        case .openBLAS:
            halfData = nil
            OpenBLAS.useSingleThread()
            let (memory, cached) = store?.allocate(.blasMatrix, floats: n * k) ?? (.allocate(capacity: Swift.max(1, n * k)), false)
            data = memory
            if n * k > 0 && !cached { rows.read(first: 0, count: n, into: data) }
        }
    }

    /// The native kernels' panel width and last panel width for N = `n` columns at `lanes` (the
    /// width run: `.sixteen` only for N > 8): 16 lanes, 32-wide panels (16 for N ≤ 16) and a
    /// 16-wide last panel when at most 16 columns are left; 8 lanes, 16-wide panels (8 for N ≤ 8,
    /// 1 for N = 1) and an 8-wide last panel when at most 8 columns are left.
    static func nativePanels(columns n: Int, lanes: GemmLanes) -> (width: Int, last: Int) {
        let width = lanes == .sixteen ? (n <= 16 ? 16 : 32) : (n == 1 ? 1 : (n <= 8 ? 8 : 16))
        let tail = n - ((n + width - 1) / width - 1) * width
        if width == 32 && tail <= 16 { return (width, 16) }
        return (width, width == 16 && lanes == .eight && tail <= 8 ? 8 : width)
    }

    /// Writes every panel: panel `p` (columns `p·pw ..< p·pw + width`) from those rows of `rows`,
    /// transposed to `[k][width]` at `data + p·k·pw`, zeros past N.
    private static func packPanels(_ rows: WeightRows, into data: UnsafeMutablePointer<Float>, panelCount: Int,
                                   panelWidth pw: Int, lastPanelWidth: Int, store: WeightStore?) {
        let k = rows.k
        forEachPanel(of: rows, panelCount: panelCount, panelWidth: pw, lastPanelWidth: lastPanelWidth, store: store) {
            panel, src, columns, width in
            transposePanel(src, k: k, columns: columns, width: width, into: data + panel * k * pw)
        }
    }

    /// The `pw`-wide panels (16 or 32) of `rows` as binary16 (`[panelCount][k][pw]`, the last one `[k][lastPanelWidth]`;
    /// `count` values in all) in `store`'s memory (or an allocation of their own), or nil when some
    /// weight is not exactly a binary16 value (the store's piece is then handed back). Rows given as
    /// binary16 (`rows.halves`, a model's FLOAT16 weights) are copied panel by panel into staging
    /// and transposed as they are (`blaze_transpose_half_panel`: only a NaN is refused); other rows
    /// are read as floats, then transposed and narrowed in one pass (`blaze_transpose_narrow_panel`).
    private static func packHalfPanels(_ rows: WeightRows, count: Int, panelCount: Int, panelWidth pw: Int,
                                       lastPanelWidth: Int, store: WeightStore?) -> UnsafeMutablePointer<UInt16>? {
        let k = rows.k
        let halves = (count + 1) / 2
        let (memory, cached) = store?.allocate(.halfPanels, floats: halves) ?? (.allocate(capacity: halves), false)
        let half = UnsafeMutableRawPointer(memory).bindMemory(to: UInt16.self, capacity: count)
        // Replayed from a packed-weight cache: the panels are there (and were exact when packed).
        if cached { return half }
        // Per panel: some weight is not a binary16 (each panel is written by one worker).
        let inexact = UnsafeMutablePointer<Bool>.allocate(capacity: panelCount)
        inexact.initialize(repeating: false, count: panelCount)
        defer { inexact.deallocate() }
        if let halves = rows.halves {
            let n = rows.n
            // A panel's rows are one contiguous run of the source: copied first into the worker's
            // staging (`[pw][k]` halves; read in order, where the transpose's 16 strided row streams
            // from memory ran at a third of the speed), then transposed from there.
            let threads = panelPool(panelCount: panelCount, k: k, panelWidth: pw, store: store)?.threadCount ?? 1
            let stagingFloats = (pw * k + 1) / 2
            let staging = store?.staging(floats: stagingFloats, threads: threads) ?? .allocate(capacity: stagingFloats)
            defer { if store == nil { staging.deallocate() } }
            forEachPanelIndex(panelCount: panelCount, k: k, panelWidth: pw, store: store) { panel, worker in
                let width = panel == panelCount - 1 ? lastPanelWidth : pw
                let first = panel * pw, columns = Swift.min(width, n - first)
                let rowsIn = UnsafeMutableRawPointer(staging + worker * stagingFloats)
                rowsIn.copyMemory(from: halves + 2 * first * k, byteCount: 2 * columns * k)
                inexact[panel] = blaze_transpose_half_panel(rowsIn, k, columns, width, half + panel * k * pw) == 0
            }
        } else {
            forEachPanel(of: rows, panelCount: panelCount, panelWidth: pw, lastPanelWidth: lastPanelWidth, store: store) {
                panel, src, columns, width in
                inexact[panel] = blaze_transpose_narrow_panel(src, k, columns, width, half + panel * k * pw) == 0
            }
        }
        guard (0..<panelCount).allSatisfy({ !inexact[$0] }) else {
            if let store { store.handBack(memory, floats: halves) } else { memory.deallocate() }
            return nil
        }
        return half
    }

    /// Calls `body(panel, src, columns, width)` once per panel: `src` holds the panel's `columns`
    /// rows of `rows` (`[columns][k]`; in place for values in memory, else read into `store`'s
    /// staging rows), `width` is the panel's width (`lastPanelWidth` for the last). Panels are
    /// spread over `store`'s pool when there is enough to share; each is handled by one worker.
    private static func forEachPanel(of rows: WeightRows, panelCount: Int, panelWidth pw: Int, lastPanelWidth: Int,
                                     store: WeightStore?,
                                     _ body: (_ panel: Int, _ src: UnsafePointer<Float>, _ columns: Int, _ width: Int) -> Void) {
        let n = rows.n, k = rows.k
        guard panelCount > 0, k > 0 else { return }
        let threads = panelPool(panelCount: panelCount, k: k, panelWidth: pw, store: store)?.threadCount ?? 1
        var staging: UnsafeMutablePointer<Float>?
        if case .reader = rows.source {
            staging = store?.staging(floats: pw * k, threads: threads)
                ?? .allocate(capacity: pw * k)
        }
        defer { if store == nil { staging?.deallocate() } }
        let stagingRows = staging
        func pack(_ panel: Int, _ worker: Int) {
            let width = panel == panelCount - 1 ? lastPanelWidth : pw
            let first = panel * pw, columns = Swift.min(width, n - first)
            let src: UnsafePointer<Float>
            switch rows.source {
            case let .values(values): src = values + first * k
            case .reader:
                guard let stagingRows else { return }
                let rowsOut = stagingRows + worker * pw * k
                rows.read(first: first, count: columns, into: rowsOut)
                src = UnsafePointer(rowsOut)
            }
            body(panel, src, columns, width)
        }
        forEachPanelIndex(panelCount: panelCount, k: k, panelWidth: pw, store: store, pack)
    }

    /// `store`'s pool when the panels are worth sharing out (a panel of 16 × 256 floats is ~1 µs).
    private static func panelPool(panelCount: Int, k: Int, panelWidth pw: Int, store: WeightStore?) -> ThreadPool? {
        panelCount >= 4 && panelCount * k * pw >= 1 << 15 ? store?.pool : nil
    }

    /// Calls `body(panel, worker)` for every panel in `0..<panelCount`, over `store`'s pool when
    /// ``panelPool(panelCount:k:panelWidth:store:)`` gives it (`worker` in `0..<threadCount`), else here.
    private static func forEachPanelIndex(panelCount: Int, k: Int, panelWidth pw: Int, store: WeightStore?,
                                          _ body: (_ panel: Int, _ worker: Int) -> Void) {
        guard panelCount > 0, k > 0 else { return }
        if let pool = panelPool(panelCount: panelCount, k: k, panelWidth: pw, store: store) {
            pool.parallelFor(panelCount) { panel, worker in body(panel, worker) }
        } else {
            for panel in 0..<panelCount { body(panel, 0) }
        }
    }

    deinit {
        if store == nil {
            data.deallocate()
            if let halfData { UnsafeMutableRawPointer(halfData).deallocate() }
        }
        bias.deallocate()
        preluAlpha?.deallocate()
    }

    /// A fused PRELU after everything else in the epilogue: `x < 0 ? x · alpha[col] : x`
    /// (TFLite's PRELU, so bit-identical to running it after the conv). Scalar form for the
    /// OpenBLAS, single-column and direct single-output-channel paths.
    @inline(__always)
    func prelu(_ x: Float, column: Int) -> Float {
        guard let preluAlpha else { return x }
        return x < 0 ? x * preluAlpha[column] : x
    }
}

/// A residual (skip) tensor added in the GEMM epilogue — a fused `ADD` after a conv:
/// `C = act2(act(A·W^T + bias) + R)`, the same float operations in the same order as running
/// the conv and then the ADD, so the result is bit-identical and the conv output never
/// touches memory.
///
/// `data` is `[m][ld]` row-major like C (NHWC pixels × channels); the first
/// `min(N, channels)` floats of each row are read, and columns at or past `channels` add `+0`
/// (a skip tensor zero-padded in its channels by a PAD, e.g. BlazeFace's `PAD → ADD`: the
/// same `conv + 0` the ADD computes on the padded channels). May be the same buffer as C only
/// if every element is read before it is written (it is, per tile), but the interpreter never
/// plans that.
public struct GemmResidual {
    public var data: UnsafePointer<Float>
    public var ld: Int
    /// The ADD's own fused activation.
    public var activation: FusedActivation
    /// Columns of each row that hold skip values (counted from this residual's first column);
    /// the columns after them read as `+0`. `Int.max` (the default): every column.
    public var channels: Int
    public init(data: UnsafePointer<Float>, ld: Int, activation: FusedActivation, channels: Int = .max) {
        self.data = data; self.ld = ld; self.activation = activation; self.channels = channels
    }
    /// The same residual starting `rows` rows and `cols` columns further.
    @inline(__always)
    func offset(rows: Int, cols: Int) -> GemmResidual {
        GemmResidual(data: data + rows * ld + cols, ld: ld, activation: activation, channels: channels &- cols)
    }
    /// The skip value at (`row`, `col`): `+0` past `channels`.
    @inline(__always)
    func value(row: Int, col: Int) -> Float {
        col < channels ? data[row * ld + col] : 0
    }
}

/// What a micro-kernel applies to each 8-column accumulator before storing it. The micro-kernels
/// are generic over it, so each epilogue is its own specialization: the plain one
/// (`GemmEpilogue`) compiles exactly as before, the fused-PRELU one (`PreluGemmEpilogue`) only
/// where a conv has a fused PRELU.
protocol TileEpilogue {
    /// Clamp bounds, residual (offset to the tile's first row and column) and a fused PRELU's
    /// alpha (offset to the tile's first column, padded so 8 values can be read; nil for none).
    init(lo: Float, hi: Float, residual: GemmResidual?, preluAlpha: UnsafePointer<Float>?)
    /// The stored value of 8 accumulators `v` of tile row `row`, columns `col0 ..< col0+8`.
    func apply(_ v: SIMD8<Float>, bias: SIMD8<Float>, row: Int, col0: Int, cols: Int) -> SIMD8<Float>
    /// The same, lane for lane, on 16 accumulators (columns `col0 ..< col0+16`), for the 16-lane
    /// micro-kernels; `cols` counts the valid columns from `col0`.
    func apply16(_ v: SIMD16<Float>, bias: SIMD16<Float>, row: Int, col0: Int, cols: Int) -> SIMD16<Float>
}

/// `Base` (`GemmEpilogue` or `UnclampedGemmEpilogue`), then a fused PRELU:
/// `x < 0 ? x · alpha[col] : x` (TFLite's PRELU after the conv and any fused ADD, the same float
/// operations).
struct PreluGemmEpilogue<Base: TileEpilogue>: TileEpilogue {
    let base: Base
    /// Only built when the weights carry alpha (`gemmNativeBlock`); nil would skip the stage.
    let alpha: UnsafePointer<Float>?

    @inline(__always)
    init(lo: Float, hi: Float, residual: GemmResidual?, preluAlpha: UnsafePointer<Float>?) {
        base = Base(lo: lo, hi: hi, residual: residual, preluAlpha: nil)
        alpha = preluAlpha
    }

    @inline(__always)
    func apply(_ v: SIMD8<Float>, bias: SIMD8<Float>, row: Int, col0: Int, cols: Int) -> SIMD8<Float> {
        let r = base.apply(v, bias: bias, row: row, col0: col0, cols: cols)
        guard let alpha else { return r }
        return blaze_prelu8(r, loadVector(alpha + col0))
    }

    @inline(__always)
    func apply16(_ v: SIMD16<Float>, bias: SIMD16<Float>, row: Int, col0: Int, cols: Int) -> SIMD16<Float> {
        let r = base.apply16(v, bias: bias, row: row, col0: col0, cols: cols)
        guard let alpha else { return r }
        return blaze_prelu16(r, loadVector16(alpha + col0))
    }
}

/// `GemmEpilogue` for a conv whose activation, and any fused ADD's, is NONE: `v + bias (+ skip)`
/// without the two clamps to [-∞, +∞], which return every value unchanged (NaN and -0
/// included), so the bits are the same. Linear projections and PRELU convs are most convs of
/// these models, and on short K the clamps were a visible part of the tile.
struct UnclampedGemmEpilogue: TileEpilogue {
    let skip: UnsafePointer<Float>?
    let skipLd: Int
    /// `GemmResidual.channels` of the tile's residual: skip columns from the tile's first column.
    let skipColumns: Int

    /// `lo` and `hi` are -∞ and +∞ here (the caller checks); `preluAlpha` is not used.
    @inline(__always)
    init(lo: Float, hi: Float, residual: GemmResidual?, preluAlpha: UnsafePointer<Float>?) {
        skip = residual?.data
        skipLd = residual?.ld ?? 0
        skipColumns = residual?.channels ?? 0
    }

    /// `v + bias + skip[row][col0 ..< col0+8]` (as `GemmEpilogue.apply` with no-op clamps).
    @inline(__always)
    func apply(_ v: SIMD8<Float>, bias: SIMD8<Float>, row: Int, col0: Int, cols: Int) -> SIMD8<Float> {
        let r = v + bias
        guard let skip else { return r }
        let src = skip + row * skipLd + col0
        var s = SIMD8<Float>()
        let count = Swift.min(cols, skipColumns &- col0)
        if count >= 8 { s = loadVector(src) } else if count > 0 { s = loadPartialVector(src, count: count) }
        return r + s
    }

    /// `apply` on 16 lanes.
    @inline(__always)
    func apply16(_ v: SIMD16<Float>, bias: SIMD16<Float>, row: Int, col0: Int, cols: Int) -> SIMD16<Float> {
        let r = v + bias
        guard let skip else { return r }
        let src = skip + row * skipLd + col0
        var s = SIMD16<Float>()
        let count = Swift.min(cols, skipColumns &- col0)
        if count >= 16 { s = loadVector16(src) } else if count > 0 { s = loadPartialVector16(src, count: count) }
        return r + s
    }
}

/// Epilogue parameters of one tile: clamp bounds and the optional residual (already offset
/// to the tile's first row and column).
@usableFromInline
struct GemmEpilogue: TileEpilogue {
    let lo: SIMD8<Float>, hi: SIMD8<Float>
    let skip: UnsafePointer<Float>?
    let skipLd: Int
    /// `GemmResidual.channels` of the tile's residual: skip columns from the tile's first column.
    let skipColumns: Int
    let lo2: SIMD8<Float>, hi2: SIMD8<Float>

    @inline(__always)
    init(lo: Float, hi: Float, residual: GemmResidual?) {
        self.lo = SIMD8(repeating: lo); self.hi = SIMD8(repeating: hi)
        skip = residual?.data
        skipLd = residual?.ld ?? 0
        skipColumns = residual?.channels ?? 0
        lo2 = SIMD8(repeating: residual?.activation.lowerBound ?? -.infinity)
        hi2 = SIMD8(repeating: residual?.activation.upperBound ?? .infinity)
    }

    /// `TileEpilogue`'s initializer; this epilogue has no PRELU stage (`preluAlpha` is nil here).
    @inline(__always)
    init(lo: Float, hi: Float, residual: GemmResidual?, preluAlpha: UnsafePointer<Float>?) {
        self.init(lo: lo, hi: hi, residual: residual)
    }

    /// `act2(act(v + bias) + skip[row][col0 ..< col0+8])`; reads only `cols` skip values, and
    /// none at or past `skipColumns` (those add `+0`).
    @inline(__always)
    func apply(_ v: SIMD8<Float>, bias: SIMD8<Float>, row: Int, col0: Int, cols: Int) -> SIMD8<Float> {
        // Bias after the sum, then max-then-min: TFLite's order (ActivationFunctionWithMinMax).
        // (`blaze_max8(lo, r)` is `r < lo ? lo : r`, `blaze_min8(hi, r)` is `r > hi ? hi : r`.)
        var r = v + bias
        r = blaze_max8(lo, r)
        r = blaze_min8(hi, r)
        guard let skip else { return r }
        let src = skip + row * skipLd + col0
        var s = SIMD8<Float>()
        let count = Swift.min(cols, skipColumns &- col0)
        if count >= 8 { s = loadVector(src) } else if count > 0 { s = loadPartialVector(src, count: count) }
        r = r + s
        r = blaze_max8(lo2, r)
        return blaze_min8(hi2, r)
    }

    /// `apply` on 16 lanes (the same operations in the same order, lane for lane).
    @inline(__always)
    func apply16(_ v: SIMD16<Float>, bias: SIMD16<Float>, row: Int, col0: Int, cols: Int) -> SIMD16<Float> {
        var r = v + bias
        r = blaze_max16(SIMD16(lowHalf: lo, highHalf: lo), r)
        r = blaze_min16(SIMD16(lowHalf: hi, highHalf: hi), r)
        guard let skip else { return r }
        let src = skip + row * skipLd + col0
        var s = SIMD16<Float>()
        let count = Swift.min(cols, skipColumns &- col0)
        if count >= 16 { s = loadVector16(src) } else if count > 0 { s = loadPartialVector16(src, count: count) }
        r = r + s
        r = blaze_max16(SIMD16(lowHalf: lo2, highHalf: lo2), r)
        return blaze_min16(SIMD16(lowHalf: hi2, highHalf: hi2), r)
    }
}

/// True for activation NONE and a fused ADD's NONE too (bounds ±∞): the clamps are no-ops, so the
/// micro-kernels run the epilogue without them (`UnclampedGemmEpilogue`, same bits).
@inline(__always)
func epilogueIsUnclamped(lo: Float, hi: Float, residual: GemmResidual?) -> Bool {
    lo == -.infinity && hi == .infinity
        && (residual.map { $0.activation.lowerBound == -.infinity && $0.activation.upperBound == .infinity } ?? true)
}

/// Rows of A per micro-tile of the native kernel.
@usableFromInline let gemmTileRows = 6
/// Rows of A per micro-tile of the 16-lane kernels (`GemmLanes.sixteen`).
let gemmTileRows16 = 8
/// Rows per parallel work unit. Fixed (never derived from the thread count), so the same
/// kernel calls happen whatever the number of threads.
public let gemmRowsPerUnit = 48

/// True when the native micro-kernel uses fused multiply-add: the CPU target of this build has
/// FMA (`BLAZE_TARGET_FMA` of `CBlazeTarget/target.h`, which follows `-target-cpu`; e.g.
/// `-Xswiftc -target-cpu -Xswiftc native` on any FMA machine), or `-DBLAZE_FMA` forces it.
/// A compile-time constant; results with and without FMA differ in the last bits.
public var gemmUsesFMA: Bool {
    #if BLAZE_FMA
    return true
    #else
    return targetHasFMA
    #endif
}

/// `BLAZE_TARGET_FMA != 0`, a constant the optimizer folds (a function, so that the branch it
/// removes is not reported as unreachable code).
@inline(__always) @usableFromInline var targetHasFMA: Bool { BLAZE_TARGET_FMA != 0 }

extension SIMD8 where Scalar == Float {
    /// `self += a * b`: one fused multiply-add when the CPU target has FMA (``gemmUsesFMA``), else
    /// a separate multiply and add (Swift never contracts them itself). FMA on a target without it
    /// would become a libm call per lane, hence the target check (`-DBLAZE_FMA` still forces FMA).
    @inline(__always)
    mutating func multiplyAdd(_ a: SIMD8<Float>, _ b: SIMD8<Float>) {
        #if BLAZE_FMA
        self = self.addingProduct(a, b)
        #else
        if targetHasFMA {   // a constant: the compiler keeps one branch
            self = self.addingProduct(a, b)
        } else {
            self = self + a * b
        }
        #endif
    }
}

extension SIMD16 where Scalar == Float {
    /// `self += a * b`, as `SIMD8.multiplyAdd` (FMA exactly when that one uses it).
    @inline(__always)
    mutating func multiplyAdd(_ a: SIMD16<Float>, _ b: SIMD16<Float>) {
        #if BLAZE_FMA
        self = self.addingProduct(a, b)
        #else
        if targetHasFMA {
            self = self.addingProduct(a, b)
        } else {
            self = self + a * b
        }
        #endif
    }
}

@inline(__always)
func loadVector16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func storeVector16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// The first `count` (1 ... 15) floats at `src` in the low lanes, zeros above (`blaze_load_partial16`).
@inline(__always)
func loadPartialVector16(_ src: UnsafePointer<Float>, count: Int) -> SIMD16<Float> {
    blaze_load_partial16(src, count)
}

/// Stores the first `count` (0 ... 16) lanes of `v` at `c` (`blaze_store_partial16`).
@inline(__always)
func storePartialVector16(_ v: SIMD16<Float>, _ c: UnsafeMutablePointer<Float>, count: Int) {
    blaze_store_partial16(c, v, count)
}

@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func storeVector(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Stores row `row` of a 16-wide tile `(v0, v1)` after the epilogue, writing only `cols` values.
@inline(__always)
func storeTileRow<E: TileEpilogue>(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, bias0: SIMD8<Float>, bias1: SIMD8<Float>,
                  epilogue e: E, row: Int, to c: UnsafeMutablePointer<Float>, cols: Int) {
    let s0 = e.apply(v0, bias: bias0, row: row, col0: 0, cols: cols)
    let s1 = e.apply(v1, bias: bias1, row: row, col0: 8, cols: cols - 8)
    if cols == 16 {
        storeVector(s0, c); storeVector(s1, c + 8)
    } else {
        storePartialVector(s0, c, count: Swift.min(cols, 8))
        if cols > 8 { storePartialVector(s1, c + 8, count: cols - 8) }
    }
}

/// The first `count` (1 ... 7) floats at `src` in the low lanes, zeros above (`blaze_load_partial8`:
/// a masked load, one call in SIL and no call after inlining, so partial tiles do not make the
/// epilogue too big to inline nor force the tile's accumulators onto the stack around a call).
@inline(__always)
func loadPartialVector(_ src: UnsafePointer<Float>, count: Int) -> SIMD8<Float> {
    blaze_load_partial8(src, count)
}

/// Stores the first `count` (0 ... 8) lanes of `v` at `c` (`blaze_store_partial8`, a masked store).
@inline(__always)
func storePartialVector(_ v: SIMD8<Float>, _ c: UnsafeMutablePointer<Float>, count: Int) {
    blaze_store_partial8(c, v, count)
}

/// Tile height of a 16-wide micro-kernel specialization.
protocol MicroTileHeight { static var rows: Int { get } }
enum SixRowTile: MicroTileHeight { static var rows: Int { 6 } }
enum FiveRowTile: MicroTileHeight { static var rows: Int { 5 } }

/// The 16-wide micro-kernels, 6×16 (`gemmMicroKernel6x16`) and 5×16 (`gemmMicroKernel5x16`):
/// `C[rows×cols] = clamp(A[rows×K] · panel + bias)`.
///
/// - a: first row of A, rows `lda` floats apart (only `rows` ≤ 6 are read).
/// - panel: `[K][16]` packed weights; bias: `[16]`.
/// - c: output, rows `ldc` apart; only `rows × cols` values are written.
/// - segments, segmentStride: K is read as `segments` runs of `k` floats, run `s` of row `r` at
///   `a + s·segmentStride + r·lda` (a direct conv tile: one run per kernel row, straight from the
///   NHWC input; the panel holds `segments·k` rows). A plain GEMM is one segment.
/// Each output is `sum_k a[k]*b[k]` accumulated in k order with separate multiply and add
/// (no FMA contraction), so the arithmetic is identical in every tile position and build.
///
/// `Height` is the tile height, 6 or 5 (`SixRowTile`, `FiveRowTile`), fixed at compile time: the
/// 5-row version has no sixth accumulator pair. (Runtime tile-shape parameters slowed the
/// kernel measurably, so each height is its own specialization; the two named entry points
/// below are those specializations.)
@inline(__always)
func gemmMicroKernelX16<Height: MicroTileHeight, E: TileEpilogue>(_: Height.Type, k: Int, segments: Int = 1, segmentStride: Int = 0, a: UnsafePointer<Float>, lda: Int, rows: Int,
                         panel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         epilogue e: E, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    // Missing rows alias row 0: computed and then discarded, which keeps one code path.
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
    var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
    var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var b = panel
    var segment = 0
    while segment < segments {
        // One segment per kernel row of a direct conv tile (1 for a plain GEMM); b runs on.
        let base = a + segment * segmentStride
        let a0 = base
        let a1 = rows > 1 ? base + lda : base
        let a2 = rows > 2 ? base + 2 * lda : base
        let a3 = rows > 3 ? base + 3 * lda : base
        let a4 = rows > 4 ? base + 4 * lda : base
        let a5 = rows > 5 ? base + 5 * lda : base
        var kk = 0
        while kk < k {
            let b0 = loadVector(b), b1 = loadVector(b + 8)
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

/// The store of a tile of up to 6 rows × 16 columns (`gemmMicroKernelX16`, the stem kernel's
/// `StemTile6x16`): the first `rows` rows of accumulators `cR0, cR1` (columns 0–7, 8–15), each
/// through `storeTileRow` with bias `[16]`, to `c` (rows `ldc` apart, the first `cols` columns).
@inline(__always)
func storeTile6x16<E: TileEpilogue>(_ c00: SIMD8<Float>, _ c01: SIMD8<Float>, _ c10: SIMD8<Float>, _ c11: SIMD8<Float>,
                                    _ c20: SIMD8<Float>, _ c21: SIMD8<Float>, _ c30: SIMD8<Float>, _ c31: SIMD8<Float>,
                                    _ c40: SIMD8<Float>, _ c41: SIMD8<Float>, _ c50: SIMD8<Float>, _ c51: SIMD8<Float>,
                                    bias: UnsafePointer<Float>, epilogue e: E, rows: Int,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    let bias0 = loadVector(bias), bias1 = loadVector(bias + 8)
    storeTileRow(c00, c01, bias0: bias0, bias1: bias1, epilogue: e, row: 0, to: c, cols: cols)
    if rows > 1 { storeTileRow(c10, c11, bias0: bias0, bias1: bias1, epilogue: e, row: 1, to: c + ldc, cols: cols) }
    if rows > 2 { storeTileRow(c20, c21, bias0: bias0, bias1: bias1, epilogue: e, row: 2, to: c + 2 * ldc, cols: cols) }
    if rows > 3 { storeTileRow(c30, c31, bias0: bias0, bias1: bias1, epilogue: e, row: 3, to: c + 3 * ldc, cols: cols) }
    if rows > 4 { storeTileRow(c40, c41, bias0: bias0, bias1: bias1, epilogue: e, row: 4, to: c + 4 * ldc, cols: cols) }
    if rows > 5 { storeTileRow(c50, c51, bias0: bias0, bias1: bias1, epilogue: e, row: 5, to: c + 5 * ldc, cols: cols) }
}

/// The 6×16 micro-kernel (`gemmMicroKernelX16` with 6 rows): `rows` ≤ 6 of A against one 16-wide panel.
@inline(__always)
func gemmMicroKernel6x16<E: TileEpilogue>(k: Int, segments: Int, segmentStride: Int, a: UnsafePointer<Float>, lda: Int, rows: Int,
                         panel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         epilogue e: E, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    gemmMicroKernelX16(SixRowTile.self, k: k, segments: segments, segmentStride: segmentStride, a: a, lda: lda,
                       rows: rows, panel: panel, bias: bias, epilogue: e, c: c, ldc: ldc, cols: cols)
}

/// The 5×16 micro-kernel (`gemmMicroKernelX16` with 5 rows), for the 5-row tiles that end a
/// row block whose length is not a multiple of 6.
@inline(__always)
func gemmMicroKernel5x16<E: TileEpilogue>(k: Int, segments: Int, segmentStride: Int, a: UnsafePointer<Float>, lda: Int, rows: Int,
                         panel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         epilogue e: E, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    gemmMicroKernelX16(FiveRowTile.self, k: k, segments: segments, segmentStride: segmentStride, a: a, lda: lda,
                       rows: rows, panel: panel, bias: bias, epilogue: e, c: c, ldc: ldc, cols: cols)
}

/// The 4×24 micro-kernel for N = 24 (the detector's stem and its 24-channel projections):
/// one tile covers both packed panels (`panel16` `[K][16]`, `panel8` `[K][8]`), so no
/// half-empty 6×8 pass re-reads A. 12 accumulators, 3 weight vectors and a broadcast fill the
/// 16 AVX registers. Otherwise as `gemmMicroKernel6x16` (same per-element arithmetic and order);
/// all 24 columns are written.
@inline(__always)
func gemmMicroKernel4x24<E: TileEpilogue>(k: Int, segments: Int, segmentStride: Int, a: UnsafePointer<Float>, lda: Int, rows: Int,
                         panel16: UnsafePointer<Float>, panel8: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                         epilogue e: E, c: UnsafeMutablePointer<Float>, ldc: Int) {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c22 = SIMD8<Float>()
    var c30 = SIMD8<Float>(), c31 = SIMD8<Float>(), c32 = SIMD8<Float>()
    var b = panel16, bn = panel8
    var segment = 0
    while segment < segments {
        let base = a + segment * segmentStride
        let a0 = base
        let a1 = rows > 1 ? base + lda : base
        let a2 = rows > 2 ? base + 2 * lda : base
        let a3 = rows > 3 ? base + 3 * lda : base
        var kk = 0
        while kk < k {
            let b0 = loadVector(b), b1 = loadVector(b + 8), b2 = loadVector(bn)
            var av = SIMD8<Float>(repeating: a0[kk])
            c00.multiplyAdd(av, b0); c01.multiplyAdd(av, b1); c02.multiplyAdd(av, b2)
            av = SIMD8<Float>(repeating: a1[kk])
            c10.multiplyAdd(av, b0); c11.multiplyAdd(av, b1); c12.multiplyAdd(av, b2)
            av = SIMD8<Float>(repeating: a2[kk])
            c20.multiplyAdd(av, b0); c21.multiplyAdd(av, b1); c22.multiplyAdd(av, b2)
            av = SIMD8<Float>(repeating: a3[kk])
            c30.multiplyAdd(av, b0); c31.multiplyAdd(av, b1); c32.multiplyAdd(av, b2)
            b += 16
            bn += 8
            kk &+= 1
        }
        segment &+= 1
    }
    storeTile4x24(c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32, bias: bias, epilogue: e,
                  rows: rows, c: c, ldc: ldc)
}

/// The store of a 4×24 tile (`gemmMicroKernel4x24`, the stem kernel's `StemTile4x24`): the first
/// `rows` (1...4) rows of accumulators `cR0, cR1, cR2` (columns 0–7, 8–15, 16–23), each through
/// `e.apply` with bias `[24]`, to `c` (rows `ldc` apart; all 24 columns written).
@inline(__always)
func storeTile4x24<E: TileEpilogue>(_ c00: SIMD8<Float>, _ c01: SIMD8<Float>, _ c02: SIMD8<Float>,
                                    _ c10: SIMD8<Float>, _ c11: SIMD8<Float>, _ c12: SIMD8<Float>,
                                    _ c20: SIMD8<Float>, _ c21: SIMD8<Float>, _ c22: SIMD8<Float>,
                                    _ c30: SIMD8<Float>, _ c31: SIMD8<Float>, _ c32: SIMD8<Float>,
                                    bias: UnsafePointer<Float>, epilogue e: E, rows: Int,
                                    c: UnsafeMutablePointer<Float>, ldc: Int) {
    let bias0 = loadVector(bias), bias1 = loadVector(bias + 8), bias2 = loadVector(bias + 16)
    @inline(__always)
    func store(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, row: Int) {
        let out = c + row * ldc
        storeVector(e.apply(v0, bias: bias0, row: row, col0: 0, cols: 8), out)
        storeVector(e.apply(v1, bias: bias1, row: row, col0: 8, cols: 8), out + 8)
        storeVector(e.apply(v2, bias: bias2, row: row, col0: 16, cols: 8), out + 16)
    }
    store(c00, c01, c02, row: 0)
    if rows > 1 { store(c10, c11, c12, row: 1) }
    if rows > 2 { store(c20, c21, c22, row: 2) }
    if rows > 3 { store(c30, c31, c32, row: 3) }
}

/// The 6×8 micro-kernel for narrow layers (N ≤ 8): panel `[K][8]`, bias `[8]`; otherwise as
/// `gemmMicroKernel6x16`.
@inline(__always)
func gemmMicroKernel6x8<E: TileEpilogue>(k: Int, segments: Int = 1, segmentStride: Int = 0, a: UnsafePointer<Float>, lda: Int, rows: Int,
                        panel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                        epilogue e: E, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>()
    var c3 = SIMD8<Float>(), c4 = SIMD8<Float>(), c5 = SIMD8<Float>()
    var b = panel
    var segment = 0
    while segment < segments {
        // One segment per kernel row of a direct conv tile (1 for a plain GEMM); b runs on.
        let base = a + segment * segmentStride
        let a0 = base
        let a1 = rows > 1 ? base + lda : base
        let a2 = rows > 2 ? base + 2 * lda : base
        let a3 = rows > 3 ? base + 3 * lda : base
        let a4 = rows > 4 ? base + 4 * lda : base
        let a5 = rows > 5 ? base + 5 * lda : base
        var kk = 0
        while kk < k {
            let b0 = loadVector(b)
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

/// The store of a tile of up to 6 rows × 8 columns (`gemmMicroKernel6x8`, the stem kernel's
/// `StemTile6x8`): the first `rows` accumulators through `storeTileRow8` with bias `[8]`.
@inline(__always)
func storeTile6x8<E: TileEpilogue>(_ c0: SIMD8<Float>, _ c1: SIMD8<Float>, _ c2: SIMD8<Float>, _ c3: SIMD8<Float>,
                                   _ c4: SIMD8<Float>, _ c5: SIMD8<Float>, bias: UnsafePointer<Float>, epilogue e: E,
                                   rows: Int, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int) {
    let bias0 = loadVector(bias)
    storeTileRow8(c0, bias: bias0, epilogue: e, row: 0, to: c, cols: cols)
    if rows > 1 { storeTileRow8(c1, bias: bias0, epilogue: e, row: 1, to: c + ldc, cols: cols) }
    if rows > 2 { storeTileRow8(c2, bias: bias0, epilogue: e, row: 2, to: c + 2 * ldc, cols: cols) }
    if rows > 3 { storeTileRow8(c3, bias: bias0, epilogue: e, row: 3, to: c + 3 * ldc, cols: cols) }
    if rows > 4 { storeTileRow8(c4, bias: bias0, epilogue: e, row: 4, to: c + 4 * ldc, cols: cols) }
    if rows > 5 { storeTileRow8(c5, bias: bias0, epilogue: e, row: 5, to: c + 5 * ldc, cols: cols) }
}

/// 8-wide version of `storeTileRow`.
@inline(__always)
func storeTileRow8<E: TileEpilogue>(_ v: SIMD8<Float>, bias: SIMD8<Float>, epilogue e: E, row: Int,
                   to c: UnsafeMutablePointer<Float>, cols: Int) {
    let r = e.apply(v, bias: bias, row: row, col0: 0, cols: cols)
    if cols == 8 { storeVector(r, c) } else { storePartialVector(r, c, count: cols) }
}

/// N = 1: each output is a dot product of an A row with the K weights, 8 lanes at a time
/// (fixed lane assignment and reduction order), then the scalar tail, bias and clamp.
@inline(__always)
func gemmDotRow(k: Int, a: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: Float, lo: Float, hi: Float) -> Float {
    var acc = SIMD8<Float>()
    var kk = 0
    while kk + 8 <= k {
        acc.multiplyAdd(loadVector(a + kk), loadVector(w + kk))
        kk &+= 8
    }
    var total = horizontalSum(acc)
    while kk < k { total = total + a[kk] * w[kk]; kk &+= 1 }
    return Swift.min(Swift.max(total + bias, lo), hi)
}

/// Native GEMM on rows `rowStart..<rowEnd` and panels `panelStart..<panelEnd`.
func gemmNativeBlock(rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int, a: UnsafePointer<Float>, lda: Int,
                     weights w: PackedGemmWeights, lo: Float, hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                     residual: GemmResidual? = nil, segments: Int = 1, segmentStride: Int = 0) {
    let k = w.k, pw = w.panelWidth
    if pw == 1 {
        for r in rowStart..<rowEnd {
            var v = gemmDotRow(k: k, a: a + r * lda, w: w.data, bias: w.bias[0], lo: lo, hi: hi)
            if let residual {
                v = residual.activation.apply(v + residual.value(row: r, col: 0))
            }
            c[r * ldc] = w.prelu(v, column: 0)
        }
        return
    }
    let unclamped = epilogueIsUnclamped(lo: lo, hi: hi, residual: residual)
    if w.preluAlpha != nil {
        if unclamped {
            gemmNativeTilesPreluUnclamped(rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd,
                                          a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual,
                                          segments: segments, segmentStride: segmentStride)
        } else {
            gemmNativeTilesPrelu(rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd, a: a, lda: lda,
                                 weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual, segments: segments,
                                 segmentStride: segmentStride)
        }
        return
    }
    if unclamped {
        gemmNativeTilesUnclamped(rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd, a: a, lda: lda,
                                 weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual, segments: segments,
                                 segmentStride: segmentStride)
        return
    }
    gemmNativeTiles(GemmEpilogue.self, rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd,
                    a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual, segments: segments,
                    segmentStride: segmentStride)
}

/// `gemmNativeTiles` with the fused-PRELU epilogue, kept out of line so the plain GEMM's code
/// is what it was.
@inline(never)
func gemmNativeTilesPrelu(rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int, a: UnsafePointer<Float>, lda: Int,
                          weights w: PackedGemmWeights, lo: Float, hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                          residual: GemmResidual?, segments: Int, segmentStride: Int) {
    gemmNativeTiles(PreluGemmEpilogue<GemmEpilogue>.self, rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd,
                    a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual, segments: segments,
                    segmentStride: segmentStride)
}

/// `gemmNativeTiles` with `UnclampedGemmEpilogue` (activations NONE), out of line.
@inline(never)
func gemmNativeTilesUnclamped(rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int, a: UnsafePointer<Float>, lda: Int,
                              weights w: PackedGemmWeights, lo: Float, hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                              residual: GemmResidual?, segments: Int, segmentStride: Int) {
    gemmNativeTiles(UnclampedGemmEpilogue.self, rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart,
                    panelEnd: panelEnd, a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual,
                    segments: segments, segmentStride: segmentStride)
}

/// `gemmNativeTiles` with the fused-PRELU epilogue over `UnclampedGemmEpilogue`, out of line.
@inline(never)
func gemmNativeTilesPreluUnclamped(rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int, a: UnsafePointer<Float>,
                                   lda: Int, weights w: PackedGemmWeights, lo: Float, hi: Float,
                                   c: UnsafeMutablePointer<Float>, ldc: Int, residual: GemmResidual?, segments: Int,
                                   segmentStride: Int) {
    gemmNativeTiles(PreluGemmEpilogue<UnclampedGemmEpilogue>.self, rowStart: rowStart, rowEnd: rowEnd,
                    panelStart: panelStart, panelEnd: panelEnd, a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c,
                    ldc: ldc, residual: residual, segments: segments, segmentStride: segmentStride)
}

/// The tiled part of `gemmNativeBlock` (panel width 8 or 16; binary16 panels go to `gemmHalfTiles`)
/// with epilogue `E`.
@inline(__always)
func gemmNativeTiles<E: TileEpilogue>(_: E.Type, rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int,
                                      a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights, lo: Float, hi: Float,
                                      c: UnsafeMutablePointer<Float>, ldc: Int, residual: GemmResidual?, segments: Int,
                                      segmentStride: Int) {
    if w.lanes == .sixteen {
        gemmTiles16(E.self, rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd,
                    a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual,
                    segments: segments, segmentStride: segmentStride)
        return
    }
    if let half = w.halfData {
        gemmHalfTiles(E.self, rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd,
                      a: a, lda: lda, weights: w, half: half, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual,
                      segments: segments, segmentStride: segmentStride)
        return
    }
    let k = w.k
    if w.usesTile4x24 && panelStart == 0 && panelEnd == 2 {
        // N = 24 is a 16-wide and an 8-wide panel: 4×24 tiles cover both in one pass.
        let segmentLength = k / segments
        var row = rowStart
        while row < rowEnd {
            let e = E(lo: lo, hi: hi, residual: residual?.offset(rows: row, cols: 0),
                      preluAlpha: w.preluAlpha.map { UnsafePointer($0) })
            gemmMicroKernel4x24(k: segmentLength, segments: segments, segmentStride: segmentStride,
                                a: a + row * lda, lda: lda, rows: Swift.min(4, rowEnd - row),
                                panel16: w.data, panel8: w.data + k * 16, bias: w.bias, epilogue: e,
                                c: c + row * ldc, ldc: ldc)
            row += 4
        }
        return
    }
    // Rows the 6-row tiles leave over are covered by 5-row tiles at the end when that fits
    // exactly: 49 rows (7×7 maps) = 4·6 + 5·5 computes 49 rows, not 9·6 = 54. Tile heights do
    // not change any element's arithmetic (each is its own k-ordered sum), only the waste.
    // Each height runs its own specialized kernel (`gemmMicroKernel6x16`, `gemmMicroKernel5x16`).
    let length = rowEnd - rowStart
    let fiveRowTiles = (6 - length % 6) % 6
    let sixRowEnd = length >= 5 * fiveRowTiles ? rowEnd - 5 * fiveRowTiles : rowEnd
    gemmTiles(SixRowTile.self, E.self, rowStart: rowStart, rowEnd: sixRowEnd, panelStart: panelStart, panelEnd: panelEnd,
              a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual,
              segments: segments, segmentStride: segmentStride)
    if sixRowEnd < rowEnd {
        gemmTiles(FiveRowTile.self, E.self, rowStart: sixRowEnd, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd,
                  a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual,
                  segments: segments, segmentStride: segmentStride)
    }
}

/// Rows `rowStart..<rowEnd` in tiles of `Height` rows (the last may be shorter), panels
/// `panelStart..<panelEnd`: the 16-wide kernel of that height (`gemmMicroKernel6x16` or
/// `gemmMicroKernel5x16`), or `gemmMicroKernel6x8` for an 8-wide panel.
@inline(__always)
func gemmTiles<Height: MicroTileHeight, E: TileEpilogue>(_: Height.Type, _: E.Type, rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int,
                                        a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                                        lo: Float, hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                        residual: GemmResidual?, segments: Int, segmentStride: Int) {
    let k = w.k, n = w.n, pw = w.panelWidth
    let segmentLength = k / segments
    if Height.rows == 6 && pw == 16 && w.lastPanelWidth == 16 {
        // All panels 16 wide: the whole block in one out-of-line function with the 6×16 kernel
        // inlined, instead of one kernel call (and its prologue) per tile and panel.
        gemmBlock6x16(E.self, rowStart: rowStart, rowEnd: rowEnd, panelStart: panelStart, panelEnd: panelEnd,
                      a: a, lda: lda, weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual,
                      segmentLength: segmentLength, segments: segments, segmentStride: segmentStride)
        return
    }
    var row = rowStart
    while row < rowEnd {
        let rows = Swift.min(Height.rows, rowEnd - row)
        let aRow = a + row * lda
        let cRow = c + row * ldc
        for p in panelStart..<panelEnd {
            let e = E(lo: lo, hi: hi, residual: residual?.offset(rows: row, cols: p * pw),
                      preluAlpha: w.preluAlpha.map { UnsafePointer($0 + p * pw) })
            if pw == 16 && (p < w.panelCount - 1 || w.lastPanelWidth == 16) {
                if Height.rows == 6 {
                    gemmMicroKernel6x16(k: segmentLength, segments: segments, segmentStride: segmentStride,
                                        a: aRow, lda: lda, rows: rows,
                                        panel: w.data + p * k * pw, bias: w.bias + p * pw,
                                        epilogue: e, c: cRow + p * pw, ldc: ldc, cols: Swift.min(pw, n - p * pw))
                } else {
                    gemmMicroKernel5x16(k: segmentLength, segments: segments, segmentStride: segmentStride,
                                        a: aRow, lda: lda, rows: rows,
                                        panel: w.data + p * k * pw, bias: w.bias + p * pw,
                                        epilogue: e, c: cRow + p * pw, ldc: ldc, cols: Swift.min(pw, n - p * pw))
                }
            } else {
                gemmMicroKernel6x8(k: segmentLength, segments: segments, segmentStride: segmentStride,
                                   a: aRow, lda: lda, rows: rows,
                                   panel: w.data + p * k * pw, bias: w.bias + p * pw,
                                   epilogue: e, c: cRow + p * pw, ldc: ldc, cols: Swift.min(pw, n - p * pw))
            }
        }
        row += Height.rows
    }
}

/// `gemmTiles` for 6-row tiles when every panel is 16 wide: rows `rowStart..<rowEnd` (the last
/// tile may be shorter), panels `panelStart..<panelEnd`, each tile `gemmMicroKernel6x16`
/// inlined here (same arithmetic and order), so a K = 16 tile does not pay a call per panel.
@inline(never)
func gemmBlock6x16<E: TileEpilogue>(_: E.Type, rowStart: Int, rowEnd: Int, panelStart: Int, panelEnd: Int,
                                    a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                                    lo: Float, hi: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                    residual: GemmResidual?, segmentLength: Int, segments: Int, segmentStride: Int) {
    let k = w.k, n = w.n
    let data = w.data, bias = w.bias
    let alpha = w.preluAlpha.map { UnsafePointer($0) }
    var row = rowStart
    while row < rowEnd {
        let rows = Swift.min(6, rowEnd - row)
        let aRow = a + row * lda
        let cRow = c + row * ldc
        var p = panelStart
        while p < panelEnd {
            let e = E(lo: lo, hi: hi, residual: residual?.offset(rows: row, cols: p * 16),
                      preluAlpha: alpha.map { $0 + p * 16 })
            gemmMicroKernelX16(SixRowTile.self, k: segmentLength, segments: segments, segmentStride: segmentStride,
                               a: aRow, lda: lda, rows: rows, panel: data + p * k * 16, bias: bias + p * 16,
                               epilogue: e, c: cRow + p * 16, ldc: ldc, cols: Swift.min(16, n - p * 16))
            p &+= 1
        }
        row += 6
    }
}

/// Single-threaded GEMM on a block of rows: `C[m×N] = act(A[m×K] · W^T + bias)`.
///
/// - a: `[m][lda]` row-major, the first `K` floats of each row are used (NHWC pixels × channels).
/// - c: `[m][ldc]` row-major, the first `N` floats of each row are written.
/// - residual: optional skip tensor `[m][ld]` added after the activation (a fused ADD), see
///   `GemmResidual`; its pointer is for row 0 of this block.
/// Never validates. Each output element's arithmetic depends only on (row, col), not on `m`.
public func gemmRows(m: Int, a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                     activation: FusedActivation, c: UnsafeMutablePointer<Float>, ldc: Int,
                     residual: GemmResidual? = nil) {
    let lo = activation.lowerBound, hi = activation.upperBound
    let k = w.k, n = w.n
    switch w.backend {
    case .native:
        gemmNativeBlock(rowStart: 0, rowEnd: m, panelStart: 0, panelEnd: w.panelCount, a: a, lda: lda,
                        weights: w, lo: lo, hi: hi, c: c, ldc: ldc, residual: residual)
    case .openBLAS:
        if m == 0 { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(lda), w.data, Int32(k), 0, c, Int32(ldc))
        for r in 0..<m {
            let cr = c + r * ldc
            for j in 0..<n { cr[j] = Swift.min(Swift.max(cr[j] + w.bias[j], lo), hi) }
            if let residual {
                for j in 0..<n { cr[j] = residual.activation.apply(cr[j] + residual.value(row: r, col: j)) }
            }
            if w.preluAlpha != nil { for j in 0..<n { cr[j] = w.prelu(cr[j], column: j) } }
        }
    }
}

/// Multithreaded GEMM over all `m` rows: `C[m×N] = act(A[m×K] · W^T + bias)`, A `[m][lda]`,
/// C `[m][ldc]`. Work is split into blocks that depend only on the shapes (fixed 48-row blocks,
/// column panels when there are few rows, bigger blocks for OpenBLAS), never on the thread
/// count, so results are bit-identical for any number of threads.
public func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, weights w: PackedGemmWeights,
                 activation: FusedActivation, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool,
                 residual: GemmResidual? = nil) {
    if w.backend == .openBLAS {
        // OpenBLAS repacks B on every call, so it gets bigger blocks: about M/4 rows, rounded up
        // to 48. The block size depends on M only, never on the thread count.
        let quarter = (m + 3) / 4
        let unitRows = Swift.max(gemmRowsPerUnit, (quarter + gemmRowsPerUnit - 1) / gemmRowsPerUnit * gemmRowsPerUnit)
        pool.parallelFor((m + unitRows - 1) / unitRows) { unit, _ in
            let r0 = unit * unitRows, r1 = Swift.min(m, r0 + unitRows)
            gemmRows(m: r1 - r0, a: a + r0 * lda, lda: lda, weights: w, activation: activation,
                     c: c + r0 * ldc, ldc: ldc, residual: residual?.offset(rows: r0, cols: 0))
        }
        return
    }
    let rowUnits = (m + gemmRowsPerUnit - 1) / gemmRowsPerUnit
    if rowUnits < 4 && w.panelCount > 1 {
        // Few rows (deep layers, 7×7 or 14×14 maps): split over column panels. Up to 96 rows
        // stay in one unit so each weight panel (which may not fit in L2 as a whole matrix)
        // is streamed once, not once per 48 rows (49 rows used to be 48 + 1).
        let unitRows = m <= 2 * gemmRowsPerUnit ? m : gemmRowsPerUnit
        let rowUnits = (m + unitRows - 1) / unitRows
        let panelUnits = w.panelCount
        pool.parallelFor(rowUnits * panelUnits) { unit, _ in
            let ru = unit / panelUnits, p = unit % panelUnits
            let r0 = ru * unitRows, r1 = Swift.min(m, r0 + unitRows)
            gemmPanel(rowStart: r0, rowEnd: r1, panel: p, a: a, lda: lda, weights: w,
                      activation: activation, c: c, ldc: ldc, residual: residual)
        }
        return
    }
    if rowUnits < 16 && w.panelCount > 1 {
        // Mid-size M (16×16 maps: 6 row blocks): a few row blocks split 2 threads unevenly
        // (3 vs 2.3 blocks), so split each block's panels into groups too, for ≥ 16 units.
        let groups = Swift.min(w.panelCount, (16 + rowUnits - 1) / rowUnits)
        pool.parallelFor(rowUnits * groups) { unit, _ in
            let ru = unit / groups, group = unit % groups
            let r0 = ru * gemmRowsPerUnit, r1 = Swift.min(m, r0 + gemmRowsPerUnit)
            gemmNativeBlock(rowStart: r0, rowEnd: r1,
                            panelStart: w.panelCount * group / groups, panelEnd: w.panelCount * (group + 1) / groups,
                            a: a, lda: lda, weights: w, lo: activation.lowerBound, hi: activation.upperBound,
                            c: c, ldc: ldc, residual: residual)
        }
        return
    }
    pool.parallelFor(rowUnits) { unit, _ in
        let r0 = unit * gemmRowsPerUnit, r1 = Swift.min(m, r0 + gemmRowsPerUnit)
        gemmRows(m: r1 - r0, a: a + r0 * lda, lda: lda, weights: w, activation: activation,
                 c: c + r0 * ldc, ldc: ldc, residual: residual?.offset(rows: r0, cols: 0))
    }
}

/// Native GEMM restricted to rows `rowStart..<rowEnd` and one column panel.
func gemmPanel(rowStart: Int, rowEnd: Int, panel p: Int, a: UnsafePointer<Float>, lda: Int,
               weights w: PackedGemmWeights, activation: FusedActivation,
               c: UnsafeMutablePointer<Float>, ldc: Int, residual: GemmResidual? = nil) {
    gemmNativeBlock(rowStart: rowStart, rowEnd: rowEnd, panelStart: p, panelEnd: p + 1, a: a, lda: lda,
                    weights: w, lo: activation.lowerBound, hi: activation.upperBound, c: c, ldc: ldc,
                    residual: residual)
}

/// OpenBLAS configuration helpers.
public enum OpenBLAS {
    /// The core OpenBLAS detected (e.g. "Zen", "Haswell"; "Prescott" means a slow misdetection).
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }
    /// Makes OpenBLAS single-threaded (we thread over row blocks ourselves, deterministically)
    /// and stops its idle server threads; once per process, later calls do nothing.
    ///
    /// Why stop them: the pthreads build of OpenBLAS starts one server thread per extra core when
    /// the library is loaded, and each spins on `sched_yield` for ~2²⁸ cycles (~0.1 s) before it
    /// sleeps: on a 2-core machine that spinner holds the second core through the model load and
    /// the first inferences, against our own pool's worker. `blas_thread_shutdown_` (the call
    /// OpenBLAS makes itself around `fork`) joins them; it is looked up at run time, so an OpenBLAS
    /// without it (a serial or OpenMP build) is simply left alone. `openblas_set_num_threads` is
    /// not called again afterwards: it would restart the servers.
    public static func useSingleThread() { _ = singleThreaded }

    private static let singleThreaded: Void = {
        openblas_set_num_threads(1)
        #if os(Linux)
        if let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "blas_thread_shutdown_") {
            typealias Shutdown = @convention(c) () -> Int32
            _ = unsafeBitCast(symbol, to: Shutdown.self)()
        }
        #endif
    }()
}
