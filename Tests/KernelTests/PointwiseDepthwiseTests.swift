import BlazeKernels
import XCTest

/// `PointwiseDepthwiseOperator` (a 1×1 conv, dense or sparse, and the depthwise conv reading its
/// output, in row bands) must give exactly the bits of the two operators run one after the other, for every band
/// size, thread count and GEMM width: over edge shapes and every pointwise → depthwise pair of
/// the models' layer shapes.
final class PointwiseDepthwiseTests: XCTestCase {
    struct Case {
        var batch = 1
        var h: Int, w: Int, i: Int, c: Int, k: Int, s: Int
        var dilation = 1, multiplier = 1
        var padding: Padding = .same
        var pwAct: FusedActivation = .relu6, dwAct: FusedActivation = .relu6
        var pwPrelu = false, dwPrelu = false
    }

    /// Runs the pair fused (band sizes from the window's height to the whole map) and apart, and
    /// compares bitwise.
    func check(_ t: Case, seed: UInt64, label: String, pools: [ThreadPool] = Pools.all,
               bandBytes: [Int] = [0, 3000, 96 * 1024, 1 << 30]) throws {
        var rng = SeededGenerator(seed: seed)
        let inShape = [t.batch, t.h, t.w, t.i]
        let input = randomFloats(inShape.reduce(1, *), &rng)
        let pwWeights = randomFloats(t.c * t.i, &rng), pwBias = randomFloats(t.c, &rng)
        let outC = t.c * t.multiplier
        let dwWeights = randomFloats(t.k * t.k * outC, &rng), dwBias = randomFloats(outC, &rng)
        let pwAlpha = t.pwPrelu ? randomFloats(t.c, &rng) : nil
        let dwAlpha = t.dwPrelu ? randomFloats(outC, &rng) : nil
        for lanes in [GemmLanes.eight, .sixteen] {
            let pw = try Conv2DOperator(inputShape: inShape, weights: pwWeights, weightsShape: [t.c, 1, 1, t.i], bias: pwBias,
                                        strideHeight: 1, strideWidth: 1, padding: .valid, activation: t.pwAct,
                                        backend: .native, preluAlpha: pwAlpha, lanes: lanes)
            let midShape = pw.outputShape.dims
            func depthwise(rowPathOnly: Bool) throws -> DepthwiseConv2DOperator {
                try DepthwiseConv2DOperator(inputShape: midShape, weights: dwWeights, weightsShape: [1, t.k, t.k, outC],
                                            bias: dwBias, depthMultiplier: t.multiplier, strideHeight: t.s, strideWidth: t.s,
                                            dilationHeight: t.dilation, dilationWidth: t.dilation, padding: t.padding,
                                            activation: t.dwAct, preluAlpha: dwAlpha, rowPathOnly: rowPathOnly)
            }
            // Apart, with the depthwise kernel the interpreter would pick (possibly the small-map path).
            let apart = try depthwise(rowPathOnly: false)
            let expected = runDepthwise(apart, runConv(pw, input, pool: Pools.one))
            for bytes in bandBytes {
                let fused = try PointwiseDepthwiseOperator(pointwise: pw, depthwise: try depthwise(rowPathOnly: true),
                                                           bandBytes: bytes)
                XCTAssertEqual(fused.outputShape, apart.outputShape, label)
                checkFused(fused, input: input, expected: expected, pools: pools, label: "\(label) \(lanes.rawValue)-lane")
            }
        }
    }

