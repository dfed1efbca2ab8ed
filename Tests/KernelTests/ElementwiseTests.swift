import BlazeKernels
import XCTest

/// ADD, PAD, MAX_POOL_2D, RESIZE_BILINEAR, DEPTH_TO_SPACE, CONCATENATION, RELU/RELU6/LOGISTIC:
/// optimized vs naive twin. These kernels do the same float operations in the same order as the
/// reference, so the comparison is bitwise.
final class ElementwiseTests: XCTestCase {
    func run(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        return out
    }

    func checkAdd(_ a: [Int], _ b: [Int], _ act: FusedActivation, seed: UInt64, expected: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(a.reduce(1, *), &rng, range: -8...8), y = randomFloats(b.reduce(1, *), &rng, range: -8...8)
        let op = try AddOperator(aShape: a, bShape: b, activation: act)
        if let expected { XCTAssertEqual(op.outputShape, Array(repeating: 1, count: 4 - expected.count) + expected) }
        let count = op.outputShape.reduce(1, *)
        let ref = run(count) { o in Reference.add(a: x, aShape: a, b: y, bShape: b, activation: act, output: o) }
        for pool in Pools.all {
            let out = run(count) { o in op.run(a: x, b: y, output: o, pool: pool) }
            assertBitIdentical(out, ref, "add \(a) + \(b) \(act) threads=\(pool.threadCount)")
        }
    }

    func testAdd() throws {
        for (n, s) in realAddShapes.enumerated() { try checkAdd(s.a, s.b, s.activation, seed: UInt64(n), expected: s.output) }
        try checkAdd([1, 5, 7, 13], [1, 5, 7, 13], .reluN1To1, seed: 90)
        try checkAdd([1, 5, 7, 13], [1, 1, 1, 13], .relu6, seed: 91)
        try checkAdd([13], [2, 5, 7, 1], .none, seed: 92)
        try checkAdd([2, 1, 7, 3], [1, 5, 1, 3], .relu, seed: 93)
        try checkAdd([1], [3, 3], .none, seed: 94)
        XCTAssertThrowsError(try AddOperator(aShape: [1, 4, 4, 3], bShape: [1, 4, 4, 2], activation: .none))
        XCTAssertThrowsError(try AddOperator(aShape: [1, 1, 1, 1, 2], bShape: [2], activation: .none))
    }

    func checkPad(_ shape: [Int], _ pads: [[Int]], seed: UInt64, expected: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(shape.reduce(1, *), &rng)
        let op = try PadOperator(inputShape: shape, paddings: pads)
        if let expected { XCTAssertEqual(op.outputShape, expected) }
        let count = op.outputShape.reduce(1, *)
        let ref = run(count) { Reference.pad(input: x, inputShape: shape, paddings: pads, output: $0) }
        for pool in Pools.all {
            assertBitIdentical(run(count) { op.run(input: x, output: $0, pool: pool) }, ref, "pad \(shape) \(pads)")
        }
    }

    func testPad() throws {
        for (n, s) in realPadShapes.enumerated() { try checkPad(s.input, s.paddings, seed: UInt64(n), expected: s.output) }
        try checkPad([2, 3, 5, 7], [[1, 0], [0, 2], [3, 1], [2, 5]], seed: 50)
        try checkPad([1, 1, 1, 1], [[0, 0], [0, 0], [0, 0], [0, 0]], seed: 51)
        XCTAssertThrowsError(try PadOperator(inputShape: [1, 2, 2, 1], paddings: [[0, 0], [-1, 0], [0, 0], [0, 0]]))
        XCTAssertThrowsError(try PadOperator(inputShape: [1, 2, 2, 1], paddings: [[0, 0], [0, 0]]))
        // Absurd sizes (corrupt model) are rejected instead of overflowing index arithmetic.
        XCTAssertThrowsError(try PadOperator(inputShape: [1, 2, 2, 1], paddings: [[0, 0], [Int.max, 0], [0, 0], [0, 0]]))
        XCTAssertThrowsError(try PadOperator(inputShape: [1 << 20, 1 << 20, 1 << 20, 1], paddings: [[0, 0], [0, 0], [0, 0], [0, 0]]))
    }

