import BlazeKernels
import XCTest

/// The kernel features the interpreter's load-time fusions rely on must give exactly the
/// bits of the unfused operator sequence: explicit padding == PAD then VALID conv, the
/// GEMM residual epilogue == conv then ADD, and a fused PRELU == conv (or depthwise conv,
/// with or without residual) then the reference PRELU.
final class FusionKernelTests: XCTestCase {
    /// Pads `input` (NHWC) with zero rows/columns via the reference PAD.
    func padded(_ input: [Float], _ shape: [Int], top: Int, bottom: Int, left: Int, right: Int) -> ([Float], [Int]) {
        let outShape = [shape[0], shape[1] + top + bottom, shape[2] + left + right, shape[3]]
        var out = [Float](repeating: .nan, count: outShape.reduce(1, *))
        input.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { op in
            Reference.pad(input: ip.baseAddress!, inputShape: shape,
                          paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], output: op.baseAddress!)
        } }
        return (out, outShape)
    }

    /// (input HW, channels, out channels, kernel, stride, pads t/b/l/r): the models' PAD → conv pairs
    /// (stem 3×3/s2 on 3 channels, 1-pixel and asymmetric pads) plus odd edge cases. No O = 1
    /// case: the direct single-channel kernel sums border pixels in another lane order, so the
    /// interpreter never folds a PAD into such a conv.
    let convCases: [(h: Int, w: Int, i: Int, o: Int, k: Int, s: Int, pads: (Int, Int, Int, Int))] = [
        (16, 16, 3, 24, 3, 2, (1, 1, 1, 1)), (16, 16, 3, 16, 3, 2, (0, 1, 0, 1)), (9, 7, 8, 39, 3, 1, (1, 1, 1, 1)),
        (5, 6, 5, 2, 3, 1, (2, 0, 0, 3)), (8, 8, 16, 8, 5, 2, (2, 2, 2, 2)), (4, 4, 3, 7, 1, 2, (1, 0, 1, 0)),
        (3, 3, 4, 17, 3, 2, (3, 3, 3, 3)),
    ]

    func testConvExplicitPaddingEqualsPadThenValidConv() throws {
        for (n, c) in convCases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(500 + n))
            let shape = [1, c.h, c.w, c.i]
            let input = randomFloats(shape.reduce(1, *), &rng)
            let weights = randomFloats(c.o * c.k * c.k * c.i, &rng)
            let bias = randomFloats(c.o, &rng)
            let (t, b, l, r) = c.pads
            let (padIn, padShape) = padded(input, shape, top: t, bottom: b, left: l, right: r)
            for backend in GemmBackend.allCases {
                let fused = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: [c.o, c.k, c.k, c.i], bias: bias,
                                               strideHeight: c.s, strideWidth: c.s,
                                               padding: .explicit(top: t, bottom: b, left: l, right: r),
                                               activation: .relu6, backend: backend)
                let plain = try Conv2DOperator(inputShape: padShape, weights: weights, weightsShape: [c.o, c.k, c.k, c.i], bias: bias,
                                               strideHeight: c.s, strideWidth: c.s, padding: .valid,
                                               activation: .relu6, backend: backend)
                XCTAssertEqual(fused.outputShape, plain.outputShape, "case \(n)")
                let expected = runConv(plain, padIn, pool: Pools.one)
                for pool in Pools.all {
                    assertBitIdentical(runConv(fused, input, pool: pool), expected,
                                       "conv case \(n) \(backend) threads=\(pool.threadCount)")
                }
            }
        }
    }

    func testDepthwiseExplicitPaddingEqualsPadThenValid() throws {
        let cases: [(h: Int, w: Int, c: Int, k: Int, s: Int, pads: (Int, Int, Int, Int))] = [
            (16, 16, 24, 3, 2, (1, 1, 1, 1)), (12, 10, 64, 3, 2, (0, 1, 0, 1)), (9, 9, 13, 5, 2, (2, 2, 2, 2)),
            (7, 5, 8, 5, 1, (2, 2, 2, 2)), (3, 4, 16, 3, 1, (2, 0, 1, 3)),
        ]
        for (n, c) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(600 + n))
            let shape = [1, c.h, c.w, c.c]
            let input = randomFloats(shape.reduce(1, *), &rng)
            let weights = randomFloats(c.k * c.k * c.c, &rng)
            let bias = randomFloats(c.c, &rng)
            let (t, b, l, r) = c.pads
            let (padIn, padShape) = padded(input, shape, top: t, bottom: b, left: l, right: r)
            let fused = try DepthwiseConv2DOperator(inputShape: shape, weights: weights, weightsShape: [1, c.k, c.k, c.c], bias: bias,
                                                    depthMultiplier: 1, strideHeight: c.s, strideWidth: c.s,
                                                    padding: .explicit(top: t, bottom: b, left: l, right: r), activation: .relu)
            let plain = try DepthwiseConv2DOperator(inputShape: padShape, weights: weights, weightsShape: [1, c.k, c.k, c.c], bias: bias,
                                                    depthMultiplier: 1, strideHeight: c.s, strideWidth: c.s,
                                                    padding: .valid, activation: .relu)
            XCTAssertEqual(fused.outputShape, plain.outputShape, "case \(n)")
            let expected = runDepthwise(plain, padIn, Pools.one)
            for pool in Pools.all {
                assertBitIdentical(runDepthwise(fused, input, pool), expected, "depthwise case \(n) threads=\(pool.threadCount)")
            }
        }
    }

    func testExplicitPaddingRejectsNegativeValues() {
        XCTAssertThrowsError(try DepthwiseConv2DOperator(inputShape: [1, 4, 4, 8], weights: [Float](repeating: 0, count: 72),
                                                         weightsShape: [1, 3, 3, 8], bias: [], depthMultiplier: 1,
                                                         strideHeight: 1, strideWidth: 1,
                                                         padding: .explicit(top: -1, bottom: 0, left: 0, right: 0),
                                                         activation: .none))
    }

    /// conv (pointwise, im2col and single-output-channel paths; N with a narrow 8-wide tail
    /// panel) with a residual == conv, then the reference ADD with the ADD's activation.
    func testResidualEpilogueEqualsConvThenAdd() throws {
        let cases: [(h: Int, w: Int, i: Int, o: Int, k: Int, act: FusedActivation, addAct: FusedActivation)] = [
            (11, 13, 16, 24, 1, .none, .none), (7, 7, 40, 39, 1, .relu6, .relu), (9, 6, 8, 8, 1, .none, .relu6),
            (5, 9, 24, 64, 1, .relu, .none), (8, 8, 5, 33, 3, .none, .relu), (6, 7, 9, 1, 3, .none, .none),
            (13, 3, 12, 1, 1, .relu, .reluN1To1), (7, 7, 192, 1152, 1, .relu6, .none), (8, 9, 3, 24, 3, .relu6, .relu),
            (9, 5, 16, 48, 1, .relu6, .relu), (6, 11, 7, 50, 3, .none, .relu6),
        ]
        for (n, c) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(700 + n))
            let shape = [1, c.h, c.w, c.i]
            let input = randomFloats(shape.reduce(1, *), &rng)
            let weights = randomFloats(c.o * c.k * c.k * c.i, &rng)
            let bias = randomFloats(c.o, &rng)
            let skip = randomFloats(c.h * c.w * c.o, &rng, range: -3...3)
            for backend in GemmVariant.all {
                let op = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: [c.o, c.k, c.k, c.i], bias: bias,
                                            strideHeight: 1, strideWidth: 1, padding: .same, activation: c.act,
                                            backend: backend.backend, lanes: backend.lanes)
                let convOut = runConv(op, input, pool: Pools.one)
                var expected = [Float](repeating: .nan, count: convOut.count)
                convOut.withUnsafeBufferPointer { a in skip.withUnsafeBufferPointer { b in expected.withUnsafeMutableBufferPointer { o in
                    Reference.add(a: a.baseAddress!, aShape: op.outputShape.dims, b: b.baseAddress!, bShape: op.outputShape.dims,
                                  activation: c.addAct, output: o.baseAddress!)
                } } }
                for pool in Pools.all {
                    var out = [Float](repeating: .nan, count: convOut.count)
                    var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: pool.threadCount)))
                    input.withUnsafeBufferPointer { ip in skip.withUnsafeBufferPointer { sp in
                        out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { s in
                            op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: s.baseAddress!, pool: pool,
                                   residual: GemmResidual(data: sp.baseAddress!, ld: c.o, activation: c.addAct))
                        } }
                    } }
                    assertBitIdentical(out, expected, "residual case \(n) \(backend) threads=\(pool.threadCount)")
                }
            }
        }
    }

    /// RESIZE_BILINEAR with a fused ADD (`residual`) == the resize, then the ADD kernel the
    /// interpreter runs unfused (`BinaryOperator`), bit for bit: random maps, and maps of −0 against
    /// a zero RELU bound, where the ADD kernel's vector selects and its scalar tail differ.
    func testResizeResidualEqualsResizeThenAdd() throws {
        let cases: [(input: [Int], oh: Int, ow: Int, act: FusedActivation, negativeZero: Bool)] = [
            ([1, 32, 32, 48], 64, 64, .none, false), ([1, 64, 64, 8], 128, 128, .relu, false),
            ([2, 5, 7, 3], 9, 13, .relu6, false), ([1, 3, 5, 8], 6, 10, .reluN1To1, false),
            ([1, 4, 5, 3], 7, 9, .relu, true), ([1, 3, 3, 8], 6, 6, .relu, true),
        ]
        for (n, c) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(760 + n))
            let x = c.negativeZero ? [Float](repeating: -0.0, count: c.input.reduce(1, *)) : randomFloats(c.input.reduce(1, *), &rng)
            let resize = try ResizeBilinearOperator(inputShape: c.input, outputHeight: c.oh, outputWidth: c.ow,
                                                    alignCorners: false, halfPixelCenters: true)
            let count = resize.outputShape.elementCount
            let skip = c.negativeZero ? [Float](repeating: -0.0, count: count) : randomFloats(count, &rng, range: -2...2)
            let add = try BinaryOperator(kind: .add, aShape: resize.outputShape.dims, bShape: resize.outputShape.dims,
                                         activation: c.act)
            let resized = collect(count) { resize.run(input: x, output: $0, pool: Pools.one) }
            let expected = collect(count) { o in add.run(a: resized, b: skip, output: o, pool: Pools.one) }
            for pool in Pools.all {
                let got = collect(count) { o in
                    skip.withUnsafeBufferPointer { sp in
                        resize.run(input: x, output: o, pool: pool,
                                   residual: GemmResidual(data: sp.baseAddress!, ld: c.input[3], activation: c.act))
                    }
                }
                assertBitIdentical(got, expected, "resize + ADD case \(n) threads=\(pool.threadCount)")
            }
        }
    }

    /// A residual with fewer channels than the conv (`GemmResidual.channels`, the input of a folded
    /// channel PAD) == conv, then the reference PAD appending zero channels, then the reference ADD:
    /// pointwise, direct/im2col and 4×24 tiles, skip channel counts inside and at the edges of the
    /// 8- and 16-wide panel halves, the face detector's shortcut shapes, both backends, 1-3 threads.
    func testChannelPaddedResidualEqualsConvThenPadThenAdd() throws {
        // (H, W, I, O, skip channels, kernel, stride, activation, ADD activation)
        let cases: [(h: Int, w: Int, i: Int, o: Int, cs: Int, k: Int, s: Int, act: FusedActivation, addAct: FusedActivation)] = [
            (64, 64, 24, 28, 24, 1, 1, .none, .relu), (32, 32, 28, 32, 28, 1, 1, .none, .relu),
            (32, 32, 36, 42, 36, 1, 1, .none, .relu), (16, 16, 88, 96, 88, 1, 1, .none, .relu),
            (64, 64, 8, 16, 8, 1, 1, .none, .none), (16, 16, 64, 128, 64, 1, 1, .none, .none),
            (9, 7, 5, 24, 3, 3, 1, .relu6, .none), (11, 6, 4, 40, 33, 3, 2, .none, .relu6),
            (7, 7, 16, 17, 1, 1, 1, .relu, .reluN1To1), (5, 5, 3, 9, 8, 3, 1, .none, .none),
            (9, 9, 20, 48, 20, 1, 1, .none, .relu), (9, 9, 40, 48, 40, 1, 1, .relu6, .none),
            (8, 8, 33, 64, 33, 3, 1, .none, .relu), (7, 6, 12, 96, 17, 1, 1, .none, .none),
        ]
        for (n, c) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(900 + n))
            let shape = [1, c.h, c.w, c.i]
            let input = randomFloats(shape.reduce(1, *), &rng)
            let weights = randomFloats(c.o * c.k * c.k * c.i, &rng)
            let bias = randomFloats(c.o, &rng)
            for backend in GemmVariant.all {
                let op = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: [c.o, c.k, c.k, c.i], bias: bias,
                                            strideHeight: c.s, strideWidth: c.s, padding: .same, activation: c.act,
                                            backend: backend.backend, lanes: backend.lanes)
                let out = op.outputShape
                let skipShape = [1, out.height, out.width, c.cs]
                let skip = randomFloats(skipShape.reduce(1, *), &rng, range: -3...3)
                let convOut = runConv(op, input, pool: Pools.one)
                let paddedSkip = collect(out.elementCount) { o in skip.withUnsafeBufferPointer { sp in
                    Reference.pad(input: sp.baseAddress!, inputShape: skipShape,
                                  paddings: [[0, 0], [0, 0], [0, 0], [0, c.o - c.cs]], output: o)
                } }
                let expected = collect(out.elementCount) { o in convOut.withUnsafeBufferPointer { a in
                    paddedSkip.withUnsafeBufferPointer { b in
                        Reference.add(a: a.baseAddress!, aShape: out.dims, b: b.baseAddress!, bShape: out.dims,
                                      activation: c.addAct, output: o)
                    }
                } }
                for pool in Pools.all {
                    var got = [Float](repeating: .nan, count: out.elementCount)
                    var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: pool.threadCount)))
                    input.withUnsafeBufferPointer { ip in skip.withUnsafeBufferPointer { sp in
                        got.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { sc in
                            op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sc.baseAddress!, pool: pool,
                                   residual: GemmResidual(data: sp.baseAddress!, ld: c.cs, activation: c.addAct, channels: c.cs))
                        } }
                    } }
                    assertBitIdentical(got, expected, "padded residual case \(n) \(backend) threads=\(pool.threadCount)")
                }
            }
        }
    }

    // MARK: fused PRELU

    /// `Reference.binary(.prelu)` of `x` (NHWC `shape`) with one alpha per channel (`[C]`).
    func referencePrelu(_ x: [Float], _ shape: [Int], _ alpha: [Float]) -> [Float] {
        collect(x.count) { Reference.binary(.prelu, a: x, aShape: shape, b: alpha, bShape: [1, 1, alpha.count],
                                            activation: .none, output: $0) }
    }

    /// Input values with some exact zeros of both signs (PRELU's `x < 0` edge).
    func preluInput(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
        var x = randomFloats(count, &rng)
        for i in stride(from: 0, to: count, by: 11) { x[i] = i % 2 == 0 ? 0 : -0.0 }
        return x
    }

    /// Conv with a fused PRELU (optionally after a fused residual ADD) == the same conv without
    /// it, then the reference PRELU: every GEMM path (pointwise, direct, im2col; 6×16, 5×16, 6×8,
    /// 4×24 tiles; an 8-wide tail panel; N = 1 direct and dot-product kernels) and both backends.
    func checkConvPrelu(input shape: [Int], weights wShape: [Int], stride: Int, padding: Padding,
                        activation: FusedActivation, residual: FusedActivation?, seed: UInt64, label: String) throws {
        var rng = SeededGenerator(seed: seed)
        let o = wShape[0]
        let input = preluInput(shape.reduce(1, *), &rng)
        let weights = randomFloats(wShape.reduce(1, *), &rng)
        let bias = randomFloats(o, &rng)
        let alpha = randomFloats(o, &rng, range: -2...2)
        for backend in GemmVariant.all {
            let plain = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: wShape, bias: bias,
                                           strideHeight: stride, strideWidth: stride, padding: padding,
                                           activation: activation, backend: backend.backend, lanes: backend.lanes)
            let fused = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: wShape, bias: bias,
                                           strideHeight: stride, strideWidth: stride, padding: padding,
                                           activation: activation, backend: backend.backend, preluAlpha: alpha,
                                           lanes: backend.lanes)
            XCTAssertTrue(fused.hasFusedPrelu)
            XCTAssertFalse(plain.hasFusedPrelu)
            let outShape = plain.outputShape.dims
            let skip = randomFloats(plain.outputShape.elementCount, &rng, range: -3...3)
            var convOut = runConv(plain, input, pool: Pools.one)
            if let residual {
                let y = convOut
                convOut = collect(y.count) { Reference.add(a: y, aShape: outShape, b: skip, bShape: outShape,
                                                           activation: residual, output: $0) }
            }
            let expected = referencePrelu(convOut, outShape, alpha)
            for pool in Pools.all {
                var out = [Float](repeating: .nan, count: expected.count)
                var scratch = [Float](repeating: 0, count: max(1, fused.scratchCount(threads: pool.threadCount)))
                input.withUnsafeBufferPointer { ip in skip.withUnsafeBufferPointer { sp in
                    out.withUnsafeMutableBufferPointer { op in scratch.withUnsafeMutableBufferPointer { s in
                        fused.run(input: ip.baseAddress!, output: op.baseAddress!, scratch: s.baseAddress!, pool: pool,
                                  residual: residual.map { GemmResidual(data: sp.baseAddress!, ld: o, activation: $0) })
                    } }
                } }
                assertBitIdentical(out, expected, "\(label) \(backend) threads=\(pool.threadCount)")
            }
        }
    }

    func testConvPreluEpilogueEqualsConvThenPrelu() throws {
        // (H, W, I, O, kernel, stride, activation, residual activation or nil)
        let cases: [(h: Int, w: Int, i: Int, o: Int, k: Int, s: Int, act: FusedActivation, res: FusedActivation?)] = [
            // (`FusedActivation.none` spelled out in the residual slot: a bare `.none` there is the
            // optional's nil, no residual.)
            (11, 13, 16, 24, 1, 1, .none, nil), (7, 7, 40, 39, 1, 1, .relu6, .relu), (9, 6, 8, 8, 1, 1, .none, nil),
            (5, 9, 24, 64, 1, 1, .none, FusedActivation.none), (8, 8, 5, 33, 3, 1, .none, .relu), (6, 7, 9, 1, 3, 1, .none, nil),
            (13, 3, 12, 1, 1, 1, .relu, FusedActivation.none), (17, 17, 3, 16, 3, 2, .none, nil), (16, 16, 8, 8, 2, 2, .none, nil),
            (1, 1, 64, 32, 1, 1, .none, nil), (3, 3, 32, 7, 3, 2, .reluN1To1, FusedActivation.none),
            (12, 12, 16, 24, 3, 1, .none, FusedActivation.none),
        ]
        for (n, c) in cases.enumerated() {
            try checkConvPrelu(input: [1, c.h, c.w, c.i], weights: [c.o, c.k, c.k, c.i], stride: c.s, padding: .same,
                               activation: c.act, residual: c.res, seed: UInt64(800 + n), label: "conv+PRELU case \(n)")
        }
    }

    /// Every conv layer shape of the wheel models that have PRELU, with and without a residual.
    func testConvPreluOnRealLayerShapes() throws {
        let preluModels = Set(realPReluShapes.map(\.model))
        var seen = Set<String>()
        for (n, s) in realConvShapes.enumerated()
        where preluModels.contains(s.model) && s.dilation == (1, 1) && s.stride.0 == s.stride.1 {
            let key = "\(s.input) \(s.weights) \(s.stride) \(s.padding)"
            guard seen.insert(key).inserted else { continue }
            try checkConvPrelu(input: s.input, weights: s.weights, stride: s.stride.0, padding: s.padding,
                               activation: s.activation, residual: n % 2 == 0 ? nil : FusedActivation.none,
                               seed: UInt64(900 + n), label: "real conv+PRELU \(s.model) \(key)")
        }
        XCTAssertFalse(seen.isEmpty)
    }

    func checkDepthwisePrelu(input shape: [Int], kernel: (Int, Int), multiplier: Int, stride: Int, padding: Padding,
                             activation: FusedActivation, seed: UInt64, label: String) throws {
        var rng = SeededGenerator(seed: seed)
        let c = shape[3] * multiplier
        let input = preluInput(shape.reduce(1, *), &rng)
        let weights = randomFloats(kernel.0 * kernel.1 * c, &rng)
        let bias = randomFloats(c, &rng)
        let alpha = randomFloats(c, &rng, range: -2...2)
        func make(_ alpha: [Float]?) throws -> DepthwiseConv2DOperator {
            try DepthwiseConv2DOperator(inputShape: shape, weights: weights, weightsShape: [1, kernel.0, kernel.1, c],
                                        bias: bias, depthMultiplier: multiplier, strideHeight: stride, strideWidth: stride,
                                        padding: padding, activation: activation, preluAlpha: alpha)
        }
        func run(_ op: DepthwiseConv2DOperator, _ pool: ThreadPool) -> [Float] { runDepthwise(op, input, pool) }
        let plain = try make(nil), fused = try make(alpha)
        XCTAssertTrue(fused.hasFusedPrelu)
        let expected = referencePrelu(run(plain, Pools.one), plain.outputShape.dims, alpha)
        for pool in Pools.all {
            assertBitIdentical(run(fused, pool), expected, "\(label) threads=\(pool.threadCount)")
        }
    }

    /// Depthwise conv with a fused PRELU == the same op, then the reference PRELU: the row path
    /// (channel blocks of 32 and 8, a scalar channel tail, 1×1 and border columns), the
    /// small-map channel-block path (5×5, stride 1, ≤ 16 columns), multiplier 2 (generic loop).
    func testDepthwisePreluEqualsDepthwiseThenPrelu() throws {
        let cases: [(shape: [Int], k: Int, m: Int, s: Int, act: FusedActivation)] = [
            ([1, 16, 16, 8], 1, 1, 1, .none), ([1, 9, 11, 13], 3, 1, 1, .none), ([1, 12, 10, 64], 3, 1, 2, .relu),
            ([1, 7, 7, 16], 5, 1, 1, .none), ([1, 14, 14, 24], 5, 1, 1, .relu6), ([1, 6, 5, 3], 3, 2, 1, .none),
            ([2, 5, 5, 40], 3, 1, 1, .none), ([1, 1, 1, 32], 1, 1, 1, .none),
        ]
        for (n, c) in cases.enumerated() {
            try checkDepthwisePrelu(input: c.shape, kernel: (c.k, c.k), multiplier: c.m, stride: c.s, padding: .same,
                                    activation: c.act, seed: UInt64(1000 + n), label: "depthwise+PRELU case \(n)")
        }
        XCTAssertThrowsError(try DepthwiseConv2DOperator(inputShape: [1, 4, 4, 8], weights: [Float](repeating: 0, count: 72),
                                                         weightsShape: [1, 3, 3, 8], bias: [], depthMultiplier: 1,
                                                         strideHeight: 1, strideWidth: 1, padding: .same,
                                                         activation: .none, preluAlpha: [1, 2, 3]))
        XCTAssertThrowsError(try Conv2DOperator(inputShape: [1, 4, 4, 8], weights: [Float](repeating: 0, count: 16),
                                                weightsShape: [2, 1, 1, 8], bias: [], strideHeight: 1, strideWidth: 1,
                                                padding: .same, activation: .none, preluAlpha: [1]))
    }

    /// Every depthwise layer shape of the wheel models that have PRELU.
    func testDepthwisePreluOnRealLayerShapes() throws {
        let preluModels = Set(realPReluShapes.map(\.model))
        var seen = Set<String>()
        for (n, s) in realDepthwiseShapes.enumerated()
        where preluModels.contains(s.model) && s.dilation == (1, 1) && s.stride.0 == s.stride.1 {
            let key = "\(s.input) \(s.weights) \(s.stride) \(s.padding) \(s.depthMultiplier)"
            guard seen.insert(key).inserted else { continue }
            try checkDepthwisePrelu(input: s.input, kernel: (s.weights[1], s.weights[2]), multiplier: s.depthMultiplier,
                                    stride: s.stride.0, padding: s.padding, activation: s.activation,
                                    seed: UInt64(1100 + n), label: "real depthwise+PRELU \(s.model) \(key)")
        }
        XCTAssertFalse(seen.isEmpty)
    }
}

/// Runs `op` on `input` (NHWC, `op.inputShape`) into a fresh NaN-filled output (NHWC,
/// `op.outputShape`), with NaN-filled scratch, so unwritten elements show.
private func runDepthwise(_ op: DepthwiseConv2DOperator, _ input: [Float], _ pool: ThreadPool) -> [Float] {
    var out = [Float](repeating: .nan, count: op.outputShape.elementCount)
    var scratch = [Float](repeating: .nan, count: op.scratchCount(threads: pool.threadCount))
    input.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { o in
        scratch.withUnsafeMutableBufferPointer { sp in
            op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress, pool: pool)
        }
    } }
    return out
}
