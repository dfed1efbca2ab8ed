import BlazeKernels
import XCTest

/// `ResizedPointwiseOperator`: a 1×1 conv of a resized map computed as the conv on the small map,
/// then the resize. Against its twin (the conv's own output, TFLite's reference resize, then the
/// epilogue one value at a time) bit for bit at 1–3 threads, and against the graph's order (the
/// reference resize, then the conv in double precision) within float rounding.
final class ResizedPointwiseTests: XCTestCase {
    struct Case {
        var batch = 1
        let h: Int, w: Int, oh: Int, ow: Int, i: Int, o: Int
        var align = false, half = true
        var activation = FusedActivation.relu6
        var sparse = true
        /// Skip channels (nil: the output's; fewer: a folded channel PAD, `+0` past them).
        var skipChannels: Int? = nil
        /// A folded PRELU (palm detection's decoder convs).
        var prelu = false
    }

    /// Edge shapes, and every resize → 1×1 conv pair of the wheel's models (the detector's two,
    /// palm detection's two, the selfie segmenters' three each).
    func testAgainstTwinAndGraphOrder() throws {
        let cases = [
            Case(h: 7, w: 7, oh: 14, ow: 14, i: 1152, o: 192),                                 // the detector's decoder
            Case(h: 14, w: 14, oh: 28, ow: 28, i: 192, o: 96),                                 // its other one
            Case(h: 16, w: 16, oh: 32, ow: 32, i: 128, o: 24, activation: .none, sparse: false), // selfie_segmentation
            Case(batch: 2, h: 5, w: 3, oh: 9, ow: 7, i: 13, o: 10, half: false),               // tails, 2 images
            Case(h: 4, w: 6, oh: 11, ow: 5, i: 21, o: 9, align: true, half: false, activation: .relu, sparse: false),
            Case(h: 6, w: 6, oh: 3, ow: 4, i: 16, o: 40, skipChannels: 20),                    // downsampling, narrow skip
            Case(h: 1, w: 1, oh: 3, ow: 2, i: 8, o: 2, sparse: false),
            Case(h: 3, w: 2, oh: 6, ow: 4, i: 24, o: 19, activation: .reluN1To1, skipChannels: 11),
            Case(h: 6, w: 6, oh: 12, ow: 12, i: 256, o: 256, activation: .none, sparse: false, prelu: true),  // palm detection
            Case(h: 12, w: 12, oh: 24, ow: 24, i: 256, o: 128, activation: .none, sparse: false, prelu: true), // and its other one
            Case(h: 32, w: 32, oh: 64, ow: 64, i: 24, o: 16, activation: .none, sparse: false),                // selfie_segmentation
            Case(h: 64, w: 64, oh: 128, ow: 128, i: 16, o: 16, activation: .none, sparse: false),
            Case(h: 9, w: 16, oh: 18, ow: 32, i: 128, o: 24, activation: .none, sparse: false),                // …_landscape
            Case(h: 18, w: 32, oh: 36, ow: 64, i: 24, o: 16, activation: .none, sparse: false),
            Case(h: 36, w: 64, oh: 72, ow: 128, i: 16, o: 16, activation: .none, sparse: false),
            Case(h: 5, w: 4, oh: 10, ow: 8, i: 12, o: 13, activation: .none, skipChannels: 5, prelu: true),
        ]
        for (n, t) in cases.enumerated() {
            var rng = SeededGenerator(seed: UInt64(4100 + n))
            let small = [t.batch, t.h, t.w, t.i]
            let smallShape = try NHWCShape(small, op: "test", what: "input")
            let input = randomFloats(small.reduce(1, *), &rng, range: -3...3)
            var weights = randomFloats(t.o * t.i, &rng)
            if t.sparse { for j in weights.indices where rng.next() % 4 != 0 { weights[j] = 0 } }
            let bias = randomFloats(t.o, &rng)
            let alpha = t.prelu ? randomFloats(t.o, &rng, range: 0...0.5) : nil
            let conv: PointwiseProjection = t.sparse
                ? .sparse(try SparseConv1x1Operator(inputShape: small, weights: weights, weightsShape: [t.o, 1, 1, t.i],
                                                    bias: [], activation: .none))
                : .dense(try Conv2DOperator(inputShape: small, weights: weights, weightsShape: [t.o, 1, 1, t.i], bias: [],
                                            strideHeight: 1, strideWidth: 1, padding: .valid, activation: .none, backend: .native))
            let resize = try ResizeBilinearOperator(inputShape: [t.batch, t.h, t.w, t.o], outputHeight: t.oh, outputWidth: t.ow,
                                                    alignCorners: t.align, halfPixelCenters: t.half)
            let op = try ResizedPointwiseOperator(conv: conv, resize: resize, bias: bias, activation: t.activation,
                                                  preluAlpha: alpha)
            XCTAssertEqual(op.outputShape.dims, [t.batch, t.oh, t.ow, t.o])
            let pixels = t.batch * t.oh * t.ow
            let ld = t.skipChannels ?? t.o
            let skip = randomFloats(pixels * ld, &rng, range: -2...2)

            // The twin: the conv's own sums on the small map, the reference resize, then per value
            // `+ bias`, max then min, `+ skip` (0 past its channels), max then min (RELU for the ADD),
            // the PRELU.
            let sums = collect(t.batch * t.h * t.w * t.o) { out in
                input.withUnsafeBufferPointer { ip in
                    var scratch = [Float](repeating: .nan, count: op.scratchCount(threads: 1))
                    scratch.withUnsafeMutableBufferPointer { sp in
                        conv.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress!, pool: Pools.one)
                    }
                }
            }
            let resized = collect(pixels * t.o) { out in
                sums.withUnsafeBufferPointer {
                    Reference.resizeBilinear(input: $0.baseAddress!, inputShape: resize.inputShape, outputHeight: t.oh,
                                             outputWidth: t.ow, alignCorners: t.align, halfPixelCenters: t.half, output: out)
                }
            }
            func twin(_ withSkip: Bool) -> [Float] {
                var out = resized
                let (lo, hi) = (t.activation.lowerBound, t.activation.upperBound)
                for p in 0..<pixels { for c in 0..<t.o {
                    var r = out[p * t.o + c] + bias[c]
                    r = r < lo ? lo : r
                    r = r > hi ? hi : r
                    if withSkip {
                        r = r + (c < ld ? skip[p * ld + c] : 0)
                        r = r < 0 ? 0 : r
                    }
                    if let alpha, r < 0 { r = r * alpha[c] }
                    out[p * t.o + c] = r
                } }
                return out
            }
            // The graph's order: resize the input, then the conv (in double), bias, activation.
            let resizedInput = collect(pixels * t.i) { out in
                input.withUnsafeBufferPointer {
                    Reference.resizeBilinear(input: $0.baseAddress!, inputShape: smallShape,
                                             outputHeight: t.oh, outputWidth: t.ow, alignCorners: t.align,
                                             halfPixelCenters: t.half, output: out)
                }
            }
            var graphOrder = [Float](repeating: 0, count: pixels * t.o)
            for p in 0..<pixels { for c in 0..<t.o {
                var s = Double(bias[c])
                for k in 0..<t.i { s += Double(resizedInput[p * t.i + k]) * Double(weights[c * t.i + k]) }
                let v = t.activation.apply(Float(s))
                graphOrder[p * t.o + c] = alpha.map { v < 0 ? v * $0[c] : v } ?? v
            } }

            for withSkip in [false, true] {
                let expected = twin(withSkip)
                for pool in Pools.all {
                    var scratch = [Float](repeating: .nan, count: op.scratchCount(threads: pool.threadCount))
                    let got = collect(pixels * t.o) { out in
                        input.withUnsafeBufferPointer { ip in skip.withUnsafeBufferPointer { kp in
                            scratch.withUnsafeMutableBufferPointer { sp in
                                op.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress!, pool: pool,
                                       residual: withSkip ? GemmResidual(data: kp.baseAddress!, ld: ld, activation: .relu,
                                                                         channels: t.skipChannels ?? .max) : nil)
                            }
                        } }
                    }
                    assertBitIdentical(got, expected, "case \(n) skip \(withSkip) threads=\(pool.threadCount)")
                    if withSkip && t.skipChannels == nil {
                        // In place: the output is the skip's memory (`residualMayShareOutput`).
                        var shared = skip
                        input.withUnsafeBufferPointer { ip in shared.withUnsafeMutableBufferPointer { sh in
                            scratch.withUnsafeMutableBufferPointer { sp in
                                let out = sh.baseAddress!
                                op.run(input: ip.baseAddress!, output: out, scratch: sp.baseAddress!, pool: pool,
                                       residual: GemmResidual(data: out, ld: ld, activation: .relu))
                            }
                        } }
                        assertBitIdentical(shared, expected, "case \(n) in place threads=\(pool.threadCount)")
                    }
                    if !withSkip { assertClose(got, graphOrder, tolerance: 1e-5, "case \(n): against the graph's order") }
                }
            }
        }
    }

    /// The resize must read the conv's output, and the bias and PRELU alpha have one value per
    /// output channel.
    func testRejectsMismatches() throws {
        let conv = PointwiseProjection.dense(try Conv2DOperator(inputShape: [1, 4, 4, 8], weights: [Float](repeating: 0.5, count: 16),
                                                                weightsShape: [2, 1, 1, 8], bias: [], strideHeight: 1, strideWidth: 1,
                                                                padding: .valid, activation: .none, backend: .native))
        let wrongChannels = try ResizeBilinearOperator(inputShape: [1, 4, 4, 8], outputHeight: 8, outputWidth: 8,
                                                       alignCorners: false, halfPixelCenters: true)
        XCTAssertThrowsError(try ResizedPointwiseOperator(conv: conv, resize: wrongChannels, bias: [], activation: .none))
        let wrongSize = try ResizeBilinearOperator(inputShape: [1, 4, 5, 2], outputHeight: 8, outputWidth: 8,
                                                   alignCorners: false, halfPixelCenters: true)
        XCTAssertThrowsError(try ResizedPointwiseOperator(conv: conv, resize: wrongSize, bias: [], activation: .none))
        let resize = try ResizeBilinearOperator(inputShape: [1, 4, 4, 2], outputHeight: 8, outputWidth: 8,
                                                alignCorners: false, halfPixelCenters: true)
        XCTAssertThrowsError(try ResizedPointwiseOperator(conv: conv, resize: resize, bias: [1, 2, 3], activation: .none))
        XCTAssertThrowsError(try ResizedPointwiseOperator(conv: conv, resize: resize, bias: [], activation: .none, preluAlpha: [1]))
        XCTAssertNoThrow(try ResizedPointwiseOperator(conv: conv, resize: resize, bias: [1, 2], activation: .none))
    }
}
