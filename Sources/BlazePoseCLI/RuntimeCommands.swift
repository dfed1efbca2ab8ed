import ArgumentParser
import BlazeRuntime
import BlazeSupport
import Foundation
import TFLite

/// Options shared by the commands that execute a model.
struct ExecutionOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Worker threads, 1...1024 (default: all cores). Results are identical for every value.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "GEMM for convolutions: auto (the faster for this build), native (hand-written SIMD) or openblas.")
    var gemm: GemmChoice = .auto

    @Option(name: .customLong("gemm-lanes"), help: "Widest vector width of the native GEMM micro-kernels: 8 (6x16 tiles) or 16 (8x32 tiles, on the layers where they compute no more padding than 8 lanes); default: this build's (16 when the CPU target has AVX-512). Outputs are identical; 16 lanes are fast only on AVX-512.")
    var gemmLanes: Int? = nil

    @Flag(help: "Run every operator on its own (no load-time fusion); outputs are identical to fused runs with --no-convolve-before-resize.")
    var noFuse = false

    @Flag(inversion: .prefixedNo, help: "1x1 convs with mostly-zero weights: --sparse runs all of them on the sparse kernel, --no-sparse all on the dense GEMM; default: per layer the kernel a fixed cost model predicts faster (native GEMM only; outputs are identical).")
    var sparse: Bool? = nil

    @Flag(name: .customLong("half-panels"), inversion: .prefixedNo, help: "Conv weights kept as binary16 where every one is exact, widened as the kernels load them (dense convs' GEMM panels, sparse convs' nonzero values): --half-panels for every eligible conv, --no-half-panels for none; default: dense convs with outputs of 8x8 and smaller and sparse convs, in builds for a CPU with F16C other than Zen 1 (outputs are identical).")
    var halfPanels: Bool? = nil

    @Flag(help: "Give every conv output its own memory, even where it could take a dying residual's (more activation memory; outputs are identical).")
    var noInPlace = false

    @Flag(name: .customLong("convolve-before-resize"), inversion: .prefixedNo,
          help: "A 1x1 conv reading a bilinear resize runs on the resize's smaller input first, then the resize (4x fewer multiply-adds for a 2x upsample; equal in exact arithmetic, not bit-identical to the graph's order); --no-convolve-before-resize keeps the graph's order (bit-identical to --no-fuse).")
    var convolveBeforeResize = true

    @Flag(name: .customLong("weight-cache"), inversion: .prefixedNo,
          help: "Map the model's packed weights from the cache of earlier loads ($BLAZEPOSE_CACHE_DIR, else $XDG_CACHE_HOME/blazepose, else ~/.cache/blazepose; off when BLAZEPOSE_WEIGHT_CACHE=off), writing it on a miss; --no-weight-cache packs afresh and writes nothing. Outputs are identical.")
    var weightCache = true

    func validate() throws {
        try OptionRanges.check("--threads", threads, in: OptionRanges.threads)
        if let gemmLanes, GemmLanes(rawValue: gemmLanes) == nil {
            throw ValidationError("--gemm-lanes must be 8 or 16, got \(gemmLanes)")
        }
    }

    /// The native GEMM's widest vector width: `--gemm-lanes`, else this build's.
    var lanes: GemmLanes { gemmLanes.flatMap(GemmLanes.init(rawValue:)) ?? .build }

    func interpreterOptions(preserveIntermediates: Bool = false) -> InterpreterOptions {
        InterpreterOptions(threads: threads, preserveIntermediates: preserveIntermediates,
                           gemmBackend: gemm.backend, gemmLanes: lanes, fuseOperators: !noFuse,
                           sparseConvolutions: sparse.map { $0 ? .always : .off } ?? .auto,
                           halfPanels: halfPanels.map { $0 ? .always : .off } ?? .auto,
                           inPlaceResidual: !noInPlace, weightCache: weightCache ? WeightCache.user : nil,
                           convolveBeforeResize: convolveBeforeResize)
    }
}

enum GemmChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, native, openblas

    var backend: GemmBackend {
        switch self {
        case .auto: return .preferred
        case .native: return .native
        case .openblas: return .openBLAS
        }
    }
}

