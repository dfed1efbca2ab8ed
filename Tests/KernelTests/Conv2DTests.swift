import BlazeKernels
import XCTest

final class Conv2DTests: XCTestCase {
    struct Case {
        var input: [Int], weights: [Int], stride: (Int, Int), dilation: (Int, Int)
        var padding: Padding, activation: FusedActivation, bias: Bool = true
    }

    /// Optimized (both GEMM backends; the native one at 8 and 16 lanes) vs the naive twin on one
    /// configuration; the 16-lane native results must equal the 8-lane ones bit for bit.
    func check(_ c: Case, seed: UInt64, label: String, pools: [ThreadPool] = [Pools.two]) throws {
        var rng = SeededGenerator(seed: seed)
        let input = randomFloats(c.input.reduce(1, *), &rng)
        let weights = randomFloats(c.weights.reduce(1, *), &rng)
        let bias = c.bias ? randomFloats(c.weights[0], &rng) : []
        var native8: [Float]?
        for variant in GemmVariant.all {
            let backend = variant
            let op = try Conv2DOperator(inputShape: c.input, weights: weights, weightsShape: c.weights, bias: bias,
                                        strideHeight: c.stride.0, strideWidth: c.stride.1,
                                        dilationHeight: c.dilation.0, dilationWidth: c.dilation.1,
                                        padding: c.padding, activation: c.activation, backend: variant.backend,
                                        lanes: variant.lanes)
            let ref = referenceConv(input: input, inputShape: c.input, weights: weights, weightsShape: c.weights,
                                    bias: bias, geometry: op.geometry, activation: c.activation)
            var first: [Float]?
            for pool in pools {
                let out = runConv(op, input, pool: pool)
                assertClose(out, ref, "\(label) \(backend) threads=\(pool.threadCount)")
                if let first { assertBitIdentical(out, first, "\(label) \(backend) threads 1 vs \(pool.threadCount)") }
                else { first = out }
            }
            if variant.backend == .native, let out = first {
                if let native8 { assertBitIdentical(out, native8, "\(label) 16-lane vs 8-lane") } else { native8 = out }
            }
        }
    }

    func testEdgeShapes() throws {
        var cases: [Case] = []
        // 1×1 spatial, odd widths, channels not a multiple of 8/16, M not a multiple of 6.
        for (h, w, i, o) in [(1, 1, 1, 1), (1, 1, 3, 17), (5, 7, 3, 5), (3, 13, 9, 33), (7, 1, 16, 16), (11, 5, 24, 48)] {
            for act in FusedActivation.allCases {
                cases.append(Case(input: [1, h, w, i], weights: [o, 1, 1, i], stride: (1, 1), dilation: (1, 1),
                                  padding: .same, activation: act))
            }
        }
        // Every kernel/stride/padding combination the models use, plus dilation and batch 2;
        // O = 24 takes the 4×24 micro-kernel (4-pixel tiles), O = 7 the 6×8 one.
        for (k, s) in [(3, 1), (3, 2), (2, 1), (5, 2), (1, 2)] {
            for padding in [Padding.same, .valid] {
                for (h, w) in [(1, 1), (5, 5), (8, 9), (13, 6)] where padding == .same || (h >= k && w >= k) {
                    for o in [7, 24] {
                        cases.append(Case(input: [1, h, w, 3], weights: [o, k, k, 3], stride: (s, s), dilation: (1, 1),
                                          padding: padding, activation: .relu6))
                    }
                }
            }
        }
        cases.append(Case(input: [2, 9, 10, 5], weights: [19, 3, 3, 5], stride: (1, 2), dilation: (2, 1),
                          padding: .same, activation: .none))
        cases.append(Case(input: [2, 9, 10, 5], weights: [19, 3, 2, 5], stride: (2, 1), dilation: (2, 3),
                          padding: .valid, activation: .reluN1To1, bias: false))
        cases.append(Case(input: [3, 4, 4, 8], weights: [20, 1, 1, 8], stride: (1, 1), dilation: (1, 1),
                          padding: .valid, activation: .relu))
        for (n, c) in cases.enumerated() {
            try check(c, seed: UInt64(100 + n), label: "edge case \(n) \(c.input) w\(c.weights) s\(c.stride) \(c.padding)",
                      pools: Pools.all)
        }
    }

    func testRealLayerShapes() throws {
        XCTAssertFalse(realConvShapes.isEmpty)
        for (n, s) in realConvShapes.enumerated() {
            // Output shapes in the table come from LiteRT; check our geometry agrees.
            let op = try Conv2DOperator(inputShape: s.input, weights: [Float](repeating: 0, count: s.weights.reduce(1, *)),
                                        weightsShape: s.weights, bias: [], strideHeight: s.stride.0, strideWidth: s.stride.1,
                                        dilationHeight: s.dilation.0, dilationWidth: s.dilation.1,
                                        padding: s.padding, activation: s.activation)
            XCTAssertEqual(op.outputShape.dims, s.output, "\(s.model) conv \(n) output shape")
            try check(Case(input: s.input, weights: s.weights, stride: s.stride, dilation: s.dilation,
                           padding: s.padding, activation: s.activation),
                      seed: UInt64(1000 + n), label: "\(s.model) conv \(n) \(s.input) w\(s.weights)",
                      pools: Pools.all)
        }
    }

