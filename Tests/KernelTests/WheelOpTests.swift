import BlazeKernels
import XCTest

/// The kernels the wheel's other models need (PRELU, MUL, HARD_SWISH, MEAN, AVERAGE_POOL_2D,
/// FULLY_CONNECTED, STRIDED_SLICE) against their naive twins, on edge shapes and on every real
/// layer shape of those models (`LayerShapes.swift`), with 1, 2 and 3 threads. All but
/// FULLY_CONNECTED do the reference's float operations in its order, so they are compared
/// bitwise; FULLY_CONNECTED within 1e-5 (its N = 1 dot product and `-DBLAZE_FMA` builds
/// reorder or fuse the sums), and bitwise across thread counts and batch paths.
final class WheelOpTests: XCTestCase {
    // MARK: binary (PRELU, MUL; ADD is in ElementwiseTests)

    func checkBinary(_ kind: BinaryKind, _ a: [Int], _ b: [Int], _ act: FusedActivation, seed: UInt64,
                     expected: [Int]? = nil, specials: Bool = false) throws {
        var rng = SeededGenerator(seed: seed)
        var x = randomFloats(a.reduce(1, *), &rng, range: -8...8)
        let y = randomFloats(b.reduce(1, *), &rng, range: -2...2)
        if specials {
            // Zeros of both signs, infinities and NaN go through the same comparisons.
            for (i, v) in [Float(0), -0.0, .infinity, -.infinity, .nan].enumerated() where i * 3 < x.count { x[i * 3] = v }
        }
        let op = try BinaryOperator(kind: kind, aShape: a, bShape: b, activation: act)
        if let expected { XCTAssertEqual(op.outputShape, Array(repeating: 1, count: 4 - expected.count) + expected) }
        let count = op.outputShape.reduce(1, *)
        let ref = collect(count) { Reference.binary(kind, a: x, aShape: a, b: y, bShape: b, activation: act, output: $0) }
        for pool in Pools.all {
            let out = collect(count) { o in op.run(a: x, b: y, output: o, pool: pool) }
            assertBitIdentical(out, ref, "\(kind) \(a) \(b) \(act) threads=\(pool.threadCount)")
        }
    }

    let broadcastCases: [([Int], [Int])] = [
        ([1, 5, 7, 13], [1, 5, 7, 13]), ([1, 5, 7, 13], [13]), ([1, 5, 7, 13], [1, 1, 13]), ([1, 5, 7, 13], [5, 1, 13]),
        ([1, 5, 7, 13], [1, 5, 7, 1]), ([2, 5, 7, 3], [2, 1, 1, 3]), ([1, 1, 1, 13], [1, 5, 7, 13]), ([13], [2, 5, 7, 1]),
        ([2, 1, 7, 3], [1, 5, 1, 3]), ([1, 468, 3], [1]), ([3, 3], [1]), ([1], [4, 4]), ([1, 4, 4], [1, 4, 4]),
        ([1, 64, 64, 16], [1, 1, 1, 16]), ([1, 300, 17], [300, 1]),
        // Two collapsed dims (the per-row loop without index arithmetic): several work units,
        // a per-row scalar on either side.
        ([1, 40, 50, 8], [8]), ([1, 128, 160, 16], [1, 1, 16]), ([7, 9], [7, 1]), ([1, 9], [6, 1]),
    ]

    func testPRelu() throws {
        for (n, s) in realPReluShapes.enumerated() {
            try checkBinary(.prelu, s.input, s.alpha, .none, seed: UInt64(n), expected: s.output)
        }
        for (n, (a, b)) in broadcastCases.enumerated() {
            try checkBinary(.prelu, a, b, .none, seed: UInt64(100 + n), specials: true)
        }
        // By hand: negative inputs scale by their channel's alpha, others pass (−0 stays −0).
        let op = try BinaryOperator(kind: .prelu, aShape: [1, 1, 2, 2], bShape: [1, 1, 2], activation: .none)
        let out = collect(4) { op.run(a: [-2, 3, -0.0, -1], b: [0.5, 0.25], output: $0, pool: Pools.one) }
        XCTAssertEqual(out.map(\.bitPattern), [Float(-1), 3, -0.0, -0.25].map(\.bitPattern))
        XCTAssertThrowsError(try BinaryOperator(kind: .prelu, aShape: [1, 4, 4, 3], bShape: [1, 1, 2], activation: .none))
    }