    func checkPool(_ shape: [Int], filter: (Int, Int), stride: (Int, Int), padding: Padding, act: FusedActivation,
                   seed: UInt64, expected: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(shape.reduce(1, *), &rng, range: -3...8)
        let op = try MaxPool2DOperator(inputShape: shape, filterHeight: filter.0, filterWidth: filter.1,
                                       strideHeight: stride.0, strideWidth: stride.1, padding: padding, activation: act)
        if let expected { XCTAssertEqual(op.outputShape.dims, expected) }
        let ref = run(op.outputShape.elementCount) {
            Reference.maxPool2D(input: x, batch: shape[0], channels: shape[3], geometry: op.geometry, activation: act, output: $0)
        }
        for pool in Pools.all {
            assertBitIdentical(run(op.outputShape.elementCount) { op.run(input: x, output: $0, pool: pool) }, ref,
                               "maxpool \(shape) f\(filter) s\(stride) \(padding)")
        }
    }

    func testMaxPool() throws {
        for (n, s) in realPoolShapes.enumerated() {
            try checkPool(s.input, filter: s.filter, stride: s.stride, padding: s.padding, act: s.activation,
                          seed: UInt64(n), expected: s.output)
        }
        try checkPool([2, 7, 9, 11], filter: (3, 3), stride: (2, 2), padding: .same, act: .relu6, seed: 60)
        try checkPool([1, 5, 5, 16], filter: (3, 2), stride: (1, 2), padding: .valid, act: .none, seed: 61)
        try checkPool([1, 1, 1, 3], filter: (2, 2), stride: (2, 2), padding: .same, act: .none, seed: 62)
        // The unrolled whole-2×2-window path: clipped border windows (odd sizes, SAME) fall back,
        // a channel tail, overlapping windows (stride 1), a batch, an activation.
        try checkPool([2, 5, 7, 12], filter: (2, 2), stride: (2, 2), padding: .same, act: .relu, seed: 63)
        try checkPool([1, 4, 5, 9], filter: (2, 2), stride: (1, 1), padding: .valid, act: .none, seed: 64)
        try checkPool([1, 6, 6, 24], filter: (2, 2), stride: (2, 2), padding: .valid, act: .relu6, seed: 65)
    }

    func checkResize(_ shape: [Int], _ oh: Int, _ ow: Int, align: Bool, half: Bool, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let x = randomFloats(shape.reduce(1, *), &rng)
        let op = try ResizeBilinearOperator(inputShape: shape, outputHeight: oh, outputWidth: ow,
                                            alignCorners: align, halfPixelCenters: half)
        let ref = run(op.outputShape.elementCount) {
            Reference.resizeBilinear(input: x, inputShape: op.inputShape, outputHeight: oh, outputWidth: ow,
                                     alignCorners: align, halfPixelCenters: half, output: $0)
        }
        for pool in Pools.all {
            assertBitIdentical(run(op.outputShape.elementCount) { op.run(input: x, output: $0, pool: pool) }, ref,
                               "resize \(shape) -> \(oh)x\(ow) align=\(align) half=\(half)")
        }
    }

    func testResizeBilinear() throws {
        for (n, s) in realResizeShapes.enumerated() {
            try checkResize(s.input, s.output[1], s.output[2], align: s.alignCorners, half: s.halfPixelCenters, seed: UInt64(n))
        }
        for (n, (align, half)) in [(false, false), (true, false), (false, true)].enumerated() {
            try checkResize([2, 5, 7, 11], 9, 4, align: align, half: half, seed: UInt64(70 + n))
            try checkResize([1, 1, 1, 3], 3, 2, align: align, half: half, seed: UInt64(80 + n))
            try checkResize([1, 6, 6, 9], 1, 1, align: align, half: half, seed: UInt64(85 + n))
        }
        XCTAssertThrowsError(try ResizeBilinearOperator(inputShape: [1, 2, 2, 1], outputHeight: 4, outputWidth: 4,
                                                        alignCorners: true, halfPixelCenters: true))
    }

    /// Hand-computed values: 2×2 → 4×4 with half-pixel centres, one channel.
    func testResizeBilinearKnownValues() throws {
        let op = try ResizeBilinearOperator(inputShape: [1, 2, 2, 1], outputHeight: 4, outputWidth: 4,
                                            alignCorners: false, halfPixelCenters: true)
        let x: [Float] = [0, 4, 8, 12]
        let out = run(16) { op.run(input: x, output: $0, pool: Pools.one) }
        // Source coords -0.25, 0.25, 0.75, 1.25 → (lower, upper) = (0,0), (0,1), (0,1), (1,1)
        // (lower = max(floor, 0), upper = min(ceil, 1)), weight = coord - lower.
        // Row 0 (y0 = y1 = 0): [0, 0·.75 + 4·.25, 0·.25 + 4·.75, 4·.75 + 4·.25].
        XCTAssertEqual(Array(out[0..<4]), [0, 1, 3, 4])
        // Row 3 (y = 1.25 → y0 = y1 = 1): [8, 9, 11, 12].
        XCTAssertEqual(Array(out[12..<16]), [8, 9, 11, 12])
        // Row 1 (y = 0.25: y0 = 0, y1 = 1, dy = .25), x = 1: (0·.75 + 8·.25)·.75 + (4·.75 + 12·.25)·.25 = 3.
        XCTAssertEqual(out[5], 3)
    }

