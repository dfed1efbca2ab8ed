import BlazeKernels
import XCTest

/// Packing from rows read on demand (`WeightRows` with a reader, what the interpreter does for a
/// model's FLOAT16 / sparse weights) and into a `WeightStore` (huge-page chunks, panels packed over
/// a pool) must give the same packed weights as packing a `[Float]` array: checked through the
/// GEMM's output, bit for bit, over the shapes that select each panel layout.
final class WeightPackingTests: XCTestCase {
    /// One GEMM output (`C[13][n]`, threads = 1) for packed weights `packed`.
    private func output(_ packed: PackedGemmWeights, a: [Float], k: Int, n: Int, pool: ThreadPool) -> [Float] {
        collect(13 * n) { gemm(m: 13, a: a, lda: k, weights: packed, activation: .relu6, c: $0, ldc: n, pool: pool) }
    }

    func testRowsReaderAndStoreGiveTheSamePackedWeightsAsAnArray() {
        var rng = SeededGenerator(seed: 41)
        let pool = ThreadPool(threads: 1)
        for variant in GemmVariant.all {
            let backend = variant.backend, lanes = variant.lanes
            // One store for every shape: pieces of many layers share its chunks (n·k up to 130·300).
            let store = WeightStore(pool: ThreadPool(threads: 2))
            var kept: [(PackedGemmWeights, [Float], [Float], Int, Int)] = []
            for n in [1, 3, 8, 9, 16, 17, 24, 33, 39, 40, 48, 64, 130] {
                for k in [1, 7, 8, 9, 33, 300] {
                    let w = randomFloats(n * k, &rng), bias = randomFloats(n, &rng), a = randomFloats(13 * k, &rng)
                    let label = "\(variant) n \(n) k \(k)"
                    let reference = bias.withUnsafeBufferPointer {
                        PackedGemmWeights(weights: w, bias: $0.baseAddress, n: n, k: k, backend: backend, lanes: lanes)
                    }
                    let asked = RowRanges()
                    let reader = WeightRows(n: n, k: k) { first, count, into in
                        asked.add(first..<(first + count))
                        for i in 0..<(count * k) { into[i] = w[first * k + i] }
                    }
                    let expected = output(reference, a: a, k: k, n: n, pool: pool)
                    let fromReader = bias.withUnsafeBufferPointer {
                        PackedGemmWeights(rows: reader, bias: $0.baseAddress, backend: backend, lanes: lanes)
                    }
                    // Every row asked for exactly once, in whole panels.
                    XCTAssertEqual(asked.sorted, (0..<n).map { $0 }, label)
                    assertBitIdentical(output(fromReader, a: a, k: k, n: n, pool: pool), expected, "\(label) reader")
                    let inStore = w.withUnsafeBufferPointer { wp in
                        bias.withUnsafeBufferPointer {
                            PackedGemmWeights(rows: WeightRows(n: n, k: k, values: wp.baseAddress!), bias: $0.baseAddress,
                                              backend: backend, store: store, lanes: lanes)
                        }
                    }
                    assertBitIdentical(output(inStore, a: a, k: k, n: n, pool: pool), expected, "\(label) values, store")
                    let readerInStore = bias.withUnsafeBufferPointer {
                        PackedGemmWeights(rows: reader, bias: $0.baseAddress, backend: backend, store: store, lanes: lanes)
                    }
                    assertBitIdentical(output(readerInStore, a: a, k: k, n: n, pool: pool), expected, "\(label) reader, store")
                    kept.append((readerInStore, a, expected, n, k))
                }
            }
            // After `finish()` (staging freed, chunk tail handed back) every piece is still intact:
            // no piece overlaps another and none lost its pages.
            store.finish()
            for (packed, a, expected, n, k) in kept {
                assertBitIdentical(output(packed, a: a, k: k, n: n, pool: pool), expected, "\(variant) n \(n) k \(k) after finish")
            }
        }
    }

