import BlazeKernels
import Foundation
import XCTest

/// The models' expand → depthwise → project blocks that the interpreter runs in one step (and the
/// detector's 28×28 one, which it leaves apart): all three convs apart, the pair in bands with the
/// projection apart, and all three in bands (`PointwiseDepthwiseOperator` with a `projection`),
/// alternating call by call in one process (so all see the same load), at 1 and 2 threads. Prints
/// medians and minima; asserts only that the pair and the fused step give the same bits.
/// Opt-in: BLAZEPOSE_BENCH=1 swift test -c release --disable-swift-testing --filter ProjectedBandBenchmark
final class ProjectedBandBenchmarkTests: XCTestCase {
    struct Block {
        let name: String
        let h: Int, i: Int, c: Int, k: Int, s: Int
        let padding: Padding
        let sparse: Bool
        /// The projection adds the block's input (MobileNetV2's residual, stride 1 only).
        var residual: Bool { s == 1 }
    }

    func testBlocks() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["BLAZEPOSE_BENCH"] == "1",
                          "set BLAZEPOSE_BENCH=1 to run the projected band benchmark")
        let pad1 = Padding.explicit(top: 1, bottom: 1, left: 1, right: 1)
        let blocks = [
            Block(name: "pose_detection 112×112 16→64, 3×3/2, →24", h: 112, i: 16, c: 64, k: 3, s: 2, padding: pad1, sparse: true),
            Block(name: "pose_detection 56×56 24→144, 5×5/1, →24", h: 56, i: 24, c: 144, k: 5, s: 1, padding: .same, sparse: true),
            Block(name: "pose_landmark_full 128×128 16→64, 3×3/2, →24", h: 128, i: 16, c: 64, k: 3, s: 2, padding: pad1, sparse: false),
            Block(name: "pose_landmark_full 64×64 24→144, 3×3/1, →24", h: 64, i: 24, c: 144, k: 3, s: 1, padding: .same, sparse: false),
            Block(name: "hand_landmark_full 112×112 16→64, 3×3/2, →24", h: 112, i: 16, c: 64, k: 3, s: 2, padding: .same, sparse: false),
            Block(name: "hand_landmark_full 56×56 24→144, 3×3/1, →24", h: 56, i: 24, c: 144, k: 3, s: 1, padding: .same, sparse: false),
            Block(name: "pose_detection 28×28 40→240, 5×5/1, →40", h: 28, i: 40, c: 240, k: 5, s: 1, padding: .same, sparse: true),
        ]
        for block in blocks { try run(block) }
    }

    func run(_ b: Block) throws {
        var rng = SeededGenerator(seed: 4242)
        let inShape = [1, b.h, b.h, b.i]
        let input = randomFloats(inShape.reduce(1, *), &rng)
        func weights(_ n: Int) -> [Float] {
            var w = randomFloats(n, &rng)
            if b.sparse { for j in w.indices where rng.next() % 4 != 0 { w[j] = 0 } }
            return w
        }
        func pointwise(_ shape: [Int], _ o: Int, _ act: FusedActivation) throws -> PointwiseProjection {
            let k = shape[3], w = weights(o * k), bias = randomFloats(o, &rng)
            if b.sparse {
                return .sparse(try SparseConv1x1Operator(inputShape: shape, weights: w, weightsShape: [o, 1, 1, k], bias: bias,
                                                         activation: act))
            }
            return .dense(try Conv2DOperator(inputShape: shape, weights: w, weightsShape: [o, 1, 1, k], bias: bias,
                                             strideHeight: 1, strideWidth: 1, padding: .valid, activation: act, backend: .native))
        }
        let expand = try pointwise(inShape, b.c, .relu6)
        let dw = try DepthwiseConv2DOperator(inputShape: expand.outputShape.dims, weights: randomFloats(b.k * b.k * b.c, &rng),
                                             weightsShape: [1, b.k, b.k, b.c], bias: randomFloats(b.c, &rng), depthMultiplier: 1,
                                             strideHeight: b.s, strideWidth: b.s, padding: b.padding, activation: .relu6,
                                             rowPathOnly: true)
        let project = try pointwise(dw.outputShape.dims, b.i, .none)
        func pair(_ projection: PointwiseProjection?) throws -> PointwiseDepthwiseOperator {
            switch expand {
            case .sparse(let e): return try PointwiseDepthwiseOperator(sparse: e, depthwise: dw, projection: projection)
            case .dense(let e): return try PointwiseDepthwiseOperator(pointwise: e, depthwise: dw, projection: projection)
            }
        }
        let apart = try pair(nil), fused = try pair(project)
        let outCount = fused.outputShape.elementCount
        for pool in [Pools.one, Pools.two] {
            let t = pool.threadCount
            let scratchCount = max(apart.scratchCount(threads: t), fused.scratchCount(threads: t), project.scratchCount(threads: t),
                                   expand.scratchCount(threads: t), dw.scratchCount(threads: t), 1)
            var scratch = [Float](repeating: 0, count: scratchCount)
            var mid = [Float](repeating: 0, count: dw.outputShape.elementCount)
            var expanded = [Float](repeating: 0, count: expand.outputShape.elementCount)
            var a = [Float](repeating: 0, count: outCount), f = [Float](repeating: 0, count: outCount)
            try input.withUnsafeBufferPointer { ip in
                let x = ip.baseAddress!
                let residual = b.residual ? GemmResidual(data: x, ld: b.i, activation: .none) : nil
                try scratch.withUnsafeMutableBufferPointer { sp in
                    try mid.withUnsafeMutableBufferPointer { mp in
                        try a.withUnsafeMutableBufferPointer { ap in
                            try f.withUnsafeMutableBufferPointer { fp in
                                let s = try XCTUnwrap(sp.baseAddress), m = try XCTUnwrap(mp.baseAddress)
                                let ao = try XCTUnwrap(ap.baseAddress), fo = try XCTUnwrap(fp.baseAddress)
                                func runApart() {
                                    apart.run(input: x, output: m, scratch: s, pool: pool)
                                    project.run(input: m, output: ao, scratch: s, pool: pool, residual: residual)
                                }
                                func runFused() { fused.run(input: x, output: fo, scratch: s, pool: pool, residual: residual) }
                                // All three apart: the expanded map and the depthwise output both stored.
                                func runThree() {
                                    expanded.withUnsafeMutableBufferPointer { ep in
                                        let e = ep.baseAddress!
                                        expand.run(input: x, output: e, scratch: s, pool: pool)
                                        dw.run(input: e, output: m, scratch: s, pool: pool)
                                    }
                                    project.run(input: m, output: ao, scratch: s, pool: pool, residual: residual)
                                }
                                runApart(); runFused()
                                var ta: [Double] = [], tf: [Double] = [], t3: [Double] = []
                                for _ in 0..<400 {
                                    let t00 = DispatchTime.now().uptimeNanoseconds
                                    runThree()
                                    t3.append(Double(DispatchTime.now().uptimeNanoseconds - t00) / 1e6)
                                    var t0 = DispatchTime.now().uptimeNanoseconds
                                    runApart()
                                    ta.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                                    t0 = DispatchTime.now().uptimeNanoseconds
                                    runFused()
                                    tf.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                                }
                                ta.sort(); tf.sort(); t3.sort()
                                print(String(format: "%@, %d thread(s): three apart %.4f ms, pair + projection %.4f ms (min %.4f), fused %.4f ms (min %.4f), fused/pair %.3f, fused/three %.3f",
                                             b.name, t, t3[t3.count / 2], ta[ta.count / 2], ta[0], tf[tf.count / 2], tf[0],
                                             tf[tf.count / 2] / ta[ta.count / 2], tf[tf.count / 2] / t3[t3.count / 2]))
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(zip(a, f).filter { $0.bitPattern != $1.bitPattern }.count, 0, "\(b.name): the same bits")
        }
    }
}
