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
        XCTAssertEqual(op.scratchCount(threads: 1), 0, "non-finite weights must not take the small-map path")
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
