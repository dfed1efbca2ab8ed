import BlazePose
import Foundation
import XCTest

/// `PoseLandmarker` builds its two models at once on two threads when it may use more than one
/// (`threads` > 1), one after the other otherwise: the same poses either way, and when a model
/// cannot be loaded the error names it (the detector's first when both fail, as in order).
final class ModelLoadTests: XCTestCase {
    private func files(_ landmark: String = "pose_landmark_lite.tflite") throws -> (URL, URL) {
        let detector = weightsDirectory.appendingPathComponent("pose_detection.tflite")
        let landmarkURL = weightsDirectory.appendingPathComponent(landmark)
        for url in [detector, landmarkURL] where !FileManager.default.fileExists(atPath: url.path) {
            XCTFail("missing weights file \(url.path): run bash Tools/setup.sh")
            throw BlazePoseError.missingWeights(path: url.path, hint: "run bash Tools/setup.sh")
        }
        return (detector, landmarkURL)
    }

    private func garbage(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("blaze-load-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        try Data(repeating: 0x5A, count: 4096).write(to: url)
        return url
    }

    func testConcurrentAndSequentialLoadsGiveTheSamePoses() throws {
        let (detector, landmark) = try files()
        let image = try fixtureImage(try XCTUnwrap(fixtureImageNames().first))
        var results: [[Pose]] = []
        for threads in [1, 2] {
            let landmarker = try PoseLandmarker(options: PoseLandmarkerOptions(
                modelComplexity: .lite, threads: threads, models: .files(detector: detector, landmark: landmark)))
            results.append(try landmarker.detect(image: image).poses)
            // Data sources load the same way.
            let fromData = try PoseLandmarker(options: PoseLandmarkerOptions(
                modelComplexity: .lite, threads: threads,
                models: .data(detector: Data(contentsOf: detector), landmark: Data(contentsOf: landmark))))
            XCTAssertEqual(try fromData.detect(image: image).poses, results[results.count - 1], "threads \(threads), Data")
        }
        XCTAssertFalse(results[0].isEmpty)
        XCTAssertEqual(results[0], results[1])
    }

    func testAFailedLoadNamesItsModelTheDetectorFirst() throws {
        let (detector, landmark) = try files()
        let badDetector = try garbage("bad_detection.tflite"), badLandmark = try garbage("bad_landmark.tflite")
        for threads in [1, 2] {
            for (d, l, named) in [(badDetector, landmark, badDetector), (detector, badLandmark, badLandmark),
                                  (badDetector, badLandmark, badDetector)] {
                XCTAssertThrowsError(try PoseLandmarker(options: PoseLandmarkerOptions(
                    modelComplexity: .lite, threads: threads, models: .files(detector: d, landmark: l)))) { error in
                    guard case let .invalidModel(path, reason)? = error as? BlazePoseError else { return XCTFail("\(error)") }
                    XCTAssertEqual(path, named.path, "threads \(threads)")
                    XCTAssertTrue(reason.contains("TFL3"), reason)
                }
            }
        }
    }
}
