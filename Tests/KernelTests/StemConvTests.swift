import BlazeKernels
import XCTest

/// The stem kernel (3 input channels, any window up to 7 wide; tiles 6×16, 4×24 (N = 24) and 6×8
/// (8-wide panels)) against its naive twin `Reference.stemConv` and against the GEMM path it replaces
/// (`stemKernel: false`), bit for bit, at 1–3 threads.
final class StemConvTests: XCTestCase {
    struct Case {
        var input: [Int], outputChannels: Int, kernel: (Int, Int) = (3, 3), stride: (Int, Int), padding: Padding
        var activation: FusedActivation, bias: Bool = true
    }

    func check(_ c: Case, seed: UInt64, label: String) throws {
        var rng = SeededGenerator(seed: seed)
        let wShape = [c.outputChannels, c.kernel.0, c.kernel.1, 3]
        let input = randomFloats(c.input.reduce(1, *), &rng)
        let weights = randomFloats(wShape.reduce(1, *), &rng)
        let bias = c.bias ? randomFloats(c.outputChannels, &rng) : []
        func conv(stem: Bool) throws -> Conv2DOperator {
            try Conv2DOperator(inputShape: c.input, weights: weights, weightsShape: wShape, bias: bias,
                               strideHeight: c.stride.0, strideWidth: c.stride.1, padding: c.padding,
                               activation: c.activation, backend: .native, lanes: .eight, stemKernel: stem)
        }
        let stem = try conv(stem: true), gemm = try conv(stem: false)
        XCTAssertTrue(stem.usesStemKernel, label)
        XCTAssertFalse(gemm.usesStemKernel, label)
        let twin = collect(stem.outputShape.elementCount) { out in
            input.withUnsafeBufferPointer { ip in weights.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                Reference.stemConv(input: ip.baseAddress!, batch: c.input[0], weights: wp.baseAddress!,
                                      bias: c.bias ? bp.baseAddress : nil, outputChannels: c.outputChannels,
                                      geometry: stem.geometry, activation: c.activation, output: out)
            } } }
        }
        let viaGemm = runConv(gemm, input, pool: Pools.one)
        assertBitIdentical(viaGemm, twin, "\(label): GEMM path vs twin")
        for pool in Pools.all {
            assertBitIdentical(runConv(stem, input, pool: pool), twin, "\(label) threads=\(pool.threadCount)")
        }
    }

    /// True when a `kernel` window fits the `h`×`w` input with `padding` (at least one output).
    func fits(_ h: Int, _ w: Int, _ kernel: (Int, Int), _ padding: Padding) -> Bool {
        switch padding {
        case .same: return true
        case .valid: return h >= kernel.0 && w >= kernel.1
        case let .explicit(top, bottom, left, right): return h + top + bottom >= kernel.0 && w + left + right >= kernel.1
        }
    }

    func testEdgeShapes() throws {
        var cases: [Case] = []
        let paddings: [Padding] = [.same, .valid, .explicit(top: 1, bottom: 1, left: 1, right: 1),
                                   .explicit(top: 0, bottom: 2, left: 2, right: 0)]
        for kernel in [(3, 3), (5, 5), (1, 1), (2, 2), (3, 5), (7, 7)] {
            for (h, w) in [(1, 1), (3, 3), (5, 7), (8, 9), (13, 6), (4, 17), (6, 26)] {
                for stride in [(2, 2), (1, 1), (1, 2), (3, 3)] {
                    for padding in paddings where fits(h, w, kernel, padding) {
                        for o in [2, 7, 8, 16, 24, 33, 40] {
                            let act = FusedActivation.allCases[(h + w + o) % FusedActivation.allCases.count]
                            cases.append(Case(input: [1, h, w, 3], outputChannels: o, kernel: kernel, stride: stride,
                                              padding: padding, activation: act, bias: (o + h) % 3 != 0))
                        }
                    }
                }
            }
        }
        cases.append(Case(input: [2, 11, 10, 3], outputChannels: 24, stride: (2, 2), padding: .same, activation: .relu6))
        cases.append(Case(input: [3, 9, 14, 3], outputChannels: 16, stride: (2, 1), padding: .same, activation: .none))
        for (n, c) in cases.enumerated() {
            try check(c, seed: UInt64(4000 + n),
                      label: "stem edge case \(n) \(c.input) O=\(c.outputChannels) k\(c.kernel) s\(c.stride) \(c.padding)")
        }
    }

    func testRealLayerShapes() throws {
        let stems = realConvShapes.filter { $0.weights.count == 4 && $0.weights[3] == 3 && $0.weights[0] > 1 }
        XCTAssertFalse(stems.isEmpty)
        for (n, s) in stems.enumerated() {
            try check(Case(input: s.input, outputChannels: s.weights[0], kernel: (s.weights[1], s.weights[2]),
                           stride: s.stride, padding: s.padding, activation: s.activation),
                      seed: UInt64(4500 + n), label: "\(s.model) stem \(s.input) w\(s.weights)")
        }
    }

    /// A fused residual ADD and a fused PRELU through the stem kernel equal the GEMM path's bits.
    func testFusedEpiloguesEqualGemmPath() throws {
        for (n, (shape, o, act, res, prelu)) in [([1, 16, 16, 3], 16, FusedActivation.none, FusedActivation?.some(.relu), false),
                                                  ([1, 13, 17, 3], 24, .relu6, FusedActivation.none, true),
                                                  ([1, 9, 9, 3], 32, .none, nil, true),
                                                  ([1, 12, 10, 3], 40, .relu, .relu6, false)].enumerated() {
            var rng = SeededGenerator(seed: UInt64(4900 + n))
            let wShape = [o, 3, 3, 3]
            let input = randomFloats(shape.reduce(1, *), &rng)
            let weights = randomFloats(wShape.reduce(1, *), &rng)
            let bias = randomFloats(o, &rng)
            let alpha = prelu ? randomFloats(o, &rng, range: -2...2) : nil
            var outputs: [[Float]] = []
            for stem in [true, false] {
                let op = try Conv2DOperator(inputShape: shape, weights: weights, weightsShape: wShape, bias: bias,
                                            strideHeight: 2, strideWidth: 2, padding: .same, activation: act,
                                            backend: .native, preluAlpha: alpha, lanes: .eight, stemKernel: stem)
                XCTAssertEqual(op.usesStemKernel, stem)
                var skipRng = SeededGenerator(seed: 77)
                let skip = randomFloats(op.outputShape.elementCount, &skipRng)
                for pool in Pools.all {
                    var out = [Float](repeating: .nan, count: op.outputShape.elementCount)
                    var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: pool.threadCount)))
                    input.withUnsafeBufferPointer { ip in skip.withUnsafeBufferPointer { sp in
                        out.withUnsafeMutableBufferPointer { op2 in scratch.withUnsafeMutableBufferPointer { s in
                            op.run(input: ip.baseAddress!, output: op2.baseAddress!, scratch: s.baseAddress!, pool: pool,
                                   residual: res.map { GemmResidual(data: sp.baseAddress!, ld: o, activation: $0) })
                        } }
                    } }
                    outputs.append(out)
                }
            }
            for (i, out) in outputs.enumerated().dropFirst() {
                assertBitIdentical(out, outputs[0], "fused stem case \(n) run \(i)")
            }
        }
    }

    /// The 16-lane weights never take the stem kernel (it is 8-lane only); they keep the GEMM path.
    func testSixteenLanesKeepGemmPath() throws {
        let op = try Conv2DOperator(inputShape: [1, 8, 8, 3], weights: [Float](repeating: 0.5, count: 24 * 27),
                                    weightsShape: [24, 3, 3, 3], bias: [], strideHeight: 2, strideWidth: 2,
                                    padding: .same, activation: .none, backend: .native, lanes: .sixteen)
        XCTAssertFalse(op.usesStemKernel)
    }
}
