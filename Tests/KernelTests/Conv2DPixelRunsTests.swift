import BlazeKernels
import XCTest

/// `Conv2DOperator.run(pixelRuns:)` computes only the pixels of its runs, each bit-identical to the
/// whole conv's (`run`): on every real dense conv shape of the wheel's models it can take (native
/// GEMM at 8 and 16 lanes, float32 and binary16 panels, with a fused PRELU) and on edge shapes, at
/// 1–3 threads; the pixels outside the runs stay as they were (NaN here).
final class Conv2DPixelRunsTests: XCTestCase {
    /// Runs through `pixels` (N·OH·OW): every pixel `p` with `p % every == phase`, grouped into runs
    /// along output rows of at most `Conv2DOperator.pixelRunLimit` pixels, plus one repeated run.
    static func runs(pixels: Int, width: Int, every: Int, phase: Int) -> [PixelRun] {
        var runs: [PixelRun] = []
        var p = 0
        while p < pixels {
            let rowEnd = (p / width + 1) * width
            // A run of 1...7 pixels starting here (within the row), when (p / 7) hits the phase.
            let length = Swift.min(rowEnd - p, 1 + (p / 3) % 7, Conv2DOperator.pixelRunLimit)
            if (p / 7) % every == phase { runs.append(PixelRun(start: p, count: length)) }
            p += length
        }
        if let first = runs.first { runs.append(first) }   // computed again: the same bits
        return runs
    }

    func check(_ op: Conv2DOperator, input: [Float], label: String) {
        let whole = runConv(op, input, pool: Pools.one)
        let pixels = op.outputShape.batch * op.outputShape.height * op.outputShape.width
        let oc = op.outputShape.channels
        for (every, phase) in [(1, 0), (3, 1), (5, 4)] {
            let runs = Self.runs(pixels: pixels, width: op.outputShape.width, every: every, phase: phase)
            var inRuns = [Bool](repeating: false, count: pixels)
            for r in runs { for p in r.start..<(r.start + r.count) { inRuns[p] = true } }
            for pool in Pools.all {
                var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: pool.threadCount)))
                let out = collect(op.outputShape.elementCount) { out in
                    input.withUnsafeBufferPointer { ip in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            runs.withUnsafeBufferPointer { rp in
                                op.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress, pool: pool, pixelRuns: rp)
                            }
                        }
                    }
                }
                var wrong = 0, written = 0
                for p in 0..<pixels {
                    for c in 0..<oc {
                        let (got, want) = (out[p * oc + c], whole[p * oc + c])
                        if inRuns[p] { if got.bitPattern != want.bitPattern { wrong += 1 } } else if !got.isNaN { written += 1 }
                    }
                }
                XCTAssertEqual(wrong, 0, "\(label) every \(every) phase \(phase) threads \(pool.threadCount): values in the runs differ")
                XCTAssertEqual(written, 0, "\(label) every \(every) phase \(phase): values outside the runs were written")
            }
        }
    }

    func testRealDenseConvShapes() throws {
        var rng = SeededGenerator(seed: 41)
        var checked = 0
        // One per distinct shape; the stem (3 input channels) and single-output-channel convs take
        // kernels that compute whole outputs only.
        var seen = Set<String>()
        for s in realConvShapes where s.input[3] != 3 && s.weights[0] > 1 {
            let key = "\(s.input) \(s.weights) \(s.stride) \(s.dilation) \(s.padding)"
            guard seen.insert(key).inserted else { continue }
            let input = randomFloats(s.input.reduce(1, *), &rng)
            let weights = randomFloats(s.weights.reduce(1, *), &rng, range: -0.5...0.5)
            let bias = randomFloats(s.weights[0], &rng)
            for lanes in [GemmLanes.eight, .sixteen] {
                let op = try Conv2DOperator(inputShape: s.input, weights: weights, weightsShape: s.weights, bias: bias,
                                            strideHeight: s.stride.0, strideWidth: s.stride.1,
                                            dilationHeight: s.dilation.0, dilationWidth: s.dilation.1,
                                            padding: s.padding, activation: s.activation, backend: .native, lanes: lanes)
                guard op.computesPixelRuns else { continue }
                check(op, input: input, label: "\(s.model) \(key) \(lanes.rawValue)-lane")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100, "real shapes checked")
    }

    /// Edge shapes: batch 2, odd widths, dilation, stride 2, channels not a multiple of 8 or 16,
    /// binary16 panels, a fused PRELU, every activation; and what cannot compute runs.
    func testEdgeShapesPanelsAndPrelu() throws {
        var rng = SeededGenerator(seed: 43)
        let cases: [(input: [Int], weights: [Int], stride: Int, dilation: Int, padding: Padding)] = [
            ([2, 7, 9, 5], [17, 3, 3, 5], 1, 1, .same),
            ([1, 13, 11, 8], [24, 3, 3, 8], 2, 1, .same),
            ([1, 12, 12, 16], [33, 5, 5, 16], 1, 2, .valid),
            ([2, 6, 5, 48], [39, 1, 1, 48], 1, 1, .same),
            ([1, 8, 8, 32], [39, 3, 3, 32], 1, 1, .same),
        ]
        for c in cases {
            let input = randomFloats(c.input.reduce(1, *), &rng)
            let weights = randomFloats(c.weights.reduce(1, *), &rng).map { Float(Float16($0)) }   // exact in binary16
            let bias = randomFloats(c.weights[0], &rng)
            let alpha = randomFloats(c.weights[0], &rng)
            for act in FusedActivation.allCases {
                for (lanes, panels, prelu) in [(GemmLanes.eight, PanelPrecision.float32, false), (.sixteen, .float32, true),
                                               (.eight, .float16WhenExact, true)] {
                    let op = try Conv2DOperator(inputShape: c.input, weights: weights, weightsShape: c.weights, bias: bias,
                                                strideHeight: c.stride, strideWidth: c.stride, dilationHeight: c.dilation,
                                                dilationWidth: c.dilation, padding: c.padding, activation: act, backend: .native,
                                                preluAlpha: prelu ? alpha : nil, lanes: lanes, panels: panels)
                    XCTAssertTrue(op.computesPixelRuns, "\(c.input) \(c.weights)")
                    check(op, input: input, label: "\(c.input) \(c.weights) \(act) \(lanes.rawValue)-lane \(panels) prelu \(prelu)")
                }
            }
        }
        let stem = try Conv2DOperator(inputShape: [1, 16, 16, 3], weights: randomFloats(24 * 27, &rng), weightsShape: [24, 3, 3, 3],
                                      bias: [], strideHeight: 2, strideWidth: 2, padding: .same, activation: .none, backend: .native,
                                      lanes: .eight)
        XCTAssertTrue(stem.usesStemKernel)
        XCTAssertFalse(stem.computesPixelRuns, "the stem kernel computes whole rows")
        let blas = try Conv2DOperator(inputShape: [1, 8, 8, 8], weights: randomFloats(16 * 8, &rng), weightsShape: [16, 1, 1, 8],
                                      bias: [], strideHeight: 1, strideWidth: 1, padding: .same, activation: .none, backend: .openBLAS)
        XCTAssertFalse(blas.computesPixelRuns, "OpenBLAS gives other bits for other row counts")
    }
}