    func testMul() throws {
        for (n, s) in realMulShapes.enumerated() {
            try checkBinary(.mul, s.a, s.b, s.activation, seed: UInt64(n), expected: s.output)
        }
        for (n, (a, b)) in broadcastCases.enumerated() {
            for act in FusedActivation.allCases {
                try checkBinary(.mul, a, b, act, seed: UInt64(200 + n), specials: act == .none)
            }
        }
        XCTAssertThrowsError(try BinaryOperator(kind: .mul, aShape: [1, 4, 4, 3], bShape: [1, 4, 4, 2], activation: .none))
        XCTAssertThrowsError(try BinaryOperator(kind: .mul, aShape: [2, 1, 1, 1, 2], bShape: [2], activation: .none))
    }

    /// ADD through the generalized kernel on the broadcast cases (the real shapes are in ElementwiseTests).
    func testAddBroadcasts() throws {
        for (n, (a, b)) in broadcastCases.enumerated() { try checkBinary(.add, a, b, .relu6, seed: UInt64(300 + n)) }
    }

    // MARK: HARD_SWISH (the real shapes run in ElementwiseTests.testUnary)

    func testHardSwishKnownValues() throws {
        let x: [Float] = [-4, -3, -1.5, 0, 1, 3, 4, -0.0, .infinity]
        let op = try UnaryOperator(kind: .hardSwish, shape: [x.count])
        let out = collect(x.count) { op.run(input: x, output: $0, pool: Pools.one) }
        // x·relu6(x + 3)/6: −4·0 = −3·0 = −0; −1.5·1.5/6 = −0.375; 1·4/6; 3·6/6; ∞·6/6 = ∞.
        let expected: [Float] = [-0.0, -0.0, -0.375, 0, Float(4) / 6, 3, 4, -0.0, .infinity]
        XCTAssertEqual(out.map(\.bitPattern), expected.map(\.bitPattern))
        // 9 + 8-lane tails: the SIMD and scalar paths agree with the twin on a sweep around the kinks.
        let sweep = (0..<4001).map { Float($0 - 2000) / 250 }
        let sop = try UnaryOperator(kind: .hardSwish, shape: [sweep.count])
        let ref = collect(sweep.count) { Reference.unary(.hardSwish, input: sweep, count: sweep.count, output: $0) }
        for pool in Pools.all {
            assertBitIdentical(collect(sweep.count) { sop.run(input: sweep, output: $0, pool: pool) }, ref, "hard_swish sweep")
        }
    }

    // MARK: MEAN

    func checkMean(_ shape: [Int], _ axes: [Int], keepDims: Bool, seed: UInt64, expected: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(shape.reduce(1, *), &rng, range: -4...4)
        let op = try MeanOperator(inputShape: shape, axes: axes, keepDims: keepDims)
        if let expected { XCTAssertEqual(op.outputShape, expected, "mean \(shape) \(axes) output shape") }
        let count = op.outputShape.reduce(1, *)
        let ref = collect(count) { Reference.mean(input: x, inputShape: shape, axes: op.axes, output: $0) }
        for pool in Pools.all {
            assertBitIdentical(collect(count) { op.run(input: x, output: $0, pool: pool) }, ref,
                               "mean \(shape) axes \(axes) keep=\(keepDims) threads=\(pool.threadCount)")
        }
    }

