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

/// Two interpreters timed inference by inference in turn (``Interpreter/benchmarkPaired(_:_:iterations:warmup:computing:)``):
/// both see the same moments of a noisy machine, so their ratio moves far less than the ratio of
/// two processes timed one after the other. All times are wall times in milliseconds; "ratio"
/// is always B's time divided by A's (below 1: B is faster).
public struct PairedBenchmarkResult: Sendable, Codable {
    /// One side's timed inferences: median, min and nearest-rank 5th/95th percentiles.
    public struct Side: Sendable, Codable {
        public var medianMs: Double
        public var minMs: Double
        public var p5Ms: Double
        public var p95Ms: Double
        enum CodingKeys: String, CodingKey { case medianMs = "median_ms", minMs = "min_ms", p5Ms = "p5_ms", p95Ms = "p95_ms" }
    }
    public var a: Side
    public var b: Side
    /// B's median divided by A's.
    public var ratioOfMedians: Double
    /// Median over the pairs of B's time divided by A's time in the same pair.
    public var pairedRatioMedian: Double
    /// Nearest-rank 25th and 75th percentiles of the pairs' ratios.
    public var pairedRatioP25: Double
    public var pairedRatioP75: Double
    /// Fraction of the pairs in which B took less time than A.
    public var bFasterFraction: Double
    /// Timed pairs (one inference of each).
    public var pairs: Int
    /// Untimed pairs before them.
    public var warmup: Int

    enum CodingKeys: String, CodingKey {
        case a, b, ratioOfMedians = "ratio_of_medians", pairedRatioMedian = "paired_ratio_median",
             pairedRatioP25 = "paired_ratio_p25", pairedRatioP75 = "paired_ratio_p75",
             bFasterFraction = "b_faster_fraction", pairs, warmup
    }
}

extension Interpreter {
    /// Times this interpreter (A) and `other` (B) in turn, one inference each per pair: `warmup`
    /// untimed pairs, then `iterations` timed ones, A first in even pairs and B first in odd ones
    /// (so neither side always runs right after the other). With `outputs`, both run
    /// ``invoke(computing:profiler:)`` for those outputs. Both run on the calling thread, one after
    /// the other; they must not share an activation arena (``InterpreterOptions/sharedArena``), or
    /// each run would overwrite the other's input.
    ///
    /// An A/A comparison (two interpreters with the same options) measures what a second copy of
    /// the same code and weights costs on its own (memory layout, cache sets): on the Zen 4 VM
    /// this is measured on, 1–2%, the floor below which an A/B difference means nothing.
    /// - Throws: ``RuntimeError/outputIndex(_:count:)`` for an output either model does not have.
    public func benchmarkPaired(_ other: Interpreter, iterations: Int, warmup: Int,
                                computing outputs: [Int]? = nil) throws -> PairedBenchmarkResult {
        if let outputs {
            // Checks the indices on both sides before any inference.
            _ = try selectedSteps(for: Set(outputs))
            _ = try other.selectedSteps(for: Set(outputs))
        }
        func run(_ side: Interpreter) {
            if let outputs { try? side.invoke(computing: outputs) } else { side.invoke() }
        }
        func timed(_ side: Interpreter) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            run(side)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        for _ in 0..<max(0, warmup) { run(self); run(other) }
        let pairs = max(1, iterations)
        var timesA: [Double] = [], timesB: [Double] = [], ratios: [Double] = []
        timesA.reserveCapacity(pairs)
        timesB.reserveCapacity(pairs)
        ratios.reserveCapacity(pairs)
        for pair in 0..<pairs {
            let ta: Double, tb: Double
            if pair % 2 == 0 {
                ta = timed(self)
                tb = timed(other)
            } else {
                tb = timed(other)
                ta = timed(self)
            }
            timesA.append(ta)
            timesB.append(tb)
            ratios.append(ta > 0 ? tb / ta : 1)
        }
        func side(_ times: [Double]) -> PairedBenchmarkResult.Side {
            .init(medianMs: BlazeSupport.median(times), minMs: times.min() ?? 0, p5Ms: percentile(times, 5), p95Ms: percentile(times, 95))
        }
        let a = side(timesA), b = side(timesB)
        return PairedBenchmarkResult(a: a, b: b, ratioOfMedians: a.medianMs > 0 ? b.medianMs / a.medianMs : 1,
                                     pairedRatioMedian: BlazeSupport.median(ratios), pairedRatioP25: percentile(ratios, 25),
                                     pairedRatioP75: percentile(ratios, 75),
                                     bFasterFraction: Double(zip(timesA, timesB).filter { $0.1 < $0.0 }.count) / Double(pairs),
                                     pairs: pairs, warmup: max(0, warmup))
    }
}