    /// `bytesInUse` is the sum of the pieces handed out, each rounded up to 64 bytes, across chunks:
    /// the 1000 × 1100 layer (4.4 MB) does not fit in the first 4 MiB chunk and opens a second.
    func testStoreCountsItsPiecesAcrossChunks() {
        let store = WeightStore()
        XCTAssertEqual(store.bytesInUse, 0)
        var expected = 0
        var kept: [PackedGemmWeights] = []
        for (n, k) in [(3, 5), (1000, 1100), (7, 9), (2, 8)] {
            let w = [Float](repeating: 0.5, count: n * k)
            // OpenBLAS's layout is the rows as they are: n·k floats, whatever the build's lanes.
            kept.append(w.withUnsafeBufferPointer {
                PackedGemmWeights(rows: WeightRows(n: n, k: k, values: $0.baseAddress!), bias: nil, backend: .openBLAS, store: store)
            })
            expected += (n * k * MemoryLayout<Float>.stride + 63) / 64 * 64
            XCTAssertEqual(store.bytesInUse, expected, "after \(n)x\(k)")
        }
        XCTAssertEqual(kept.count, 4)
    }

    /// The conv built from rows (the interpreter's path) computes exactly what the `[Float]`
    /// initializer's conv computes, on real layer shapes of the pose models; a weights array of the
    /// wrong size still fails with the same error.
    func testConvFromRowsMatchesConvFromArray() throws {
        var rng = SeededGenerator(seed: 7)
        let pool = ThreadPool(threads: 2)
        let store = WeightStore(pool: pool)
        let shapes: [(input: [Int], weights: [Int], stride: Int, padding: Padding)] = [
            ([1, 226, 226, 3], [24, 3, 3, 3], 2, .valid), ([1, 56, 56, 24], [144, 1, 1, 24], 1, .same),
            ([1, 28, 28, 32], [32, 3, 3, 32], 1, .same), ([1, 16, 16, 48], [1, 3, 3, 48], 1, .same),
            ([1, 8, 8, 288], [39, 1, 1, 288], 1, .valid),
        ]
        for s in shapes {
            let w = randomFloats(s.weights.reduce(1, *), &rng), bias = randomFloats(s.weights[0], &rng)
            let input = randomFloats(s.input.reduce(1, *), &rng)
            let fromArray = try Conv2DOperator(inputShape: s.input, weights: w, weightsShape: s.weights, bias: bias,
                                               strideHeight: s.stride, strideWidth: s.stride, padding: s.padding,
                                               activation: .relu6, backend: .native)
            let k = s.weights.dropFirst().reduce(1, *)
            let rows = WeightRows(n: s.weights[0], k: k) { first, count, into in
                for i in 0..<(count * k) { into[i] = w[first * k + i] }
            }
            let fromRows = try Conv2DOperator(inputShape: s.input, weights: rows, weightsShape: s.weights, bias: bias,
                                              strideHeight: s.stride, strideWidth: s.stride, padding: s.padding,
                                              activation: .relu6, backend: .native, store: store)
            assertBitIdentical(runConv(fromRows, input, pool: pool), runConv(fromArray, input, pool: pool), "conv \(s.weights)")
        }
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 8, 8, 4], weights: [Float](repeating: 0, count: 35),
                                                weightsShape: [4, 3, 3, 4], bias: [], strideHeight: 1, strideWidth: 1,
                                                padding: .same, activation: .none)) { error in
            XCTAssertEqual("\(error)", "\(KernelError.bufferTooSmall(op: "CONV_2D", what: "weights", needed: 144, got: 35))")
        }
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 8, 8, 4], weights: [], weightsShape: [4, 3, 3, 4], bias: [],
                                                strideHeight: 1, strideWidth: 1, padding: .same, activation: .none)) { error in
            XCTAssertEqual("\(error)", "\(KernelError.bufferTooSmall(op: "CONV_2D", what: "weights", needed: 144, got: 0))")
        }
    }

    /// The rows a reader was asked for (readers may be called from the store's pool threads).
    private final class RowRanges: @unchecked Sendable {
        private let lock = NSLock()
        private var rows: [Int] = []
        func add(_ range: Range<Int>) { lock.lock(); rows += range; lock.unlock() }
        var sorted: [Int] { lock.lock(); defer { lock.unlock() }; return rows.sorted() }
    }

    /// `array()` gives the rows in order, whatever the source.
    func testWeightRowsArray() {
        let values: [Float] = (0..<12).map { Float($0) }
        let fromValues = values.withUnsafeBufferPointer { WeightRows(n: 3, k: 4, values: $0.baseAddress!).array() }
        let fromReader = WeightRows(n: 3, k: 4) { first, count, into in
            for i in 0..<(count * 4) { into[i] = values[first * 4 + i] }
        }.array()
        XCTAssertEqual(fromValues, values)
        XCTAssertEqual(fromReader, values)
    }
}
