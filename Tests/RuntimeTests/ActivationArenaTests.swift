import BlazeRuntime
import Foundation
import TFLite
import XCTest

/// Interpreters sharing one `ActivationArena` (as PoseLandmarker's detector and landmark model do).
final class ActivationArenaTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func model(_ name: String) throws -> URL {
        let url = Self.root.appendingPathComponent("weights/\(name).tflite")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("missing \(url.path): run bash Tools/setup.sh") }
        return url
    }

    private func outputs(_ interpreter: Interpreter) throws -> [[UInt32]] {
        try interpreter.fillInputsForBenchmark()
        interpreter.invoke()
        return interpreter.outputs.indices.map { interpreter.output($0).map(\.bitPattern) }
    }

    /// Interleaved runs on one shared arena give the bits of interpreters with their own memory, and
    /// the arena holds the larger need, not the sum (the detector's plan is the smaller one here).
    func testSharedArenaGivesTheSameBitsAsOwnArenas() throws {
        let detectorURL = try model("pose_detection"), landmarkURL = try model("pose_landmark_lite")
        let ownDetector = try Interpreter(contentsOf: detectorURL, options: .init(threads: 2))
        let ownLandmark = try Interpreter(contentsOf: landmarkURL, options: .init(threads: 2))
        let expectedDetector = try outputs(ownDetector), expectedLandmark = try outputs(ownLandmark)

        let arena = ActivationArena()
        let detector = try Interpreter(contentsOf: detectorURL, options: .init(threads: 2, sharedArena: arena))
        let landmark = try Interpreter(contentsOf: landmarkURL, options: .init(threads: 2, sharedArena: arena))
        for _ in 0..<2 {
            XCTAssertEqual(try outputs(detector), expectedDetector)
            XCTAssertEqual(try outputs(landmark), expectedLandmark)
        }
        // Capacity: the larger activations-plus-scratch need (scratch is far smaller than either plan).
        XCTAssertGreaterThanOrEqual(arena.capacity, max(detector.plan.arenaCount, landmark.plan.arenaCount))
        XCTAssertLessThan(arena.capacity, detector.plan.arenaCount + landmark.plan.arenaCount)
    }

    /// No kernel reads an activation or scratch float before writing it in the same `invoke`: with
    /// the whole arena overwritten before each run (NaN, then a huge value, then -0), every model
    /// gives the bits of a fresh arena. (Sharing relies on it: the other interpreter leaves its
    /// values behind, and `reserve` does not clear memory it already has.)
    func testNoKernelReadsStaleArenaMemory() throws {
        let names = ["pose_detection", "pose_landmark_lite", "pose_landmark_full"] +
            ["face_detection_full_range_sparse", "face_detection_short_range", "face_landmark", "face_landmark_with_attention",
             "hand_landmark_full", "hand_landmark_lite", "hand_recrop", "iris_landmark", "palm_detection_full",
             "palm_detection_lite", "selfie_segmentation", "selfie_segmentation_landscape"].map { "mediapipe/" + $0 }
        var tested = 0
        for name in names {
            let url = Self.root.appendingPathComponent("weights/\(name).tflite")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            // Fused (the default) at 1 and 2 threads, and every operator on its own (the PADs,
            // ADDs and activations that fusion folds away then run).
            for (threads, fuse) in [(1, true), (2, true), (2, false)] {
                let expected = try outputs(Interpreter(contentsOf: url, options: .init(threads: threads, fuseOperators: fuse)))
                let arena = ActivationArena()
                let interpreter = try Interpreter(contentsOf: url, options: .init(threads: threads, fuseOperators: fuse, sharedArena: arena))
                for poison in [Float.nan, 3.0e38, -0.0] {
                    arena.fill(poison)
                    let got = try outputs(interpreter)
                    for (i, (g, e)) in zip(got, expected).enumerated() where g != e {
                        let differing = zip(g, e).filter { $0 != $1 }.count
                        XCTFail("\(name), \(threads) thread(s), fused: \(fuse), arena filled with \(poison): output \(i) differs in \(differing) of \(e.count) values")
                    }
                    XCTAssertEqual(got.count, expected.count)
                }
            }
            tested += 1
        }
        if tested == 0 { throw XCTSkip("no models in weights/: run bash Tools/setup.sh") }
    }
}
