import BlazeSupport
import Foundation

/// What `blazepose profile` measured, as the tables it prints: one row per executed operator (in file
/// order, or the slowest `--top` ones) and one per operator type; rendered as text, one JSON object
/// (`--json`) or CSV (`--csv`).
///
/// Times are medians over the profiled inferences in milliseconds; `percent` is a share of
/// ``totalMs`` (the sum of the per-operator medians); `gflops` is the operator's FLOPs (2·MAC) over
/// its median time and `percentOfPeak` that as a share of ``gemmPeakGFLOPS``. Both are nil for
/// operators without multiply-adds (printed `-`, JSON `null`, an empty CSV field).
struct ProfileTable {
    /// One executed operator.
    struct Layer {
        /// Index of the operator in the subgraph.
        var op: Int
        /// Operator name, e.g. `CONV_2D` (a fused step keeps the first operator's name).
        var type: String
        /// Shape of the operator's first output (NHWC for 4-D tensors); empty when it has none.
        var output: [Int]
        var ms: Double
        var percent: Double
        var gflops: Double?
        var percentOfPeak: Double?
    }

    /// Totals of one operator type.
    struct OpType {
        var type: String
        var count: Int
        var ms: Double
        var percent: Double
        var gflops: Double?
        var percentOfPeak: Double?
    }

    var model: String
    var threads: Int
    var iterations: Int
    /// The GEMM backend, e.g. `native`.
    var gemm: String
    /// Vector width of this build's native GEMM micro-kernels, 8 or 16 (``GemmLanes/build``).
    var gemmLanes: Int
    /// GEMM throughput measured on this machine (``measureGemmPeakGFLOPS(threads:backend:lanes:)``).
    var gemmPeakGFLOPS: Double
    /// Sum of the per-operator medians, ms.
    var totalMs: Double
    /// Operators in the file's subgraph, executed or not (folded constants and aliasing RESHAPEs
    /// have no layer row; a fused step runs several operators).
    var operatorCount: Int
    var layers: [Layer]
    /// Sorted by time, slowest first.
    var byOp: [OpType]

    /// The CSV columns, in order (one row per layer).
    static let csvHeader = ["op", "type", "output", "ms", "percent", "gflops", "percent_peak"]

    /// Throughput and share of the GEMM peak for `flops` in `ms`, nil without FLOPs.
    static func rates(flops: Double, ms: Double, peak: Double) -> (Double?, Double?) {
        guard flops > 0 else { return (nil, nil) }
        let gf = ms > 0 ? flops / 1e9 / (ms / 1000) : 0
        return (gf, peak > 0 ? 100 * gf / peak : nil)
    }

    /// One JSON object, keys in the order documented in the README:
    /// `{"model", "threads", "iterations", "gemm", "gemm_lanes", "gemm_peak_gflops", "total_ms", "operators",
    /// "layers": [{"op", "type", "output", "ms", "percent", "gflops", "percent_peak"}],
    /// "by_op": [{"type", "count", "ms", "percent", "gflops", "percent_peak"}]}`.
    func json() -> String {
        func string(_ s: String) -> String { "\"" + jsonEscape(s) + "\"" }
        let layerObjects = layers.map { l in
            "{\"op\":\(l.op),\"type\":\(string(l.type)),\"output\":[\(l.output.map(String.init).joined(separator: ","))],"
                + "\"ms\":\(number(l.ms)),\"percent\":\(number(l.percent)),\"gflops\":\(number(l.gflops)),\"percent_peak\":\(number(l.percentOfPeak))}"
        }
        let opObjects = byOp.map { o in
            "{\"type\":\(string(o.type)),\"count\":\(o.count),\"ms\":\(number(o.ms)),\"percent\":\(number(o.percent)),"
                + "\"gflops\":\(number(o.gflops)),\"percent_peak\":\(number(o.percentOfPeak))}"
        }
        return "{\"model\":\(string(model)),\"threads\":\(threads),\"iterations\":\(iterations),\"gemm\":\(string(gemm)),"
            + "\"gemm_lanes\":\(gemmLanes),"
            + "\"gemm_peak_gflops\":\(number(gemmPeakGFLOPS)),\"total_ms\":\(number(totalMs)),\"operators\":\(operatorCount),"
            + "\"layers\":[\(layerObjects.joined(separator: ","))],\"by_op\":[\(opObjects.joined(separator: ","))]}"
    }

    /// RFC 4180 CSV of the per-layer table: the ``csvHeader`` row, then one row per layer; lines end
    /// in CRLF; the output shape is written `[1,112,112,48]` (quoted, as it holds commas); a rate
    /// without FLOPs is an empty field. The by-op table is not part of the CSV (use `--json`).
    func csv() -> String {
        var lines = [Self.csvHeader.map(csvField).joined(separator: ",")]
        for l in layers {
            let fields = ["\(l.op)", l.type, "[" + l.output.map(String.init).joined(separator: ",") + "]",
                          csvNumber(l.ms), csvNumber(l.percent), csvNumber(l.gflops), csvNumber(l.percentOfPeak)]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.map { $0 + "\r\n" }.joined()
    }
}

/// A JSON number for `value` (`null` for nil, NaN or infinity, which JSON cannot write).
private func number(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "null" }
    return "\(value)"
}

/// A CSV number for `value` (empty for nil, NaN or infinity).
private func csvNumber(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "" }
    return "\(value)"
}

/// One CSV field per RFC 4180 §2: enclosed in double quotes when it holds a comma, a double quote,
/// CR or LF, with each double quote inside doubled; otherwise as it is.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
