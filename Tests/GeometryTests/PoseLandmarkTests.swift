import XCTest
import PoseGeometry

final class PoseLandmarkTests: XCTestCase {
    func testNamesAndOrder() {
        XCTAssertEqual(PoseLandmark.allCases.count, 33)
        XCTAssertEqual(PoseLandmark.allCases.map(\.rawValue), Array(0..<33))
        XCTAssertEqual(PoseLandmark.nose.name, "nose")
        XCTAssertEqual(PoseLandmark(rawValue: 1)?.name, "left_eye_inner")
        XCTAssertEqual(PoseLandmark(rawValue: 10)?.name, "mouth_right")
        XCTAssertEqual(PoseLandmark(rawValue: 15)?.name, "left_wrist")
        XCTAssertEqual(PoseLandmark(rawValue: 22)?.name, "right_thumb")
        XCTAssertEqual(PoseLandmark(rawValue: 23)?.name, "left_hip")
        XCTAssertEqual(PoseLandmark(rawValue: 32)?.name, "right_foot_index")
        XCTAssertNil(PoseLandmark(rawValue: 33))
        XCTAssertEqual(Set(PoseLandmark.allCases.map(\.name)).count, 33)
    }

    func testConnections() {
        XCTAssertEqual(poseConnections.count, 35)
        XCTAssertTrue(poseConnections.allSatisfy { (0..<33).contains($0.0) && (0..<33).contains($0.1) && $0.0 != $0.1 })
        let undirected = Set(poseConnections.map { [min($0.0, $0.1), max($0.0, $0.1)] })
        XCTAssertEqual(undirected.count, 35)                        // no duplicates
        XCTAssertTrue(undirected.contains([3, 7]))                   // left_eye_outer – left_ear
        XCTAssertTrue(undirected.contains([23, 24]))                 // hips
        XCTAssertTrue(undirected.contains([28, 32]))                 // right ankle – right foot index
        XCTAssertFalse(undirected.contains([0, 9]))                  // nose is not joined to the mouth
    }
}
