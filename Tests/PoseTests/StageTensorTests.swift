import BlazePose
import BlazeSupport
import Foundation
import XCTest

/// Our resampling vs MediaPipe's own tensors (`Tests/Fixtures/stages/`, captured from the
/// 0.10.14 graph by Tools/mediapipe/stages.py): the detector input and the landmark crop must be
/// identical byte for byte; the detector → ROI path must agree with MediaPipe's stage JSON.
final class StageTensorTests: XCTestCase {
    /// Fixtures with committed 8-bit tensors (the detector and ROI do not depend on the landmark
    /// model, so they serve both models).
    static let tensorFixtures = ["astronaut", "astronaut_rot20", "hopper_letterbox"]

    func testDetectorInputAndCropAreIdenticalToMediaPipe() throws {
        let landmarker = try makeLandmarker(.lite)
        for name in Self.tensorFixtures {
            let dir = fixturesDirectory.appendingPathComponent("stages/lite/\(name)")
            let image = try fixtureImage(name)

            let detector = try landmarker.detectROIs(in: image)
            let refDetector = try NPYArray(contentsOf: dir.appendingPathComponent("detector_input_u8.npy"))
            XCTAssertEqual(refDetector.shape, [224, 224, 3])
            let refDetectorBytes = try refDetector.uint8s()
            XCTAssertEqual(detector.inputBytes.count, refDetectorBytes.count)
            let detectorDiff = zip(detector.inputBytes, refDetectorBytes).map { abs(Int($0) - Int($1)) }.max() ?? -1
            XCTAssertEqual(detectorDiff, 0, "\(name): detector input max diff")
            // The float tensor is the FMA value transform of those bytes.
            XCTAssertEqual(detector.input.count, 224 * 224 * 3)
            XCTAssertEqual(detector.input[0], Float(-1).addingProduct(Float(detector.inputBytes[0]), Float(2) / 255))

            // The crop on MediaPipe's ROI: identical bytes (the ROI itself comes from detector
            // outputs that differ from XNNPACK's by float accumulation order, see below).
            let roi = try JSONDecoder().decode(RectJSON.self, from: Data(contentsOf: dir.appendingPathComponent("roi.json"))).rect
            let stages = try landmarker.landmarks(in: image, roi: roi)
            let refCrop = try NPYArray(contentsOf: dir.appendingPathComponent("landmark_input_u8.npy"))
            XCTAssertEqual(refCrop.shape, [256, 256, 3])
            let refCropBytes = try refCrop.uint8s()
            XCTAssertEqual(stages.inputBytes.count, refCropBytes.count)
            let cropDiff = zip(stages.inputBytes, refCropBytes).map { abs(Int($0) - Int($1)) }.max() ?? -1
            XCTAssertEqual(cropDiff, 0, "\(name): crop max diff on MediaPipe's ROI")
            print("\(name): detector input max diff \(detectorDiff), crop max diff \(cropDiff)")

            // Our own detector → ROI agrees with MediaPipe's stage JSON (compare_stages tolerance 1e-4).
            guard let ours = detector.candidates.first?.roi else { XCTFail("\(name): no ROI"); continue }
            XCTAssertEqual(ours.xCenter, roi.xCenter, accuracy: 1e-4, name)
            XCTAssertEqual(ours.yCenter, roi.yCenter, accuracy: 1e-4, name)
            XCTAssertEqual(ours.width, roi.width, accuracy: 1e-4, name)
            XCTAssertEqual(ours.height, roi.height, accuracy: 1e-4, name)
            XCTAssertEqual(ours.rotation, roi.rotation, accuracy: 1e-4, name)
            // …and so does the landmark stage fed MediaPipe's ROI: next-frame ROI from the aux landmarks.
            let next = try JSONDecoder().decode(RectJSON.self, from: Data(contentsOf: dir.appendingPathComponent("roi_from_landmarks.json"))).rect
            guard let nextOurs = try stages.pose?.nextROI(imageWidth: image.width, imageHeight: image.height) else {
                XCTFail("\(name): no pose on MediaPipe's ROI"); continue
            }
            XCTAssertEqual(nextOurs.xCenter, next.xCenter, accuracy: 1e-4, name)
            XCTAssertEqual(nextOurs.yCenter, next.yCenter, accuracy: 1e-4, name)
            XCTAssertEqual(nextOurs.width, next.width, accuracy: 1e-4, name)
            XCTAssertEqual(nextOurs.rotation, next.rotation, accuracy: 1e-4, name)
        }
    }

    /// Every fixture: our detector → ROI vs MediaPipe's committed `roi.json` (both models share
    /// the detector; checked against the full-model dumps), and "no detection" where MediaPipe has none.
    func testROIMatchesMediaPipeOnAllFixtures() throws {
        let landmarker = try makeLandmarker(.lite)
        for name in try fixtureImageNames() {
            let dir = fixturesDirectory.appendingPathComponent("stages/full/\(name)")
            let detector = try landmarker.detectROIs(in: try fixtureImage(name))
            let roiURL = dir.appendingPathComponent("roi.json")
            guard FileManager.default.fileExists(atPath: roiURL.path) else {
                XCTAssertTrue(detector.detectionsBeforeNMS.isEmpty, "\(name): MediaPipe has no detection")
                XCTAssertTrue(detector.candidates.isEmpty, name)
                continue
            }
            let roi = try JSONDecoder().decode(RectJSON.self, from: Data(contentsOf: roiURL)).rect
            guard let ours = detector.candidates.first?.roi else { XCTFail("\(name): no ROI"); continue }
            let diff = [abs(ours.xCenter - roi.xCenter), abs(ours.yCenter - roi.yCenter), abs(ours.width - roi.width),
                        abs(ours.height - roi.height), abs(ours.rotation - roi.rotation)].max() ?? 1
            XCTAssertLessThanOrEqual(diff, 1e-4, "\(name): ROI vs MediaPipe")
        }
    }
}
