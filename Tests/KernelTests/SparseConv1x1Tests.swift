import BlazeKernels
import XCTest

/// `SparseConv1x1Operator` against its naive twin (bit-for-bit) and against the dense native
/// conv (bit-for-bit: same k order, zero weights add +0), for 1, 2 and 3 threads.
final class SparseConv1x1Tests: XCTestCase {
    /// Random weights `[o][i]` with about `zeros` of them exactly 0; row 0 all zero and row 1 fully
    /// dense when there are at least 3 rows.
    func sparseWeights(o: Int, i: Int, zeros: Double, _ rng: inout SeededGenerator) -> [Float] {
        var w = [Float](repeating: 0, count: o * i)
        for r in 0..<o {
            for c in 0..<i {
                let keep = o >= 3 && r == 1 ? true : (o >= 3 && r == 0 ? false : Double.random(in: 0..<1, using: &rng) >= zeros)
                w[r * i + c] = keep ? Float.random(in: -1...1, using: &rng) : 0
            }
        }
        return w
    }

    /// `body` with the nonzero entries of `weights` (`[o][i]`) as a CSR in memory read in place
    /// (``StoredSparseRows``): indices of `width` bytes, float32 values (binary16 bits when `half`:
    /// exact for weights that are halves), after `lead` unused entries (so row 0 starts past 0).
    func withStoredRows<R>(_ weights: [Float], o: Int, i: Int, width: Int, half: Bool = false, lead: Int = 3,
                           _ body: (SparseWeightRows) throws -> R) rethrows -> R {
        var starts: [Int32] = [], columns = [Int](repeating: 1, count: lead), values = [Float](repeating: 9, count: lead)
        for r in 0..<o {
            starts.append(Int32(columns.count))
            for c in 0..<i where weights[r * i + c] != 0 { columns.append(c); values.append(weights[r * i + c]) }
        }
        starts.append(Int32(columns.count))
        let n = columns.count
        let indexBytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, n * width), alignment: 16)
        let valueBytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, n * (half ? 2 : 4)), alignment: 16)
        defer { indexBytes.deallocate(); valueBytes.deallocate() }
        for e in 0..<n {
            switch width {
            case 1: indexBytes.storeBytes(of: UInt8(columns[e]), toByteOffset: e, as: UInt8.self)
            case 2: indexBytes.storeBytes(of: UInt16(columns[e]).littleEndian, toByteOffset: 2 * e, as: UInt16.self)
            default: indexBytes.storeBytes(of: Int32(columns[e]).littleEndian, toByteOffset: 4 * e, as: Int32.self)
            }
            if half {
                valueBytes.storeBytes(of: Float16(values[e]).bitPattern.littleEndian, toByteOffset: 2 * e, as: UInt16.self)
            } else {
                valueBytes.storeBytes(of: values[e].bitPattern.littleEndian, toByteOffset: 4 * e, as: UInt32.self)
            }
        }
        let stored = StoredSparseRows(rowStarts: starts, indices: UnsafeRawPointer(indexBytes), indexWidth: width,
                                      values: UnsafeRawPointer(valueBytes), valuesAreHalf: half)
        XCTAssertNotNil(stored)
        // The reader is not called when the CSR is given (it would give no entries).
        let rows = SparseWeightRows(n: o, k: i, maxRowEntries: 0, nonzeroCount: n - lead, storedWhenAllNonzero: stored) { _, _, _ in 0 }
        return try body(rows)
    }

    func runSparse(_ op: SparseConv1x1Operator, _ input: [Float], residual: [Float]?, skipActivation: FusedActivation,
                   pool: ThreadPool) -> [Float] {
        var out = [Float](repeating: .nan, count: op.outputShape.elementCount)
        var scratch = [Float](repeating: .nan, count: op.scratchCount(threads: pool.threadCount))
        let skip = residual ?? [0]
        input.withUnsafeBufferPointer { ip in
            skip.withUnsafeBufferPointer { rp in
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress!, pool: pool,
                               residual: residual == nil ? nil : GemmResidual(data: rp.baseAddress!, ld: op.outputShape.channels,
                                                                              activation: skipActivation))
                    }
                }
            }
        }
        return out
    }

    /// A skip narrower than the output (a folded channel PAD, `GemmResidual.channels`: BlazeFace's
    /// shortcuts) adds `+0` to the channels past it, as the dense GEMM's epilogue does: the same
    /// bits as `Conv2DOperator` for every pool, skip widths inside and at the end of an 8-channel
    /// block, and channel tails.
    func testNarrowResidual() throws {
        for (n, (pixels, i, o, skipChannels)) in [(70, 16, 24, 12), (64, 24, 16, 8), (33, 40, 21, 20), (100, 8, 48, 1)].enumerated() {
            var rng = SeededGenerator(seed: UInt64(3300 + n))
            let shape = [1, 1, pixels, i]
            let input = randomFloats(pixels * i, &rng, range: -3...3)
            let weights = sparseWeights(o: o, i: i, zeros: 0.75, &rng)
            let bias = randomFloats(o, &rng)
            let skip = randomFloats(pixels * skipChannels, &rng, range: -3...3)
            let sparse = try SparseConv1x1Operator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i], bias: bias,
                                                   activation: .relu6)
            let dense = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i], bias: bias,
                                           strideHeight: 1, strideWidth: 1, padding: .valid, activation: .relu6, backend: .native)
            func run(_ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, GemmResidual) -> Void) -> [Float] {
                collect(pixels * o) { out in
                    input.withUnsafeBufferPointer { ip in skip.withUnsafeBufferPointer { rp in
                        body(ip.baseAddress!, out, GemmResidual(data: rp.baseAddress!, ld: skipChannels, activation: .none,
                                                                channels: skipChannels))
                    } }
                }
            }
            let expected = run { x, out, r in
                var scratch = [Float](repeating: 0, count: max(1, dense.scratchCount(threads: 1)))
                scratch.withUnsafeMutableBufferPointer { dense.run(input: x, output: out, scratch: $0.baseAddress!, pool: Pools.one, residual: r) }
            }
            for pool in Pools.all {
                let got = run { x, out, r in
                    var scratch = [Float](repeating: .nan, count: sparse.scratchCount(threads: pool.threadCount))
                    scratch.withUnsafeMutableBufferPointer { sparse.run(input: x, output: out, scratch: $0.baseAddress!, pool: pool, residual: r) }
                }
                assertBitIdentical(got, expected, "narrow skip case \(n) threads=\(pool.threadCount)")
            }
        }
    }

    func runDense(_ op: Conv2DOperator, _ input: [Float], residual: [Float]?, skipActivation: FusedActivation,
                  pool: ThreadPool) -> [Float] {
        var out = [Float](repeating: .nan, count: op.outputShape.elementCount)
        var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: pool.threadCount)))
        let skip = residual ?? [0]
        input.withUnsafeBufferPointer { ip in
            skip.withUnsafeBufferPointer { rp in
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress!, pool: pool,
                               residual: residual == nil ? nil : GemmResidual(data: rp.baseAddress!, ld: op.outputShape.channels,
                                                                              activation: skipActivation))
                    }
                }
            }
        }
        return out
    }

    /// One shape: sparse operator vs twin (bit-for-bit, every pool) and vs the dense native conv.
    func check(input shape: [Int], o: Int, zeros: Double, activation: FusedActivation, withResidual: Bool,
               bias withBias: Bool = true, seed: UInt64, label: String) throws {
        var rng = SeededGenerator(seed: seed)
        let i = shape[3], pixels = shape[0] * shape[1] * shape[2]
        let input = randomFloats(shape.reduce(1, *), &rng, range: -3...3)
        let weights = sparseWeights(o: o, i: i, zeros: zeros, &rng)
        let bias = withBias ? randomFloats(o, &rng) : []
        let residual = withResidual ? randomFloats(pixels * o, &rng, range: -3...3) : nil
        let skipActivation: FusedActivation = withResidual ? .relu : .none
        let op = try SparseConv1x1Operator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i],
                                           bias: bias, activation: activation)
        XCTAssertEqual(op.outputShape.dims, [shape[0], shape[1], shape[2], o], label)
        XCTAssertEqual(op.nonzeroCount, weights.filter { $0 != 0 }.count, label)
        // Tiles of at most 14 groups of 8 pixels for an expansion with a narrow input, else 8; a
        // small odd count of several tiles is made even (one fewer if the tiles grow by one group at most).
        let groups = (pixels + 7) / 8, cap = o >= 2 * i && 112 * i <= SparseConv1x1Operator.defaultChunkBudget ? 14 : 8
        XCTAssertEqual(SparseConv1x1Operator.defaultTileGroups(inputChannels: i, outputChannels: o), cap, label)
        var tiles = (groups + cap - 1) / cap
        if tiles > 1, tiles < 16, tiles % 2 == 1 { tiles += (groups + tiles - 2) / (tiles - 1) <= min(cap + 1, 14) ? -1 : 1 }
        XCTAssertEqual(op.tileCount, tiles, label)
        XCTAssertLessThanOrEqual(op.tileGroups, SparseConv1x1Operator.maxTileGroups, label)
        XCTAssertEqual(op.chunkCount, (i + op.chunkChannels - 1) / op.chunkChannels, label)
        var ref = [Float](repeating: .nan, count: pixels * o)
        let skip = residual ?? [0]
        input.withUnsafeBufferPointer { ip in
            weights.withUnsafeBufferPointer { wp in
                bias.withUnsafeBufferPointer { bp in
                    skip.withUnsafeBufferPointer { rp in
                        ref.withUnsafeMutableBufferPointer { out in
                            Reference.sparseConv1x1(pixels: pixels, inputChannels: i, outputChannels: o,
                                                    input: ip.baseAddress!, weights: wp.baseAddress!,
                                                    bias: withBias ? bp.baseAddress : nil, activation: activation,
                                                    output: out.baseAddress!,
                                                    residual: residual == nil ? nil : GemmResidual(data: rp.baseAddress!, ld: o,
                                                                                                   activation: skipActivation))
                        }
                    }
                }
            }
        }
        let dense = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i], bias: bias,
                                       strideHeight: 1, strideWidth: 1, padding: .valid, activation: activation,
                                       backend: .native)
        // The default geometry, and other tile sizes (1...14 groups) and input-channel chunkings
        // (one chunk — capped so that the 16-bit offsets fit —, chunks of 8 and 16 channels:
        // partial sums kept between chunks), every thread count.
        var variants: [(SparseConv1x1Operator, String)] = [(op, "default")]
        for (groups, chunk) in [(14, i), (12, 8), (10, nil), (9, 16), (8, i), (7, 8), (5, 16), (4, 8), (3, nil), (2, 16),
                                (1, 8)] as [(Int, Int?)] {
            let v = try SparseConv1x1Operator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i], bias: bias,
                                              activation: activation, tileGroups: groups, chunkChannels: chunk)
            XCTAssertLessThanOrEqual(v.tileGroups, groups + 1, label)  // one more to make a small tile count even
            XCTAssertLessThanOrEqual((v.chunkChannels - 1) * 8 * v.tileGroups, 65535, label)  // 16-bit offsets
            variants.append((v, "tile groups \(groups), chunk \(chunk.map(String.init) ?? "default") (\(v.chunkCount) chunks)"))
        }
        // Built from the weights' entries (as read from a model file's CSR), with some stored zeros
        // (skipped) between the nonzeros: the same storage, so the same bits.
        var stored: [[(Int32, Float)]] = []
        for r in 0..<o {
            stored.append((0..<i).compactMap { c in
                let w = weights[r * i + c]
                // Stored zeros (some -0) where the weight is zero, on every fifth column.
                return w != 0 || (r + c) % 5 == 0 ? (Int32(c), w != 0 ? w : ((r + c) % 10 == 0 ? -0.0 : 0)) : nil
            })
        }
        let entryRows = SparseWeightRows(n: o, k: i, maxRowEntries: stored.map(\.count).max() ?? 0,
                                         nonzeroCount: weights.filter { $0 != 0 }.count) { row, columns, values in
            for (e, entry) in stored[row].enumerated() { columns[e] = entry.0; values[e] = entry.1 }
            return stored[row].count
        }
        let fromEntries = try SparseConv1x1Operator(inputShape: shape, weights: entryRows, weightsShape: [o, 1, 1, i],
                                                    bias: bias, activation: activation, store: WeightStore())
        XCTAssertEqual(fromEntries.nonzeroCount, op.nonzeroCount, label)
        variants.append((fromEntries, "from entries"))
        // Built over a pool (blocks of rows on 3 threads, from 64 output channels up): the same storage.
        let pooled = try SparseConv1x1Operator(inputShape: shape, weights: entryRows, weightsShape: [o, 1, 1, i], bias: bias,
                                               activation: activation, store: WeightStore(pool: ThreadPool(threads: 3)))
        variants.append((pooled, "from entries, built on 3 threads"))
        // Built from a CSR read in place (a model file's, e.g.) at every index width that holds
        // the columns, float32 values: the same storage. Once on 3 threads too.
        for width in [1, 2, 4] where width == 4 || i <= (width == 1 ? 256 : 65536) {
            let v = try withStoredRows(weights, o: o, i: i, width: width) {
                try SparseConv1x1Operator(inputShape: shape, weights: $0, weightsShape: [o, 1, 1, i], bias: bias,
                                          activation: activation, store: WeightStore(pool: width == 2 ? ThreadPool(threads: 3) : nil))
            }
            XCTAssertEqual(v.nonzeroCount, op.nonzeroCount, label)
            variants.append((v, "stored CSR, \(8 * width)-bit indices"))
        }
        // Other tile sizes and chunkings from the stored CSR (runs split at chunk boundaries).
        for (groups, chunk) in [(7, 8), (3, 16)] {
            let v = try withStoredRows(weights, o: o, i: i, width: 2) {
                try SparseConv1x1Operator(inputShape: shape, weights: $0, weightsShape: [o, 1, 1, i], bias: bias,
                                          activation: activation, tileGroups: groups, chunkChannels: chunk)
            }
            variants.append((v, "stored CSR, tile groups \(groups), chunk \(chunk) (\(v.chunkCount) chunks)"))
        }
        let d = o > 1 ? Pools.all.map { runDense(dense, input, residual: residual, skipActivation: skipActivation, pool: $0) } : []
        for (variant, name) in variants {
            for (p, pool) in Pools.all.enumerated() {
                let out = runSparse(variant, input, residual: residual, skipActivation: skipActivation, pool: pool)
                assertBitIdentical(out, ref, "\(label) sparse vs twin, \(name), threads=\(pool.threadCount)")
                // The dense native GEMM takes the dot-product kernel (other summation order) when O = 1.
                if o > 1 {
                    assertBitIdentical(out, d[p], "\(label) sparse vs dense native, \(name), threads=\(pool.threadCount)")
                }
            }
        }
    }

    func testEdgeShapes() throws {
        var n = 0
        // 1 pixel, odd pixel counts (not multiples of 8 or 32), channels 1/3/17, batch 2.
        for (b, h, w) in [(1, 1, 1), (1, 1, 7), (1, 3, 11), (2, 5, 7), (1, 8, 4), (1, 9, 9)] {
            for (i, o) in [(1, 1), (3, 17), (17, 3), (17, 17), (24, 48)] {
                for act in FusedActivation.allCases {
                    try check(input: [b, h, w, i], o: o, zeros: 0.75, activation: act, withResidual: n % 2 == 1,
                              bias: n % 3 != 0, seed: UInt64(500 + n), label: "edge \(n) [\(b),\(h),\(w),\(i)] o=\(o) \(act)")
                    n += 1
                }
            }
        }
        // All-zero weights (bias only) and fully dense weights.
        try check(input: [1, 5, 13, 16], o: 9, zeros: 1, activation: .relu6, withResidual: true, seed: 7, label: "all zero")
        try check(input: [1, 5, 13, 16], o: 9, zeros: 0, activation: .none, withResidual: false, seed: 8, label: "dense")
    }

    /// Every 1×1 stride-1 layer of the pose detector and the sparse face detector, ~75% zeros.
    func testRealLayerShapes() throws {
        let shapes = realConvShapes.filter {
            ($0.model == "pose_detection" || $0.model == "face_detection_full_range_sparse")
                && $0.weights[1] == 1 && $0.weights[2] == 1 && $0.stride == (1, 1)
        }
        XCTAssertGreaterThan(shapes.count, 40)
        for (n, s) in shapes.enumerated() {
            try check(input: s.input, o: s.weights[0], zeros: 0.75, activation: s.activation, withResidual: n % 3 == 0,
                      seed: UInt64(2000 + n), label: "\(s.model) \(s.input) w\(s.weights)")
        }
    }

    /// With a ``SparseConv1x1Operator/resize``: bit-identical to `ResizeBilinearOperator.run` then
    /// the conv on its output, for every thread count, tile width and chunking, with and without a
    /// residual; channel tails (scalar path), several images, all three coordinate modes.
    func testResizedInput() throws {
        struct Case { var batch = 1, h: Int, w: Int, oh: Int, ow: Int, i: Int, o: Int
                      var align = false, half = true, tileGroups: Int? = nil, chunk: Int? = nil }
        let cases = [
            Case(h: 7, w: 7, oh: 14, ow: 14, i: 48, o: 24),                                  // the detector's 2× upsampling
            Case(h: 7, w: 7, oh: 14, ow: 14, i: 1152, o: 192),                                // its real layer (9 chunks)
            Case(h: 14, w: 14, oh: 28, ow: 28, i: 192, o: 96),                                // the other one
            Case(batch: 2, h: 5, w: 3, oh: 9, ow: 7, i: 13, o: 10, half: false),              // tails, 2 images
            Case(h: 4, w: 6, oh: 11, ow: 5, i: 21, o: 9, align: true, half: false, tileGroups: 1, chunk: 8),
            Case(h: 6, w: 6, oh: 3, ow: 4, i: 16, o: 40, tileGroups: 3),                      // downsampling
            Case(h: 1, w: 1, oh: 3, ow: 2, i: 8, o: 2),
        ]
        for (n, t) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(2600 + n))
            let source = [t.batch, t.h, t.w, t.i], resized = [t.batch, t.oh, t.ow, t.i]
            let input = randomFloats(source.reduce(1, *), &rng, range: -3...3)
            let weights = sparseWeights(o: t.o, i: t.i, zeros: 0.75, &rng)
            let bias = randomFloats(t.o, &rng)
            let residual = randomFloats(t.batch * t.oh * t.ow * t.o, &rng, range: -3...3)
            let resize = try ResizeBilinearOperator(inputShape: source, outputHeight: t.oh, outputWidth: t.ow,
                                                    alignCorners: t.align, halfPixelCenters: t.half)
            let fused = try SparseConv1x1Operator(inputShape: resized, weights: weights, weightsShape: [t.o, 1, 1, t.i], bias: bias,
                                                  activation: .relu6, tileGroups: t.tileGroups, chunkChannels: t.chunk,
                                                  resize: resize)
            let apart = try SparseConv1x1Operator(inputShape: resized, weights: weights, weightsShape: [t.o, 1, 1, t.i], bias: bias,
                                                  activation: .relu6, tileGroups: t.tileGroups, chunkChannels: t.chunk)
            var mid = [Float](repeating: .nan, count: resized.reduce(1, *))
            input.withUnsafeBufferPointer { ip in mid.withUnsafeMutableBufferPointer { mp in
                resize.run(input: ip.baseAddress!, output: mp.baseAddress!, pool: Pools.one)
            } }
            for skip in [nil, residual] {
                let expected = runSparse(apart, mid, residual: skip, skipActivation: .relu, pool: Pools.one)
                for pool in Pools.all {
                    let got = runSparse(fused, input, residual: skip, skipActivation: .relu, pool: pool)
                    assertBitIdentical(got, expected, "resized case \(n) residual \(skip != nil) threads=\(pool.threadCount)")
                }
            }
        }
        // The resize must produce the conv's input shape.
        let resize = try ResizeBilinearOperator(inputShape: [1, 4, 4, 8], outputHeight: 8, outputWidth: 8,
                                                alignCorners: false, halfPixelCenters: true)
        XCTAssertThrowsError(try SparseConv1x1Operator(inputShape: [1, 8, 7, 8], weights: [Float](repeating: 0, count: 16),
                                                       weightsShape: [2, 1, 1, 8], bias: [], activation: .none, resize: resize))
    }

    /// A row reader whose columns do not strictly increase (or leave `0..<I`) is refused, not trusted.
    func testRejectsBadEntryRows() {
        for bad in [[3, 3], [5, 2], [1, 8], [-1, 2]] as [[Int32]] {
            let rows = SparseWeightRows(n: 2, k: 8, maxRowEntries: 2, nonzeroCount: 4) { _, columns, values in
                for e in 0..<2 { columns[e] = bad[e]; values[e] = 1 }
                return 2
            }
            XCTAssertThrowsError(try SparseConv1x1Operator(inputShape: [1, 4, 4, 8], weights: rows, weightsShape: [2, 1, 1, 8],
                                                           bias: [], activation: .none), "\(bad)")
        }
        let tooMany = SparseWeightRows(n: 2, k: 8, maxRowEntries: 1, nonzeroCount: 2) { _, columns, values in
            columns[0] = 0; values[0] = 1
            return 2
        }
        XCTAssertThrowsError(try SparseConv1x1Operator(inputShape: [1, 4, 4, 8], weights: tooMany, weightsShape: [2, 1, 1, 8],
                                                       bias: [], activation: .none))
        let wrongSize = SparseWeightRows(n: 2, k: 8, dense: [Float](repeating: 1, count: 15))
        XCTAssertThrowsError(try SparseConv1x1Operator(inputShape: [1, 4, 4, 8], weights: wrongSize, weightsShape: [2, 1, 1, 8],
                                                       bias: [], activation: .none))
    }

    /// Binary16 values widened in place from a stored CSR (runs of every length, so every tail
    /// of the 8- and 4-lane steps): the same bits as the same weights given dense.
    func testStoredHalfValues() throws {
        var rng = SeededGenerator(seed: 91)
        for (shape, o) in [([1, 7, 7, 192], 70), ([1, 14, 14, 37], 29), ([1, 3, 5, 1152], 24), ([2, 4, 4, 16], 64)] {
            let i = shape[3]
            let weights = sparseWeights(o: o, i: i, zeros: 0.6, &rng).map { Float(Float16($0)) }
            let input = randomFloats(shape.reduce(1, *), &rng, range: -3...3)
            let bias = randomFloats(o, &rng)
            let dense = try SparseConv1x1Operator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i], bias: bias,
                                                  activation: .relu6)
            for width in [2, 4] {
                let stored = try withStoredRows(weights, o: o, i: i, width: width, half: true) {
                    try SparseConv1x1Operator(inputShape: shape, weights: $0, weightsShape: [o, 1, 1, i], bias: bias,
                                              activation: .relu6, store: WeightStore())
                }
                for pool in Pools.all {
                    assertBitIdentical(runSparse(stored, input, residual: nil, skipActivation: .none, pool: pool),
                                       runSparse(dense, input, residual: nil, skipActivation: .none, pool: pool),
                                       "\(shape) o=\(o) \(8 * width)-bit, threads=\(pool.threadCount)")
                }
            }
        }
    }

    /// `halfValues`: weights that are all binary16 are kept as binary16 bits (`valuesAreHalf`,
    /// piece `.sparseHalfValues`), from dense weights, from a stored CSR of halves or floats, with
    /// and without a store, and replayed from the store's journal; one weight that is not a
    /// binary16 keeps every value a float. The same bits as float values in every case, for every
    /// pool (the build's widening: F16C, or the scalar one without it).
    func testHalfValues() throws {
        var rng = SeededGenerator(seed: 92)
        for (shape, o) in [([1, 7, 7, 192], 70), ([1, 14, 14, 37], 29), ([2, 4, 4, 16], 64), ([1, 9, 9, 24], 3)] {
            let i = shape[3]
            let exact = sparseWeights(o: o, i: i, zeros: 0.7, &rng).map { Float(Float16($0)) }
            var inexact = exact
            if let k = inexact.lastIndex(where: { $0 != 0 }) { inexact[k] = inexact[k].nextUp }   // 24 significant bits
            let input = randomFloats(shape.reduce(1, *), &rng, range: -3...3)
            let bias = randomFloats(o, &rng)
            for (weights, half) in [(exact, true), (inexact, false)] {
                let label = "\(shape) o=\(o) \(half ? "halves" : "one float")"
                let float = try SparseConv1x1Operator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i],
                                                      bias: bias, activation: .relu6)
                XCTAssertFalse(float.valuesAreHalf, label)
                var ops = [try SparseConv1x1Operator(inputShape: shape, weights: weights, weightsShape: [o, 1, 1, i],
                                                     bias: bias, activation: .relu6, halfValues: true)]
                let store = WeightStore()
                ops.append(try SparseConv1x1Operator(inputShape: shape, weights: SparseWeightRows(n: o, k: i, dense: weights),
                                                     weightsShape: [o, 1, 1, i], bias: bias, activation: .relu6,
                                                     store: store, halfValues: true))
                XCTAssertEqual(store.journal.last?.kind, half ? .sparseHalfValues : .sparseValues, label)
                let replay = WeightStore(replaying: store.journal, owner: store)
                ops.append(try SparseConv1x1Operator(inputShape: shape, weights: SparseWeightRows(n: o, k: i, dense: weights),
                                                     weightsShape: [o, 1, 1, i], bias: bias, activation: .relu6,
                                                     store: replay, halfValues: true))
                XCTAssertTrue(replay.replayedEverything, label)
                for fileHalves in half ? [false, true] : [false] {
                    ops.append(try withStoredRows(weights, o: o, i: i, width: 2, half: fileHalves) {
                        try SparseConv1x1Operator(inputShape: shape, weights: $0, weightsShape: [o, 1, 1, i], bias: bias,
                                                  activation: .relu6, store: WeightStore(), halfValues: true)
                    })
                }
                for (n, op) in ops.enumerated() {
                    XCTAssertEqual(op.valuesAreHalf, half, "\(label) op \(n)")
                    for pool in Pools.all {
                        assertBitIdentical(runSparse(op, input, residual: nil, skipActivation: .none, pool: pool),
                                           runSparse(float, input, residual: nil, skipActivation: .none, pool: pool),
                                           "\(label) op \(n), threads=\(pool.threadCount)")
                    }
                }
            }
        }
    }

    /// A stored CSR with starts that decrease or columns that do not strictly increase below I
    /// is refused, not trusted (at every index width).
    func testRejectsBadStoredRows() {
        func attempt(starts: [Int32], columns: [Int32], width: Int) -> Bool {
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: 4 * max(1, columns.count), alignment: 16)
            let values = [Float](repeating: 1, count: max(1, columns.count))
            defer { bytes.deallocate() }
            for (e, c) in columns.enumerated() {
                switch width {
                case 1: bytes.storeBytes(of: UInt8(truncatingIfNeeded: c), toByteOffset: e, as: UInt8.self)
                case 2: bytes.storeBytes(of: UInt16(truncatingIfNeeded: c), toByteOffset: 2 * e, as: UInt16.self)
                default: bytes.storeBytes(of: c, toByteOffset: 4 * e, as: Int32.self)
                }
            }
            return values.withUnsafeBytes { v in
                let stored = StoredSparseRows(rowStarts: starts, indices: UnsafeRawPointer(bytes), indexWidth: width,
                                              values: v.baseAddress!, valuesAreHalf: false)
                let rows = SparseWeightRows(n: 2, k: 8, maxRowEntries: 0, nonzeroCount: columns.count, storedWhenAllNonzero: stored) { _, _, _ in 0 }
                return (try? SparseConv1x1Operator(inputShape: [1, 4, 4, 8], weights: rows, weightsShape: [2, 1, 1, 8],
                                                   bias: [], activation: .none, chunkChannels: 8)) != nil
            }
        }
        for width in [1, 2, 4] {
            XCTAssertTrue(attempt(starts: [0, 2, 4], columns: [1, 5, 0, 7], width: width), "good, \(width)")
            XCTAssertTrue(attempt(starts: [1, 1, 3], columns: [9, 2, 6], width: width), "good, empty row, \(width)")
            for (starts, columns) in [([0, 2, 4], [3, 3, 0, 1]), ([0, 2, 4], [5, 2, 0, 1]), ([0, 2, 4], [1, 8, 0, 1]),
                                      ([0, 3, 2], [1, 2, 3]), ([-1, 1, 2], [1, 2, 3]), ([0, 1], [1])] as [([Int32], [Int32])] {
                XCTAssertFalse(attempt(starts: starts, columns: columns, width: width), "\(starts) \(columns), \(width)")
            }
        }
        XCTAssertFalse(attempt(starts: [0, 2, 4], columns: [-1, 2, 0, 1], width: 4))
        XCTAssertNil(StoredSparseRows(rowStarts: [0], indices: UnsafeRawPointer(bitPattern: 16)!, indexWidth: 3,
                                      values: UnsafeRawPointer(bitPattern: 16)!, valuesAreHalf: false))
    }

    func testRejectsBadShapes() {
        XCTAssertThrowsError(try SparseConv1x1Operator(inputShape: [1, 4, 4, 8], weights: [Float](repeating: 1, count: 72),
                                                       weightsShape: [1, 3, 3, 8], bias: [], activation: .none))
        XCTAssertThrowsError(try SparseConv1x1Operator(inputShape: [1, 4, 4, 8], weights: [Float](repeating: 1, count: 15),
                                                       weightsShape: [2, 1, 1, 8], bias: [], activation: .none))
        XCTAssertThrowsError(try SparseConv1x1Operator(inputShape: [1, 4, 4, 8], weights: [Float](repeating: 1, count: 8),
                                                       weightsShape: [1, 1, 1, 8], bias: [1, 2], activation: .none))
    }
}
