import BlazePose
import Foundation
import BlazeTestSupport
import XCTest

/// The engine of `blazepose track` (frame sources, JSON Lines, stream errors) with the real models.
final class TrackingSessionTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("blazepose-tracking-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func liteTracker() throws -> PoseTracker {
        let weights = trackingPackageRoot.appendingPathComponent("weights", isDirectory: true)
        for file in ["pose_detection.tflite", "pose_landmark_lite.tflite"] {
            let path = weights.appendingPathComponent(file).path
            guard FileManager.default.fileExists(atPath: path) else {
                XCTFail("missing weights file \(path): run bash Tools/setup.sh")
                throw BlazePoseError.missingWeights(path: path, hint: "run bash Tools/setup.sh")
            }
        }
        return try PoseTracker(options: PoseTrackerOptions(landmarker: PoseLandmarkerOptions(
            modelComplexity: .lite, threads: 2, weightsDirectory: weights)))
    }

    private func jsonLines(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.isEmpty || text.hasSuffix("\n"), "every line is complete")
        return try text.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// A Y4M stream cut inside frame 3: frames 0–2 are processed and written, then a typed error
    /// names the frame; nothing computed is lost.
    func testTruncatedY4MKeepsEveryCompletedFrame() throws {
        let frames = Array(try TrackingSequence.load().render().prefix(4))
        let dir = try temporaryDirectory()
        var bytes = referenceY4M(frames, fps: "25:1")
        bytes.removeLast(1000)   // frame 3 loses the end of its Cr plane
        let video = dir.appendingPathComponent("cut.y4m")
        try Data(bytes).write(to: video)
        let source = try openVideoFrameSource(video.path, fps: nil)
        XCTAssertEqual(source.timestampStepMicroseconds, 40_000, "timestamps follow the header's F25:1")
        XCTAssertEqual(source.frameCount, 3, "size-based estimate: 3 whole frames")
        let session = TrackingSession(tracker: try liteTracker(), source: source)
        let jsonl = dir.appendingPathComponent("out.jsonl")
        var handed: [Int] = []
        XCTAssertThrowsError(try session.run(jsonl: try JSONLinesWriter(path: jsonl.path)) { frame, _ in handed.append(frame.index) }) { error in
            guard case let PoseTrackerError.frameUnreadable(index, _, reason) = error else {
                return XCTFail("expected frameUnreadable, got \(error)")
            }
            XCTAssertEqual(index, 3)
            XCTAssertTrue(reason.contains("truncated"), reason)
        }
        XCTAssertEqual(handed, [0, 1, 2])
        XCTAssertEqual(session.summary.frames, 3)
        let lines = try jsonLines(jsonl)
        XCTAssertEqual(lines.count, 3, "one line per completed frame")
        XCTAssertEqual(lines.map { $0["frame"] as? Int }, [0, 1, 2])
        XCTAssertEqual(lines.map { $0["detector_ran"] as? Bool }, [true, false, false], "detect once, then track")
        XCTAssertEqual(lines.map { ($0["timestamp_ms"] as? NSNumber)?.doubleValue }, [40, 80, 120])
        for line in lines {
            let poses = try XCTUnwrap(line["poses"] as? [[String: Any]])
            XCTAssertEqual(poses.count, 1)
            XCTAssertEqual(poses.first?["id"] as? Int, 0)
            XCTAssertEqual((poses.first?["landmarks"] as? [Any])?.count, 33)
            XCTAssertEqual((poses.first?["world_landmarks"] as? [Any])?.count, 33)
            XCTAssertNotNil(poses.first?["roi"] as? [String: Any])
        }
        XCTAssertNotNil((try XCTUnwrap(lines[0]["poses"] as? [[String: Any]]))[0]["score"] as? NSNumber, "detected: score")
        XCTAssertTrue((try XCTUnwrap(lines[1]["poses"] as? [[String: Any]]))[0]["score"] is NSNull, "tracked: null score")
    }

    /// A PNG folder with a corrupt frame: the frames before it are kept, the error names the file.
    func testUnreadablePNGFrameStopsWithTypedErrorAfterCompletedFrames() throws {
        let frames = Array(try TrackingSequence.load().render().prefix(2))
        let dir = try temporaryDirectory()
        let folder = dir.appendingPathComponent("frames")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (k, frame) in frames.enumerated() { try frame.writePNG(to: folder.appendingPathComponent("f\(k).png").path) }
        var broken = try frames[0].pngData()
        broken.removeLast(broken.count / 2)
        try Data(broken).write(to: folder.appendingPathComponent("f2.png"))
        try Data("not a frame".utf8).write(to: folder.appendingPathComponent("notes.txt"))   // ignored
        let source = try openVideoFrameSource(folder.path, fps: nil)
        XCTAssertEqual(source.frameCount, 3)
        XCTAssertEqual(source.timestampStepMicroseconds, 33_333, "30 fps by default, as mp.solutions.pose stamps")
        let session = TrackingSession(tracker: try liteTracker(), source: source)
        let jsonl = dir.appendingPathComponent("out.jsonl")
        XCTAssertThrowsError(try session.run(jsonl: try JSONLinesWriter(path: jsonl.path))) { error in
            guard case let PoseTrackerError.frameUnreadable(index, file, _) = error else {
                return XCTFail("expected frameUnreadable, got \(error)")
            }
            XCTAssertEqual(index, 2)
            XCTAssertTrue(file.hasSuffix("f2.png"), file)
        }
        XCTAssertEqual(try jsonLines(jsonl).count, 2)
    }

    /// The command line: a truncated Y4M on stdin, JSON Lines on stdout. Exit status 1 with a clear
    /// message, and every completed frame's line is on stdout.
    func testCommandLineTruncatedStdinKeepsCompletedLines() throws {
        let binary = try BuiltProducts.blazepose()
        _ = try liteTracker()   // fails with the setup hint when the weights are missing
        let frames = Array(try TrackingSequence.load().render().prefix(3))
        let dir = try temporaryDirectory()
        var bytes = referenceY4M(frames)
        bytes.removeLast(500)
        let video = dir.appendingPathComponent("stdin.y4m")
        try Data(bytes).write(to: video)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["track", "-", "--jsonl", "-", "--model", "lite",
                             "--weights", trackingPackageRoot.appendingPathComponent("weights").path]
        process.standardInput = try FileHandle(forReadingFrom: video)
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "must exit, not crash")
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertTrue(message.contains("error: frame 2 (stdin) cannot be read") && message.contains("truncated"), message)
        XCTAssertTrue(message.contains("2 frames"), "summary of the completed frames: \(message)")
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for (k, line) in lines.enumerated() {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["frame"] as? Int, k)
        }
    }

    func testBadInputsGiveClearErrors() throws {
        let dir = try temporaryDirectory()
        XCTAssertThrowsError(try openVideoFrameSource(dir.appendingPathComponent("missing").path, fps: nil)) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
        XCTAssertThrowsError(try openVideoFrameSource(dir.path, fps: nil)) { XCTAssertTrue("\($0)".contains("no .png"), "\($0)") }
        let interlaced = dir.appendingPathComponent("i.y4m")
        try Data("YUV4MPEG2 W4 H4 F30:1 It C420jpeg\n".utf8).write(to: interlaced)
        XCTAssertThrowsError(try openVideoFrameSource(interlaced.path, fps: nil)) { XCTAssertTrue("\($0)".contains("interlac"), "\($0)") }
        let notY4M = dir.appendingPathComponent("x.y4m")
        try Data("RIFF....".utf8).write(to: notY4M)
        XCTAssertThrowsError(try openVideoFrameSource(notY4M.path, fps: nil))
        XCTAssertThrowsError(try PNGFolderSource(directory: dir.path, fps: 0))
    }

    func testNonIncreasingTimestampIsRejected() throws {
        let analyzer = ReplayAnalyzer(options: PoseLandmarkerOptions(), detections: []) { _, _, _ in nil }
        let tracker = try PoseTracker(analyzer: analyzer)
        let image = try RGBImage(width: 4, height: 4)
        _ = try tracker.process(image, timestampMicroseconds: 100)
        XCTAssertThrowsError(try tracker.process(image, timestampMicroseconds: 100)) {
            XCTAssertEqual($0 as? PoseTrackerError, .nonIncreasingTimestamp(previous: 100, current: 100))
        }
    }
}

