import BlazePose
import Foundation
import XCTest

/// Frame rates outside [0.001, 1000] frames/s are clear errors, and timestamps never overflow
/// (issue 13, item 2: `--fps 1e-300`, `--fps 1.1e-13` and the Y4M headers `F1:9223372036854775807`
/// and `F1:9000000000000` trapped converting or multiplying Int64 microseconds).
final class FrameRateTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("framerate-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// A two-frame 2×2 4:4:4 Y4M stream with frame-rate tag `rate`.
    private func y4mFile(rate: String) throws -> URL {
        let url = try temporaryDirectory().appendingPathComponent("clip.y4m")
        var bytes = Array("YUV4MPEG2 W2 H2 F\(rate) Ip C444\n".utf8)
        for _ in 0..<2 { bytes += Array("FRAME\n".utf8) + [UInt8](repeating: 128, count: 12) }
        try Data(bytes).write(to: url)
        return url
    }

    func testHeaderFrameRatesOutsideTheRangeAreErrors() throws {
        for rate in ["1:9223372036854775807", "1:9000000000000", "1000001:1", "1:1001"] {
            let url = try y4mFile(rate: rate)
            XCTAssertThrowsError(try openVideoFrameSource(url.path, fps: nil), rate) { error in
                guard case let PoseTrackerError.invalidSource(message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("F\(rate)") && message.contains("Y4M header") && message.contains("[0.001, 1000] frames/s"), message)
            }
            // An explicit rate overrides the header's.
            let source = try openVideoFrameSource(url.path, fps: 25)
            XCTAssertEqual(source.timestampStepMicroseconds, 40_000)
        }
    }

    func testExplicitFrameRatesOutsideTheRangeAreErrors() throws {
        let url = try y4mFile(rate: "30:1")
        for fps in [1e-300, 1.1e-13, 0.000_999, 0, -1, 1000.5, .infinity, .nan] {
            XCTAssertThrowsError(try openVideoFrameSource(url.path, fps: fps), "\(fps)") { error in
                XCTAssertTrue("\(error)".contains("must be in [0.001, 1000] frames/s"), "\(error)")
            }
        }
        // The ends of the range are accepted: 1 ms and 1000 s per frame.
        XCTAssertEqual(try openVideoFrameSource(url.path, fps: 1000).timestampStepMicroseconds, 1_000)
        let slowest = try openVideoFrameSource(url.path, fps: 0.001)
        XCTAssertEqual(slowest.timestampStepMicroseconds, 1_000_000_000)
        XCTAssertEqual(slowest.timestampMicroseconds(ofFrame: 1), 2_000_000_000)
        // Far beyond any real stream the timestamp saturates instead of trapping.
        XCTAssertEqual(slowest.timestampMicroseconds(ofFrame: Int.max), Int64.max)
        XCTAssertEqual(slowest.timestampMicroseconds(ofFrame: 9_300_000_000), Int64.max)
    }

    /// A failing JSON Lines output says it is the output (it used to say "invalid input").
    func testJSONLinesWriteFailureNamesTheOutput() throws {
        let writer = try JSONLinesWriter(path: "/dev/full")
        XCTAssertThrowsError(try writer.write("{}\n")) { error in
            XCTAssertEqual(error as? PoseTrackerError, .outputFailed(destination: "/dev/full", reason: "No space left on device"))
            XCTAssertEqual("\(error)", "cannot write /dev/full: No space left on device")
        }
        XCTAssertThrowsError(try JSONLinesWriter(path: "/nonexistent-dir/out.jsonl")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write /nonexistent-dir/out.jsonl:"), "\(error)")
        }
    }
}
