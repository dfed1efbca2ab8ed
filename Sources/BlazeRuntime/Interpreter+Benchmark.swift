import BlazeKernels
import BlazeSupport
import Foundation

/// Latency of one inference, measured after warm-up, and of the first inference after load.
///
/// All figures are wall times of the timed inferences in milliseconds unless said otherwise.
/// Percentiles are nearest-rank (``BlazeSupport/percentile(_:_:)``): the `p`-th percentile of `n`
/// sorted times is the one at 1-based rank `max(1, ⌈p·n/100⌉)`, always a measured time (no
/// interpolation), so `minMs ≤ p5Ms ≤ p50Ms ≤ p95Ms`. `p50Ms` is the upper middle time for an even
/// count, where `medianMs` averages the two middle ones.
public struct BenchmarkResult: Sendable, Codable {
    public var medianMs: Double
    /// Wall time of the first inference after load (before any warm-up): what a one-shot caller
    /// waits, page faults and thread wake-ups included. Compare with `medianMs`.
    public var firstRunMs: Double
    /// Process CPU time of the first inference (all threads); with one thread, robust to other load
    /// on the machine. Compare with `cpuMedianMs`.
    public var firstRunCPUMs: Double
    public var minMs: Double
    public var meanMs: Double
    /// Nearest-rank 5th percentile of the wall times.
    public var p5Ms: Double
    /// Nearest-rank 50th percentile of the wall times.
    public var p50Ms: Double
    /// Nearest-rank 95th percentile of the wall times.
    public var p95Ms: Double
    /// Median process CPU time of one inference (all threads). With one thread it is
    /// robust to other load on the machine, unlike wall time.
    public var cpuMedianMs: Double
    public var iterations: Int
    public var warmup: Int
    public var threads: Int
    /// Convolution GFLOP of one inference (2·MAC).
    public var gflop: Double
    /// `gflop / median seconds`.
    public var gflops: Double

    enum CodingKeys: String, CodingKey {
        case medianMs = "median_ms", firstRunMs = "first_run_ms", firstRunCPUMs = "first_run_cpu_ms", minMs = "min_ms", meanMs = "mean_ms", p5Ms = "p5_ms", p50Ms = "p50_ms", p95Ms = "p95_ms", cpuMedianMs = "cpu_median_ms", iterations, warmup, threads, gflop, gflops
    }
}

extension Interpreter {
    /// Fills every input with a fixed pseudo-random pattern in [-1, 1] (timing does not
    /// depend on the values; a fixed pattern keeps runs comparable).
    public func fillInputsForBenchmark() throws {
        for (i, info) in inputs.enumerated() {
            var state: UInt32 = 0x1234_5678
            let values = (0..<info.elementCount).map { _ -> Float in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8) / Float(1 << 23) - 1
            }
            try setInput(i, values)
        }
    }

    /// Runs one timed first inference (`firstRunMs`; call this right after load to measure the
    /// first run), `warmup` untimed inferences, then `iterations` timed ones.
    public func benchmark(iterations: Int, warmup: Int) -> BenchmarkResult {
        measure(iterations: iterations, warmup: warmup, gflop: flops / 1e9) { invoke() }
    }

    /// ``benchmark(iterations:warmup:)`` of ``invoke(computing:profiler:)`` with `outputs`: the
    /// layers only the other outputs need are skipped (and their multiply-adds not counted).
    /// - Throws: ``RuntimeError/outputIndex(_:count:)`` for an index the model does not have.
    public func benchmark(iterations: Int, warmup: Int, computing outputs: [Int]) throws -> BenchmarkResult {
        // Checks the indices and caches the selection, without an inference (the first timed run
        // must stay the first after load).
        let gflop = try selectedSteps(for: Set(outputs)).reduce(0) { $0 + steps[$1].flops } / 1e9
        // Cannot throw: the indices were checked above.
        return measure(iterations: iterations, warmup: warmup, gflop: gflop) { try? invoke(computing: outputs) }
    }

    private func measure(iterations: Int, warmup: Int, gflop: Double, _ invoke: () -> Void) -> BenchmarkResult {
        let firstCPUStart = processCPUMilliseconds()
        let firstStart = DispatchTime.now().uptimeNanoseconds
        invoke()
        let firstRunMs = Double(DispatchTime.now().uptimeNanoseconds - firstStart) / 1e6
        let firstRunCPUMs = processCPUMilliseconds() - firstCPUStart
        for _ in 0..<max(0, warmup) { invoke() }
        var samples: [Double] = [], cpuSamples: [Double] = []
        samples.reserveCapacity(max(1, iterations))
        cpuSamples.reserveCapacity(max(1, iterations))
        for _ in 0..<max(1, iterations) {
            let cpuStart = processCPUMilliseconds()
            let start = DispatchTime.now().uptimeNanoseconds
            invoke()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            cpuSamples.append(processCPUMilliseconds() - cpuStart)
        }
        let sorted = samples.sorted()
        let wallMedian = BlazeSupport.median(samples)
        return BenchmarkResult(medianMs: wallMedian, firstRunMs: firstRunMs, firstRunCPUMs: firstRunCPUMs, minMs: sorted[0], meanMs: samples.reduce(0, +) / Double(samples.count),
                               p5Ms: percentile(samples, 5), p50Ms: percentile(samples, 50), p95Ms: percentile(samples, 95),
                               cpuMedianMs: BlazeSupport.median(cpuSamples),
                               iterations: samples.count, warmup: warmup, threads: threadCount,
                               gflop: gflop, gflops: wallMedian > 0 ? gflop / (wallMedian / 1000) : 0)
    }
}

/// CPU time consumed by this process so far (all threads), in milliseconds.
func processCPUMilliseconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
}

/// Measures this machine's GEMM throughput with the runtime's own kernel on a
/// large, cache-friendly shape (M 1536, K 512, N 512), best of several runs.
/// The profiler reports each convolution as a percentage of this. `lanes`: the native
/// micro-kernels' width (N = 512 takes it at either width).
public func measureGemmPeakGFLOPS(threads: Int, backend: GemmBackend = .native, lanes: GemmLanes = .build) -> Double {
    let m = 1536, k = 512, n = 512
    let a = [Float](repeating: 0.5, count: m * k)          // [M, K] row-major
    let w = [Float](repeating: 0.25, count: n * k)         // [N, K] (OHWI with H = W = 1)
    var c = [Float](repeating: 0, count: m * n)            // [M, N]
    let packed = w.withUnsafeBufferPointer { PackedGemmWeights(weights: $0.baseAddress!, bias: nil, n: n, k: k, backend: backend, lanes: lanes) }
    let pool = ThreadPool(threads: threads)
    var best = 0.0
    a.withUnsafeBufferPointer { ap in
        c.withUnsafeMutableBufferPointer { cp in
            for _ in 0..<6 {
                let start = DispatchTime.now().uptimeNanoseconds
                gemm(m: m, a: ap.baseAddress!, lda: k, weights: packed, activation: .none, c: cp.baseAddress!, ldc: n, pool: pool)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best = max(best, 2.0 * Double(m * n * k) / seconds / 1e9)
            }
        }
    }
    return best
}
