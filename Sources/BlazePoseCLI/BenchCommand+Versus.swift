import ArgumentParser
import BlazeRuntime
import Foundation

/// `blazepose bench MODEL [A's options] --versus "B's options"`: an in-process A/B of two
/// interpreters of one model (``Interpreter/benchmarkPaired(_:_:iterations:warmup:computing:)``).
extension BenchCommand {
    /// Parses `--versus`'s value (whitespace-separated execution options) into B's options.
    static func versusOptions(_ value: String) throws -> ExecutionOptions {
        let tokens = value.split(whereSeparator: \.isWhitespace).map(String.init)
        do {
            return try ExecutionOptions.parse(tokens)
        } catch {
            throw CLIError("--versus \"\(value)\": \(ExecutionOptions.message(for: error))")
        }
    }

    /// One line naming the execution options that change what runs.
    static func describe(_ options: ExecutionOptions) -> String {
        let sparse = options.sparse.map { $0 ? "all sparse" : "no sparse" } ?? "sparse auto"
        let half = options.halfPanels.map { $0 ? "all half panels" : "no half panels" } ?? "half panels auto"
        return "threads \(options.threads), gemm \(options.gemm.backend) \(options.lanes), \(sparse), \(half), "
            + "fusion \(options.noFuse ? "off" : "on"), in-place \(options.noInPlace ? "off" : "on"), "
            + "convolve-before-resize \(options.convolveBeforeResize ? "on" : "off"), weight cache \(options.weightCache ? "on" : "off")"
    }

    func runVersus(_ value: String) throws {
        try reportingErrors {
            let other = try Self.versusOptions(value)
            warnAboutSlowOpenBLAS(execution.gemm)
            warnAboutSlowOpenBLAS(other.gemm)
            let a = try loadInterpreter(model, execution.interpreterOptions())
            let b = try loadInterpreter(model, other.interpreterOptions())
            try setInputs(of: [a, b])
            let r = try a.benchmarkPaired(b, iterations: iterations, warmup: warmup, computing: try outputPositions())
            let name = (model as NSString).lastPathComponent
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                var object = try JSONSerialization.jsonObject(with: encoder.encode(r)) as? [String: Any] ?? [:]
                object["model"] = name
                object["a_options"] = Self.describe(execution)
                object["b_options"] = Self.describe(other)
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(name): A and B inference by inference in turn, \(r.pairs) timed pairs after \(r.warmup) warm-up pairs")
                print("  A: \(Self.describe(execution))")
                print(String(format: "     median %.3f ms, min %.3f ms, p5 %.3f ms, p95 %.3f ms", r.a.medianMs, r.a.minMs, r.a.p5Ms, r.a.p95Ms))
                print("  B: \(Self.describe(other))")
                print(String(format: "     median %.3f ms, min %.3f ms, p5 %.3f ms, p95 %.3f ms", r.b.medianMs, r.b.minMs, r.b.p5Ms, r.b.p95Ms))
                print(String(format: "  B/A: ratio of medians %.3f; per pair median %.3f (quartiles %.3f–%.3f); B faster in %.0f%% of pairs",
                             r.ratioOfMedians, r.pairedRatioMedian, r.pairedRatioP25, r.pairedRatioP75, 100 * r.bFasterFraction))
            }
        }
    }
}