/// Loads a model into an interpreter, turning every load error into a clear message.
func loadInterpreter(_ path: String, _ options: InterpreterOptions) throws -> Interpreter {
    do {
        return try Interpreter(contentsOf: URL(fileURLWithPath: path), options: options)
    } catch {
        throw CLIError("cannot load \(path): \(error)")
    }
}

/// ``loadInterpreter(_:_:)`` in two timed steps: `loadMs` reads and parses the file
/// (`Model(contentsOf:)`), `initMs` prepares the interpreter (`Interpreter(owning:)`: constant
/// resolution, validation, weight prepacking, memory planning); wall times in milliseconds.
func loadInterpreterTimed(_ path: String, _ options: InterpreterOptions)
    throws -> (interpreter: Interpreter, loadMs: Double, initMs: Double, loadCPUMs: Double, initCPUMs: Double) {
    do {
        let cpuStart = processCPUTimeMs()
        let start = DispatchTime.now().uptimeNanoseconds
        let model = try Model(contentsOf: URL(fileURLWithPath: path))
        let loaded = DispatchTime.now().uptimeNanoseconds
        let cpuLoaded = processCPUTimeMs()
        let interpreter = try Interpreter(owning: model, options: options)
        let ready = DispatchTime.now().uptimeNanoseconds
        let cpuReady = processCPUTimeMs()
        return (interpreter, Double(loaded - start) / 1e6, Double(ready - loaded) / 1e6, cpuLoaded - cpuStart, cpuReady - cpuLoaded)
    } catch {
        throw CLIError("cannot load \(path): \(error)")
    }
}

/// CPU time of this process so far (all threads), milliseconds.
func processCPUTimeMs() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
}

/// A message for the user; printed as `error: …` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Runs `body`, printing any error as `error: …` on stderr (through ``OutputWriter``) and exiting
/// with status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch {
        printError("error: \(error)\n")
        throw ExitCode.failure
    }
}

/// Reads the `.npy` at `path` for model input `info` as float32 values (NHWC, C order).
///
/// The array's shape must equal the input's shape exactly: a flat `[N]` array or an NCHW
/// `[1, 3, H, W]` one for an NHWC `[1, H, W, 3]` input is an error naming both shapes, never a
/// silent reshape. A `|u1` array is mapped through `x = p * scale + offset` when a transform is
/// given; without one its 0...255 values are used as they are, with a warning on stderr.
func readInput(_ path: String, for info: TensorInfo, transform: (scale: Float, offset: Float)?) throws -> [Float] {
    let array: NPYArray
    // The data may be at most the input's size (as float64, the widest dtype): a huge or sparse
    // file is rejected from its header, before its data is read.
    let budget = min(NPYArray.defaultMaxDataBytes, info.elementCount.multipliedReportingOverflow(by: 8).partialValue)
    do { array = try NPYArray(contentsOf: URL(fileURLWithPath: path), maxDataBytes: budget) } catch { throw CLIError("\(error)") }
    guard array.shape == info.shape else {
        throw CLIError("\(path): shape \(shapeString(array.shape)) does not match input '\(info.name)' \(shapeString(info.shape))"
                       + " (the array must have exactly the input's shape and NHWC layout; it is not reshaped)")
    }
    guard array.dtype == .uint8 else { return try array.floats() }
    if let transform { return try array.floats(scale: transform.scale, offset: transform.offset) }
    printError("warning: \(path) holds uint8 pixels and no --scale/--offset (or --reference input_transform) was given: "
               + "the model gets the raw values 0...255\n")
    return try array.floats()
}

/// Pads `s` with spaces to `width` columns (Foundation's `%-20@` does not pad on Linux).
func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return right ? fill + s : s + fill
}

func shapeString(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }

// MARK: - run