    func testDepthToSpace() throws {
        var cases = realDepthToSpaceShapes.map { ($0.input, $0.blockSize, Optional($0.output)) }
        cases += [([2, 3, 5, 12], 2, nil), ([1, 2, 1, 9], 3, nil), ([1, 1, 1, 4], 1, nil)]
        for (n, (shape, bs, expected)) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(n))
            let x = randomFloats(shape.reduce(1, *), &rng)
            let op = try DepthToSpaceOperator(inputShape: shape, blockSize: bs)
            if let expected { XCTAssertEqual(op.outputShape.dims, expected) }
            let ref = run(op.outputShape.elementCount) {
                Reference.depthToSpace(input: x, inputShape: op.inputShape, blockSize: bs, output: $0)
            }
            for pool in Pools.all {
                assertBitIdentical(run(op.outputShape.elementCount) { op.run(input: x, output: $0, pool: pool) }, ref,
                                   "depth_to_space \(shape) bs=\(bs)")
            }
        }
        // DCR order, by hand: [1,1,1,4] block 2 -> 2x2 pixels in channel order.
        let op = try DepthToSpaceOperator(inputShape: [1, 1, 1, 8], blockSize: 2)
        let out = run(8) { op.run(input: [0, 1, 2, 3, 4, 5, 6, 7], output: $0, pool: Pools.one) }
        XCTAssertEqual(out, [0, 1, 2, 3, 4, 5, 6, 7])  // (y0,x0)=[0,1], (y0,x1)=[2,3], (y1,x0)=[4,5], (y1,x1)=[6,7]
        XCTAssertThrowsError(try DepthToSpaceOperator(inputShape: [1, 2, 2, 6], blockSize: 2))
    }

    func testConcatenation() throws {
        var cases = realConcatShapes.map { ($0.inputs, $0.axis, $0.activation) }
        cases += [([[2, 3, 4, 5], [2, 3, 4, 2]], 3, .none), ([[2, 3, 4, 5], [2, 1, 4, 5], [2, 2, 4, 5]], 1, .relu),
                  ([[1, 2], [4, 2]], 0, .none), ([[3, 2, 2], [3, 2, 1]], -1, .relu6)]
        for (n, (shapes, axis, act)) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(n))
            let xs = shapes.map { randomFloats($0.reduce(1, *), &rng, range: -8...8) }
            let op = try ConcatenationOperator(inputShapes: shapes, axis: axis, activation: act)
            let count = op.outputShape.reduce(1, *)
            let ptrs = xs.map { x -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: x.count); p.initialize(from: x, count: x.count); return p
            }
            defer { ptrs.forEach { $0.deallocate() } }
            let ins = ptrs.map { UnsafePointer($0) }
            let ref = run(count) { Reference.concatenation(inputs: ins, inputShapes: shapes, axis: axis, activation: act, output: $0) }
            for pool in Pools.all {
                assertBitIdentical(run(count) { op.run(inputs: ins, output: $0, pool: pool) }, ref, "concat \(shapes) axis \(axis)")
            }
        }
        XCTAssertThrowsError(try ConcatenationOperator(inputShapes: [[1, 2, 3], [1, 3, 3]], axis: 2))
        XCTAssertThrowsError(try ConcatenationOperator(inputShapes: [[1, 2, 3]], axis: 3))
        XCTAssertThrowsError(try ConcatenationOperator(inputShapes: [], axis: 0))
    }

    func testUnary() throws {
        var cases = realUnaryShapes.map { ($0.op, $0.shape) }
        cases += UnaryKind.allCases.flatMap { k in [(k, [1, 1, 1, 1]), (k, [1, 3, 5, 7]), (k, [40000])] }
        for (n, (kind, shape)) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(n))
            let x = randomFloats(shape.reduce(1, *), &rng, range: -10...10)
            let op = try UnaryOperator(kind: kind, shape: shape)
            let ref = run(op.count) { Reference.unary(kind, input: x, count: x.count, output: $0) }
            for pool in Pools.all {
                assertBitIdentical(run(op.count) { op.run(input: x, output: $0, pool: pool) }, ref, "\(kind) \(shape)")
            }
        }
        let op = try UnaryOperator(kind: .logistic, shape: [3])
        let out = run(3) { op.run(input: [0, 100, -100], output: $0, pool: Pools.one) }
        XCTAssertEqual(out, [0.5, 1, 0])
    }
}
