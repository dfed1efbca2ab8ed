import Foundation
import XCTest

/// `bench --versus`: B gets exactly the options in the string (others at their defaults, not A's),
/// the pairs are counted, and a bad value is a clear error naming `--versus`, not a run.
final class BenchVersusCLITests: XCTestCase {
    func testVersusTimesBothSidesWithTheirOwnOptions() throws {
        let binary = try blazeposeBinary()
        let detector = packageWeights.appendingPathComponent("pose_detection.tflite").path
        let result = try runProcess(binary, ["bench", detector, "--json", "--iterations", "4", "--warmup", "1",
                                             "--threads", "1", "--no-weight-cache",
                                             "--versus", "--threads 1 --gemm native --no-sparse --no-weight-cache"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["pairs"] as? Int, 4)
        XCTAssertEqual(object["warmup"] as? Int, 1)
        let a = try XCTUnwrap(object["a_options"] as? String), b = try XCTUnwrap(object["b_options"] as? String)
        XCTAssertTrue(a.contains("sparse auto") && a.contains("threads 1"), a)
        XCTAssertTrue(b.contains("no sparse") && b.contains("gemm native") && b.contains("threads 1"), b)
        for side in ["a", "b"] {
            let times = try XCTUnwrap(object[side] as? [String: Double], "\(side): \(object)")
            let median = try XCTUnwrap(times["median_ms"]), minimum = try XCTUnwrap(times["min_ms"])
            XCTAssertGreaterThan(minimum, 0)
            XCTAssertLessThanOrEqual(minimum, median)
        }
        let ratio = try XCTUnwrap(object["ratio_of_medians"] as? Double)
        let a0 = try XCTUnwrap((object["a"] as? [String: Double])?["median_ms"])
        let b0 = try XCTUnwrap((object["b"] as? [String: Double])?["median_ms"])
        XCTAssertEqual(ratio, b0 / a0, accuracy: 1e-9)
        let faster = try XCTUnwrap(object["b_faster_fraction"] as? Double)
        XCTAssertTrue((0...1).contains(faster), "\(faster)")
    }

    func testBadVersusValueIsAnErrorNamingIt() throws {
        let binary = try blazeposeBinary()
        let detector = packageWeights.appendingPathComponent("pose_detection.tflite").path
        for (value, message) in [("--threads 0", "--threads must be in 1...1024"), ("--bogus", "Unknown option '--bogus'"),
                                 ("--threads 1 other.tflite", "Unexpected argument 'other.tflite'")] {
            let result = try runProcess(binary, ["bench", detector, "--iterations", "1", "--threads", "1", "--versus", value])
            XCTAssertEqual(result.status, 1, "\(value): \(result.stdout)")
            XCTAssertTrue(result.stderr.contains("--versus \"\(value)\"") && result.stderr.contains(message), "\(value): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", value)
        }
        // Only `bench` has it: `profile` rejects it rather than ignoring it.
        let profile = try runProcess(binary, ["profile", detector, "--iterations", "1", "--threads", "1", "--versus", "--threads 1"])
        XCTAssertNotEqual(profile.status, 0)
        XCTAssertTrue(profile.stderr.contains("Unknown option '--versus'"), profile.stderr)
    }
}