/// `blazepose run MODEL --input x.npy --output-dir DIR`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a model on .npy input(s) and write every output as .npy.")

    @Argument(help: "Path to a .tflite model.") var model: String
    @Option(name: .customLong("input"), help: "Input .npy with exactly the input's shape (NHWC): float32, or uint8 with --scale/--offset or --reference; repeat for several inputs, in model order.")
    var inputs: [String] = []
    @Option(help: "Directory for the outputs (created if missing); files are named after the output tensors.")
    var outputDir: String
    @Option(parsing: .unconditional, help: "For uint8 inputs: x = p * scale + offset (default 1, or the --reference input_transform).") var scale: Float?
    @Option(parsing: .unconditional, help: "For uint8 inputs: x = p * scale + offset (default 0, or the --reference input_transform).") var offset: Float?
    @Option(help: "Reference directory whose manifest.json input_transform gives scale and offset for uint8 inputs.")
    var reference: String?
    @OptionGroup var execution: ExecutionOptions

    func validate() throws {
        if let scale { try OptionRanges.checkFinite("--scale", scale) }
        if let offset { try OptionRanges.checkFinite("--offset", offset) }
    }

    func run() throws {
        try reportingErrors {
            let interpreter = try loadInterpreter(model, execution.interpreterOptions())
            guard inputs.count == interpreter.inputs.count else {
                throw CLIError("the model has \(interpreter.inputs.count) input(s) \(interpreter.inputs.map { "'\($0.name)' \(shapeString($0.shape))" }.joined(separator: ", ")); got \(inputs.count) --input")
            }
            var transform: (scale: Float, offset: Float)?
            if let reference {
                let dump: ReferenceDump
                do { dump = try ReferenceDump(directory: URL(fileURLWithPath: reference)) } catch { throw CLIError("\(error)") }
                if let t = dump.inputTransform { transform = (t.scale, t.offset) }
            }
            if scale != nil || offset != nil {
                transform = (scale ?? transform?.scale ?? 1, offset ?? transform?.offset ?? 0)
            }
            for (i, path) in inputs.enumerated() {
                try interpreter.setInput(i, readInput(path, for: interpreter.inputs[i], transform: transform))
            }
            let start = DispatchTime.now().uptimeNanoseconds
            interpreter.invoke()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let dir = URL(fileURLWithPath: outputDir)
            do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
                throw CLIError("cannot create folder \(outputDir): \(error.localizedDescription)")
            }
            for (i, info) in interpreter.outputs.enumerated() {
                let file = dir.appendingPathComponent(safeFileName(info.name) + ".npy")
                try OutputWriter.writeFile(file.path, NPYArray(floats: interpreter.output(i), shape: info.shape).npyBytes())
                print("\(info.name) \(shapeString(info.shape)) -> \(file.path)")
            }
            print(String(format: "inference %.2f ms, %d thread(s)", ms, interpreter.threadCount))
        }
    }
}

func safeFileName(_ name: String) -> String {
    String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
}

// MARK: - compare

/// `blazepose compare MODEL --reference DIR`
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run a reference dump's input and compare every tensor it holds (outputs and intermediates).",
        discussion: "DIR is written by Tools/litert/reference.py (add --intermediates for every tensor). Exit status 1 when any tensor is out of tolerance.")

    @Argument(help: "Path to a .tflite model.") var model: String
    @Option(help: "Reference directory with manifest.json and .npy files.") var reference: String
    @Option(parsing: .unconditional, help: "Tolerance (finite, ≥ 0): max|ours - ref| <= tol * max(1, max|ref|). Default: 1e-4, or for an output whose manifest records XNNPACK's distance from the builtin kernels, max(1e-4, 1.5 × that distance) (the model tests' bar).")
    var tolerance: Float?
    @Flag(help: "List every tensor, not only outputs and the ones out of tolerance.") var all = false
    @OptionGroup var execution: ExecutionOptions

    func validate() throws {
        if let tolerance { try OptionRanges.checkTolerance("--tolerance", tolerance) }
    }

    func run() throws {
        try reportingErrors {
            let interpreter = try loadInterpreter(model, execution.interpreterOptions(preserveIntermediates: true))
            let dump: ReferenceDump
            do { dump = try ReferenceDump(directory: URL(fileURLWithPath: reference)) } catch { throw CLIError("\(error)") }
            // An explicit --tolerance holds every tensor to it; the default follows the accuracy bar.
            let report = try interpreter.compare(with: dump, tolerance: tolerance ?? 1e-4, xnnpackScaled: tolerance == nil)
            let rule = tolerance.map { "\($0)" } ?? "1e-4 (max(1e-4, 1.5 × XNNPACK's distance) for outputs the manifest records it for)"
            print(pad("op", 5), pad("operator", 18), pad("shape", 18), pad("max|d|", 11), pad("max|ref|", 11), pad("rel", 11), pad("tol", 11), "tensor")
            for row in report.rows where all || row.role == "output" || !row.withinTolerance {
                let mark = row.withinTolerance ? "" : "  <-- out of tolerance"
                print(pad(row.producer.map(String.init) ?? "-", 5), pad(row.producerName ?? row.role, 18), pad(shapeString(row.shape), 18),
                      pad(String(format: "%.4e", Double(row.difference.maxAbs)), 11), pad(String(format: "%.4e", Double(row.difference.maxRef)), 11),
                      pad(String(format: "%.4e", Double(row.difference.relative)), 11), pad(String(format: "%.2e", Double(row.tolerance)), 11),
                      String(row.name.prefix(60)) + mark)
            }
            let worst = report.rows.max { $0.difference.relative < $1.difference.relative }
            print("compared \(report.rows.count) tensors (\(report.rows.filter { $0.role == "intermediate" }.count) intermediates); skipped \(report.skipped.count) that we do not materialize (folded constants, tensors fused away)")
            if let worst { print(String(format: "worst: %@ rel %.3e", worst.name, Double(worst.difference.relative))) }
            let failing = report.rows.filter { !$0.withinTolerance }
            if let first = report.firstFailing ?? failing.first {
                print("first operator out of tolerance: #\(first.producer ?? -1) \(first.producerName ?? "") -> '\(first.name)' (rel \(first.difference.relative) > \(first.tolerance))")
                throw CLIError("\(failing.count) of \(report.rows.count) compared tensor(s) out of tolerance \(rule)")
            }
            print("all \(report.rows.count) compared tensors within tolerance \(rule)")
        }
    }
}