/// BT.601 limited-range 4:2:0 (C420jpeg) Y4M bytes of `frames` (chroma = mean of each 2×2 block).
func referenceY4M(_ frames: [RGBImage], fps: String = "30:1") -> [UInt8] {
    let w = frames[0].width, h = frames[0].height
    var out = Array("YUV4MPEG2 W\(w) H\(h) F\(fps) Ip A1:1 C420jpeg\n".utf8)
    for frame in frames {
        out += Array("FRAME\n".utf8)
        func rgb(_ x: Int, _ y: Int) -> (Double, Double, Double) {
            let i = (y * w + x) * 3
            return (Double(frame.pixels[i]), Double(frame.pixels[i + 1]), Double(frame.pixels[i + 2]))
        }
        func clamp(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }
        for y in 0..<h {
            for x in 0..<w {
                let (r, g, b) = rgb(x, y)
                out.append(clamp(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255))
            }
        }
        var cb: [UInt8] = [], cr: [UInt8] = []
        for y in stride(from: 0, to: h, by: 2) {
            for x in stride(from: 0, to: w, by: 2) {
                var (r, g, b) = (0.0, 0.0, 0.0)
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let p = rgb(min(x + dx, w - 1), min(y + dy, h - 1))
                    r += p.0 / 4; g += p.1 / 4; b += p.2 / 4
                }
                cb.append(clamp(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255))
                cr.append(clamp(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255))
            }
        }
        out += cb + cr
    }
    return out
}
