import Foundation
import XCTest

/// `--no-convolve-before-resize`: the flag reaches the interpreter (the detector's two decoder
/// convs are labelled `+resize op N after` by default, `+resize op N` without), and the packed-weight
/// cache keeps the two forms apart (each stores its own file; neither hits the other's).
final class ConvolveBeforeResizeCLITests: XCTestCase {
    func testFlagSwitchesTheStepAndItsCacheFile() throws {
        let binary = try blazeposeBinary()
        let detector = packageWeights.appendingPathComponent("pose_detection.tflite").path
        let cache = try temporaryDirectory("convolve-before-resize", self)
        var env = ProcessInfo.processInfo.environment
        env["BLAZEPOSE_CACHE_DIR"] = cache.path
        env["BLAZEPOSE_WEIGHT_CACHE"] = nil

        func labels(_ flags: [String]) throws -> [String] {
            // The native GEMM: the fusion needs it (the plain build prefers OpenBLAS).
            let result = try runProcess(binary, ["profile", detector, "--iterations", "1", "--threads", "1", "--csv",
                                                 "--gemm", "native"] + flags,
                                        environment: env)
            XCTAssertEqual(result.status, 0, result.stderr)
            return result.stdout.split(separator: "\r\n").map(String.init).filter { $0.contains("+resize op") }
        }
        let reordered = try labels([])
        XCTAssertEqual(reordered.count, 2, "\(reordered)")
        XCTAssertTrue(reordered.allSatisfy { $0.contains("+resize op 200 after") || $0.contains("+resize op 222 after") }, "\(reordered)")
        let graphOrder = try labels(["--no-convolve-before-resize"])
        XCTAssertEqual(graphOrder.count, 2, "\(graphOrder)")
        XCTAssertTrue(graphOrder.allSatisfy { !$0.contains(" after") }, "\(graphOrder)")

        func cacheWord(_ flags: [String]) throws -> String {
            let result = try runProcess(binary, ["bench", detector, "--json", "--iterations", "1", "--threads", "1",
                                                 "--gemm", "native"] + flags,
                                        environment: env)
            XCTAssertEqual(result.status, 0, result.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return object?["weight_cache"] as? String ?? "missing"
        }
        // `profile` above already stored both forms' files.
        XCTAssertEqual(try cacheWord([]), "hit")
        XCTAssertEqual(try cacheWord(["--no-convolve-before-resize"]), "hit")
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".bpw") }
        XCTAssertEqual(files.count, 2, "one cache file per form: \(files)")
    }
}