    func testMean() throws {
        for (n, s) in realMeanShapes.enumerated() {
            try checkMean(s.input, s.axes, keepDims: s.keepDims, seed: UInt64(n), expected: s.output)
        }
        try checkMean([2, 5, 7, 19], [1, 2], keepDims: true, seed: 40, expected: [2, 1, 1, 19])
        try checkMean([2, 5, 7, 19], [2, 1], keepDims: false, seed: 41, expected: [2, 19])
        try checkMean([2, 5, 7, 19], [-1], keepDims: false, seed: 42, expected: [2, 5, 7])
        try checkMean([2, 5, 7, 19], [0], keepDims: true, seed: 43, expected: [1, 5, 7, 19])
        try checkMean([2, 5, 7, 19], [0, 2], keepDims: false, seed: 44, expected: [5, 19])     // not contiguous
        try checkMean([2, 5, 7, 19], [1, 3, -3], keepDims: true, seed: 45, expected: [2, 1, 7, 1])  // duplicate axis
        try checkMean([2, 5, 7, 19], [0, 1, 2, 3], keepDims: false, seed: 46, expected: [])
        try checkMean([3, 130], [0], keepDims: false, seed: 47, expected: [130])
        try checkMean([4, 3, 2, 5, 6], [1, 3], keepDims: false, seed: 48, expected: [4, 2, 6])
        try checkMean([1, 1, 1, 8], [1, 2], keepDims: true, seed: 49, expected: [1, 1, 1, 8])
        try checkMean([5, 4], [], keepDims: false, seed: 50, expected: [5, 4])
        // By hand: the mean of 1, 2, 3, 4 per channel.
        let op = try MeanOperator(inputShape: [1, 2, 2, 2], axes: [1, 2], keepDims: false)
        let out = collect(2) { op.run(input: [1, 10, 2, 20, 3, 30, 4, 40], output: $0, pool: Pools.one) }
        XCTAssertEqual(out, [2.5, 25])
        XCTAssertThrowsError(try MeanOperator(inputShape: [1, 2, 2, 2], axes: [4], keepDims: false))
        XCTAssertThrowsError(try MeanOperator(inputShape: [1, 2, 2, 2], axes: [-5], keepDims: false))
    }

    // MARK: AVERAGE_POOL_2D

    func checkAveragePool(_ shape: [Int], filter: (Int, Int), stride: (Int, Int), padding: Padding, act: FusedActivation,
                          seed: UInt64, expected: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(shape.reduce(1, *), &rng, range: -3...8)
        let op = try AveragePool2DOperator(inputShape: shape, filterHeight: filter.0, filterWidth: filter.1,
                                           strideHeight: stride.0, strideWidth: stride.1, padding: padding, activation: act)
        if let expected { XCTAssertEqual(op.outputShape.dims, expected) }
        let ref = collect(op.outputShape.elementCount) {
            Reference.averagePool2D(input: x, batch: shape[0], channels: shape[3], geometry: op.geometry, activation: act, output: $0)
        }
        for pool in Pools.all {
            assertBitIdentical(collect(op.outputShape.elementCount) { op.run(input: x, output: $0, pool: pool) }, ref,
                               "avgpool \(shape) f\(filter) s\(stride) \(padding) threads=\(pool.threadCount)")
        }
    }

    func testAveragePool() throws {
        for (n, s) in realAveragePoolShapes.enumerated() {
            try checkAveragePool(s.input, filter: s.filter, stride: s.stride, padding: s.padding, act: s.activation,
                                 seed: UInt64(n), expected: s.output)
        }
        try checkAveragePool([2, 7, 9, 11], filter: (3, 3), stride: (2, 2), padding: .same, act: .relu6, seed: 60)
        try checkAveragePool([1, 5, 5, 16], filter: (3, 2), stride: (1, 2), padding: .valid, act: .none, seed: 61)
        try checkAveragePool([1, 1, 1, 3], filter: (2, 2), stride: (2, 2), padding: .same, act: .none, seed: 62)
        try checkAveragePool([1, 6, 5, 130], filter: (6, 5), stride: (6, 5), padding: .valid, act: .reluN1To1, seed: 63)
        try checkAveragePool([3, 8, 8, 9], filter: (4, 4), stride: (1, 1), padding: .same, act: .relu, seed: 64)
        try checkAveragePool([1, 5, 5, 3], filter: (3, 3), stride: (1, 1), padding: .explicit(top: 2, bottom: 1, left: 0, right: 2),
                             act: .none, seed: 65)
        // By hand: a SAME 2×2 window at the bottom-right corner averages only the one input cell.
        let op = try AveragePool2DOperator(inputShape: [1, 3, 3, 1], filterHeight: 2, filterWidth: 2, strideHeight: 2,
                                           strideWidth: 2, padding: .same, activation: .none)
        let out = collect(4) { op.run(input: [1, 2, 3, 4, 5, 6, 7, 8, 9], output: $0, pool: Pools.one) }
        XCTAssertEqual(out, [3, 4.5, 7.5, 9])
        // A window entirely in explicit padding has no cell to average.
        XCTAssertThrowsError(try AveragePool2DOperator(inputShape: [1, 3, 3, 1], filterHeight: 2, filterWidth: 2, strideHeight: 1,
                                                       strideWidth: 1, padding: .explicit(top: 2, bottom: 0, left: 0, right: 0),
                                                       activation: .none))
    }

