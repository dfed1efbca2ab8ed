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
}
