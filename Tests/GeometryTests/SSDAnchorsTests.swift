import XCTest
import PoseGeometry

final class SSDAnchorsTests: XCTestCase {
    func testPoseDetectorAnchorCountGroupsAndCentres() throws {
        let anchors = try SSDAnchors.generate(.poseDetector)
        // 28² cells × 2 + 14² × 2 + 7² × 6 = 1568 + 392 + 294 = 2254
        XCTAssertEqual(anchors.count, 2254)
        XCTAssertEqual(SSDAnchors.poseDetectorAnchorCount, 2254)

        // fixed_anchor_size: every anchor is 1 × 1.
        XCTAssertTrue(anchors.allSatisfy { $0.width == 1 && $0.height == 1 })

        func assertCentre(_ index: Int, _ x: Float, _ y: Float, line: UInt = #line) {
            XCTAssertEqual(anchors[index].xCenter, x, accuracy: 1e-6, "anchor \(index) x", line: line)
            XCTAssertEqual(anchors[index].yCenter, y, accuracy: 1e-6, "anchor \(index) y", line: line)
        }
        // Group 1 (stride 8, 28×28, 2 per cell): anchor 0 = (0.5/28, 0.5/28) = 0.017857
        assertCentre(0, 0.5 / 28, 0.5 / 28)
        assertCentre(1, 0.5 / 28, 0.5 / 28)          // second anchor of the same cell
        assertCentre(2, 1.5 / 28, 0.5 / 28)          // next column
        assertCentre(56, 0.5 / 28, 1.5 / 28)         // next row: 28 columns × 2 anchors
        assertCentre(1567, 27.5 / 28, 27.5 / 28)     // last of group 1
        // Group 2 (stride 16, 14×14, 2 per cell) starts at 1568: (0.5/14) = 0.035714
        assertCentre(1568, 0.5 / 14, 0.5 / 14)
        assertCentre(1959, 13.5 / 14, 13.5 / 14)
        // Group 3 (three stride-32 layers merged, 7×7, 6 per cell) starts at 1960: 0.5/7 = 0.071429
        for i in 1960..<1966 { assertCentre(i, 0.5 / 7, 0.5 / 7) }
        assertCentre(1966, 1.5 / 7, 0.5 / 7)
        assertCentre(2253, 6.5 / 7, 6.5 / 7)          // = 0.928571

        // Spec check values, literally.
        XCTAssertEqual(anchors[0].xCenter, 0.017857, accuracy: 1e-6)
        XCTAssertEqual(anchors[1568].xCenter, 0.035714, accuracy: 1e-6)
        XCTAssertEqual(anchors[1960].xCenter, 0.071429, accuracy: 1e-6)
        XCTAssertEqual(anchors[2253].yCenter, 0.928571, accuracy: 1e-6)
    }

    func testPerGroupCountsFromSeparateOptions() throws {
        // A single stride-32 layer repeated 3 times gives 7×7×6 = 294 anchors.
        var options = SSDAnchorOptions.poseDetector
        options.numLayers = 3
        options.strides = [32, 32, 32]
        XCTAssertEqual(try SSDAnchors.generate(options).count, 294)
        options.numLayers = 1
        options.strides = [8]       // 28×28×2 = 1568
        XCTAssertEqual(try SSDAnchors.generate(options).count, 1568)
        options.strides = [16]      // 14×14×2 = 392
        XCTAssertEqual(try SSDAnchors.generate(options).count, 392)
    }

    func testNonFixedAnchorSizesUseScales() throws {
        // One layer, aspect 1: anchor = scale (min+max)/2 = 0.5; interpolated = sqrt(0.5·1) = 0.70711.
        var options = SSDAnchorOptions(inputWidth: 64, inputHeight: 64, minScale: 0.2, maxScale: 0.8,
                                       numLayers: 1, strides: [32])
        options.aspectRatios = [1.0]
        let anchors = try SSDAnchors.generate(options)
        XCTAssertEqual(anchors.count, 2 * 2 * 2)
        XCTAssertEqual(anchors[0].width, 0.5, accuracy: 1e-6)
        XCTAssertEqual(anchors[1].width, 0.70710678, accuracy: 1e-6)
    }

    func testInvalidOptionsThrow() {
        var options = SSDAnchorOptions.poseDetector
        options.strides = [8, 16]
        XCTAssertThrowsError(try SSDAnchors.generate(options))
        options = .poseDetector
        options.strides = [8, 16, 0, 32, 32]
        XCTAssertThrowsError(try SSDAnchors.generate(options))
        options = .poseDetector
        options.inputWidth = 0
        XCTAssertThrowsError(try SSDAnchors.generate(options))
        options.inputWidth = Int.max
        XCTAssertThrowsError(try SSDAnchors.generate(options))
    }
}
