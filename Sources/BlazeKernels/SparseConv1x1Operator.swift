import CBlazeTarget

/// CONV_2D 1×1, stride 1, unpadded, on NHWC float32, with mostly-zero weights kept sparse:
/// a sparse (weights) × dense (pixels) product that never multiplies a zero weight.
///
/// Layouts: input NHWC `[N, H, W, I]`, weights OHWI `[O, 1, 1, I]` given dense (a DENSIFY'd
/// TFLite tensor, or any weights), bias `[O]`, output NHWC `[N, H, W, O]`. With a ``resize``, the
/// input given to `run` is that resize's input, NHWC `[N, H', W', I]`, and `[N, H, W, I]` is the
/// resize's output, computed tile by tile as the input is transposed (never stored).
///
/// Geometry, fixed at init from the shape: the `M = N·H·W` pixels are cut into `⌈M/8⌉` groups of 8
/// and the groups into `tileCount` tiles of at most 8 groups (14 for an expansion with a narrow
/// input: ``defaultTileGroups(inputChannels:outputChannels:)``), as even as possible (so a map of
/// 196 pixels runs 4 tiles of 7, 6, 6, 6 groups, never a 1-group tail; a small odd tile count is
/// made even, one tile fewer or more, so that two threads get even halves); the input channels are cut into `chunkCount`
/// chunks of `chunkChannels` (a multiple of 8) so that one chunk of a transposed tile
/// (`chunkChannels × 8·tileGroups` floats) stays in L1.
///
/// Storage, built once at load: compressed sparse rows per (chunk, output channel) — `rowStart`
/// `[chunkCount·O + 1]`, entry `c·O + o` the first nonzero of output channel `o` in chunk `c`;
/// for each nonzero weight (input channels in increasing order) its value and its input channel
/// `i` as the float offset `stride · (i − c·chunkChannels)` of its row in the transposed chunk, a
/// UInt16 (the chunk width is capped so that it fits; 6 bytes per nonzero instead of 8, 4 when the
/// values are kept as binary16: ``valuesAreHalf``).
///
/// Strategy (the SpMM idea of XNNPACK's NCHW kernels, on an NHWC input): for one tile and one
/// chunk, the tile's pixels × the chunk's channels are transposed (8×8 blocks) into the worker's
/// scratch, `[chunkChannels][stride]` (pixel `p` of the tile at column `p`, zero past the last
/// pixel); then for every output channel each nonzero `w` at input channel `i` adds
/// `w · xT[i][8g ..< 8g+8]` to one SIMD8 accumulator per group `g` (up to 14 multiply-adds per
/// nonzero, one load each, the zeros skipped; the offsets are read four per 64-bit load, one
/// round ahead of their multiply-adds). Between chunks the accumulators are kept in the
/// scratch as raw sums `[O][stride]`; after the last chunk each 8 output channels' sums are
/// transposed back to NHWC with the GEMM's epilogue (bias, clamp, optional residual ADD and its clamp).
///
/// Numerics: each output is `sum` over the nonzero weights in increasing input-channel order, from
/// `+0`, with the same multiply-add as the dense GEMM micro-kernel (`SIMD8.multiplyAdd`: FMA when
/// ``gemmUsesFMA``), then `+ bias`, the clamp, the residual. (Keeping a partial sum in memory
/// between chunks does not round it.) The dense native GEMM sums all K terms in that same order in
/// one accumulator; a zero weight adds `±0` to an accumulator that is never `-0`, which leaves it
/// unchanged. So for finite inputs the result is bit-identical to `Conv2DOperator` with the
/// `.native` backend and more than one output channel (an infinite or NaN input times a skipped
/// zero weight would have made the dense sum NaN). Every pixel's arithmetic is independent of its
/// tile, its chunking and the work split, so results are identical for every thread count.
public final class SparseConv1x1Operator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let activation: FusedActivation
    /// Nonzero weights kept (of `O·I`).
    public let nonzeroCount: Int

    /// `run` may be given a residual in the output's own memory: the sums stay in scratch until a
    /// block's store, which reads each residual element before it writes the output element in its
    /// place (the input must be another buffer: every block reads all of it).
    public var residualMayShareOutput: Bool { true }
    /// Largest pixel groups (of 8) per tile, 1...``maxTileGroups``.
    public let tileGroups: Int
    /// Pixel tiles of the map (all images' pixels in a row).
    public let tileCount: Int
    /// Input channels per chunk (a multiple of 8, or `I` when there is one chunk).
    public let chunkChannels: Int
    /// Chunks of input channels, ≥ 1.
    public let chunkCount: Int
    /// Row stride of a transposed tile, floats: `8 · tileGroups`.
    let stride: Int
    /// Default budget of one transposed chunk, floats (32 KiB, Zen 3's L1: each output channel
    /// reads only its nonzeros' rows, and 16, 24, 32 and 48 KiB measured within 3% of each other).
    public static let defaultChunkBudget = 8192
    /// Most pixel groups (of 8) per tile: 14 accumulators and the broadcast weight fill the 16
    /// AVX registers.
    public static let maxTileGroups = 14

    /// The cap on pixel groups per tile a layer gets by default: 14 for an expansion (`O ≥ 2·I`)
    /// whose input fits one chunk at that width (`112·I` ≤ ``defaultChunkBudget``: the detector's
    /// 16 → 64, 24 → 144, 40 → 240 and 40 → 96 layers, whose short rows then pay their per-row
    /// costs over 112 pixels instead of 64: 2–6% faster), else 8 (contractions and deep inputs, where
    /// wider tiles mean more chunks or fewer, less even tiles: 4–15% slower with 14).
    public static func defaultTileGroups(inputChannels i: Int, outputChannels o: Int) -> Int {
        o >= 2 * i && 8 * maxTileGroups * i <= defaultChunkBudget ? maxTileGroups : 8
    }
    /// `[chunkCount·O + 1]`: the entries of output channel `o` in chunk `c` are
    /// `rowStart[c·O + o] ..< rowStart[c·O + o + 1]`: its nonzeros, then, when the rows are long,
    /// `+0` weights up to a multiple of 4 entries (the inner loop's remainder is then never taken).
    let rowStart: UnsafeMutablePointer<Int32>
    /// `[entries]`: `stride · (input channel − chunk start)` of each entry, < 65536 (the chunk
    /// width is capped so that it fits).
    let offsets: UnsafeMutablePointer<UInt16>
    /// `[entries]`: the weight values, in `rowStart` order: floats, or their binary16 bits when
    /// ``valuesAreHalf`` (read as `SparseValueElements.Element`).
    let values: UnsafeMutableRawPointer
    /// Whether `values` holds binary16 bits: asked for (`halfValues` of `init`) and every value,
    /// padding included, exactly a binary16 (the detector's sparse weights are stored as
    /// binary16). Each is widened exactly when it is broadcast, so the sums are the same bits;
    /// 4 bytes per entry instead of 6.
    public let valuesAreHalf: Bool
    /// `[O + 8]`: bias, zeros when there is none and past O (8-channel blocks load 8).
    let bias: UnsafeMutablePointer<Float>
    /// The store `offsets` and `values` were taken from (kept alive with them); nil: they are ours to free.
    private let store: WeightStore?
    /// A RESIZE_BILINEAR whose output is this conv's input, computed while the input is transposed
    /// (never stored); nil: the input is read as given. Its output shape is ``inputShape``.
    public let resize: ResizeBilinearOperator?

    /// Fraction of the weights that are exactly zero (`±0`), 0...1.
    public var zeroFraction: Double {
        let total = outputShape.channels * inputShape.channels
        return total == 0 ? 0 : Double(total - nonzeroCount) / Double(total)
    }

    /// The operator's name in `KernelError`s.
    static let operatorName = "CONV_2D (sparse 1x1)"

    /// The shape checks both initializers make first, in this order: the input is NHWC, the
    /// weights OHWI 1×1, their depth the input's channels. Returns the input shape, O and I.
    static func checkedShapes(inputShape: [Int], weightsShape: [Int]) throws -> (input: NHWCShape, o: Int, i: Int) {
        let op = operatorName
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard weightsShape.count == 4, validDimensions(weightsShape), weightsShape[1] == 1, weightsShape[2] == 1 else {
            throw KernelError.invalidShape(op: op, what: "weights (OHWI, 1x1)", shape: weightsShape)
        }
        let o = weightsShape[0], i = weightsShape[3]
        guard i == input.channels else {
            throw KernelError.shapeMismatch(op: op, detail: "weights input depth \(i) != input channels \(input.channels)")
        }
        return (input, o, i)
    }

    /// Validates the shapes and builds the sparse rows from `weights` (OHWI, `weightsShape` =
    /// `[O, 1, 1, I]`, dense) and `bias` (`[O]`, or empty for none). `tileGroups` (1...14, default
    /// ``defaultTileGroups(inputChannels:outputChannels:)``) caps the pixel groups per tile (give
    /// or take one, to make a small tile count even);
    /// `chunkChannels` (default: from ``defaultChunkBudget``) sets the input channels per chunk
    /// (rounded up to a multiple of 8, capped so that the 16-bit offsets fit; ≥ I means one chunk).
    /// `halfValues` keeps the nonzero values as binary16 when every one is exactly a binary16
    /// (``valuesAreHalf``). None of the three changes any result bit. Throws `KernelError` when
    /// the buffers do not fit the shapes or the weights are not 1×1.
    public convenience init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias biasIn: [Float],
                            activation: FusedActivation, tileGroups maxGroups: Int? = nil, chunkChannels: Int? = nil,
                            resize: ResizeBilinearOperator? = nil, halfValues: Bool = false) throws {
        let op = Self.operatorName
        // The designated initializer's first checks (and errors), before the array is read.
        let (_, o, i) = try Self.checkedShapes(inputShape: inputShape, weightsShape: weightsShape)
        guard weights.count == o * i else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: o * i, got: weights.count)
        }
        try self.init(inputShape: inputShape, weights: SparseWeightRows(n: o, k: i, dense: weights), weightsShape: weightsShape,
                      bias: biasIn, activation: activation, tileGroups: maxGroups, chunkChannels: chunkChannels,
                      resize: resize, halfValues: halfValues)
    }

    /// As ``init(inputShape:weights:weightsShape:bias:activation:tileGroups:chunkChannels:)-(_,[Float],_,_,_,_,_)``
    /// with the weights given by their entries (`weights.n` = O rows of `weights.k` = I columns; e.g.
    /// read straight from a model file's sparse tensor): the same storage, so the same bits, without
    /// a dense copy. Throws `KernelError` also when a row's entries are not strictly increasing
    /// columns in `0..<I` (the reader broke its contract).
    ///
    /// With a `store`, the entries (`offsets`, `values`) go to its huge-page chunks, as packed dense
    /// weights do (fewer page faults at load than a heap block of fresh 4 KiB pages).
    ///
    /// With `resize` (its output shape must be `inputShape`), `run` takes the resize's input and
    /// computes its output pixels while transposing them (the same float operations as
    /// `ResizeBilinearOperator.run`, so the same bits as the two operators in sequence).
    public init(inputShape: [Int], weights rows: SparseWeightRows, weightsShape: [Int], bias biasIn: [Float],
                activation: FusedActivation, tileGroups maxGroups: Int? = nil, chunkChannels: Int? = nil,
                store: WeightStore? = nil, resize: ResizeBilinearOperator? = nil, halfValues: Bool = false) throws {
        let op = Self.operatorName
        let (input, o, i) = try Self.checkedShapes(inputShape: inputShape, weightsShape: weightsShape)
        if let resize, resize.outputShape != input {
            throw KernelError.shapeMismatch(op: op, detail: "resize output \(resize.outputShape) != input \(input)")
        }
        self.resize = resize
        guard rows.n == o, rows.k == i, rows.maxRowEntries >= 0 else {
            throw KernelError.shapeMismatch(op: op, detail: "weights of \(rows.n) rows of \(rows.k), expected \(o) of \(i)")
        }
        guard biasIn.isEmpty || biasIn.count == o else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(biasIn.count) values, output channels \(o)")
        }
        // Row starts are stored as Int32 (offsets as UInt16: the chunk width is capped below).
        guard o * i <= Int(Int32.max) else {
            throw KernelError.invalidShape(op: op, what: "weights (too large for 32-bit sparse indices)", shape: weightsShape)
        }
        self.inputShape = input
        self.outputShape = NHWCShape(batch: input.batch, height: input.height, width: input.width, channels: o)
        self.activation = activation
        // Tiles: ⌈M/8⌉ groups over ⌈groups/cap⌉ tiles, as even as possible.
        let m = input.batch * input.height * input.width
        let groups = (m + 7) / 8
        let cap = Swift.max(1, Swift.min(Self.maxTileGroups, maxGroups ?? Self.defaultTileGroups(inputChannels: i, outputChannels: o)))
        var tiles = (groups + cap - 1) / cap
        // A small odd tile count is made even, so two threads get even halves: one tile fewer when
        // the tiles then grow by at most one group (a 28×28 map's 98 groups: 12 tiles of 8 or 9,
        // not 13 of 7 or 8, nor 14 of 7), else one more.
        if tiles > 1, tiles < 16, tiles % 2 == 1 {
            let fewer = tiles - 1
            tiles = (groups + fewer - 1) / fewer <= Swift.min(cap + 1, Self.maxTileGroups) ? fewer : tiles + 1
        }
        tileCount = tiles
        let perTile = tileCount == 0 ? 1 : Swift.max(1, (groups + tileCount - 1) / tileCount)
        self.tileGroups = perTile
        stride = 8 * perTile
        // Chunks: one transposed chunk within the budget, a multiple of 8 channels.
        var kc: Int
        if let chunkChannels {
            kc = chunkChannels
        } else {
            let budget = Self.defaultChunkBudget
            let pieces = Swift.max(1, (i * stride + budget - 1) / budget)
            kc = (i + pieces - 1) / pieces
        }
        kc = Swift.max(8, (kc + 7) / 8 * 8)
        // Offsets `stride · (channel − chunk start)` must fit UInt16 (with the default budget they
        // always do; this caps explicit widths, e.g. one chunk of a deep layer).
        kc = Swift.min(kc, (65535 / stride + 1) / 8 * 8)
        if kc >= i { kc = Swift.max(1, i) }
        self.chunkChannels = kc
        let chunks = i == 0 ? 1 : (i + kc - 1) / kc
        chunkCount = chunks
        bias = .allocate(capacity: o + 8)
        bias.initialize(repeating: 0, count: o + 8)
        if !biasIn.isEmpty { for j in 0..<o { bias[j] = biasIn[j] } }
        self.store = store
        // Replayed from a packed-weight cache: the nonzero count, the row starts and the entries
        // are there already (packed from the same model bytes, and checked, when it was recorded).
        if let store, let replayed = Self.replayedEntries(store, slots: chunks * o) {
            nonzeroCount = replayed.nonzeros
            rowStart = replayed.rowStart
            offsets = replayed.offsets
            values = replayed.values
            valuesAreHalf = replayed.half
            return
        }
        // Pass 1: the nonzeros of each (chunk, row). Rows given as a stored CSR (`rows.stored`) are
        // counted from their indices in place (`countStoredRuns`: all rows checked at once, each
        // row's chunk boundaries found by a forward scan of its increasing indices). Rows given by
        // a reader are read row by row into two small buffers per worker, blocks of rows over the
        // store's pool (the rows are independent; every slot is written by its row alone, so the
        // storage is the same for any thread count).
        let csr = rows.stored, columnsOnly = rows.columnReader
        let pool = o >= 64 ? store?.pool : nil
        let workers = pool?.threadCount ?? 1
        let rowCapacity = csr == nil ? Swift.max(1, rows.maxRowEntries) : 1
        let columns = UnsafeMutablePointer<Int32>.allocate(capacity: workers * rowCapacity)   // [workers][maxRowEntries]
        let entries = UnsafeMutablePointer<Float>.allocate(capacity: workers * rowCapacity)   // [workers][maxRowEntries]
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(1, chunks * o))  // [chunk][row], then write cursors
        counts.initialize(repeating: 0, count: Swift.max(1, chunks * o))
        // [O + 1]: the CSR's row starts, copied (read by both passes, so both see the same rows).
        let starts = UnsafeMutablePointer<Int32>.allocate(capacity: o + 1)
        starts.initialize(repeating: 0, count: o + 1)
        defer { columns.deallocate(); entries.deallocate(); counts.deallocate(); starts.deallocate() }
        let blockRows = 16, blocks = (o + blockRows - 1) / blockRows
        func forEachRow(_ body: (_ row: Int, _ columns: UnsafeMutablePointer<Int32>, _ entries: UnsafeMutablePointer<Float>) -> Void) {
            func block(_ b: Int, _ worker: Int) {
                for row in (b * blockRows)..<Swift.min(o, (b + 1) * blockRows) {
                    body(row, columns + worker * rowCapacity, entries + worker * rowCapacity)
                }
            }
            if let pool { pool.parallelFor(blocks) { b, worker in block(b, worker) } } else { for b in 0..<blocks { block(b, 0) } }
        }
        if let csr {
            guard csr.rowStarts.count == o + 1 else {
                throw KernelError.shapeMismatch(op: op, detail: "weights' stored rows have \(csr.rowStarts.count) row starts, expected \(o + 1)")
            }
            csr.rowStarts.withUnsafeBufferPointer { if let b = $0.baseAddress { starts.update(from: b, count: o + 1) } }
            if let row = Self.countStoredRuns(csr, starts: starts, rows: o, columns: i, chunkChannels: kc, chunks: chunks, counts: counts) {
                throw KernelError.shapeMismatch(op: op, detail: "weights row \(row): row starts that decrease, or columns that do not strictly increase below \(i)")
            }
        } else {
            // The first bad row of each block (o: none); the error names the first bad row overall.
            let badRow = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(1, blocks))
            badRow.initialize(repeating: o, count: Swift.max(1, blocks))
            defer { badRow.deallocate() }
            forEachRow { row, columns, entries in
                // Without stored ±0 the columns alone give the counts (no values read in this pass).
                let count = columnsOnly?(row, columns) ?? rows.read(row: row, columns: columns, values: entries)
                guard count >= 0, count <= rows.maxRowEntries else {
                    badRow[row / blockRows] = Swift.min(badRow[row / blockRows], row)
                    return
                }
                if columnsOnly != nil {
                    // Every entry counts: check the columns in one branch-free pass, then walk the
                    // increasing columns to each chunk's end (one mispredicted branch per chunk).
                    guard Self.columnsIncrease(columns, count, below: i) else {
                        badRow[row / blockRows] = Swift.min(badRow[row / blockRows], row)
                        return
                    }
                    var e = 0
                    for chunk in 0..<chunks {
                        let start = e, boundary = Int32(truncatingIfNeeded: Swift.min(i, (chunk + 1) * kc))
                        while e < count, columns[e] < boundary { e += 1 }
                        counts[chunk * o + row] = e - start
                    }
                    return
                }
                // Columns increase, so a chunk's entries are one run: counted in a register, stored when
                // the run ends (no division per entry).
                var previous = -1, chunk = 0, chunkEnd = kc, run = 0
                for e in 0..<count {
                    let c = Int(columns[e])
                    guard c > previous, c < i else {
                        badRow[row / blockRows] = Swift.min(badRow[row / blockRows], row)
                        return
                    }
                    previous = c
                    if c >= chunkEnd {
                        counts[chunk * o + row] = run
                        run = 0
                        chunk = c / kc
                        chunkEnd = (chunk + 1) * kc
                    }
                    run &+= isNonzero(entries[e])
                }
                counts[chunk * o + row] = run
            }
            if let row = (0..<blocks).lazy.map({ badRow[$0] }).first(where: { $0 < o }) {
                throw KernelError.shapeMismatch(op: op, detail: "weights row \(row): more than \(rows.maxRowEntries) entries, or columns that do not strictly increase below \(i)")
            }
        }
        var nnz = 0
        for slot in 0..<(chunks * o) { nnz &+= counts[slot] }
        nonzeroCount = nnz
        // Long rows (≥ 16 nonzeros per chunk on average) are padded to a multiple of 4 entries
        // (measured ~3% faster on the detector's deep layers; on short rows the extra
        // multiply-adds cost more than the remainder loop saves).
        let pad = nnz >= 16 * chunks * o ? 4 : 1
        // Entries: the nonzeros, at most `pad − 1` padding entries per (chunk, row), and 8 spare
        // slots (the kernel reads offsets ahead, up to 8 past a row's end).
        let capacity = nnz + (pad - 1) * chunks * o + 8
        guard capacity <= Int(Int32.max) else {
            throw KernelError.invalidShape(op: op, what: "weights (too large for 32-bit sparse indices)", shape: weightsShape)
        }
        if let store {
            // The pieces a packed-weight cache records, in the order `replayedEntries` takes them:
            // the nonzero count (an Int64), the row starts, the offsets (two UInt16 per float
            // slot; a float slice is aligned for UInt16) and the values.
            UnsafeMutableRawPointer(store.allocate(.sparseCount, floats: 2).pointer).storeBytes(of: Int64(nnz), as: Int64.self)
            rowStart = UnsafeMutableRawPointer(store.allocate(.sparseRowStarts, floats: chunks * o + 1).pointer)
                .bindMemory(to: Int32.self, capacity: chunks * o + 1)
            offsets = UnsafeMutableRawPointer(store.allocate(.sparseOffsets, floats: (capacity + 1) / 2).pointer)
                .bindMemory(to: UInt16.self, capacity: capacity)
        } else {
            rowStart = .allocate(capacity: chunks * o + 1)
            offsets = .allocate(capacity: capacity)
        }
        // The values as floats: in their final place, or (binary16 asked for) in a buffer of our
        // own until every one is known to be exact (the store's piece comes after, in the order
        // `replayedEntries` takes them).
        let floatValues = (halfValues ? nil : store?.allocate(.sparseValues, floats: capacity).pointer)
            ?? UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        // Row starts (chunk-major); `counts` becomes each (chunk, row)'s write cursor, `runs` keeps
        // the counts (pass 2 takes each chunk's run of a row from them when no entry is ±0).
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(1, chunks * o))   // [chunk][row]
        runs.update(from: counts, count: chunks * o)
        defer { runs.deallocate() }
        var at = 0
        for slot in 0..<(chunks * o) {
            rowStart[slot] = Int32(at)
            let n = counts[slot]
            counts[slot] = at
            at += pad == 4 ? (n + 3) & ~3 : n   // (no division by a variable: one per slot showed in perf)
        }
        rowStart[chunks * o] = Int32(at)
        // Pass 2: each nonzero to its (chunk, row), input channels in increasing order (from a
        // reader: the write cursor of the current chunk's run kept in a register).
        let stride = self.stride
        let (rowStart, offsets, values) = (self.rowStart, self.offsets, floatValues)
        if let csr {
            // Whole blocks of rows straight from the stored CSR, each chunk's run (its length kept
            // from pass 1) and its padding in one C loop (`blaze_sparse_place_*`): the offsets from
            // the indices at their own width, the values widened into place. Stored data that
            // changes after pass 1 (a file mapped in place) still lands inside the slots pass 1
            // counted, and its offsets inside their chunk.
            if let pool {
                pool.parallelFor(blocks) { b, _ in
                    Self.placeStored(csr, starts: starts, runs: runs, rowStart: rowStart, rows: o, chunks: chunks, chunkChannels: kc,
                                     inputs: i, stride: stride, from: b * blockRows, to: Swift.min(o, (b + 1) * blockRows),
                                     offsets: offsets, values: values)
                }
            } else {
                Self.placeStored(csr, starts: starts, runs: runs, rowStart: rowStart, rows: o, chunks: chunks, chunkChannels: kc,
                                 inputs: i, stride: stride, from: 0, to: o, offsets: offsets, values: values)
            }
        } else {
            forEachRow { row, columns, entries in
                let count = Swift.max(0, Swift.min(rows.read(row: row, columns: columns, values: entries), rows.maxRowEntries))
                if columnsOnly != nil {
                    // No stored zeros and the columns checked in pass 1: each chunk's entries are the
                    // next `runs` entries of the row, copied with their offsets in the transposed chunk
                    // (`blaze_chunk_offsets_u16`, vectorised). A reader that answers differently than in
                    // pass 1 stays inside the slots pass 1 counted and the offsets inside their chunk.
                    var start = 0
                    for chunk in 0..<chunks {
                        let slot = chunk * o + row, position = counts[slot]
                        let n = Swift.max(0, Swift.min(runs[slot], count - start, Int(rowStart[slot + 1]) - position))
                        let chunkStart = chunk * kc, width = Swift.min(kc, i - chunkStart)
                        blaze_chunk_offsets_u16(columns + start, n, Int32(truncatingIfNeeded: chunkStart), Int32(truncatingIfNeeded: width - 1),
                                                Int32(truncatingIfNeeded: stride), offsets + position)
                        (values + position).update(from: entries + start, count: n)
                        counts[slot] = position + n
                        start += n
                    }
                } else {
                    var chunk = 0, chunkStart = 0, chunkEnd = kc, position = counts[row], limit = Int(rowStart[row + 1])
                    for e in 0..<count {
                        let w = entries[e]
                        let c = Int(columns[e])
                        if c >= chunkEnd {
                            // (A reader that answers as in pass 1 always passes these guards; they keep writes in bounds.)
                            guard c < i else { break }
                            counts[chunk * o + row] = position
                            chunk = c / kc
                            chunkStart = chunk * kc
                            chunkEnd = chunkStart + kc
                            position = counts[chunk * o + row]
                            limit = Int(rowStart[chunk * o + row + 1])
                        }
                        guard isNonzero(w) != 0, c >= chunkStart, position < limit else { continue }
                        offsets[position] = UInt16(truncatingIfNeeded: stride &* (c &- chunkStart))
                        values[position] = w
                        position += 1
                    }
                    counts[chunk * o + row] = position
                }
                // Padding: +0 weights on the row's last nonzero's channel, after it. For a finite
                // input they add `+0 · x = ±0` to a sum that is never `-0`: no bit changes.
                // (Filling up to the next row start: exactly the padding, or every slot a reader that
                // answered differently than in pass 1 left unwritten.)
                for chunk in 0..<chunks {
                    let slot = chunk * o + row
                    let first = Int(rowStart[slot]), limit = Int(rowStart[slot + 1])
                    var end = counts[slot]
                    let last = end > first ? offsets[end - 1] : 0
                    while end < limit {
                        offsets[end] = last
                        values[end] = 0
                        end += 1
                    }
                }
            }
        }
        for spare in at..<(at + 8) {
            offsets[spare] = 0
            floatValues[spare] = 0
        }
        guard halfValues else {
            self.values = UnsafeMutableRawPointer(floatValues)
            self.valuesAreHalf = false
            return
        }
        // Binary16 when every value is exactly one (NaNs are not: their payloads would not
        // survive), narrowed in one pass into a buffer of our own; the store's piece (its kind
        // depends on the outcome) is allocated after.
        let half = UnsafeMutablePointer<UInt16>.allocate(capacity: capacity)
        let exact = blaze_narrow_exact(floatValues, at + 8, half) != 0
        if exact {
            floatValues.deallocate()
            if let store {
                let piece = store.allocate(.sparseHalfValues, floats: (capacity + 1) / 2).pointer
                UnsafeMutableRawPointer(piece).copyMemory(from: half, byteCount: 2 * (at + 8))
                half.deallocate()
                self.values = UnsafeMutableRawPointer(piece)
            } else {
                self.values = UnsafeMutableRawPointer(half)
            }
        } else {
            half.deallocate()
            if let store {
                let piece = store.allocate(.sparseValues, floats: capacity).pointer
                piece.update(from: floatValues, count: at + 8)
                floatValues.deallocate()
                self.values = UnsafeMutableRawPointer(piece)
            } else {
                self.values = UnsafeMutableRawPointer(floatValues)
            }
        }
        self.valuesAreHalf = exact
    }

    /// Pass 1 on a stored CSR: checks every row (starts that do not decrease, from ≥ 0; columns
    /// strictly increasing below `i`) and writes its entries per chunk at `counts` (`[chunks][o]`).
    /// The columns are checked over all rows at once, as the file reader does (smallest and
    /// largest in one vectorised pass, descents counted in another and matched against those at
    /// row starts; a row at a time only to name the first bad row); the runs come from
    /// `blaze_sparse_runs_*` (a forward scan per row to each chunk boundary, 16 indices per
    /// compare). Returns the first bad row, nil when all are good.
    static func countStoredRuns(_ csr: StoredSparseRows, starts: UnsafePointer<Int32>, rows o: Int, columns i: Int,
                                chunkChannels kc: Int, chunks: Int, counts: UnsafeMutablePointer<Int>) -> Int? {
        guard starts[0] >= 0 else { return 0 }
        for row in 0..<o where starts[row + 1] < starts[row] { return row }
        let begin = Int(starts[0]), end = Int(starts[o]), n = end - begin, base = csr.indices
        if n > 0 {
            var low = 0, high = 0, descents = 0, atStarts = 0
            switch csr.indexWidth {
            case 1:
                let p = base.assumingMemoryBound(to: UInt8.self)
                blaze_index_bounds_u8(p + begin, n, &low, &high)
                descents = blaze_descents_u8(p + begin, n)
                atStarts = blaze_start_descents_u8(p, starts, o + 1, begin, end)
            case 2:
                let p = base.assumingMemoryBound(to: UInt16.self)
                blaze_index_bounds_u16(p + begin, n, &low, &high)
                descents = blaze_descents_u16(p + begin, n)
                atStarts = blaze_start_descents_u16(p, starts, o + 1, begin, end)
            default:
                let p = base.assumingMemoryBound(to: Int32.self)
                blaze_index_bounds_i32(p + begin, n, &low, &high)
                descents = blaze_descents_i32(p + begin, n)
                atStarts = blaze_start_descents_i32(p, starts, o + 1, begin, end)
            }
            if low < 0 || high >= i || descents != atStarts {
                for row in 0..<o {
                    let first = Int(starts[row]), count = Int(starts[row + 1]) - first
                    let ok: Int32
                    switch csr.indexWidth {
                    case 1: ok = blaze_increasing_below_u8(base.assumingMemoryBound(to: UInt8.self) + first, count, i)
                    case 2: ok = blaze_increasing_below_u16(base.assumingMemoryBound(to: UInt16.self) + first, count, i)
                    default: ok = blaze_increasing_below_i32(base.assumingMemoryBound(to: Int32.self) + first, count, i)
                    }
                    if ok == 0 { return row }
                }
                return 0   // (not reached: some row holds what the whole-vector check found)
            }
        }
        switch csr.indexWidth {
        case 1: blaze_sparse_runs_u8(base.assumingMemoryBound(to: UInt8.self), starts, o, kc, chunks, counts)
        case 2: blaze_sparse_runs_u16(base.assumingMemoryBound(to: UInt16.self), starts, o, kc, chunks, counts)
        default: blaze_sparse_runs_i32(base.assumingMemoryBound(to: Int32.self), starts, o, kc, chunks, counts)
        }
        return nil
    }

    /// Pass 2 on a stored CSR for rows `r0 ..< r1`: `blaze_sparse_place_*` at the indices' width.
    static func placeStored(_ csr: StoredSparseRows, starts: UnsafePointer<Int32>, runs: UnsafePointer<Int>,
                            rowStart: UnsafePointer<Int32>, rows o: Int, chunks: Int, chunkChannels kc: Int, inputs i: Int,
                            stride: Int, from r0: Int, to r1: Int, offsets: UnsafeMutablePointer<UInt16>,
                            values: UnsafeMutablePointer<Float>) {
        let half: Int32 = csr.valuesAreHalf ? 1 : 0
        switch csr.indexWidth {
        case 1:
            blaze_sparse_place_u8(csr.indices.assumingMemoryBound(to: UInt8.self), csr.values, half, starts, runs, rowStart,
                                  o, chunks, kc, i, stride, r0, r1, offsets, values)
        case 2:
            blaze_sparse_place_u16(csr.indices.assumingMemoryBound(to: UInt16.self), csr.values, half, starts, runs, rowStart,
                                   o, chunks, kc, i, stride, r0, r1, offsets, values)
        default:
            blaze_sparse_place_i32(csr.indices.assumingMemoryBound(to: Int32.self), csr.values, half, starts, runs, rowStart,
                                   o, chunks, kc, i, stride, r0, r1, offsets, values)
        }
    }

    /// Whether `columns[0 ..< count]` strictly increase and all lie in `0 ..< bound`: the first
    /// and last checked against the bounds, the order in one vectorised pass (CBlazeTarget's
    /// `blaze_descents_i32`, no data-dependent branch).
    static func columnsIncrease(_ columns: UnsafePointer<Int32>, _ count: Int, below bound: Int) -> Bool {
        guard count > 0 else { return true }
        return columns[0] >= 0 && Int(columns[count - 1]) < bound && blaze_descents_i32(columns, count) == 0
    }

    /// The entries of a layer replayed from a packed-weight cache: `store`'s next four pieces when
    /// they are a nonzero count and the row starts (`slots + 1`), offsets and values that count
    /// implies; nil otherwise (the operator then builds them, into fresh pieces).
    static func replayedEntries(_ store: WeightStore, slots: Int)
        -> (nonzeros: Int, rowStart: UnsafeMutablePointer<Int32>, offsets: UnsafeMutablePointer<UInt16>,
            values: UnsafeMutableRawPointer, half: Bool)? {
        guard store.replayOffers(.sparseCount) else { return nil }
        let count = store.allocate(.sparseCount, floats: 2)
        guard count.cached else { return nil }
        let nnz = Int(UnsafeRawPointer(count.pointer).load(as: Int64.self))
        guard nnz >= 0, nnz <= Int(Int32.max) else { return nil }
        let pad = nnz >= 16 * slots ? 4 : 1
        let capacity = nnz + (pad - 1) * slots + 8
        let starts = store.allocate(.sparseRowStarts, floats: slots + 1)
        guard starts.cached else { return nil }
        let offsets = store.allocate(.sparseOffsets, floats: (capacity + 1) / 2)
        guard offsets.cached else { return nil }
        let half = store.replayOffers(.sparseHalfValues)
        let values = half ? store.allocate(.sparseHalfValues, floats: (capacity + 1) / 2) : store.allocate(.sparseValues, floats: capacity)
        guard values.cached else { return nil }
        return (nnz, UnsafeMutableRawPointer(starts.pointer).bindMemory(to: Int32.self, capacity: slots + 1),
                UnsafeMutableRawPointer(offsets.pointer).bindMemory(to: UInt16.self, capacity: capacity),
                UnsafeMutableRawPointer(values.pointer), half)
    }

    deinit {
        if store == nil {
            rowStart.deallocate()
            offsets.deallocate()
            values.deallocate()
        }
        bias.deallocate()
    }

    /// Floats of scratch `run` needs for a pool of `threads` threads: per worker one transposed
    /// chunk `[chunkChannels][stride]` and the raw sums, `[O][stride]` with several chunks, else
    /// `[8][stride]`; with a ``resize``, then 8 resized pixels of a chunk, `[8][chunkChannels]`.
    public func scratchCount(threads: Int) -> Int {
        Swift.max(1, threads) * perWorker
    }

    var perWorker: Int { stride * (chunkChannels + sumRows) + (resize == nil ? 0 : 8 * chunkChannels) }
    /// Rows of raw sums in a worker's scratch.
    var sumRows: Int { chunkCount > 1 ? outputShape.channels : 8 }

    /// The job's scratch pieces from a worker's scratch `base` (`perWorker` floats).
    @inline(__always)
    func scratchPieces(_ base: UnsafeMutablePointer<Float>) -> (xt: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>,
                                                               stage: UnsafeMutablePointer<Float>) {
        (base, base + stride * chunkChannels, base + stride * (chunkChannels + sumRows))
    }

    /// Runs the conv. `input` holds `inputShape.elementCount` floats (NHWC; with a ``resize``,
    /// `resize.inputShape.elementCount`: the resize's input), `output`
    /// `outputShape.elementCount` (NHWC), `scratch` at least `scratchCount(threads: pool.threadCount)`.
    /// With `residual` (NHWC `outputShape`, `ld` ≥ O): `output = act2(act(conv + bias) + residual)`,
    /// a fused ADD, as `Conv2DOperator.run`. Does not validate the pointers.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, residual: GemmResidual? = nil) {
        let m = outputShape.batch * outputShape.height * outputShape.width
        let n = outputShape.channels
        if m == 0 || n == 0 { return }
        let tiles = tileCount, groups = (m + 7) / 8
        let blocks = (n + 7) / 8
        // Few tiles (deep 7×7 / 14×14 layers): every thread must get work, so the 8-channel blocks
        // are split too, each split transposing its tile itself. A map of fewer tiles than threads
        // (7×7: one tile of 7 groups) gets one even share of the blocks per thread: each thread
        // transposes the whole tile once, which costs far less than the multiply-adds (the 1152 →
        // 192 layer: 64 K floats transposed against 387 K multiply-adds). Cutting such a tile into
        // pixel pieces instead leaves 4 : 3 groups (its 49th pixel is a whole group), and four
        // splits transpose it twice per thread. The detector's 7×7 layers on Zen 4 at 2 threads
        // (sums of per-layer minima over 12–16 alternating `profile` rounds, 4 runs on a noisy VM),
        // pixel pieces → one split per thread: the four 192 → 1152 layers 8–17% faster, the four
        // 1152 → 192 ones 0–10%. Any cut gives the same bits: every output's arithmetic depends
        // only on its position.
        let threads = pool.threadCount
        let want = threads == 1 ? 1 : 2 * threads
        let splits: Int
        if tiles < threads {
            splits = Swift.max(1, Swift.min(blocks, (threads + tiles - 1) / tiles))
        } else {
            // (Tiles that split evenly over the threads, e.g. a 14×14 map's 2 tiles of 13 and 12
            // groups on 2 threads, are not split either: a split transposes its tile again.)
            let even = tiles % threads == 0
            splits = tiles >= want || even ? 1 : Swift.max(1, Swift.min(blocks, (want + tiles - 1) / tiles))
        }
        let worker = perWorker
        pool.parallelFor(tiles * splits) { unit, w in
            let tile = unit / splits, s = unit % splits
            let g0 = groups * tile / tiles, g1 = groups * (tile + 1) / tiles
            let p0 = 8 * g0, count = Swift.min(8 * g1, m) - p0
            let b0 = blocks * s / splits, b1 = blocks * (s + 1) / splits
            let pieces = scratchPieces(scratch + w * worker)
            let job = TileJob(input: input, pixel0: p0, pixels: count, blocks: b0..<b1,
                              xt: pieces.xt, sums: pieces.sums, stage: pieces.stage, output: output + p0 * n,
                              residual: residual?.offset(rows: p0, cols: 0))
            runTile(groups: g1 - g0, job)
        }
    }

    /// Computes the `pixels` consecutive NHWC pixels from pixel `pixel0` on the calling thread:
    /// `input` the whole input (as for `run`), `output` `[pixels][O]` (row stride O), `scratch` one worker's share
    /// (``scratchCount(threads:)`` for 1 thread), `residual` the fused ADD's rows for these pixels
    /// (as `run` takes it, from the range's first pixel). The range is cut into the fewest tiles of at
    /// most ``tileGroups`` groups, as even as possible, every output block of each. What a
    /// band of rows in `PointwiseDepthwiseOperator` asks for; the same bits as `run` (every
    /// output's arithmetic depends only on its pixel and channel). Does not validate the pointers.
    func runPixels(input: UnsafePointer<Float>, pixel0: Int, pixels: Int, output: UnsafeMutablePointer<Float>,
                   scratch: UnsafeMutablePointer<Float>, residual: GemmResidual? = nil) {
        let n = outputShape.channels
        guard pixels > 0, n > 0 else { return }
        let groups = (pixels + 7) / 8, tiles = (groups + tileGroups - 1) / tileGroups
        for tile in 0..<tiles {
            let g0 = groups * tile / tiles, g1 = groups * (tile + 1) / tiles
            let p0 = 8 * g0, count = Swift.min(8 * g1, pixels) - p0
            let pieces = scratchPieces(scratch)
            let job = TileJob(input: input, pixel0: pixel0 + p0, pixels: count, blocks: 0..<((n + 7) / 8),
                              xt: pieces.xt, sums: pieces.sums, stage: pieces.stage, output: output + p0 * n,
                              residual: residual?.offset(rows: p0, cols: 0))
            runTile(groups: g1 - g0, job)
        }
    }

    /// `runTile` specialized for a tile of `groups` pixel groups (1...``maxTileGroups``).
    @inline(__always)
    func runTile(groups: Int, _ job: TileJob) {
        if valuesAreHalf {
            runTile(groups: groups, HalfSparseValues.self, job)
        } else {
            runTile(groups: groups, Float32SparseValues.self, job)
        }
    }

    /// `runTile` for values stored as `V`.
    @inline(__always)
    func runTile<V: SparseValueElements>(groups: Int, _: V.Type, _ job: TileJob) {
        switch groups {
        case 14: runTile(Groups14.self, V.self, job)
        case 13: runTile(Groups13.self, V.self, job)
        case 12: runTile(Groups12.self, V.self, job)
        case 11: runTile(Groups11.self, V.self, job)
        case 10: runTile(Groups10.self, V.self, job)
        case 9: runTile(Groups9.self, V.self, job)
        case 8: runTile(Groups8.self, V.self, job)
        case 7: runTile(Groups7.self, V.self, job)
        case 6: runTile(Groups6.self, V.self, job)
        case 5: runTile(Groups5.self, V.self, job)
        case 4: runTile(Groups4.self, V.self, job)
        case 3: runTile(Groups3.self, V.self, job)
        case 2: runTile(Groups2.self, V.self, job)
        default: runTile(Groups1.self, V.self, job)
        }
    }

    /// One work unit: a pixel tile (pixels `pixel0 ..< pixel0 + pixels` of `input`, the whole
    /// input as `run` takes it; `output`: `[pixels][O]`, the tile's first output row) and the
    /// 8-channel output blocks `blocks`; `xt`, `sums`: the worker's scratch (see `scratchCount`).
    struct TileJob {
        let input: UnsafePointer<Float>
        let pixel0: Int
        let pixels: Int
        let blocks: Range<Int>
        let xt: UnsafeMutablePointer<Float>
        let sums: UnsafeMutablePointer<Float>
        /// `[8][chunkChannels]`: resized pixels before their transpose (only with a ``resize``).
        let stage: UnsafeMutablePointer<Float>
        let output: UnsafeMutablePointer<Float>
        let residual: GemmResidual?
    }

    @inline(__always)
    func runTile<G: SparseGroupCount, V: SparseValueElements>(_: G.Type, _: V.Type, _ job: TileJob) {
        let k = inputShape.channels, n = outputShape.channels
        let o0 = job.blocks.lowerBound * 8, o1 = Swift.min(n, job.blocks.upperBound * 8)
        let chunks = chunkCount
        for c in 0..<chunks {
            let k0 = c * chunkChannels, k1 = Swift.min(k, k0 + chunkChannels)
            if let resize {
                transposeResizedChunk(resize, job.input, pixel0: job.pixel0, pixels: job.pixels, groups: G.count,
                                      channels: k0..<k1, stage: job.stage, to: job.xt)
            } else {
                transposeChunk(job.input + job.pixel0 * k, pixels: job.pixels, groups: G.count, k: k, channels: k0..<k1,
                               to: job.xt)
            }
            let rows = rowStart + c * n
            if c + 1 < chunks {
                // Raw sums of every channel of the unit, kept in `sums` ([O][stride]) for the next chunk.
                for o in o0..<o1 {
                    accumulate(G.self, V.self, x: job.xt, from: Int(rows[o]), to: Int(rows[o + 1]), resume: c > 0,
                               row: job.sums + o * stride)
                }
            } else {
                for block in job.blocks {
                    let cb = block * 8, cn = Swift.min(8, n - cb)
                    // The block's 8 rows of raw sums: in place with several chunks, else a [8][stride] block.
                    let rowsOut = chunks > 1 ? job.sums + cb * stride : job.sums
                    for o in cb..<(cb + cn) {
                        accumulate(G.self, V.self, x: job.xt, from: Int(rows[o]), to: Int(rows[o + 1]), resume: c > 0,
                                   row: rowsOut + (o - cb) * stride)
                    }
                    if let r = job.residual {
                        store(rowsOut, pixels: job.pixels, channel0: cb, channels: cn, n: n, residual: r, out: job.output)
                    } else {
                        store(rowsOut, pixels: job.pixels, channel0: cb, channels: cn, n: n, residual: nil, out: job.output)
                    }
                }
            }
        }
    }

    /// Transposes input channels `channels` of `pixels` ≤ 8·``maxTileGroups`` NHWC pixel rows (`src`: `[pixels][k]`)
    /// into `dst`: `[channels.count][stride]`, pixel `p` at column `p`, zeros from `pixels` to `8·groups`.
    @inline(__always)
    func transposeChunk(_ src: UnsafePointer<Float>, pixels: Int, groups: Int, k: Int, channels: Range<Int>,
                        to dst: UnsafeMutablePointer<Float>) {
        let ld = stride, k0 = channels.lowerBound, k1 = channels.upperBound
        for group in 0..<groups {
            let rows = Swift.max(0, Swift.min(8, pixels - group * 8))
            let s = src + group * 8 * k
            let d = dst + group * 8 - k0 * ld
            if rows == 8 {
                var c = k0
                while c + 8 <= k1 {
                    // One 8×8 block: pixel rows in, channel rows out.
                    storeRows(transpose8x8(s + c, ld: k), d + c * ld, ld: ld)
                    c += 8
                }
                while c < k1 {
                    for j in 0..<8 { d[c * ld + j] = s[j * k + c] }
                    c += 1
                }
            } else {
                // A partial group (the map's last, e.g. 1 pixel of a 7×7 map): each 8 channels of
                // its `rows` pixels are copied into a zero-padded 8×8 block, then transposed as a
                // full one (one value at a time this was 8 selects per channel).
                var block = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                             SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())   // [8 pixels][8 channels]
                var c = k0
                withUnsafeMutablePointer(to: &block) {
                    UnsafeMutableRawPointer($0).withMemoryRebound(to: Float.self, capacity: 64) { b in
                        while c + 8 <= k1 {
                            for j in 0..<rows { storeVector(loadVector(s + j * k + c), b + 8 * j) }
                            storeRows(transpose8x8(b, ld: 8), d + c * ld, ld: ld)
                            c += 8
                        }
                    }
                }
                while c < k1 {
                    for j in 0..<8 { d[c * ld + j] = j < rows ? s[j * k + c] : 0 }
                    c += 1
                }
            }
        }
    }

    /// `transposeChunk` of the pixels `resize` computes from its input `src` (`resize.inputShape`,
    /// NHWC): pixels `pixel0 ..< pixel0 + pixels` of its output, channels `channels`, into `dst`
    /// (`[channels.count][stride]`, zeros from `pixels` to `8·groups`). Each group's (up to) 8 pixels
    /// are computed into `stage` (`[8][channels.count]`, at least `8·chunkChannels` floats) as
    /// `ResizeBilinearOperator.run` computes them (`((t0 + t1) + t2) + t3`, `t0 = x00·(1−dy)·(1−dx)`,
    /// …, the same operations in the same order), then transposed in 8×8 blocks.
    @inline(__always)
    func transposeResizedChunk(_ resize: ResizeBilinearOperator, _ src: UnsafePointer<Float>, pixel0: Int, pixels: Int,
                               groups: Int, channels: Range<Int>, stage: UnsafeMutablePointer<Float>,
                               to dst: UnsafeMutablePointer<Float>) {
        let k0 = channels.lowerBound, k1 = channels.upperBound, width = k1 - k0
        let c = resize.inputShape.channels, ih = resize.inputShape.height, iw = resize.inputShape.width
        let oh = resize.outputShape.height, ow = resize.outputShape.width
        for group in 0..<groups {
            let rows = Swift.max(0, Swift.min(8, pixels - group * 8))
            for j in 0..<rows {
                let q = pixel0 + group * 8 + j
                let image = q / (oh * ow), y = (q / ow) % oh, x = q % ow
                let (y0, y1, dy) = resize.rowsTable[y]
                ResizeBilinearOperator.interpolate(row0: src + (image * ih + y0) * iw * c + k0,
                                                   row1: src + (image * ih + y1) * iw * c + k0,
                                                   column: resize.columns[x], dy: dy, channels: width, into: stage + j * width)
            }
            // The staged pixels, `[rows][width]`, as a tile of `rows` NHWC pixels of `width` channels.
            transposeChunk(stage, pixels: rows, groups: 1, k: width, channels: 0..<width, to: dst + group * 8)
        }
    }

    /// Adds the nonzeros `j ..< end` of one output channel over `G.count` pixel groups of the
    /// transposed chunk `x` (`[chunkChannels][stride]`) to `row` (`[stride]`, raw sums): from `+0`,
    /// or from the sums already in `row` when `resume`.
    @inline(__always)
    func accumulate<G: SparseGroupCount, V: SparseValueElements>(_: G.Type, _: V.Type, x: UnsafePointer<Float>,
                                                                 from start: Int, to end: Int, resume: Bool,
                                                                 row: UnsafeMutablePointer<Float>) {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
        var a8 = SIMD8<Float>(), a9 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a12 = SIMD8<Float>(), a13 = SIMD8<Float>()
        if resume {
            a0 = loadVector(row)
            if G.count > 1 { a1 = loadVector(row + 8) }
            if G.count > 2 { a2 = loadVector(row + 16) }
            if G.count > 3 { a3 = loadVector(row + 24) }
            if G.count > 4 { a4 = loadVector(row + 32) }
            if G.count > 5 { a5 = loadVector(row + 40) }
            if G.count > 6 { a6 = loadVector(row + 48) }
            if G.count > 7 { a7 = loadVector(row + 56) }
            if G.count > 8 { a8 = loadVector(row + 64) }
            if G.count > 9 { a9 = loadVector(row + 72) }
            if G.count > 10 { a10 = loadVector(row + 80) }
            if G.count > 11 { a11 = loadVector(row + 88) }
            if G.count > 12 { a12 = loadVector(row + 96) }
            if G.count > 13 { a13 = loadVector(row + 104) }
        }
        let values = UnsafeRawPointer(self.values).assumingMemoryBound(to: V.Element.self), offsets = self.offsets
        @inline(__always) func step(_ j: Int, _ offset: Int) {
            let w = V.broadcast(values + j)
            let p = x + offset
            a0.multiplyAdd(loadVector(p), w)
            if G.count > 1 { a1.multiplyAdd(loadVector(p + 8), w) }
            if G.count > 2 { a2.multiplyAdd(loadVector(p + 16), w) }
            if G.count > 3 { a3.multiplyAdd(loadVector(p + 24), w) }
            if G.count > 4 { a4.multiplyAdd(loadVector(p + 32), w) }
            if G.count > 5 { a5.multiplyAdd(loadVector(p + 40), w) }
            if G.count > 6 { a6.multiplyAdd(loadVector(p + 48), w) }
            if G.count > 7 { a7.multiplyAdd(loadVector(p + 56), w) }
            if G.count > 8 { a8.multiplyAdd(loadVector(p + 64), w) }
            if G.count > 9 { a9.multiplyAdd(loadVector(p + 72), w) }
            if G.count > 10 { a10.multiplyAdd(loadVector(p + 80), w) }
            if G.count > 11 { a11.multiplyAdd(loadVector(p + 88), w) }
            if G.count > 12 { a12.multiplyAdd(loadVector(p + 96), w) }
            if G.count > 13 { a13.multiplyAdd(loadVector(p + 104), w) }
        }
        var j = start
        if j &+ 4 <= end {
            // Four 16-bit offsets per 64-bit load, loaded two rounds ahead (the multiply-adds'
            // addresses are then ready when they issue; at most 8 entries past the row's end are
            // read: the next rows', or the spare slots).
            let raw = UnsafeRawPointer(offsets)
            // 0 (end ≥ 4 here), but not provably so: `| zero` keeps LLVM from folding the
            // loop-carried values back into loads at the top of the loop.
            let zero = UInt64(truncatingIfNeeded: end &>> 48)
            var packed = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 2 &* j, as: UInt64.self))
            var following = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 2 &* (j &+ 4), as: UInt64.self)) | zero
            repeat {
                let next = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 2 &* (j &+ 8), as: UInt64.self))
                step(j, Int(truncatingIfNeeded: packed & 0xffff))
                step(j &+ 1, Int(truncatingIfNeeded: (packed &>> 16) & 0xffff))
                step(j &+ 2, Int(truncatingIfNeeded: (packed &>> 32) & 0xffff))
                step(j &+ 3, Int(truncatingIfNeeded: packed &>> 48))
                packed = following
                following = next | zero
                j &+= 4
            } while j &+ 4 <= end
        }
        while j < end {
            step(j, Int(offsets[j]))
            j &+= 1
        }
        storeVector(a0, row)
        if G.count > 1 { storeVector(a1, row + 8) }
        if G.count > 2 { storeVector(a2, row + 16) }
        if G.count > 3 { storeVector(a3, row + 24) }
        if G.count > 4 { storeVector(a4, row + 32) }
        if G.count > 5 { storeVector(a5, row + 40) }
        if G.count > 6 { storeVector(a6, row + 48) }
        if G.count > 7 { storeVector(a7, row + 56) }
        if G.count > 8 { storeVector(a8, row + 64) }
        if G.count > 9 { storeVector(a9, row + 72) }
        if G.count > 10 { storeVector(a10, row + 80) }
        if G.count > 11 { storeVector(a11, row + 88) }
        if G.count > 12 { storeVector(a12, row + 96) }
        if G.count > 13 { storeVector(a13, row + 104) }
    }

    /// Writes one block of raw sums (`rows`: `[channels ≤ 8][stride]`) to the NHWC output `out`
    /// (`[pixels][n]`, columns `cb ..< cb+channels`) after the epilogue: bias, the clamp (max then
    /// min), then with `residual` `act2(v + residual)` (`+0` past `residual.channels`). Blocks of 8
    /// channels are transposed (a partial last pixel group too: `rows` has `stride` ≥ its end
    /// columns); fewer channels, or a skip ending inside the block, run the same operations one
    /// value at a time.
    @inline(__always)
    func store(_ rows: UnsafePointer<Float>, pixels: Int, channel0 cb: Int, channels cn: Int, n: Int,
               residual: GemmResidual?, out: UnsafeMutablePointer<Float>) {
        let ld = stride
        let lo = activation.lowerBound, hi = activation.upperBound
        var p = 0
        // A skip narrower than these 8 channels (a folded channel PAD: `residual.channels`) takes
        // the scalar form, which adds `+0` past its last channel.
        if cn == 8 && (residual.map { $0.channels >= cb &+ 8 } ?? true) {
            let b = loadVector(bias + cb)
            let lo8 = SIMD8<Float>(repeating: lo), hi8 = SIMD8<Float>(repeating: hi)
            let lo2 = SIMD8<Float>(repeating: residual?.activation.lowerBound ?? -.infinity)
            let hi2 = SIMD8<Float>(repeating: residual?.activation.upperBound ?? .infinity)
            @inline(__always) func finish(_ v: SIMD8<Float>, _ q: Int) {
                // Bias after the sum, then max-then-min: TFLite's order (ActivationFunctionWithMinMax).
                // `blaze_max8(lo, r)` is `r < lo ? lo : r` and `blaze_min8(hi, r)` is `r > hi ? hi : r`
                // (one instruction each; Swift's `replacing(with:where:)` made this step spill).
                var r = v + b
                r = blaze_min8(hi8, blaze_max8(lo8, r))
                if let residual {
                    r = r + loadVector(residual.data + (q &* residual.ld &+ cb))
                    r = blaze_min8(hi2, blaze_max8(lo2, r))
                }
                storeVector(r, out + (q &* n &+ cb))
            }
            while p + 8 <= pixels {
                let t = transpose8x8(rows + p, ld: ld, kept: true)
                finish(t.0, p); finish(t.1, p + 1); finish(t.2, p + 2); finish(t.3, p + 3)
                finish(t.4, p + 4); finish(t.5, p + 5); finish(t.6, p + 6); finish(t.7, p + 7)
                p += 8
            }
            if p < pixels {
                // The partial last group: its 8 columns are inside the row stride (the columns
                // past `pixels` hold the sums of zero pixels), so it is transposed whole and its
                // first `pixels − p` pixels are stored.
                let t = transpose8x8(rows + p, ld: ld, kept: true)
                let m = pixels - p
                finish(t.0, p)
                if m > 1 { finish(t.1, p + 1) }
                if m > 2 { finish(t.2, p + 2) }
                if m > 3 { finish(t.3, p + 3) }
                if m > 4 { finish(t.4, p + 4) }
                if m > 5 { finish(t.5, p + 5) }
                if m > 6 { finish(t.6, p + 6) }
                p = pixels
            }
        }
        while p < pixels {
            for c in 0..<cn {
                // The scalar form of the same epilogue: bias, max then min, skip, max then min.
                var r = rows[c * ld + p] + bias[cb + c]
                if r < lo { r = lo }
                if r > hi { r = hi }
                if let residual {
                    r = r + residual.value(row: p, col: cb + c)
                    if r < residual.activation.lowerBound { r = residual.activation.lowerBound }
                    if r > residual.activation.upperBound { r = residual.activation.upperBound }
                }
                out[p * n + cb + c] = r
            }
            p += 1
        }
    }
}