    /// Fewer than 6 output pixels run the matrix-vector kernels (`gemvRows`): the same conv on a
    /// batch of 6 copies of the input (the tiled GEMM) must give the first copy's outputs bit for
    /// bit. Includes iris_landmark's and face_landmark's 1×1 heads and pointwise / padded cases.
    func testFewOutputPixelsEqualTiledGemm() throws {
        // (H, W, I, O, kernel, stride, padding, activation)
        let cases: [(h: Int, w: Int, i: Int, o: Int, k: Int, s: Int, padding: Padding, act: FusedActivation)] = [
            (2, 2, 128, 213, 2, 1, .valid, .none), (3, 3, 32, 1404, 3, 3, .valid, .none), (2, 2, 16, 4, 2, 1, .valid, .relu),
            (1, 1, 40, 24, 1, 1, .valid, .relu6), (2, 2, 8, 17, 1, 1, .valid, .none), (1, 5, 3, 39, 3, 1, .same, .relu),
            (2, 2, 5, 8, 3, 2, .same, .reluN1To1),
        ]
        for (n, c) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(1500 + n))
            let image = randomFloats(c.h * c.w * c.i, &rng)
            let weights = randomFloats(c.o * c.k * c.k * c.i, &rng)
            let bias = randomFloats(c.o, &rng)
            func conv(batch: Int, lanes: GemmLanes) throws -> Conv2DOperator {
                try Conv2DOperator(inputShape: [batch, c.h, c.w, c.i], weights: weights, weightsShape: [c.o, c.k, c.k, c.i],
                                   bias: bias, strideHeight: c.s, strideWidth: c.s, padding: c.padding, activation: c.act,
                                   backend: .native, lanes: lanes)
            }
            // The 8-lane tiled GEMM is the expected value for both widths' few-pixel kernels.
            let tiled = try conv(batch: 6, lanes: .eight)
            let expected = Array(runConv(tiled, Array((0..<6).map { _ in image }.joined()), pool: Pools.one)
                .prefix(tiled.outputShape.elementCount / 6))
            for lanes in GemmLanes.allCases {
                let small = try conv(batch: 1, lanes: lanes), tiled = try conv(batch: 6, lanes: lanes)
                let pixels = small.outputShape.elementCount / c.o
                XCTAssertLessThan(pixels, 6, "case \(n) must take the few-pixel path")
                let tiledOut = Array(runConv(tiled, Array((0..<6).map { _ in image }.joined()), pool: Pools.one)
                    .prefix(small.outputShape.elementCount))
                assertBitIdentical(tiledOut, expected, "few pixels case \(n) tiled \(lanes.rawValue)-lane vs 8-lane")
                for pool in Pools.all {
                    assertBitIdentical(runConv(small, image, pool: pool), expected,
                                       "few pixels case \(n) \(lanes.rawValue)-lane threads=\(pool.threadCount)")
                }
            }
        }
    }

    func testInvalidInputsThrow() {
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4], weights: [1], weightsShape: [1, 1, 1, 1], bias: [],
                                                strideHeight: 1, strideWidth: 1, padding: .same, activation: .none))
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4, 2], weights: [1], weightsShape: [1, 1, 1, 3], bias: [],
                                                strideHeight: 1, strideWidth: 1, padding: .same, activation: .none)) {
            XCTAssertEqual($0 as? KernelError, .shapeMismatch(op: "CONV_2D", detail: "weights input depth 3 != input channels 2"))
        }
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4, 1], weights: [1, 2], weightsShape: [1, 1, 1, 1], bias: [],
                                                strideHeight: 1, strideWidth: 1, padding: .same, activation: .none))
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4, 1], weights: [1], weightsShape: [1, 1, 1, 1], bias: [1, 2],
                                                strideHeight: 1, strideWidth: 1, padding: .same, activation: .none))
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4, 1], weights: [1], weightsShape: [1, 1, 1, 1], bias: [],
                                                strideHeight: 0, strideWidth: 1, padding: .same, activation: .none))
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4, 1], weights: [1], weightsShape: [1, 1, 1, 1], bias: [],
                                                strideHeight: Int.max, strideWidth: 1, padding: .same, activation: .none))
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4, 1], weights: [1], weightsShape: [1, 1, 1, 1], bias: [],
                                                strideHeight: 1, strideWidth: 1, dilationHeight: Int.max / 2,
                                                padding: .same, activation: .none))
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 2, 2, 1], weights: [Float](repeating: 1, count: 9),
                                                weightsShape: [1, 3, 3, 1], bias: [],
                                                strideHeight: 1, strideWidth: 1, padding: .valid, activation: .none))
    }

    /// TFLite padding rule: SAME splits the odd padding pixel to the bottom/right.
    func testSamePaddingMatchesTFLite() throws {
        let g = try WindowGeometry(op: "t", inputHeight: 256, inputWidth: 256, kernelHeight: 3, kernelWidth: 3,
                                   strideHeight: 2, strideWidth: 2, padding: .same)
        XCTAssertEqual([g.outputHeight, g.outputWidth, g.padTop, g.padLeft], [128, 128, 0, 0])
        let g2 = try WindowGeometry(op: "t", inputHeight: 5, inputWidth: 6, kernelHeight: 5, kernelWidth: 5,
                                    strideHeight: 1, strideWidth: 2, dilationHeight: 2, padding: .same)
        // H: eff 9, total (5-1)*1+9-5 = 8 -> 4; W: out 3, total (3-1)*2+5-6 = 3 -> 1.
        XCTAssertEqual([g2.outputHeight, g2.outputWidth, g2.padTop, g2.padLeft], [5, 3, 4, 1])
    }
}