// MARK: - bench

/// `blazepose bench MODEL [--threads N] [--iterations K] [--warmup W] [--json]`
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Median and min latency of one inference after warm-up, and GFLOP/s.",
        discussion: """
            Also reports the time to read and parse the file (load) and to prepare the interpreter (init: \
            constants, validation, prepacking, planning), the wall time of the first inference after load \
            (first run, timed before the warm-up), the process CPU time (all threads) of load and init, the nearest-rank 5th/50th/95th percentiles of the \
            timed inferences' wall times (the p-th percentile of n sorted times is the one at rank ⌈p·n/100⌉) \
            and the process's peak resident set size (MiB, read after the timed runs).
            """)

    @Argument(help: "Path to a .tflite model.") var model: String
    @Option(parsing: .unconditional, help: "Timed inferences, 1...1000000.") var iterations = 50
    @Option(parsing: .unconditional, help: "Untimed warm-up inferences, 0...1000000.") var warmup = 5
    @Flag(help: "Print one JSON object (median_ms, first_run_ms, min_ms, mean_ms, p5_ms, p50_ms, p95_ms, load_ms, init_ms, load_cpu_ms, init_cpu_ms, peak_rss_mb, memory_pages (2MiB, or 4KiB after slow huge pages), gflops, threads, gemm, gemm_lanes, …).") var json = false
    @Option(help: "Float32 .npy to use as the input (default: a fixed pseudo-random pattern in [-1, 1]).")
    var input: String?
    @Option(help: "Compute only these outputs, by position in the model's output list, comma-separated (e.g. 0,1,3,4 for a pose landmark model without its mask): the layers only the other outputs need are skipped. Default: all outputs.")
    var outputs: String?
    @OptionGroup var execution: ExecutionOptions
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Also load the model as a second interpreter B and time the two inference by inference in turn (A: this command's options), printing both and B/A.",
        discussion: "The value is B's execution options as one string (--threads, --gemm, --gemm-lanes, --no-fuse, --sparse/--no-sparse, --half-panels/--no-half-panels, --no-in-place, --no-convolve-before-resize, --no-weight-cache); those it does not give take their defaults, not A's. --versus \"\" (or A's own options) is an A/A control: the difference two copies of the same code and weights make. --iterations counts pairs.",
        valueName: "options"))
    var versus: String?

    func validate() throws {
        try OptionRanges.check("--iterations", iterations, in: OptionRanges.iterations)
        try OptionRanges.check("--warmup", warmup, in: OptionRanges.warmup)
        _ = try outputPositions()
    }

    /// Gives every interpreter (of this command's model) the same input: `--input`'s array, read
    /// once, else the fixed benchmark pattern.
    func setInputs(of interpreters: [Interpreter]) throws {
        guard let first = interpreters.first else { return }
        guard let input else {
            for interpreter in interpreters { try interpreter.fillInputsForBenchmark() }
            return
        }
        guard first.inputs.count == 1 else {
            throw CLIError("--input needs a model with one input; this one has \(first.inputs.count)")
        }
        let values = try readInput(input, for: first.inputs[0], transform: nil)
        for interpreter in interpreters { try interpreter.setInput(0, values) }
    }

    /// `--outputs` as positions (nil: all outputs).
    func outputPositions() throws -> [Int]? {
        guard let outputs else { return nil }
        let parts = outputs.split(separator: ",", omittingEmptySubsequences: false)
        let positions = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, positions.count == parts.count, positions.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--outputs must be output positions ≥ 0 separated by commas (e.g. 0,1,3), got '\(outputs)'")
        }
        return positions
    }

    func run() throws {
        if let versus { return try runVersus(versus) }
        try reportingErrors {
            warnAboutSlowOpenBLAS(execution.gemm)
            let (interpreter, loadMs, initMs, loadCPUMs, initCPUMs) = try loadInterpreterTimed(model, execution.interpreterOptions())
            try setInputs(of: [interpreter])
            let positions = try outputPositions()
            let r = try positions.map { try interpreter.benchmark(iterations: iterations, warmup: warmup, computing: $0) }
                ?? interpreter.benchmark(iterations: iterations, warmup: warmup)
            guard let peakBytes = peakResidentSetBytes() else { throw CLIError("getrusage failed: cannot read the peak resident set size") }
            let peakRSSMiB = Double(peakBytes) / 1_048_576
            // What the load faulted in, MiB: the file's copy, the packed weights, the activations.
            let fileMiB = Double(interpreter.model.storage.bytes.count) / 1_048_576
            let packedMiB = Double(interpreter.packedWeightBytes) / 1_048_576
            let activationMiB = Double(interpreter.activationBytes) / 1_048_576
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                var object = try JSONSerialization.jsonObject(with: encoder.encode(r)) as? [String: Any] ?? [:]
                object["model"] = (model as NSString).lastPathComponent
                object["gemm"] = "\(execution.gemm.backend)"
                object["gemm_lanes"] = execution.lanes.rawValue
                object["load_ms"] = loadMs
                object["init_ms"] = initMs
                object["weight_cache"] = interpreter.weightCacheOutcome.word
                object["load_cpu_ms"] = loadCPUMs
                object["init_cpu_ms"] = initCPUMs
                object["peak_rss_mb"] = peakRSSMiB
                object["activation_mb"] = activationMiB
                object["packed_weights_mb"] = packedMiB
                object["file_mb"] = fileMiB
                object["memory_pages"] = HugePages.useHugePages ? "2MiB" : "4KiB"
                object["outputs"] = positions ?? Array(interpreter.outputs.indices)
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "%@: median %.3f ms, min %.3f ms, mean %.3f ms, CPU median %.3f ms over %d runs (%d warm-up), %d thread(s), %.3f GFLOP -> %.1f GFLOP/s",
                             (model as NSString).lastPathComponent, r.medianMs, r.minMs, r.meanMs, r.cpuMedianMs, r.iterations, r.warmup, r.threads, r.gflop, r.gflops))
                print(String(format: "  load %.3f ms, init %.3f ms, first run %.3f ms (%.2fx the median), p5 %.3f ms, p50 %.3f ms, p95 %.3f ms, peak RSS %.1f MiB",
                             loadMs, initMs, r.firstRunMs, r.medianMs > 0 ? r.firstRunMs / r.medianMs : 0, r.p5Ms, r.p50Ms, r.p95Ms, peakRSSMiB))
                print(String(format: "  memory: file %.2f MiB, packed weights %.2f MiB, activations %.2f MiB, in %@ pages",
                             fileMiB, packedMiB, activationMiB, HugePages.useHugePages ? "2 MiB" : "4 KiB"))
                print("  packed-weight cache: \(interpreter.weightCacheOutcome)")
                print("  GEMM \(execution.gemm.backend), native micro-kernels \(execution.lanes) (SIMD \(BuildTarget.simdBits)-bit build)")
                if let positions {
                    let skipped = interpreter.steps.count - (try interpreter.stepCount(computing: positions))
                    print("  outputs \(positions.map(String.init).joined(separator: ",")) of \(interpreter.outputs.count): \(skipped) of \(interpreter.steps.count) steps skipped")
                }
            }
        }
    }
}