/// 1 when `w != 0` (NaN included), 0 for `±0`, by integer arithmetic on the bits: the magnitude
/// bits plus `2³¹ − 1` reach bit 31 exactly when they are not all zero. (A float compare, or
/// a test the compiler turns back into one, becomes two branches that mispredict on random zeros.)
@inline(__always)
func isNonzero(_ w: Float) -> Int {
    Int(((w.bitPattern & 0x7fff_ffff) &+ 0x7fff_ffff) >> 31)
}

/// Pixel groups (of 8) a sparse kernel specialization handles, 1...14, fixed at compile time.
protocol SparseGroupCount { static var count: Int { get } }
enum Groups14: SparseGroupCount { static var count: Int { 14 } }
enum Groups13: SparseGroupCount { static var count: Int { 13 } }
enum Groups12: SparseGroupCount { static var count: Int { 12 } }
enum Groups11: SparseGroupCount { static var count: Int { 11 } }
enum Groups10: SparseGroupCount { static var count: Int { 10 } }
enum Groups9: SparseGroupCount { static var count: Int { 9 } }
enum Groups8: SparseGroupCount { static var count: Int { 8 } }
enum Groups7: SparseGroupCount { static var count: Int { 7 } }
enum Groups6: SparseGroupCount { static var count: Int { 6 } }
enum Groups5: SparseGroupCount { static var count: Int { 5 } }
enum Groups4: SparseGroupCount { static var count: Int { 4 } }
enum Groups3: SparseGroupCount { static var count: Int { 3 } }
enum Groups2: SparseGroupCount { static var count: Int { 2 } }
enum Groups1: SparseGroupCount { static var count: Int { 1 } }