    /// The depthwise conv `op` run alone on `input` (1 thread).
    func runDepthwise(_ op: DepthwiseConv2DOperator, _ input: [Float]) -> [Float] {
        var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: 1)))
        return collect(op.outputShape.elementCount) { out in
            input.withUnsafeBufferPointer { ip in scratch.withUnsafeMutableBufferPointer { sp in
                op.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress!, pool: Pools.one)
            } }
        }
    }

    /// `fused` on `input` gives `expected` bit for bit on every pool.
    func checkFused(_ fused: PointwiseDepthwiseOperator, input: [Float], expected: [Float], pools: [ThreadPool], label: String) {
        for pool in pools {
            var scratch = [Float](repeating: .nan, count: fused.scratchCount(threads: pool.threadCount))
            let got = collect(fused.outputShape.elementCount) { out in
                input.withUnsafeBufferPointer { ip in scratch.withUnsafeMutableBufferPointer { sp in
                    fused.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress!, pool: pool)
                } }
            }
            assertBitIdentical(got, expected, "\(label) band \(fused.bandRows) rows threads=\(pool.threadCount)")
        }
    }

    func testEdgeShapes() throws {
        let cases: [Case] = [
            Case(h: 9, w: 7, i: 5, c: 13, k: 3, s: 1),                                   // channel tails, odd map
            Case(h: 10, w: 12, i: 16, c: 64, k: 3, s: 2),                                // stride 2, SAME (pad bottom)
            Case(h: 11, w: 11, i: 8, c: 24, k: 3, s: 2, padding: .valid),
            Case(h: 8, w: 9, i: 8, c: 16, k: 5, s: 1, pwAct: .none, dwAct: .none),       // 5×5, small-map path apart
            Case(h: 13, w: 6, i: 4, c: 8, k: 5, s: 2, padding: .explicit(top: 2, bottom: 1, left: 1, right: 2)),
            Case(h: 7, w: 7, i: 3, c: 9, k: 3, s: 1, dilation: 2),
            Case(h: 6, w: 5, i: 7, c: 4, k: 3, s: 1, multiplier: 3, dwAct: .relu),       // generic multiplier path
            Case(batch: 3, h: 5, w: 6, i: 8, c: 40, k: 3, s: 2, pwPrelu: true, dwPrelu: true),
            Case(h: 2, w: 3, i: 2, c: 8, k: 5, s: 1),                                   // window taller than the map
            Case(h: 1, w: 1, i: 1, c: 1, k: 3, s: 1),
            Case(h: 4, w: 4, i: 8, c: 16, k: 3, s: 3, padding: .explicit(top: 0, bottom: 3, left: 0, right: 3)),
        ]
        for (n, t) in cases.enumerated() { try check(t, seed: UInt64(900 + n), label: "edge case \(n)") }
    }

    /// Every pointwise conv of a model whose output shape is some depthwise conv's input in that
    /// model (the interpreter fuses those pairs on maps ≥ 3 MiB, from 1.5 MiB with a stride-1
    /// depthwise conv; the smaller ones are tested too), at the real shapes.
    func testRealLayerPairs() throws {
        var seen = Set<String>()
        var n = 0
        for conv in realConvShapes where conv.weights[1] == 1 && conv.weights[2] == 1 && conv.stride == (1, 1) {
            for dw in realDepthwiseShapes where dw.model == conv.model && dw.input == conv.output {
                let key = "\(conv.input) \(conv.weights) \(dw.weights) \(dw.stride) \(dw.padding) \(dw.dilation)"
                guard seen.insert(key).inserted else { continue }
                let t = Case(batch: conv.input[0], h: conv.input[1], w: conv.input[2], i: conv.input[3], c: conv.weights[0],
                             k: dw.weights[1], s: dw.stride.0, dilation: dw.dilation.0, multiplier: dw.depthMultiplier,
                             padding: dw.padding, pwAct: conv.activation, dwAct: dw.activation)
                XCTAssertEqual(dw.weights[1], dw.weights[2], "square depthwise windows only")
                XCTAssertEqual(dw.stride.0, dw.stride.1)
                try check(t, seed: UInt64(1000 + n), label: "\(conv.model) \(key)", pools: [Pools.one, Pools.two],
                          bandBytes: [96 * 1024])
                n += 1
            }
        }
        XCTAssertGreaterThan(n, 10, "the layer tables hold pointwise → depthwise pairs")
    }

    /// With a sparse 1×1 conv (`SparseConv1x1Operator`, ~75% zero weights) computing the bands:
    /// bit-identical to the sparse conv and the depthwise conv run apart, for every band size,
    /// thread count and tile/chunk geometry (`tileGroups`, `chunkChannels`).
    func checkSparse(_ t: Case, seed: UInt64, label: String, tileGroups: Int? = nil, chunkChannels: Int? = nil,
                     pools: [ThreadPool] = Pools.all, bandBytes: [Int] = [0, 3000, 96 * 1024, 1 << 30]) throws {
        var rng = SeededGenerator(seed: seed)
        let inShape = [t.batch, t.h, t.w, t.i]
        let input = randomFloats(inShape.reduce(1, *), &rng)
        var pwWeights = randomFloats(t.c * t.i, &rng)
        for j in pwWeights.indices where rng.next() % 4 != 0 { pwWeights[j] = 0 }
        let pwBias = randomFloats(t.c, &rng)
        let dwWeights = randomFloats(t.k * t.k * t.c, &rng), dwBias = randomFloats(t.c, &rng)
        let pw = try SparseConv1x1Operator(inputShape: inShape, weights: pwWeights, weightsShape: [t.c, 1, 1, t.i], bias: pwBias,
                                           activation: t.pwAct, tileGroups: tileGroups, chunkChannels: chunkChannels)
        func depthwise(rowPathOnly: Bool) throws -> DepthwiseConv2DOperator {
            try DepthwiseConv2DOperator(inputShape: pw.outputShape.dims, weights: dwWeights, weightsShape: [1, t.k, t.k, t.c],
                                        bias: dwBias, depthMultiplier: 1, strideHeight: t.s, strideWidth: t.s,
                                        dilationHeight: t.dilation, dilationWidth: t.dilation, padding: t.padding,
                                        activation: t.dwAct, rowPathOnly: rowPathOnly)
        }
        var sparseScratch = [Float](repeating: .nan, count: pw.scratchCount(threads: 1))
        let mid = collect(pw.outputShape.elementCount) { out in
            input.withUnsafeBufferPointer { ip in sparseScratch.withUnsafeMutableBufferPointer { sp in
                pw.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress!, pool: Pools.one)
            } }
        }
        let apart = try depthwise(rowPathOnly: false)
        let expected = runDepthwise(apart, mid)
        for bytes in bandBytes {
            let fused = try PointwiseDepthwiseOperator(sparse: pw, depthwise: try depthwise(rowPathOnly: true), bandBytes: bytes)
            XCTAssertNil(fused.pointwise, label)
            XCTAssertEqual(fused.outputShape, apart.outputShape, label)
            checkFused(fused, input: input, expected: expected, pools: pools, label: "\(label) sparse")
        }
    }

    func testSparsePointwise() throws {
        let cases: [(Case, tileGroups: Int?, chunkChannels: Int?)] = [
            (Case(h: 9, w: 7, i: 5, c: 13, k: 3, s: 1), nil, nil),                              // channel tails, odd map
            (Case(h: 10, w: 12, i: 16, c: 64, k: 3, s: 2), nil, nil),                           // stride 2, SAME
            (Case(h: 13, w: 6, i: 24, c: 16, k: 5, s: 2, padding: .explicit(top: 2, bottom: 1, left: 1, right: 2)), 3, nil),
            (Case(h: 11, w: 9, i: 40, c: 24, k: 3, s: 1, pwAct: .none, dwAct: .none), 1, 16),   // 1-group tiles, 3 chunks
            (Case(batch: 3, h: 5, w: 6, i: 8, c: 40, k: 3, s: 2), nil, nil),
            (Case(h: 7, w: 7, i: 3, c: 9, k: 3, s: 1, dilation: 2), 14, nil),
            (Case(h: 2, w: 3, i: 2, c: 8, k: 5, s: 1), nil, nil),                              // window taller than the map
            // The detector's 112×112 16 → 64 expansion and the stride-2 depthwise conv reading it
            // through a folded PAD (114×114, VALID).
            (Case(h: 112, w: 112, i: 16, c: 64, k: 3, s: 2, padding: .explicit(top: 1, bottom: 1, left: 1, right: 1)), nil, nil),
            // Its 56×56 24 → 144 expansion and the 5×5 stride-1 depthwise conv: a band of 12 rows,
            // 4 of them moved to its front for every 8 computed.
            (Case(h: 56, w: 56, i: 24, c: 144, k: 5, s: 1), nil, nil),
        ]
        for (n, t) in cases.enumerated() {
            try checkSparse(t.0, seed: UInt64(1500 + n), label: "sparse case \(n)", tileGroups: t.tileGroups,
                            chunkChannels: t.chunkChannels, bandBytes: n >= cases.count - 2 ? [96 * 1024] : [0, 3000, 96 * 1024, 1 << 30])
        }
    }

    /// With a projection (`PointwiseProjection`, dense or sparse, its fused ADD's residual from
    /// another buffer or in the output's own memory): bit-identical to the pair, then the projection
    /// conv's own `run`, for every thread count, over edge shapes (partial row groups, several
    /// images, stride 2, a channel-narrow residual) and the models' blocks.
    func checkProjected(_ t: Case, projection o: Int, seed: UInt64, label: String, sparseExpand: Bool, sparseProject: Bool,
                        residualChannels: Int?, inPlace: Bool = false, lanes: GemmLanes = .build) throws {
        var rng = SeededGenerator(seed: seed)
        let inShape = [t.batch, t.h, t.w, t.i]
        let input = randomFloats(inShape.reduce(1, *), &rng)
        func weights(_ n: Int, sparse: Bool) -> [Float] {
            var w = randomFloats(n, &rng)
            if sparse { for j in w.indices where rng.next() % 4 != 0 { w[j] = 0 } }
            return w
        }
        let ew = weights(t.c * t.i, sparse: sparseExpand), eb = randomFloats(t.c, &rng)
        let dw = try DepthwiseConv2DOperator(inputShape: [t.batch, t.h, t.w, t.c], weights: randomFloats(t.k * t.k * t.c, &rng),
                                             weightsShape: [1, t.k, t.k, t.c], bias: randomFloats(t.c, &rng), depthMultiplier: 1,
                                             strideHeight: t.s, strideWidth: t.s, padding: t.padding, activation: t.dwAct,
                                             rowPathOnly: true)
        let pw = weights(o * t.c, sparse: sparseProject), pb = randomFloats(o, &rng)
        let projection: PointwiseProjection
        if sparseProject {
            projection = .sparse(try SparseConv1x1Operator(inputShape: dw.outputShape.dims, weights: pw, weightsShape: [o, 1, 1, t.c],
                                                           bias: pb, activation: .relu))
        } else {
            projection = .dense(try Conv2DOperator(inputShape: dw.outputShape.dims, weights: pw, weightsShape: [o, 1, 1, t.c],
                                                   bias: pb, strideHeight: 1, strideWidth: 1, padding: .valid, activation: .relu,
                                                   backend: .native, lanes: lanes))
        }
        func make(_ projection: PointwiseProjection?) throws -> PointwiseDepthwiseOperator {
            if sparseExpand {
                return try PointwiseDepthwiseOperator(sparse: try SparseConv1x1Operator(inputShape: inShape, weights: ew,
                                                                                         weightsShape: [t.c, 1, 1, t.i], bias: eb,
                                                                                         activation: t.pwAct),
                                                      depthwise: dw, projection: projection)
            }
            return try PointwiseDepthwiseOperator(pointwise: try Conv2DOperator(inputShape: inShape, weights: ew, weightsShape: [t.c, 1, 1, t.i],
                                                                                bias: eb, strideHeight: 1, strideWidth: 1, padding: .valid,
                                                                                activation: t.pwAct, backend: .native, lanes: lanes),
                                                  depthwise: dw, projection: projection)
        }
        let pair = try make(nil), fused = try make(projection)
        XCTAssertEqual(fused.outputShape, projection.outputShape, label)
        let outCount = fused.outputShape.elementCount
        let ld = residualChannels ?? o
        let skip = randomFloats(outCount / o * ld, &rng)
        // Apart: the pair, then the projection conv on its output (1 thread).
        let mid = collect(dw.outputShape.elementCount) { out in
            var scratch = [Float](repeating: .nan, count: pair.scratchCount(threads: 1))
            input.withUnsafeBufferPointer { ip in scratch.withUnsafeMutableBufferPointer { sp in
                pair.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress!, pool: Pools.one)
            } }
        }
        func residual(_ base: UnsafePointer<Float>) -> GemmResidual {
            GemmResidual(data: base, ld: ld, activation: .relu6, channels: residualChannels ?? .max)
        }
        let expected = collect(outCount) { out in
            mid.withUnsafeBufferPointer { mp in skip.withUnsafeBufferPointer { rp in
                switch projection {
                case .dense(let conv):
                    var scratch = [Float](repeating: .nan, count: max(1, conv.scratchCount(threads: 1)))
                    scratch.withUnsafeMutableBufferPointer { sp in
                        conv.run(input: mp.baseAddress!, output: out, scratch: sp.baseAddress!, pool: Pools.one, residual: residual(rp.baseAddress!))
                    }
                case .sparse(let conv):
                    var scratch = [Float](repeating: .nan, count: conv.scratchCount(threads: 1))
                    scratch.withUnsafeMutableBufferPointer { sp in
                        conv.run(input: mp.baseAddress!, output: out, scratch: sp.baseAddress!, pool: Pools.one, residual: residual(rp.baseAddress!))
                    }
                }
            } }
        }
        for pool in Pools.all {
            var scratch = [Float](repeating: .nan, count: fused.scratchCount(threads: pool.threadCount))
            var got = inPlace ? skip : [Float](repeating: .nan, count: outCount)
            let skipCopy = skip
            input.withUnsafeBufferPointer { ip in scratch.withUnsafeMutableBufferPointer { sp in
                skipCopy.withUnsafeBufferPointer { rp in got.withUnsafeMutableBufferPointer { gp in
                    // In place: the residual is the output's own memory.
                    let r = residual(inPlace ? UnsafePointer(gp.baseAddress!) : rp.baseAddress!)
                    fused.run(input: ip.baseAddress!, output: gp.baseAddress!, scratch: sp.baseAddress!, pool: pool, residual: r)
                } }
            } }
            assertBitIdentical(got, expected, "\(label) threads=\(pool.threadCount) rows \(fused.projectedRows)")
        }
    }

    func testProjection() throws {
        let cases: [(Case, o: Int, sparseExpand: Bool, sparseProject: Bool, residualChannels: Int?, inPlace: Bool)] = [
            (Case(h: 9, w: 7, i: 5, c: 13, k: 3, s: 1), 6, false, false, nil, false),                 // tails, 10 rows a group
            (Case(h: 9, w: 7, i: 5, c: 13, k: 3, s: 1), 6, true, true, nil, true),                    // sparse, in place
            (Case(h: 10, w: 12, i: 16, c: 64, k: 3, s: 2), 24, false, true, nil, false),              // stride 2
            (Case(batch: 3, h: 5, w: 6, i: 8, c: 40, k: 5, s: 1), 8, true, false, nil, true),          // images, dense in place
            (Case(h: 11, w: 30, i: 8, c: 24, k: 5, s: 1, padding: .explicit(top: 2, bottom: 2, left: 2, right: 2)), 16, true, true, 12,
             false),                                                                                   // narrow residual
            (Case(h: 1, w: 1, i: 1, c: 8, k: 3, s: 1), 2, false, false, nil, false),
            // The detector's 56×56 block (sparse, 5×5) and pose_landmark_full's 64×64 one (dense, 3×3), with their ADD.
            (Case(h: 56, w: 56, i: 24, c: 144, k: 5, s: 1), 24, true, true, nil, true),
            (Case(h: 64, w: 64, i: 24, c: 144, k: 3, s: 1), 24, false, false, nil, true),
        ]
        for (n, t) in cases.enumerated() {
            try checkProjected(t.0, projection: t.o, seed: UInt64(2100 + n), label: "projection case \(n)", sparseExpand: t.sparseExpand,
                               sparseProject: t.sparseProject, residualChannels: t.residualChannels, inPlace: t.inPlace)
        }
        // Both GEMM widths for a dense one.
        try checkProjected(Case(h: 9, w: 7, i: 5, c: 13, k: 3, s: 1), projection: 6, seed: 2199, label: "8-lane", sparseExpand: false,
                           sparseProject: false, residualChannels: nil, lanes: .eight)
    }

    /// The pair is refused unless the first conv is a native 1×1 (or a sparse one reading its input as
    /// given, no resize), the shapes chain and the depthwise conv runs by rows.
    func testRejectsWhatItCannotRun() throws {
        let dw = try DepthwiseConv2DOperator(inputShape: [1, 8, 8, 16], weights: [Float](repeating: 0, count: 9 * 16),
                                             weightsShape: [1, 3, 3, 16], bias: [], depthMultiplier: 1,
                                             strideHeight: 1, strideWidth: 1, padding: .same, activation: .none,
                                             rowPathOnly: true)
        let blas = try Conv2DOperator(inputShape: [1, 8, 8, 4], weights: [Float](repeating: 0, count: 64), weightsShape: [16, 1, 1, 4],
                                      bias: [], strideHeight: 1, strideWidth: 1, padding: .valid, activation: .none,
                                      backend: .openBLAS)
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(pointwise: blas, depthwise: dw))
        let threeByThree = try Conv2DOperator(inputShape: [1, 8, 8, 4], weights: [Float](repeating: 0, count: 576),
                                              weightsShape: [16, 3, 3, 4], bias: [], strideHeight: 1, strideWidth: 1,
                                              padding: .same, activation: .none, backend: .native)
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(pointwise: threeByThree, depthwise: dw))
        let wrongShape = try Conv2DOperator(inputShape: [1, 8, 8, 4], weights: [Float](repeating: 0, count: 32), weightsShape: [8, 1, 1, 4],
                                            bias: [], strideHeight: 1, strideWidth: 1, padding: .valid, activation: .none,
                                            backend: .native)
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(pointwise: wrongShape, depthwise: dw))
        let sparseWrongShape = try SparseConv1x1Operator(inputShape: [1, 8, 8, 4], weights: [Float](repeating: 0, count: 32),
                                                         weightsShape: [8, 1, 1, 4], bias: [], activation: .none)
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparseWrongShape, depthwise: dw))
        let smallMap = try DepthwiseConv2DOperator(inputShape: [1, 8, 8, 16], weights: [Float](repeating: 0, count: 25 * 16),
                                                   weightsShape: [1, 5, 5, 16], bias: [], depthMultiplier: 1,
                                                   strideHeight: 1, strideWidth: 1, padding: .same, activation: .none)
        XCTAssertFalse(smallMap.usesRowPath)
        let sparse = try SparseConv1x1Operator(inputShape: [1, 8, 8, 4], weights: [Float](repeating: 0, count: 64),
                                               weightsShape: [16, 1, 1, 4], bias: [], activation: .none)
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: smallMap))
        XCTAssertNoThrow(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw))
        // A sparse conv that computes a resize of its input reads another tensor than the band's rows.
        let resize = try ResizeBilinearOperator(inputShape: [1, 4, 4, 4], outputHeight: 8, outputWidth: 8,
                                                alignCorners: false, halfPixelCenters: true)
        let resizing = try SparseConv1x1Operator(inputShape: [1, 8, 8, 4], weights: [Float](repeating: 0, count: 64),
                                                 weightsShape: [16, 1, 1, 4], bias: [], activation: .none, resize: resize)
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: resizing, depthwise: dw))
        // Projections: the depthwise output's shape, a native 1×1 with several outputs and no PRELU,
        // a sparse one that reads its input as given.
        func conv(_ o: Int, backend: GemmBackend = .native, prelu: Bool = false, kernel: Int = 1) throws -> Conv2DOperator {
            try Conv2DOperator(inputShape: [1, 8, 8, 16], weights: [Float](repeating: 0, count: o * kernel * kernel * 16),
                               weightsShape: [o, kernel, kernel, 16], bias: [], strideHeight: 1, strideWidth: 1, padding: .same,
                               activation: .none, backend: backend, preluAlpha: prelu ? [Float](repeating: 0.5, count: o) : nil)
        }
        XCTAssertNoThrow(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw, projection: .dense(try conv(8))))
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw, projection: .dense(try conv(8, backend: .openBLAS))))
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw, projection: .dense(try conv(8, prelu: true))))
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw, projection: .dense(try conv(1))))
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw, projection: .dense(try conv(8, kernel: 3))))
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw, projection: .sparse(sparseWrongShape)))
        let resized16 = try ResizeBilinearOperator(inputShape: [1, 4, 4, 16], outputHeight: 8, outputWidth: 8,
                                                   alignCorners: false, halfPixelCenters: true)
        let resizingProjection = try SparseConv1x1Operator(inputShape: [1, 8, 8, 16], weights: [Float](repeating: 0, count: 128),
                                                           weightsShape: [8, 1, 1, 16], bias: [], activation: .none, resize: resized16)
        XCTAssertThrowsError(try PointwiseDepthwiseOperator(sparse: sparse, depthwise: dw, projection: .sparse(resizingProjection)))
    }
}