/// OpenBLAS 0.3.21 misdetects some CPUs (e.g. Sapphire Rapids) as "Prescott" and
/// then runs sgemm ~8× slower. Say so loudly when the user picked OpenBLAS.
func warnAboutSlowOpenBLAS(_ gemm: GemmChoice) {
    guard gemm.backend == .openBLAS else { return }
    let core = OpenBLAS.coreName
    if core.lowercased().contains("prescott") || core.lowercased().contains("unknown") {
        printError("warning: OpenBLAS detected core '\(core)' and will run sgemm far below this CPU's speed; set OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2), or use --gemm native\n")
    }
}

// MARK: - profile

/// `blazepose profile MODEL [--threads N] [--trace trace.json] [--json | --csv]`
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Per-operator time (ms, %, GFLOP/s, % of measured GEMM peak), by op type and per layer.",
        discussion: """
            --json prints one object {model, threads, iterations, gemm, gemm_lanes, gemm_peak_gflops, total_ms, operators, \
            layers: [{op, type, output, ms, percent, gflops, percent_peak}], by_op: [{type, count, ms, percent, \
            gflops, percent_peak}]}; --csv prints the per-layer table only (RFC 4180: a header row, one row per \
            layer, CRLF line ends). Rates of operators without multiply-adds are null (JSON) or empty (CSV). \
            Rows are executed operators: folded constants (DEQUANTIZE, DENSIFY) and aliasing RESHAPEs have \
            none, and a fused step is one row under its first operator (--no-fuse: one row per executed operator).
            """)

    @Argument(help: "Path to a .tflite model.") var model: String
    @Option(parsing: .unconditional, help: "Profiled inferences (medians are reported), 1...1000000.") var iterations = 20
    @Option(help: "Write Chrome trace-event JSON (opens in Perfetto).") var trace: String?
    @Option(parsing: .unconditional, help: "List only the slowest N layers, N ≥ 1 (default: all).") var top: Int?
    @Flag(help: "Print both tables as one JSON object instead of text.") var json = false
    @Flag(help: "Print the per-layer table as CSV instead of text.") var csv = false
    @OptionGroup var execution: ExecutionOptions

    func validate() throws {
        try OptionRanges.check("--iterations", iterations, in: OptionRanges.iterations)
        if let top { try OptionRanges.check("--top", top, in: OptionRanges.top) }
        if json, csv { throw ValidationError("give --json or --csv, not both") }
    }

    func run() throws {
        try reportingErrors {
            warnAboutSlowOpenBLAS(execution.gemm)
            let interpreter = try loadInterpreter(model, execution.interpreterOptions())
            try interpreter.fillInputsForBenchmark()
            for _ in 0..<3 { interpreter.invoke() }
            let profiler = Profiler()
            for _ in 0..<iterations { interpreter.invoke(profiler: profiler) }
            let peak = measureGemmPeakGFLOPS(threads: interpreter.threadCount, backend: execution.gemm.backend, lanes: execution.lanes)
            let table = profileTable(interpreter, profiler.medianMilliseconds(), peak: peak)

            if json {
                print(table.json())
            } else if csv {
                print(table.csv(), terminator: "")
            } else {
                printText(table)
            }
            if let trace {
                let names = Dictionary(uniqueKeysWithValues: interpreter.steps.map { ($0.op, "\($0.op) \($0.name)") })
                try OutputWriter.writeFile(trace, [UInt8](profiler.chromeTrace { names[$0] ?? "op \($0)" }))
                let note = "trace: \(trace) (\(profiler.events.count) events; open in Perfetto)"
                // Machine-readable output keeps standard output to the table alone.
                if json || csv { printError(note + "\n") } else { print("\n" + note) }
            }
        }
    }

    /// Both tables from the per-operator medians (ms by operator index) and the GEMM peak.
    private func profileTable(_ interpreter: Interpreter, _ medians: [Int: Double], peak: Double) -> ProfileTable {
        let subgraph = interpreter.model.subgraphs[0]
        let total = interpreter.steps.reduce(0) { $0 + (medians[$1.op] ?? 0) }
        func share(_ ms: Double) -> Double { total > 0 ? 100 * ms / total : 0 }
        var byType: [String: (count: Int, ms: Double, flops: Double)] = [:]
        for s in interpreter.steps {
            // Steps on a load-time kernel variant get their own row ("CONV_2D sparse").
            let type = s.name + (s.variant.flatMap { $0.split(separator: " ").first }.map { " \($0)" } ?? "")
            let e = byType[type, default: (0, 0, 0)]
            byType[type] = (e.count + 1, e.ms + (medians[s.op] ?? 0), e.flops + s.flops)
        }
        let byOp = byType.sorted { ($0.value.ms, $1.key) > ($1.value.ms, $0.key) }.map { name, e in
            let (gf, pp) = ProfileTable.rates(flops: e.flops, ms: e.ms, peak: peak)
            return ProfileTable.OpType(type: name, count: e.count, ms: e.ms, percent: share(e.ms), gflops: gf, percentOfPeak: pp)
        }
        var steps = interpreter.steps
        if let top { steps = Array(steps.sorted { (medians[$0.op] ?? 0) > (medians[$1.op] ?? 0) }.prefix(top)) }
        let layers = steps.map { s in
            let ms = medians[s.op] ?? 0
            let (gf, pp) = ProfileTable.rates(flops: s.flops, ms: ms, peak: peak)
            let output = subgraph.operators[s.op].outputs.first.map { subgraph.tensors[$0].shape } ?? []
            return ProfileTable.Layer(op: s.op, type: s.name + (s.variant.map { " \($0)" } ?? ""), output: output, ms: ms, percent: share(ms), gflops: gf, percentOfPeak: pp)
        }
        return ProfileTable(model: (model as NSString).lastPathComponent, threads: interpreter.threadCount, iterations: iterations,
                            gemm: "\(execution.gemm.backend)", gemmLanes: execution.lanes.rawValue, gemmPeakGFLOPS: peak, totalMs: total,
                            operatorCount: subgraph.operators.count, layers: layers, byOp: byOp)
    }

    /// The text tables (the default output).
    private func printText(_ table: ProfileTable) {
        func rate(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "-" }
        print(String(format: "%@: %d thread(s), sum of per-op medians %.3f ms, GEMM peak here %.1f GFLOP/s (%@, %d-lane micro-kernels)",
                     table.model, table.threads, table.totalMs, table.gemmPeakGFLOPS, table.gemm, table.gemmLanes))
        print("\nby op type:")
        print(" ", pad("op", 18), pad("count", 6, right: true), pad("ms", 9, right: true), pad("%", 6, right: true), pad("GFLOP/s", 8, right: true), pad("%peak", 6, right: true))
        for e in table.byOp {
            print(" ", pad(e.type, 18), pad("\(e.count)", 6, right: true), pad(String(format: "%.3f", e.ms), 9, right: true),
                  pad(String(format: "%.1f%%", e.percent), 6, right: true),
                  pad(rate(e.gflops, "%.1f"), 8, right: true), pad(rate(e.percentOfPeak, "%.0f%%"), 6, right: true))
        }
        print("\nper layer:")
        print(" ", pad("op", 5, right: true), pad("type", 22), pad("output", 20), pad("ms", 8, right: true), pad("%", 6, right: true), pad("GFLOP/s", 8, right: true), pad("%peak", 6, right: true))
        for l in table.layers {
            print(" ", pad("\(l.op)", 5, right: true), pad(l.type, 22), pad(l.output.isEmpty ? "" : shapeString(l.output), 20),
                  pad(String(format: "%.4f", l.ms), 8, right: true), pad(String(format: "%.1f%%", l.percent), 6, right: true),
                  pad(rate(l.gflops, "%.1f"), 8, right: true), pad(rate(l.percentOfPeak, "%.0f%%"), 6, right: true))
        }
    }
}