    // MARK: FULLY_CONNECTED

    func checkFullyConnected(rows: Int, inputDepth: Int, outputDepth: Int, bias: Bool, act: FusedActivation,
                             inputShape: [Int]? = nil, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(rows * inputDepth, &rng)
        let w = randomFloats(outputDepth * inputDepth, &rng)
        let b = bias ? randomFloats(outputDepth, &rng) : []
        let count = rows * outputDepth
        var eightLanes: [Float]?
        for lanes in GemmLanes.allCases {
        let op = try FullyConnectedOperator(inputShape: inputShape ?? [rows, inputDepth], weights: w,
                                            weightsShape: [outputDepth, inputDepth], bias: b, activation: act, lanes: lanes)
        XCTAssertEqual(op.outputShape, [rows, outputDepth])
        let ref = collect(count) { o in
            b.withUnsafeBufferPointer { bp in
                Reference.fullyConnected(input: x, rows: rows, inputDepth: inputDepth, weights: w,
                                         bias: bias ? bp.baseAddress : nil, outputDepth: outputDepth, activation: act, output: o)
            }
        }
        var first: [Float]?
        let label = "fc rows \(rows) I \(inputDepth) O \(outputDepth) bias \(bias) \(act) \(lanes.rawValue)-lane"
        for pool in Pools.all {
            let out = collect(count) { op.run(input: x, output: $0, pool: pool) }
            assertClose(out, ref, "\(label) threads=\(pool.threadCount)")
            if let first { assertBitIdentical(out, first, "\(label) threads 1 vs \(pool.threadCount)") } else { first = out }
        }
        // Both vector widths give the same bits.
        if let eightLanes, let first { assertBitIdentical(first, eightLanes, "\(label) vs 8-lane") } else { eightLanes = first }
        }
    }

    func testFullyConnected() throws {
        for (n, s) in realFullyConnectedShapes.enumerated() {
            try checkFullyConnected(rows: s.output.dropLast().reduce(1, *), inputDepth: s.weights[1], outputDepth: s.weights[0],
                                    bias: s.hasBias, act: s.activation, inputShape: s.input, seed: UInt64(n))
        }
        // O over every panel layout (1 dot, 8-wide, 16-wide with 16/8-wide tails, 4-panel groups
        // and their remainders); rows below and above the GEMM switch; I short and long.
        var seed: UInt64 = 500
        for o in [1, 2, 7, 8, 9, 16, 17, 24, 31, 40, 48, 63, 64, 65, 96, 129, 130, 144, 160] {
            for (rows, i) in [(1, 1), (1, 37), (2, 1152), (5, 9), (6, 33), (13, 300)] {
                try checkFullyConnected(rows: rows, inputDepth: i, outputDepth: o, bias: o % 2 == 1,
                                        act: FusedActivation.allCases[o % 4], seed: seed)
                seed += 1
            }
        }
        // Input of rank 4 flattened to rows of I.
        try checkFullyConnected(rows: 6, inputDepth: 10, outputDepth: 5, bias: true, act: .none, inputShape: [1, 2, 3, 10], seed: 99)
        XCTAssertThrowsError(try FullyConnectedOperator(inputShape: [1, 7], weights: [Float](repeating: 0, count: 6),
                                                        weightsShape: [2, 3], bias: [], activation: .none))
        XCTAssertThrowsError(try FullyConnectedOperator(inputShape: [1, 3], weights: [Float](repeating: 0, count: 5),
                                                        weightsShape: [2, 3], bias: [], activation: .none))
        XCTAssertThrowsError(try FullyConnectedOperator(inputShape: [1, 3], weights: [Float](repeating: 0, count: 6),
                                                        weightsShape: [2, 3], bias: [1], activation: .none))
    }

