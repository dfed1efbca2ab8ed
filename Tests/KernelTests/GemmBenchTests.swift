import BlazeKernels
import Foundation
import XCTest

/// Speed of the conv and depthwise kernels on the real BlazePose layer shapes.
/// Opt-in (it takes a while and needs a quiet machine):
///   BLAZE_KERNEL_BENCH=1 swift test -c release -Xswiftc -target-cpu -Xswiftc native --filter GemmBench
/// Prints GFLOP/s per conv shape for the native micro-kernel and OpenBLAS (single thread),
/// and the per-model totals (each shape's best time × how often the model uses it).
final class GemmBenchTests: XCTestCase {
    var enabled: Bool { ProcessInfo.processInfo.environment["BLAZE_KERNEL_BENCH"] == "1" }

    /// Best wall time of `body` in seconds over repeated runs (≥ 5 runs and ≥ 30 ms in total).
    func bestTime(_ body: () -> Void) -> Double {
        body()
        var best = Double.infinity, total = 0.0, runs = 0
        while runs < 5 || total < 0.03 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            best = min(best, dt); total += dt; runs += 1
        }
        return best
    }

    /// Depthwise layers of the three models, single thread: time, GFLOP/s and GB/s of
    /// input+output traffic; then the time on 2 threads and the speed-up. `--filter GemmBenchTests/testDepthwiseBench` runs only this.
    func testDepthwiseBench() throws {
        try XCTSkipUnless(enabled, "set BLAZE_KERNEL_BENCH=1 to run the kernel benchmark")
        var rng = SeededGenerator(seed: 8)
        // Depthwise: memory-bound, reported as time and GB/s of input+output traffic.
        var dwTotals: [String: Double] = [:]
        for s in realDepthwiseShapes {
            let input = randomFloats(s.input.reduce(1, *), &rng)
            let c = s.weights[3]
            let op = try DepthwiseConv2DOperator(inputShape: s.input, weights: randomFloats(s.weights.reduce(1, *), &rng),
                                                 weightsShape: s.weights, bias: randomFloats(c, &rng),
                                                 depthMultiplier: s.depthMultiplier, strideHeight: s.stride.0,
                                                 strideWidth: s.stride.1, padding: s.padding, activation: s.activation)
            var out = [Float](repeating: 0, count: op.outputShape.elementCount)
            var scratch = [Float](repeating: 0, count: op.scratchCount(threads: 2))
            func time(_ pool: ThreadPool) -> Double {
                input.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        bestTime { op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress, pool: pool) }
                    }
                } }
            }
            let t = time(Pools.one), t2 = time(Pools.two)
            dwTotals[s.model, default: 0] += t * Double(s.count)
            let bytes = Double(s.input.reduce(1, *) + op.outputShape.elementCount) * 4
            let flops = 2.0 * Double(op.outputShape.elementCount * s.weights[1] * s.weights[2])
            print(String(format: "depthwise %-20@ %-18@ k%dx%d s%d  %7.3f ms  %5.1f GF/s  %5.1f GB/s  2 threads %7.3f ms (x%.2f)  x%d",
                         s.model as NSString, "\(s.input)" as NSString, s.weights[1], s.weights[2], s.stride.0, t * 1e3,
                         flops / t * 1e-9, bytes / t * 1e-9, t2 * 1e3, t / t2, s.count))
        }
        for (model, t) in dwTotals.sorted(by: { $0.key < $1.key }) {
            print(String(format: "TOTAL depthwise %-20@ %.2f ms", model as NSString, t * 1e3))
        }
    }

    func testGemmBench() throws {
        try XCTSkipUnless(enabled, "set BLAZE_KERNEL_BENCH=1 to run the kernel benchmark")
        print("OpenBLAS core: \(OpenBLAS.coreName)")
        var rng = SeededGenerator(seed: 7)
        var totals: [String: (flops: Double, native: Double, blas: Double)] = [:]
        print("model                 input            weights            GFLOP   native GF/s  OpenBLAS GF/s  count")
        // BLAZE_BENCH_ONLY="substring" restricts the conv table to matching "input weights" rows.
        let only = ProcessInfo.processInfo.environment["BLAZE_BENCH_ONLY"]
        for s in realConvShapes where only.map({ "\(s.input) \(s.weights)".contains($0) }) ?? true {
            let input = randomFloats(s.input.reduce(1, *), &rng)
            let weights = randomFloats(s.weights.reduce(1, *), &rng)
            let bias = randomFloats(s.weights[0], &rng)
            var times: [Double] = []
            var flops = 0.0
            for backend in [GemmBackend.native, .openBLAS] {
                let op = try Conv2DOperator(inputShape: s.input, weights: weights, weightsShape: s.weights, bias: bias,
                                            strideHeight: s.stride.0, strideWidth: s.stride.1,
                                            dilationHeight: s.dilation.0, dilationWidth: s.dilation.1,
                                            padding: s.padding, activation: s.activation, backend: backend)
                flops = 2.0 * Double(op.outputShape.elementCount) * Double(s.weights[1] * s.weights[2] * s.weights[3])
                var out = [Float](repeating: 0, count: op.outputShape.elementCount)
                var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: 1)))
                times.append(input.withUnsafeBufferPointer { ip in
                    out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { sp in
                        bestTime { op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress!, pool: Pools.one) }
                    } }
                })
            }
            let c = Double(s.count)
            var t = totals[s.model] ?? (0, 0, 0)
            t.flops += flops * c; t.native += times[0] * c; t.blas += times[1] * c
            totals[s.model] = t
            print(String(format: "%-20@ %-16@ %-18@ %7.4f  %10.1f  %12.1f  %4d", s.model as NSString,
                         "\(s.input)" as NSString, "\(s.weights)" as NSString, flops * 1e-9,
                         flops / times[0] * 1e-9, flops / times[1] * 1e-9, s.count))
        }
        for (model, t) in totals.sorted(by: { $0.key < $1.key }) {
            print(String(format: "TOTAL conv %-20@ %.3f GFLOP  native %.2f ms (%.1f GF/s)  OpenBLAS %.2f ms (%.1f GF/s)",
                         model as NSString, t.flops * 1e-9, t.native * 1e3, t.flops / t.native * 1e-9,
                         t.blas * 1e3, t.flops / t.blas * 1e-9))
        }
        if only != nil { return }
        // Thread-pool dispatch cost: an empty 2-item parallelFor, averaged over 20000 calls.
        for pool in [Pools.two, Pools.three] {
            let calls = 20000
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { pool.parallelFor(2) { _, _ in } }
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(calls)
            print(String(format: "ThreadPool(threads: %d) dispatch: %.2f us per parallelFor", pool.threadCount, dt * 1e-3))
        }
        // One vs two threads on the biggest model, preferred backend: whole conv set.
        for pool in [Pools.one, Pools.two] {
            var total = 0.0
            for s in realConvShapes where s.model == "pose_landmark_full" {
                let input = randomFloats(s.input.reduce(1, *), &rng)
                let op = try Conv2DOperator(inputShape: s.input, weights: randomFloats(s.weights.reduce(1, *), &rng),
                                            weightsShape: s.weights, bias: [], strideHeight: s.stride.0,
                                            strideWidth: s.stride.1, padding: s.padding, activation: s.activation)
                var out = [Float](repeating: 0, count: op.outputShape.elementCount)
                var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: pool.threadCount)))
                total += Double(s.count) * input.withUnsafeBufferPointer { ip in
                    out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBufferPointer { sp in
                        bestTime { op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress!, pool: pool) }
                    } }
                }
            }
            print(String(format: "pose_landmark_full convs, backend %@, %d thread(s): %.2f ms", "\(GemmBackend.preferred)" as NSString, pool.threadCount, total * 1e3))
        }
    }

    /// FULLY_CONNECTED at batch 1 on the wheel models' shapes: the batch-1 kernel (`gemvRows`)
    /// against the GEMM on the same packed weights (both give the same bits), single thread.
    /// `--filter GemmBenchTests/testFullyConnectedBench` runs only this.
    func testFullyConnectedBench() throws {
        try XCTSkipUnless(enabled, "set BLAZE_KERNEL_BENCH=1 to run the kernel benchmark")
        var rng = SeededGenerator(seed: 9)
        for s in realFullyConnectedShapes {
            let (o, k) = (s.weights[0], s.weights[1])
            let a = randomFloats(k, &rng), w = randomFloats(o * k, &rng), bias = randomFloats(o, &rng)
            let packed = PackedGemmWeights(weights: w, bias: bias, n: o, k: k, backend: .native)
            var out = [Float](repeating: 0, count: o)
            let (tGemv, tGemm) = a.withUnsafeBufferPointer { ap in
                out.withUnsafeMutableBufferPointer { op in
                    (bestTime { gemvRows(m: 1, a: ap.baseAddress!, lda: k, weights: packed, activation: .none,
                                         c: op.baseAddress!, ldc: o, pool: Pools.one) },
                     bestTime { gemm(m: 1, a: ap.baseAddress!, lda: k, weights: packed, activation: .none,
                                     c: op.baseAddress!, ldc: o, pool: Pools.one) })
                }
            }
            print(String(format: "fully_connected %-20@ I %5d O %3d  gemvRows %7.2f us  gemm %7.2f us  gemm/gemvRows %.2f",
                         s.model as NSString, k, o, tGemv * 1e6, tGemm * 1e6, tGemm / tGemv))
        }
    }

    /// Sparse 1×1 layers of the detector's shapes, single thread, random binary16 weights at 25%
    /// and 100% density, values kept as floats and as binary16 (`halfValues`), the default chunk width (and 16, 64 and all channels with `BLAZE_SPARSE_CHUNKS=1`):
    /// the best time with everything cached, the rate of the multiply-adds actually done
    /// (2 × nonzeros × pixels), and the best of 10 "cold" runs, each after 64 MiB of other writes
    /// with the input and scratch read back in (the weights then come from memory, as in a model
    /// whose weights outgrow the L2). `--filter GemmBenchTests/testSparseBench` runs only this.
    func testSparseBench() throws {
        try XCTSkipUnless(enabled, "set BLAZE_KERNEL_BENCH=1 to run the kernel benchmark")
        var rng = SeededGenerator(seed: 9)
        var evict = [UInt32](repeating: 0, count: 16 << 20)   // 64 MiB, larger than the L3
        let shapes: [(h: Int, i: Int, o: Int)] = [(14, 480, 80), (14, 80, 480), (28, 240, 40), (28, 40, 240),
                                                  (7, 1152, 192), (7, 192, 1152), (56, 24, 144), (56, 144, 24)]
        for s in shapes {
            let input = randomFloats(s.h * s.h * s.i, &rng)
            for density in [0.25, 1.0] {
                // Binary16 weights, as the detector's are, so that `halfValues` takes.
                var weights = randomFloats(s.o * s.i, &rng).map { Float(Float16($0)) }
                for j in weights.indices where Double.random(in: 0..<1, using: &rng) >= density { weights[j] = 0 }
                let nonzeros = weights.filter { $0 != 0 }.count
                let chunks = (ProcessInfo.processInfo.environment["BLAZE_SPARSE_CHUNKS"] == "1" ? [nil, 16, 64, s.i] : [nil]) as [Int?]
                for (chunk, half) in chunks.flatMap({ c in [(c, false), (c, true)] }) {
                    let op = try SparseConv1x1Operator(inputShape: [1, s.h, s.h, s.i], weights: weights,
                                                       weightsShape: [s.o, 1, 1, s.i], bias: randomFloats(s.o, &rng),
                                                       activation: .relu6, chunkChannels: chunk, halfValues: half)
                    var out = [Float](repeating: 0, count: s.h * s.h * s.o)
                    var scratch = [Float](repeating: 0, count: op.scratchCount(threads: 1))
                    var cold = Double.infinity
                    let t = input.withUnsafeBufferPointer { ip in out.withUnsafeMutableBufferPointer { o in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            // Cold: the caches filled with other data first (the weights then come from DRAM/L3).
                            for _ in 0..<10 {
                                evict.withUnsafeMutableBufferPointer { e in for j in Swift.stride(from: 0, to: e.count, by: 16) { e[j] &+= 1 } }
                                // The input and the scratch warm again, as in a model (the previous op wrote them).
                                var sum: Float = 0
                                for j in Swift.stride(from: 0, to: ip.count, by: 16) { sum += ip[j] }
                                for j in Swift.stride(from: 0, to: sp.count, by: 16) { sp[j] = sum * 0 }
                                let t0 = DispatchTime.now().uptimeNanoseconds
                                op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress!, pool: Pools.one)
                                cold = Swift.min(cold, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                            }
                            return bestTime { op.run(input: ip.baseAddress!, output: o.baseAddress!, scratch: sp.baseAddress!, pool: Pools.one) }
                        }
                    } }
                    let flops = 2.0 * Double(nonzeros * s.h * s.h)
                    print(String(format: "sparse %3dx%-3d %4d -> %4d density %.2f %@ chunk %4d (%d chunks, %2d groups/tile, %d tiles)  %7.3f ms  %6.1f GF/s  cold %7.3f ms",
                                 s.h, s.h, s.i, s.o, density, (op.valuesAreHalf ? "f16" : "f32") as NSString, op.chunkChannels,
                                 op.chunkCount, op.tileGroups, op.tileCount, t * 1e3, flops / t * 1e-9, cold * 1e3))
                }
            }
        }
    }
}
