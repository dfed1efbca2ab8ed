import BlazePose
import Foundation
import XCTest

/// The tracker with the real models on two people, and its determinism.
final class TrackingMultiPersonTests: XCTestCase {
    private func tracker(maxPoses: Int, threads: Int = 2) throws -> PoseTracker {
        let weights = trackingPackageRoot.appendingPathComponent("weights", isDirectory: true)
        for file in ["pose_detection.tflite", "pose_landmark_lite.tflite"] {
            let path = weights.appendingPathComponent(file).path
            guard FileManager.default.fileExists(atPath: path) else {
                XCTFail("missing weights file \(path): run bash Tools/setup.sh")
                throw BlazePoseError.missingWeights(path: path, hint: "run bash Tools/setup.sh")
            }
        }
        return try PoseTracker(options: PoseTrackerOptions(landmarker: PoseLandmarkerOptions(
            modelComplexity: .lite, enableSegmentation: false, maxPoses: maxPoses, threads: threads,
            weightsDirectory: weights)))
    }

    /// `hopper | mirrored hopper` (656×384) seen through a 600-px window panning 4 px per frame.
    private func twoPeopleFrames(count: Int) throws -> [RGBImage] {
        let hopper = try RGBImage(pngFile: trackingPackageRoot.appendingPathComponent("Tests/Fixtures/images/hopper.png").path)
        let canvasWidth = 2 * hopper.width, height = hopper.height
        var canvas = [UInt8](repeating: 0, count: canvasWidth * height * 3)   // [H, 2W, 3] HWC
        for y in 0..<height {
            for x in 0..<hopper.width {
                for c in 0..<3 {
                    let v = hopper.pixels[(y * hopper.width + x) * 3 + c]
                    canvas[(y * canvasWidth + x) * 3 + c] = v
                    canvas[(y * canvasWidth + canvasWidth - 1 - x) * 3 + c] = v
                }
            }
        }
        let width = 600
        return try (0..<count).map { k in
            let offset = 4 * k
            var pixels = [UInt8](repeating: 0, count: width * height * 3)   // [H, W, 3] HWC
            for y in 0..<height {
                let src = (y * canvasWidth + offset) * 3
                pixels.replaceSubrange((y * width * 3)..<((y + 1) * width * 3), with: canvas[src..<(src + width * 3)])
            }
            return try RGBImage(width: width, height: height, pixels: pixels)
        }
    }

    func testTwoPeopleKeepTheirIDsWhileTheCameraPans() throws {
        let frames = try twoPeopleFrames(count: 12)
        let tracker = try tracker(maxPoses: 2)
        var sideOfID: [Int: Bool] = [:]   // id → is on the left half
        var detectorFrames: [Int] = []
        for (k, image) in frames.enumerated() {
            let out = try tracker.process(image, timestampMicroseconds: 33_333 * Int64(k + 1))
            if out.detectorRan { detectorFrames.append(k) }
            XCTAssertEqual(out.poses.count, 2, "frame \(k): both people")
            XCTAssertEqual(Set(out.poses.map(\.id)), [0, 1], "frame \(k): IDs")
            for person in out.poses {
                let left = person.pose[.nose].x < 0.5
                if let side = sideOfID[person.id] {
                    XCTAssertEqual(left, side, "frame \(k): id \(person.id) changed sides")
                } else {
                    sideOfID[person.id] = left
                }
            }
        }
        XCTAssertEqual(Set(sideOfID.values), [true, false], "one id per person")
        XCTAssertEqual(detectorFrames, [0], "both tracked from the first frame on: no more detector runs")
    }

    /// Same frames, 1 and 2 threads, twice: bit-identical poses, IDs and detector decisions.
    func testTrackingIsDeterministicAcrossThreadCounts() throws {
        let frames = Array(try TrackingSequence.load().render().prefix(6))
        func run(_ threads: Int) throws -> [[TrackedPose]] {
            let tracker = try tracker(maxPoses: 1, threads: threads)
            return try frames.enumerated().map { k, image in
                try tracker.process(image, timestampMicroseconds: 33_333 * Int64(k + 1)).poses
            }
        }
        let one = try run(1), two = try run(2), again = try run(2)
        XCTAssertEqual(one, two)
        XCTAssertEqual(two, again)
    }
}