    /// The batch-1 path (`gemvRows`) and the GEMM give the same bits on the same packed weights.
    func testGemvMatchesGemm() throws {
        var rng = SeededGenerator(seed: 77)
        for n in [1, 5, 8, 15, 16, 24, 40, 63, 64, 70, 130] {
            for (m, k) in [(1, 1152), (3, 17), (5, 64)] {
                let a = randomFloats(m * k, &rng), w = randomFloats(n * k, &rng), bias = randomFloats(n, &rng)
                let packed = PackedGemmWeights(weights: w, bias: bias, n: n, k: k, backend: .native)
                let viaGemm = collect(m * n) { gemm(m: m, a: a, lda: k, weights: packed, activation: .relu6, c: $0, ldc: n, pool: Pools.one) }
                for pool in Pools.all {
                    let viaGemv = collect(m * n) { gemvRows(m: m, a: a, lda: k, weights: packed, activation: .relu6, c: $0, ldc: n, pool: pool) }
                    assertBitIdentical(viaGemv, viaGemm, "gemv vs gemm m \(m) n \(n) k \(k) threads=\(pool.threadCount)")
                }
            }
        }
    }

    // MARK: STRIDED_SLICE

    func checkSlice(_ shape: [Int], begin: [Int], end: [Int], strides: [Int], beginMask: Int = 0, endMask: Int = 0,
                    shrink: Int = 0, seed: UInt64, expected: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(shape.reduce(1, *), &rng)
        let op = try StridedSliceOperator(inputShape: shape, begin: begin, end: end, strides: strides,
                                          beginMask: beginMask, endMask: endMask, shrinkAxisMask: shrink)
        let label = "slice \(shape) b\(begin) e\(end) s\(strides) masks \(beginMask)/\(endMask)/\(shrink)"
        if let expected { XCTAssertEqual(op.outputShape, expected, label) }
        XCTAssertEqual(op.outputShape.reduce(1, *), op.elementCount, label)
        var written = 0
        let ref = collect(op.elementCount) {
            written = Reference.stridedSlice(input: x, inputShape: shape, begin: begin, end: end, strides: strides,
                                             beginMask: beginMask, endMask: endMask, shrinkAxisMask: shrink, output: $0)
        }
        XCTAssertEqual(written, op.elementCount, label)
        for pool in Pools.all {
            assertBitIdentical(collect(op.elementCount) { op.run(input: x, output: $0, pool: pool) }, ref, label)
        }
    }