/// Stores the eight vectors of `t` as rows `d`, `d + ld`, …, `d + 7·ld` (8 floats each).
@inline(__always)
func storeRows(_ t: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>),
               _ d: UnsafeMutablePointer<Float>, ld: Int) {
    storeVector(t.0, d); storeVector(t.1, d + ld); storeVector(t.2, d + 2 * ld); storeVector(t.3, d + 3 * ld)
    storeVector(t.4, d + 4 * ld); storeVector(t.5, d + 5 * ld); storeVector(t.6, d + 6 * ld); storeVector(t.7, d + 7 * ld)
}

/// The 8×8 block at `src` (rows `src + r·ld`, 8 floats each) transposed: result `i` holds element
/// `i` of every row. `blaze_transpose8x8` (CBlazeTarget): two 128-bit row halves per register, then
/// unpacks and shuffles, 16 shuffles per block. (Four 4×4 transposes of the halves in Swift SIMD4,
/// the form before, took ~40; per-lane assembly was 1.5× slower still.)
@inline(__always)
func transpose8x8(_ src: UnsafePointer<Float>, ld: Int, kept: Bool = false)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    // Eight contiguous SIMD8 (a homogeneous tuple, 64 floats); kept in registers once inlined.
    var t = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
             SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
    withUnsafeMutablePointer(to: &t) {
        UnsafeMutableRawPointer($0).withMemoryRebound(to: Float.self, capacity: 64) {
            // `kept`: the rows go through an empty asm statement (`blaze_transpose8x8_kept`), for
            // blocks that are computed on next.
            if kept { blaze_transpose8x8_kept(src, ld, $0) } else { blaze_transpose8x8(src, ld, $0) }
        }
    }
    return t
}

/// How the sparse kernel's values are stored: floats, or binary16 bits widened exactly as each is
/// broadcast (`SparseConv1x1Operator.valuesAreHalf`). Both give a lane the same float.
protocol SparseValueElements {
    associatedtype Element
    /// The value at `p` in all 8 lanes.
    static func broadcast(_ p: UnsafePointer<Element>) -> SIMD8<Float>
}
enum Float32SparseValues: SparseValueElements {
    @inline(__always) static func broadcast(_ p: UnsafePointer<Float>) -> SIMD8<Float> { SIMD8(repeating: p.pointee) }
}
enum HalfSparseValues: SparseValueElements {
    @inline(__always) static func broadcast(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> { blaze_broadcast_half8(p) }
}
