import BlazePose
import Foundation
import XCTest

/// The CLI's packed-weight cache: on by default, placed by `$BLAZEPOSE_CACHE_DIR`, off with
/// `--no-weight-cache` or `BLAZEPOSE_WEIGHT_CACHE=off`, reported by `bench --json` and `doctor`,
/// and invisible in the results.
final class WeightCacheCLITests: XCTestCase {
    func environment(cache: URL, off: Bool = false) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["BLAZEPOSE_CACHE_DIR"] = cache.path
        env["BLAZEPOSE_WEIGHT_CACHE"] = off ? "off" : nil
        return env
    }

    func benchCacheWord(_ arguments: [String], _ env: [String: String]) throws -> String {
        let binary = try blazeposeBinary()
        let model = packageWeights.appendingPathComponent("pose_landmark_lite.tflite").path
        let result = try runProcess(binary, ["bench", model, "--json", "--iterations", "1", "--threads", "1"] + arguments, environment: env)
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["weight_cache"] as? String ?? "missing"
    }

    func testBenchReportsStoreThenHitAndTheSwitchesTurnItOff() throws {
        let cache = try temporaryDirectory("weight-cache", self).appendingPathComponent("nested/cache")
        XCTAssertEqual(try benchCacheWord([], environment(cache: cache)), "stored")
        XCTAssertEqual(try benchCacheWord([], environment(cache: cache)), "hit")
        XCTAssertEqual(try benchCacheWord(["--no-weight-cache"], environment(cache: cache)), "off")
        XCTAssertEqual(try benchCacheWord([], environment(cache: cache, off: true)), "off")
        // The parents were created; the directory is private.
        let attributes = try FileManager.default.attributesOfItem(atPath: cache.path)
        XCTAssertEqual((attributes[.posixPermissions] as? Int).map { $0 & 0o777 }, 0o700)
        let doctor = try runProcess(try blazeposeBinary(), ["doctor"], environment: environment(cache: cache))
        XCTAssertTrue(doctor.stdout.contains("packed-weight cache: \(cache.path) (1 file(s)"), doctor.stdout)
        let off = try runProcess(try blazeposeBinary(), ["doctor"], environment: environment(cache: cache, off: true))
        XCTAssertTrue(off.stdout.contains("packed-weight cache: off"), off.stdout)
    }

    func testDetectGivesTheSameResultsFromTheCache() throws {
        let cache = try temporaryDirectory("weight-cache-detect", self)
        let image = packageRoot.appendingPathComponent("Samples/astronaut.png").path
        var lines: [String] = []
        for arguments in [["--no-weight-cache"], [], []] {
            let result = try runProcess(try blazeposeBinary(), ["detect", image, "--jsonl", "-", "--model", "lite"] + arguments,
                                        environment: environment(cache: cache))
            XCTAssertEqual(result.status, 0, result.stderr)
            lines.append(withoutTiming(result.stdout))
        }
        XCTAssertEqual(lines[1], lines[0], "packed and stored")
        XCTAssertEqual(lines[2], lines[0], "replayed")
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".bpw") }
        XCTAssertEqual(files.count, 2, "the detector's and the landmark model's")
    }
}