    func testStridedSlice() throws {
        for (n, s) in realStridedSliceShapes.enumerated() {
            try checkSlice(s.input, begin: s.begin, end: s.end, strides: s.strides, beginMask: s.beginMask,
                           endMask: s.endMask, shrink: s.shrinkAxisMask, seed: UInt64(n), expected: s.output)
        }
        // By hand, 1-D: [8:1:-3] → 8, 5, 2; [-2:] → 8, 9; [::-4] → 9, 5, 1; [-100:100:3] → 0, 3, 6, 9.
        let x = (0..<10).map(Float.init)
        for (b, e, s, bm, em, want) in [(8, 1, -3, 0, 0, [8, 5, 2]), (-2, 0, 1, 0, 1, [8, 9]), (0, 0, -4, 1, 1, [9, 5, 1]),
                                        (-100, 100, 3, 0, 0, [0, 3, 6, 9])] {
            let op = try StridedSliceOperator(inputShape: [10], begin: [b], end: [e], strides: [s], beginMask: bm, endMask: em)
            XCTAssertEqual(collect(op.elementCount) { op.run(input: x, output: $0, pool: Pools.one) }, want.map(Float.init))
        }
        // Shrink: x[1, :, -1] of a [3, 4, 5] tensor is [4] elements (1, j, 4).
        let op = try StridedSliceOperator(inputShape: [3, 4, 5], begin: [1, 0, -1], end: [2, 0, 0], strides: [1, 1, 1],
                                          endMask: 2, shrinkAxisMask: 5)
        XCTAssertEqual(op.outputShape, [4])
        let cube = (0..<60).map(Float.init)
        XCTAssertEqual(collect(4) { op.run(input: cube, output: $0, pool: Pools.one) }, [24, 29, 34, 39])
        // Random begin/end/strides/masks over a small 4-D tensor, every mask combination.
        var rng = SeededGenerator(seed: 5)
        let shape = [2, 3, 4, 5]
        var checked = 0
        let trials = 1024
        for trial in 0..<trials {
            let strides = (0..<4).map { _ in [-3, -2, -1, 1, 2, 3][rng.below(6)] }
            var begin = (0..<4).map { _ in rng.below(13) - 6 }, end = (0..<4).map { _ in rng.below(13) - 6 }
            // Mostly ordered along the stride (non-empty), sometimes not (empty or clamped).
            for d in 0..<4 where rng.below(4) != 0 && (end[d] - begin[d]) * strides[d] < 0 { swap(&begin[d], &end[d]) }
            // Shrink mostly on positive-stride axes (a negative one is rejected), always in 1 of 8 trials.
            let positive = (0..<4).reduce(0) { strides[$1] > 0 ? $0 | (1 << $1) : $0 }
            let bm = trial % 16, em = (trial / 16) % 16, shrink = rng.below(16) & (trial % 8 == 0 ? 15 : positive)
            do {
                try checkSlice(shape, begin: begin, end: end, strides: strides, beginMask: bm, endMask: em, shrink: shrink,
                               seed: UInt64(trial))
                checked += 1
            } catch let error as KernelError {
                // Only the documented rejections: an empty slice or a shrunk axis with a negative stride.
                guard case let .invalidParameter(_, name, _) = error,
                      name.contains("empty slice") || name.contains("negative stride of shrunk") else {
                    XCTFail("unexpected \(error)"); continue
                }
                var sink = [Float](repeating: 0, count: 120)
                let empty = Reference.stridedSlice(input: [Float](repeating: 0, count: 120), inputShape: shape, begin: begin,
                                                   end: end, strides: strides, beginMask: bm, endMask: em,
                                                   shrinkAxisMask: shrink, output: &sink)
                if name.contains("empty slice") { XCTAssertEqual(empty, 0, "rejected as empty but the reference yields \(empty)") }
            }
        }
        XCTAssertGreaterThan(checked, trials / 3, "too few random slices were non-empty")
        for (what, make) in [
            ("ellipsis", { try StridedSliceOperator(inputShape: [4], begin: [0], end: [4], strides: [1], ellipsisMask: 1) }),
            ("new axis", { try StridedSliceOperator(inputShape: [4], begin: [0], end: [4], strides: [1], newAxisMask: 1) }),
            ("zero stride", { try StridedSliceOperator(inputShape: [4], begin: [0], end: [4], strides: [0]) }),
            ("offset", { try StridedSliceOperator(inputShape: [4], begin: [0], end: [4], strides: [1], offset: true) }),
            ("short begin", { try StridedSliceOperator(inputShape: [4, 4], begin: [0], end: [4, 4], strides: [1, 1]) }),
            ("rank 6", { try StridedSliceOperator(inputShape: [1, 1, 1, 1, 1, 1], begin: [0, 0, 0, 0, 0, 0], end: [1, 1, 1, 1, 1, 1],
                                                  strides: [1, 1, 1, 1, 1, 1]) }),
        ] as [(String, () throws -> StridedSliceOperator)] {
            XCTAssertThrowsError(try make(), what)
        }
    }

    // MARK: Convolution2DTransposeBias (MediaPipe custom op)

