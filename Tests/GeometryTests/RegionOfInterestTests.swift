import XCTest
import PoseGeometry

final class RegionOfInterestTests: XCTestCase {
    // Image 400×800 (portrait). P0 = kp0·(W,H), P1 = kp1·(W,H), all in pixels.
    let width = 400, height = 800

    func testUprightPersonGivesZeroRotation() throws {
        // kp0 = (0.5, 0.5) → P0 = (200, 400); kp1 = (0.5, 0.375) → P1 = (200, 300), straight above.
        // d = 100 px → alignment side 200 px: width 200/400 = 0.5, height 200/800 = 0.25.
        // rotation = wrap(π/2 − atan2(−(300 − 400), 0)) = π/2 − π/2 = 0.
        let aligned = try RegionOfInterest.alignmentRect(start: SIMD2(0.5, 0.5), end: SIMD2(0.5, 0.375),
                                                         imageWidth: width, imageHeight: height)
        XCTAssertEqual(aligned.xCenter, 0.5)
        XCTAssertEqual(aligned.yCenter, 0.5)
        XCTAssertEqual(aligned.width, 0.5, accuracy: 1e-6)
        XCTAssertEqual(aligned.height, 0.25, accuracy: 1e-6)
        XCTAssertEqual(aligned.rotation, 0, accuracy: 1e-6)

        // ×1.25, square_long: long = max(0.5·400, 0.25·800) = 200 → 250 px:
        // width = 250/400 = 0.625, height = 250/800 = 0.3125.
        let roi = try XCTUnwrap(try RegionOfInterest.poseROI(start: SIMD2(0.5, 0.5), end: SIMD2(0.5, 0.375),
                                                             imageWidth: width, imageHeight: height))
        XCTAssertEqual(roi.width, 0.625, accuracy: 1e-6)
        XCTAssertEqual(roi.height, 0.3125, accuracy: 1e-6)
        XCTAssertEqual(roi.width * Float(width), roi.height * Float(height), accuracy: 1e-4)   // square in pixels
        XCTAssertEqual(roi.xCenter, 0.5)
        XCTAssertEqual(roi.yCenter, 0.5)
    }

    func testRotationSigns() throws {
        func rotation(_ end: SIMD2<Float>) throws -> Float {
            try XCTUnwrap(try RegionOfInterest.poseROI(start: SIMD2(0.5, 0.5), end: end,
                                                       imageWidth: width, imageHeight: height)).rotation
        }
        // Head to the image's right: P1 = (300, 400) → atan2(−0, 100) = 0 → π/2 − 0 = +π/2.
        XCTAssertEqual(try rotation(SIMD2(0.75, 0.5)), .pi / 2, accuracy: 1e-6)
        // Head to the left: P1 = (100, 400) → atan2(−0, −100) = −π → π/2 + π = 3π/2 → wrap → −π/2.
        XCTAssertEqual(try rotation(SIMD2(0.25, 0.5)), -.pi / 2, accuracy: 1e-6)
        // Upside down: P1 = (200, 500) → atan2(−100, 0) = −π/2 → π/2 + π/2 = π → wrap to [−π, π) → −π.
        XCTAssertEqual(try rotation(SIMD2(0.5, 0.625)), -.pi, accuracy: 1e-6)
    }

    func testDiagonalOnLandscapeImageIsSquareInPixels() throws {
        // 640×480. kp0 = (0.3, 0.6) → (192, 288); kp1 = (0.4, 0.5) → (256, 240).
        // d = sqrt(64² + 48²) = 80 → side 160 → ×1.25 = 200 px:
        // width = 200/640 = 0.3125, height = 200/480 = 0.416667.
        // rotation = π/2 − atan2(48, 64) = 1.570796 − 0.643501 = 0.927295.
        let roi = try XCTUnwrap(try RegionOfInterest.poseROI(start: SIMD2(0.3, 0.6), end: SIMD2(0.4, 0.5),
                                                             imageWidth: 640, imageHeight: 480))
        XCTAssertEqual(roi.width, 0.3125, accuracy: 1e-5)
        XCTAssertEqual(roi.height, 200.0 / 480.0, accuracy: 1e-5)
        XCTAssertEqual(roi.width * 640, roi.height * 480, accuracy: 1e-3)
        XCTAssertEqual(roi.rotation, 0.9272952, accuracy: 1e-6)
        XCTAssertEqual(try RegionOfInterest.objectScale(start: SIMD2(0.3, 0.6), end: SIMD2(0.4, 0.5),
                                                        imageWidth: 640, imageHeight: 480),
                       160, accuracy: 1e-3)                              // 2·d, no ×1.25
    }

    func testCoincidentPointsMeanNoPose() throws {
        XCTAssertNil(try RegionOfInterest.poseROI(start: SIMD2(0.4, 0.4), end: SIMD2(0.4, 0.4),
                                                  imageWidth: width, imageHeight: height))
        XCTAssertNil(try RegionOfInterest.poseROI(start: SIMD2(.nan, 0.4), end: SIMD2(0.4, 0.4),
                                                  imageWidth: width, imageHeight: height))
        XCTAssertFalse(NormalizedRect(xCenter: 0.5, yCenter: 0.5, width: 0, height: 0).isUsableCropRegion)
    }

    func testFromDetectionAndErrors() throws {
        let detection = Detection(score: 1, xMin: 0, yMin: 0, width: 1, height: 1,
                                  keypoints: [SIMD2(0.5, 0.5), SIMD2(0.5, 0.375)], anchorIndex: 0)
        let roi = try XCTUnwrap(try RegionOfInterest.poseROI(from: detection, imageWidth: width, imageHeight: height))
        XCTAssertEqual(roi.width, 0.625, accuracy: 1e-6)
        var one = detection
        one.keypoints = [SIMD2(0.5, 0.5)]
        XCTAssertThrowsError(try RegionOfInterest.poseROI(from: one, imageWidth: width, imageHeight: height))
        XCTAssertThrowsError(try RegionOfInterest.poseROI(from: detection, imageWidth: 0, imageHeight: height)) {
            XCTAssertEqual($0 as? PoseGeometryError, .invalidImageSize(width: 0, height: 800))
        }
    }

    func testTransformShiftFollowsRotation() throws {
        // Rect 100×100 px at (200, 400) in a 400×800 image, rotated +π/2; shift_y = 0.5 moves the
        // centre by 0.5·100 px along the rect's local +y, which is image −x after a +π/2 turn:
        // x_shift = (W·w·0·cos − H·h·0.5·sin)/W = −(800·0.125·0.5)/400 = −0.125 → 0.375.
        let rect = NormalizedRect(xCenter: 0.5, yCenter: 0.5, width: 0.25, height: 0.125, rotation: .pi / 2)
        let t = try RegionOfInterest.transformed(rect, imageWidth: 400, imageHeight: 800, scaleX: 1, scaleY: 1,
                                                 shiftX: 0, shiftY: 0.5, squareLong: false)
        XCTAssertEqual(t.xCenter, 0.375, accuracy: 1e-6)
        XCTAssertEqual(t.yCenter, 0.5, accuracy: 1e-6)
    }
}
