import BlazePose
import BlazeRuntime
import BlazeSupport
import BlazeTestSupport
import Foundation
import XCTest

/// Machine-readable output of `blazepose bench --json` and `profile --json/--csv` (issue 11,
/// runtime-tool parity), on the detector, with the tool built next to this test bundle.
final class RuntimeToolOutputTests: XCTestCase {
    private var detector: String { weightsDirectory.appendingPathComponent("pose_detection.tflite").path }

    private func blazepose(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ProcessOutcome {
        let outcome = try runProcess(try BuiltProducts.blazepose(), arguments)
        XCTAssertEqual(outcome.reason, .exit, "\(arguments) must exit, not crash: \(outcome.stderr)", file: file, line: line)
        return outcome
    }

    private func jsonObject(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return try XCTUnwrap(object, "not a JSON object: \(text)", file: file, line: line)
    }

    /// Nearest-rank percentiles: always one of the values, rank ⌈p·n/100⌉.
    func testPercentileIsNearestRank() {
        let values = (1...20).map(Double.init).shuffled()
        XCTAssertEqual(percentile(values, 5), 1)
        XCTAssertEqual(percentile(values, 50), 10)
        XCTAssertEqual(percentile(values, 95), 19)
        XCTAssertEqual(percentile(values, 100), 20)
        XCTAssertEqual(percentile(values, 0), 1)
        XCTAssertEqual(percentile([3.0, 1, 2], 50), 2)
        XCTAssertEqual(percentile([7.0], 95), 7)
        XCTAssertEqual(percentile([Double](), 50), 0)
    }

    func testBenchJSONHasLoadInitPercentilesAndPeakRSS() throws {
        let outcome = try blazepose(["bench", detector, "--json", "--iterations", "12", "--warmup", "1", "--threads", "1"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let object = try jsonObject(outcome.stdout)
        // The keys the Tools/ scripts parse are still there.
        for key in ["median_ms", "min_ms", "mean_ms", "cpu_median_ms", "iterations", "warmup", "threads", "gflop", "gflops", "model", "gemm"] {
            XCTAssertNotNil(object[key], "missing \(key) in \(outcome.stdout)")
        }
        func number(_ key: String) throws -> Double { try XCTUnwrap(object[key] as? Double ?? (object[key] as? NSNumber)?.doubleValue, "missing \(key)") }
        let (minMs, p5, p50, p95) = (try number("min_ms"), try number("p5_ms"), try number("p50_ms"), try number("p95_ms"))
        XCTAssertGreaterThan(p5, 0)
        XCTAssertLessThanOrEqual(minMs, p5)
        XCTAssertLessThanOrEqual(p5, p50)
        XCTAssertLessThanOrEqual(p50, p95)
        XCTAssertLessThanOrEqual(try number("median_ms"), p95)
        XCTAssertGreaterThan(try number("load_ms"), 0)
        XCTAssertGreaterThan(try number("init_ms"), 0)
        XCTAssertGreaterThan(try number("first_run_ms"), 0)
        XCTAssertGreaterThanOrEqual(try number("first_run_cpu_ms"), 0)
        // The detector's weights alone are ~10 MiB; a process that ran it cannot peak below that or above 24 GiB.
        let rss = try number("peak_rss_mb")
        XCTAssertGreaterThan(rss, 10)
        XCTAssertLessThan(rss, 24 * 1024)
        XCTAssertEqual(object["iterations"] as? Int, 12)
        // The detector's file is 2.8 MiB: 2.97 M binary16 weights, 75% zeros in its sparse layers.
        // With the native GEMM the sparse layers keep their nonzeros (float32 with 16-bit offsets)
        // and the dense ones take float32 panels: 5.65 MiB, more than the file and less than dense
        // panels throughout (--no-sparse: 8.54). With OpenBLAS (the default of a build without FMA)
        // every weight is dense float32: 11.3 MiB and the depthwise biases (11.77).
        let file = try number("file_mb"), packed = try number("packed_weights_mb")
        XCTAssertEqual(file, Double(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: detector)[.size] as? Int)) / 1_048_576,
                       accuracy: 1e-9)
        if object["gemm"] as? String == "native" {
            XCTAssertGreaterThan(packed, file)
            XCTAssertLessThan(packed, 8)
        } else {
            XCTAssertEqual(object["gemm"] as? String, "openBLAS")
            XCTAssertGreaterThan(packed, 2_965_052 * 4 / 1_048_576.0)
            XCTAssertLessThan(packed, 12.5)
        }
        XCTAssertGreaterThan(try number("activation_mb"), 1)
        // The page size the load's memory settled on (HugePages).
        XCTAssertTrue(["2MiB", "4KiB"].contains(object["memory_pages"] as? String ?? ""), "\(object["memory_pages"] ?? "missing")")
        // The GEMM micro-kernels' vector width of this build (the CLI is built with the tests' flags).
        XCTAssertEqual(object["gemm_lanes"] as? Int, BuildTarget.gemmLanes.rawValue)

        let text = try blazepose(["bench", detector, "--iterations", "3", "--warmup", "0", "--threads", "1"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("load ") && text.stdout.contains("init ") && text.stdout.contains("p95 ")
                      && text.stdout.contains("peak RSS") && text.stdout.contains(" pages")
                      && text.stdout.contains("packed weights ") && text.stdout.contains("activations "), text.stdout)
        XCTAssertTrue(text.stdout.contains("native micro-kernels \(BuildTarget.gemmLanes)"), text.stdout)
    }

    /// The operators of `inspect --json` (ModelReport rows): (index, op name), in file order.
    private func inspectedOperators(file: StaticString = #filePath, line: UInt = #line) throws -> [(index: Int, op: String)] {
        let inspect = try blazepose(["inspect", detector, "--json"], file: file, line: line)
        XCTAssertEqual(inspect.status, 0, inspect.stderr, file: file, line: line)
        let rows = try XCTUnwrap(try jsonObject(inspect.stdout)["rows"] as? [[String: Any]], file: file, line: line)
        return try rows.map { (try XCTUnwrap($0["index"] as? Int), try XCTUnwrap($0["op"] as? String)) }
    }

    /// Operators that run no step: constants folded at load time and RESHAPEs that alias their input.
    private let notExecuted: Set<String> = ["DEQUANTIZE", "DENSIFY", "RESHAPE"]

    /// Without fusion: one layer row per executed operator of the file (ModelReport's rows minus the
    /// folded and aliased ones), in file order, with the operator's own name; rates only for operators
    /// that multiply-add; shares summing to 100 %.
    func testProfileJSONHasOneLayerPerOperator() throws {
        let operators = try inspectedOperators()
        let executed = operators.filter { !notExecuted.contains($0.op) }
        XCTAssertGreaterThan(executed.count, 50)

        // `--gemm native`: with OpenBLAS (the plain build's default) mostly-zero 1×1 convs stay dense.
        let outcome = try blazepose(["profile", detector, "--json", "--iterations", "2", "--threads", "1", "--no-fuse",
                                     "--gemm", "native"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let object = try jsonObject(outcome.stdout)
        XCTAssertEqual(object["model"] as? String, "pose_detection.tflite")
        XCTAssertEqual(object["threads"] as? Int, 1)
        XCTAssertEqual(object["iterations"] as? Int, 2)
        XCTAssertEqual(object["operators"] as? Int, operators.count)
        XCTAssertGreaterThan(try XCTUnwrap(object["gemm_peak_gflops"] as? Double), 0)
        XCTAssertEqual(object["gemm_lanes"] as? Int, BuildTarget.gemmLanes.rawValue)
        XCTAssertGreaterThan(try XCTUnwrap(object["total_ms"] as? Double), 0)
        let layers = try XCTUnwrap(object["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, executed.count)
        XCTAssertEqual(layers.compactMap { $0["op"] as? Int }, executed.map(\.index))
        // A 1×1 conv with mostly-zero weights names the path taken: `CONV_2D sparse 75%` / `dense 75%`;
        // a conv on binary16 panels says so: `CONV_2D f16-panels`.
        XCTAssertEqual(layers.compactMap { ($0["type"] as? String).map(operatorName) }, executed.map(\.op))
        XCTAssertTrue(layers.contains { ($0["type"] as? String)?.hasPrefix("CONV_2D sparse ") == true }, "sparse path named")
        var percentSum = 0.0
        for layer in layers {
            XCTAssertEqual((layer["output"] as? [Int])?.isEmpty, false, "\(layer)")
            let ms = try XCTUnwrap(layer["ms"] as? Double)
            XCTAssertGreaterThanOrEqual(ms, 0)
            percentSum += try XCTUnwrap(layer["percent"] as? Double)
            let isConvolution = (layer["type"] as? String)?.contains("CONV") == true
            XCTAssertEqual(layer["gflops"] as? Double != nil, isConvolution, "\(layer)")
            XCTAssertEqual(layer["percent_peak"] is NSNull, !isConvolution, "\(layer)")
        }
        XCTAssertEqual(percentSum, 100, accuracy: 0.01)
        let byOp = try XCTUnwrap(object["by_op"] as? [[String: Any]])
        XCTAssertEqual(byOp.compactMap { $0["count"] as? Int }.reduce(0, +), executed.count)
        XCTAssertEqual(Set(byOp.compactMap { ($0["type"] as? String).map(operatorName) }), Set(executed.map(\.op)))
        let byOpMs = byOp.compactMap { $0["ms"] as? Double }
        XCTAssertEqual(byOpMs, byOpMs.sorted(by: >), "by_op is sorted slowest first")

        // With fusion (the default) a step may run several operators: fewer rows, each one an executed operator.
        let fused = try jsonObject(try blazepose(["profile", detector, "--json", "--iterations", "1", "--threads", "1"]).stdout)
        let fusedOps = try XCTUnwrap(fused["layers"] as? [[String: Any]]).compactMap { $0["op"] as? Int }
        XCTAssertFalse(fusedOps.isEmpty)
        XCTAssertTrue(Set(fusedOps).isSubset(of: Set(executed.map(\.index))), "\(fusedOps)")
        XCTAssertLessThanOrEqual(fusedOps.count, executed.count)
    }

    func testProfileCSVHasAHeaderAndOneRowPerLayer() throws {
        let outcome = try blazepose(["profile", detector, "--csv", "--iterations", "1", "--threads", "1", "--no-fuse"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasSuffix("\r\n"))
        let lines = outcome.stdout.components(separatedBy: "\r\n").dropLast()
        XCTAssertEqual(lines.first, "op,type,output,ms,percent,gflops,percent_peak")
        let executed = try inspectedOperators().filter { !notExecuted.contains($0.op) }
        XCTAssertEqual(lines.count - 1, executed.count)
        for (line, op) in zip(lines.dropFirst(), executed) {
            let fields = parseCSVRecord(line)
            XCTAssertEqual(fields.count, 7, line)
            XCTAssertEqual(fields.first, "\(op.index)", line)
            XCTAssertEqual(operatorName(fields.count > 1 ? fields[1] : ""), op.op, line)
            XCTAssertTrue(fields.count > 2 && fields[2].hasPrefix("[") && fields[2].hasSuffix("]"), line)
            XCTAssertNotNil(Double(fields.count > 3 ? fields[3] : ""), line)
        }
        XCTAssertFalse(outcome.stdout.contains("\n\n"))
    }

    func testProfileJSONAndCSVAreExclusive() throws {
        let outcome = try blazepose(["profile", detector, "--json", "--csv"])
        XCTAssertEqual(outcome.status, 64, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--json or --csv"), outcome.stderr)
        XCTAssertEqual(outcome.stdout, "")
    }

    /// `--gemm-lanes` sets the native GEMM's widest vectors (reported by bench and profile); a width
    /// the kernels do not have is a usage error that names the option.
    func testGemmLanesOptionIsReportedAndChecked() throws {
        for lanes in [8, 16] {
            let bench = try blazepose(["bench", detector, "--json", "--iterations", "1", "--warmup", "0", "--threads", "1",
                                       "--gemm", "native", "--gemm-lanes", "\(lanes)"])
            XCTAssertEqual(bench.status, 0, bench.stderr)
            XCTAssertEqual(try jsonObject(bench.stdout)["gemm_lanes"] as? Int, lanes)
            let profile = try blazepose(["profile", detector, "--iterations", "1", "--threads", "1", "--gemm", "native",
                                         "--gemm-lanes", "\(lanes)", "--top", "1"])
            XCTAssertEqual(profile.status, 0, profile.stderr)
            XCTAssertTrue(profile.stdout.contains("\(lanes)-lane micro-kernels"), profile.stdout)
        }
        let bad = try blazepose(["bench", detector, "--gemm-lanes", "12"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--gemm-lanes must be 8 or 16, got 12"), bad.stderr)
        XCTAssertEqual(bad.stdout, "")
    }

    /// `bench --outputs`: the JSON names the outputs computed and the GFLOP of the steps run (lite
    /// without its mask output: fewer); bad lists and out-of-range positions are refused by name.
    func testBenchOutputsOptionSkipsLayersAndIsChecked() throws {
        let lite = weightsDirectory.appendingPathComponent("pose_landmark_lite.tflite").path
        let args = ["bench", lite, "--json", "--iterations", "1", "--warmup", "0", "--threads", "1"]
        let all = try blazepose(args)
        XCTAssertEqual(all.status, 0, all.stderr)
        let some = try blazepose(args + ["--outputs", "0,1,3,4"])
        XCTAssertEqual(some.status, 0, some.stderr)
        let (a, b) = (try jsonObject(all.stdout), try jsonObject(some.stdout))
        XCTAssertEqual(a["outputs"] as? [Int], [0, 1, 2, 3, 4])
        XCTAssertEqual(b["outputs"] as? [Int], [0, 1, 3, 4])
        let (gfA, gfB) = (a["gflop"] as? Double ?? 0, b["gflop"] as? Double ?? 0)
        XCTAssertLessThan(gfB, gfA)
        XCTAssertGreaterThan(gfB, 0.8 * gfA)
        let text = try blazepose(["bench", lite, "--iterations", "1", "--warmup", "0", "--threads", "1", "--outputs", "0,1,3,4"])
        XCTAssertTrue(text.stdout.contains("outputs 0,1,3,4 of 5: 8 of "), text.stdout)
        let range = try blazepose(["bench", lite, "--iterations", "1", "--outputs", "0,5"])
        XCTAssertEqual(range.status, 1, range.stderr)
        XCTAssertTrue(range.stderr.contains("output index 5 is out of range (the model has 5 outputs)"), range.stderr)
        let empty = try blazepose(["bench", lite, "--outputs="])
        XCTAssertEqual(empty.status, 64, empty.stderr)
        for bad in ["0,x", "1,,2", "-1", " "] {
            let r = try blazepose(["bench", lite, "--outputs=\(bad)"])
            XCTAssertEqual(r.status, 64, "'\(bad)': \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--outputs must be output positions"), r.stderr)
        }
    }

    /// The CSV test above relies on this parser for the quoted shape column: check it on the RFC 4180 cases.
    func testTheCSVParserOfTheseTestsFollowsRFC4180() throws {
        XCTAssertEqual(parseCSVRecord("a,\"b,c\",\"say \"\"hi\"\"\",,d"), ["a", "b,c", "say \"hi\"", "", "d"])
    }

    /// A profile row's type without the sparse/dense path label of mostly-zero 1×1 convs
    /// (`CONV_2D sparse 75%`, `CONV_2D dense 75%`, by op `CONV_2D sparse`): the operator's name.
    private func operatorName(_ type: String) -> String {
        for label in [" sparse", " dense", " f16-panels"] {
            if let r = type.range(of: label) { return String(type[..<r.lowerBound]) }
        }
        return type
    }

    /// Splits one RFC 4180 record (no line breaks inside fields) into its fields.
    private func parseCSVRecord(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false, chars = Array(line), i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" { field.append("\""); i += 1 } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { fields.append(field); field = "" } else { field.append(c) }
            i += 1
        }
        fields.append(field)
        return fields
    }
}