    func checkTransposeConv(_ shape: [Int], weights ws: [Int], stride: (Int, Int), padding: Padding, seed: UInt64,
                            expected: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(shape.reduce(1, *), &rng), w = randomFloats(ws.reduce(1, *), &rng)
        let b = randomFloats(ws[0], &rng)
        let op = try TransposeConvBiasOperator(inputShape: shape, weights: w, weightsShape: ws, bias: b,
                                               strideHeight: stride.0, strideWidth: stride.1, samePadding: padding == .same)
        let label = "transpose conv \(shape) w\(ws) s\(stride) \(padding)"
        if let expected { XCTAssertEqual(op.outputShape.dims, expected, label) }
        let ref = collect(op.outputShape.elementCount) {
            Reference.transposeConvBias(input: x, batch: shape[0], inputHeight: shape[1], inputWidth: shape[2],
                                        inputChannels: shape[3], weights: w, bias: b, outputChannels: ws[0],
                                        kernelHeight: ws[1], kernelWidth: ws[2], strideHeight: stride.0, strideWidth: stride.1,
                                        padTop: op.padTop, padLeft: op.padLeft, outputHeight: op.outputShape.height,
                                        outputWidth: op.outputShape.width, output: $0)
        }
        for pool in Pools.all {
            assertBitIdentical(collect(op.outputShape.elementCount) { op.run(input: x, output: $0, pool: pool) }, ref,
                               "\(label) threads=\(pool.threadCount)")
        }
    }

    func testTransposeConvBias() throws {
        for (n, s) in realTransposeConvBiasShapes.enumerated() {
            try checkTransposeConv(s.input, weights: s.weights, stride: s.stride, padding: s.padding, seed: UInt64(n),
                                   expected: s.output)
        }
        // Overlapping windows (kernel > stride), padding > 0, odd sizes, SIMD and scalar channels, batch 2.
        var seed: UInt64 = 700
        for (k, st) in [(2, 2), (3, 2), (4, 2), (3, 1), (1, 1), (5, 3)] {
            for padding in [Padding.same, .valid] {
                for (h, w) in [(1, 1), (3, 4), (6, 5)] {
                    for o in [1, 8, 11] {
                        try checkTransposeConv([2, h, w, 5], weights: [o, k, k, 5], stride: (st, st), padding: padding, seed: seed)
                        seed += 1
                    }
                }
            }
        }
        try checkTransposeConv([1, 4, 3, 3], weights: [9, 3, 2, 3], stride: (2, 1), padding: .same, seed: 800)
        // Geometry by hand: in 3, kernel 3, stride 2, SAME → total padding 3 − (2 % 2) − 1 = 2,
        // output 2·2 + 3 − 2 = 5, window origin −1; VALID → 2·2 + 3 = 7.
        let same = try TransposeConvBiasOperator(inputShape: [1, 3, 3, 1], weights: [Float](repeating: 1, count: 9),
                                                 weightsShape: [1, 3, 3, 1], bias: [0.5], strideHeight: 2, strideWidth: 2,
                                                 samePadding: true)
        XCTAssertEqual(same.outputShape.dims, [1, 5, 5, 1])
        XCTAssertEqual(same.padTop, 1)
        // All-ones: output (y, x) = 0.5 + number of input pixels whose window covers it.
        let out = collect(25) { same.run(input: [Float](repeating: 1, count: 9), output: $0, pool: Pools.one) }
        XCTAssertEqual(Array(out[0..<5]), [1.5, 2.5, 1.5, 2.5, 1.5])
        XCTAssertEqual(Array(out[5..<10]), [2.5, 4.5, 2.5, 4.5, 2.5])
        let valid = try TransposeConvBiasOperator(inputShape: [1, 3, 3, 1], weights: [Float](repeating: 1, count: 9),
                                                  weightsShape: [1, 3, 3, 1], bias: [0], strideHeight: 2, strideWidth: 2,
                                                  samePadding: false)
        XCTAssertEqual(valid.outputShape.dims, [1, 7, 7, 1])
        XCTAssertThrowsError(try TransposeConvBiasOperator(inputShape: [1, 3, 3, 2], weights: [Float](repeating: 1, count: 9),
                                                           weightsShape: [1, 3, 3, 1], bias: [0], strideHeight: 2,
                                                           strideWidth: 2, samePadding: true))
        XCTAssertThrowsError(try TransposeConvBiasOperator(inputShape: [1, 3, 3, 1], weights: [Float](repeating: 1, count: 9),
                                                           weightsShape: [1, 3, 3, 1], bias: [], strideHeight: 2,
                                                           strideWidth: 2, samePadding: true))
    }
}
