import BlazeKernels
import XCTest

final class DepthwiseConv2DTests: XCTestCase {
    func check(input inShape: [Int], kernel: (Int, Int), multiplier: Int, stride: (Int, Int), dilation: (Int, Int),
               padding: Padding, activation: FusedActivation, bias hasBias: Bool = true, seed: UInt64, label: String,
               expectedOutput: [Int]? = nil) throws {
        var rng = SeededGenerator(seed: seed)
        let c = inShape[3] * multiplier
        let input = randomFloats(inShape.reduce(1, *), &rng)
        let weights = randomFloats(kernel.0 * kernel.1 * c, &rng)
        let bias = hasBias ? randomFloats(c, &rng) : []
        let op = try DepthwiseConv2DOperator(inputShape: inShape, weights: weights, weightsShape: [1, kernel.0, kernel.1, c],
                                             bias: bias, depthMultiplier: multiplier, strideHeight: stride.0,
                                             strideWidth: stride.1, dilationHeight: dilation.0, dilationWidth: dilation.1,
                                             padding: padding, activation: activation)
        if let expectedOutput { XCTAssertEqual(op.outputShape.dims, expectedOutput, "\(label) output shape") }
        var ref = [Float](repeating: .nan, count: op.outputShape.elementCount)
        input.withUnsafeBufferPointer { ip in weights.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
            ref.withUnsafeMutableBufferPointer { rp in
                Reference.depthwiseConv2D(input: ip.baseAddress!, batch: inShape[0], inputChannels: inShape[3],
                                          depthMultiplier: multiplier, weights: wp.baseAddress!,
                                          bias: hasBias ? bp.baseAddress : nil, geometry: op.geometry,
                                          activation: activation, output: rp.baseAddress!)
            }
        } } }
        for pool in Pools.all {
            var out = [Float](repeating: .nan, count: op.outputShape.elementCount)
            var scratch = [Float](repeating: .nan, count: op.scratchCount(threads: pool.threadCount))
            input.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { op2 in
                scratch.withUnsafeMutableBufferPointer { sp in
                    op.run(input: ip.baseAddress!, output: op2.baseAddress!, scratch: sp.baseAddress, pool: pool)
                }
            } }
            // Same summation order as the reference: must be bit-identical, not just close.
            assertBitIdentical(out, ref, "\(label) threads=\(pool.threadCount)")
        }
    }

    func testEdgeShapes() throws {
        var n = 0
        for (k, s) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            for padding in [Padding.same, .valid] {
                for (h, w, c) in [(1, 1, 1), (5, 5, 3), (8, 7, 4), (6, 5, 7), (6, 9, 8), (7, 4, 13), (10, 11, 24), (9, 9, 17), (5, 37, 12)]
                where padding == .same || (h >= k && w >= k) {
                    try check(input: [1, h, w, c], kernel: (k, k), multiplier: 1, stride: (s, s), dilation: (1, 1),
                              padding: padding, activation: FusedActivation.allCases[n % 4], seed: UInt64(n),
                              label: "dw k\(k) s\(s) \(padding) \(h)x\(w)x\(c)")
                    n += 1
                }
            }
        }
        try check(input: [2, 9, 10, 12], kernel: (3, 3), multiplier: 1, stride: (1, 2), dilation: (2, 2), padding: .same,
                  activation: .none, bias: false, seed: 77, label: "dw dilated batch 2")
        try check(input: [1, 7, 6, 5], kernel: (3, 2), multiplier: 3, stride: (2, 1), dilation: (1, 2), padding: .same,
                  activation: .relu, seed: 78, label: "dw multiplier 3")
        try check(input: [2, 8, 8, 4], kernel: (5, 5), multiplier: 2, stride: (2, 2), dilation: (1, 1), padding: .valid,
                  activation: .relu6, seed: 79, label: "dw multiplier 2 valid")
    }

    /// 5×5 stride-1 rows whose width (or interior) is a multiple of 7 run 7-pixel blocks: on the
    /// small-map path without a plane (SAME, width 7 or 14: the blocks skip the taps outside the
    /// input and read NHWC in place; no scratch), on the plane with one-sided or no skipped
    /// columns (explicit or VALID padding), and on the row path (interiors of 7·k columns, a
    /// channel count that is not a multiple of 8; whole SAME rows of width 7·k, border taps skipped).
    func testSevenPixelBlocks() throws {
        var n = 0
        for (h, w, c) in [(7, 7, 8), (3, 7, 16), (1, 7, 8), (14, 14, 24), (5, 14, 40), (2, 14, 8)] {
            for batch in [1, 2] {
                let op = try DepthwiseConv2DOperator(inputShape: [batch, h, w, c], weights: [Float](repeating: 0.5, count: 25 * c),
                                                     weightsShape: [1, 5, 5, c], bias: [], depthMultiplier: 1,
                                                     strideHeight: 1, strideWidth: 1, padding: .same, activation: .none)
                XCTAssertFalse(op.usesRowPath, "\(h)x\(w)x\(c): small-map path")
                XCTAssertEqual(op.scratchCount(threads: 2), 0, "\(h)x\(w)x\(c): reads its input in place")
                try check(input: [batch, h, w, c], kernel: (5, 5), multiplier: 1, stride: (1, 1), dilation: (1, 1),
                          padding: .same, activation: FusedActivation.allCases[n % 4], seed: UInt64(300 + n),
                          label: "dw 7-pixel direct \(batch)x\(h)x\(w)x\(c)")
                n += 1
            }
        }
        let planeCases: [(shape: [Int], padding: Padding)] = [
            ([1, 11, 11, 16], .valid),                                     // 7 wide, no zero columns
            ([1, 9, 9, 8], .explicit(top: 2, bottom: 0, left: 2, right: 0)),  // left columns skipped
            ([1, 7, 7, 8], .explicit(top: 1, bottom: 3, left: 1, right: 3)),  // right columns skipped
            ([2, 10, 12, 24], .explicit(top: 2, bottom: 2, left: 1, right: 5)), // 14 wide, right skipped
        ]
        for (shape, padding) in planeCases {
            let op = try DepthwiseConv2DOperator(inputShape: shape, weights: [Float](repeating: 0.5, count: 25 * shape[3]),
                                                 weightsShape: [1, 5, 5, shape[3]], bias: [], depthMultiplier: 1,
                                                 strideHeight: 1, strideWidth: 1, padding: padding, activation: .none)
            XCTAssertFalse(op.usesRowPath, "\(shape) \(padding): small-map path")
            XCTAssertGreaterThan(op.scratchCount(threads: 1), 0, "\(shape) \(padding): gathers a plane")
            XCTAssertEqual(op.outputShape.width % 7, 0)
            try check(input: shape, kernel: (5, 5), multiplier: 1, stride: (1, 1), dilation: (1, 1), padding: padding,
                      activation: FusedActivation.allCases[n % 4], seed: UInt64(300 + n), label: "dw 7-pixel plane \(shape) \(padding)")
            n += 1
        }
        let rowCases: [(shape: [Int], padding: Padding)] = [
            ([1, 6, 25, 12], .valid),  // 21 interior columns, channels not a multiple of 8
            ([1, 5, 32, 8], .same),    // interior 2..<30: 28 columns
            ([1, 6, 11, 20], .valid),  // 7 columns, overlapping last channel block
            ([2, 7, 7, 5], .same),     // 7 wide, C < 8: no interior kernel
            ([1, 6, 28, 12], .same),   // whole rows of 7-pixel blocks, border taps skipped
            ([2, 3, 21, 16], .same),
        ]
        for (shape, padding) in rowCases {
            try check(input: shape, kernel: (5, 5), multiplier: 1, stride: (1, 1), dilation: (1, 1), padding: padding,
                      activation: FusedActivation.allCases[n % 4], seed: UInt64(300 + n), label: "dw 7-pixel rows \(shape) \(padding)")
            n += 1
        }
    }

    /// Rows computed whole in blocks that skip the taps outside the input (`DepthwiseWholeRow`):
    /// 3×3 stride 1 on 8·k and 7·k columns, 5×5 stride 2 with two padding columns on the left (a
    /// folded PAD; 3×3 stride 2 keeps the border loop); one-block rows, several blocks, channel counts that
    /// are not a multiple of 8, batch 2, and nearby shapes that keep the border loop.
    func testWholeRowBlocks() throws {
        let cases: [(shape: [Int], k: Int, s: Int, padding: Padding)] = [
            ([1, 5, 16, 8], 3, 1, .same), ([2, 3, 8, 12], 3, 1, .same), ([1, 4, 24, 24], 3, 1, .same),
            ([1, 5, 7, 8], 3, 1, .same), ([1, 3, 14, 20], 3, 1, .same), ([2, 6, 21, 8], 3, 1, .same),
            ([1, 9, 16, 8], 3, 2, .explicit(top: 1, bottom: 1, left: 1, right: 1)),
            ([2, 6, 32, 12], 3, 2, .explicit(top: 1, bottom: 1, left: 1, right: 1)),
            ([1, 7, 16, 16], 3, 2, .explicit(top: 0, bottom: 1, left: 1, right: 0)),
            ([1, 10, 14, 16], 5, 2, .explicit(top: 2, bottom: 2, left: 2, right: 2)),
            ([1, 6, 28, 12], 5, 2, .explicit(top: 2, bottom: 2, left: 2, right: 2)),
            ([2, 9, 14, 8], 5, 2, .explicit(top: 2, bottom: 1, left: 2, right: 1)),
            // Not whole rows: widths 9 and 15, stride 2 with the SAME split (no left padding).
            ([1, 4, 9, 8], 3, 1, .same), ([1, 4, 15, 8], 3, 1, .same), ([1, 8, 16, 8], 3, 2, .same),
            ([1, 9, 14, 8], 5, 2, .same),
        ]
        for (n, c) in cases.enumerated() {
            try check(input: c.shape, kernel: (c.k, c.k), multiplier: 1, stride: (c.s, c.s), dilation: (1, 1),
                      padding: c.padding, activation: FusedActivation.allCases[n % 4], seed: UInt64(400 + n),
                      label: "dw whole row \(c.shape) k\(c.k) s\(c.s) \(c.padding)")
        }
    }

    func testRealLayerShapes() throws {
        XCTAssertFalse(realDepthwiseShapes.isEmpty)
        for (n, s) in realDepthwiseShapes.enumerated() {
            try check(input: s.input, kernel: (s.weights[1], s.weights[2]), multiplier: s.depthMultiplier,
                      stride: s.stride, dilation: s.dilation, padding: s.padding, activation: s.activation,
                      seed: UInt64(2000 + n), label: "\(s.model) dw \(n) \(s.input) w\(s.weights)", expectedOutput: s.output)
        }
    }

    /// The small-map path adds zero taps, which is exact only for finite weights (0·∞ = NaN);
    /// a non-finite weight must route the layer to the row path, which skips out-of-input taps
    /// like the reference.
    func testNonFiniteWeightsMatchReference() throws {
        var rng = SeededGenerator(seed: 91)
        let shape = [1, 7, 7, 16]
        let input = randomFloats(shape.reduce(1, *), &rng)
        var weights = randomFloats(25 * 16, &rng)
        weights[0] = .infinity  // tap (0, 0) of channel 0: out of the input for every border pixel
        let op = try DepthwiseConv2DOperator(inputShape: shape, weights: weights, weightsShape: [1, 5, 5, 16], bias: [],
                                             depthMultiplier: 1, strideHeight: 1, strideWidth: 1, padding: .same,
                                             activation: .none)
        XCTAssertTrue(op.usesRowPath, "non-finite weights must not take the small-map path")
        var ref = [Float](repeating: 0, count: op.outputShape.elementCount)
        var out = ref
        input.withUnsafeBufferPointer { ip in weights.withUnsafeBufferPointer { wp in
            ref.withUnsafeMutableBufferPointer { rp in
                Reference.depthwiseConv2D(input: ip.baseAddress!, batch: 1, inputChannels: 16, depthMultiplier: 1,
                                          weights: wp.baseAddress!, bias: nil, geometry: op.geometry,
                                          activation: .none, output: rp.baseAddress!)
            }
            out.withUnsafeMutableBufferPointer { o in op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: nil, pool: Pools.one) }
        } }
        // Pixel (0, 0) never reads tap (0, 0) of the input, so it must be finite, as in the reference.
        XCTAssertTrue(out[0].isFinite)
        for (i, (a, b)) in zip(out, ref).enumerated() where !(a.isNaN && b.isNaN) {
            XCTAssertEqual(a.bitPattern, b.bitPattern, "element \(i)")
        }
    }

    func testInvalidInputsThrow() {
        XCTAssertThrowsError(try DepthwiseConv2DOperator(inputShape: [1, 4, 4, 2], weights: [Float](repeating: 0, count: 9 * 3),
                                                         weightsShape: [1, 3, 3, 3], bias: [], depthMultiplier: 1,
                                                         strideHeight: 1, strideWidth: 1, padding: .same, activation: .none))
        XCTAssertThrowsError(try DepthwiseConv2DOperator(inputShape: [1, 4, 4, 2], weights: [Float](repeating: 0, count: 9 * 2),
                                                         weightsShape: [1, 3, 3, 2], bias: [], depthMultiplier: 0,
                                                         strideHeight: 1, strideWidth: 1, padding: .same, activation: .none))
        XCTAssertThrowsError(try DepthwiseConv2DOperator(inputShape: [1, 4, 4, 2], weights: [Float](repeating: 0, count: 5),
                                                         weightsShape: [1, 3, 3, 2], bias: [], depthMultiplier: 1,
                                                         strideHeight: 1, strideWidth: 1, padding: .same, activation: .none))
    }
}
