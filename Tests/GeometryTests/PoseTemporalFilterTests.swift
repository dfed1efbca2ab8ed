import XCTest
import PoseGeometry

final class PoseTemporalFilterTests: XCTestCase {
    // 100×100 image. Aux: mid-hip (0.5, 0.6), scale point (0.5, 0.4) → 20 px apart:
    // object scale = 2·20 = 40 px; next ROI side = 2.5·20 = 50 px = 0.5 normalized.
    func frame(_ shift: Float, visibility: Float) -> (pose: [Landmark], world: [Landmark], aux: [Landmark]) {
        let pose = (0..<33).map { Landmark(x: 0.3 + 0.01 * Float($0) + shift, y: 0.5, z: 0, visibility: visibility, presence: 0.9) }
        let world = (0..<33).map { Landmark(x: 0.1 * Float($0) + shift, y: 0, z: 0, visibility: visibility, presence: 0.9) }
        let aux = [Landmark(x: 0.5 + shift, y: 0.6, z: 0, visibility: visibility, presence: 0.9),
                   Landmark(x: 0.5 + shift, y: 0.4, z: 0, visibility: visibility, presence: 0.9)]
        return (pose, world, aux)
    }

    func testResetSemanticsAcrossAPoseGap() throws {
        var filter = PoseTemporalFilter(smoothLandmarks: true)
        let f1 = frame(0, visibility: 1)
        let o1 = try filter.update(pose: f1.pose, world: f1.world, auxiliary: f1.aux,
                                   timestampMicroseconds: 33_333, imageWidth: 100, imageHeight: 100)
        XCTAssertEqual(o1.objectScale, 40, accuracy: 1e-4)
        XCTAssertEqual(o1.pose[5].x, f1.pose[5].x, accuracy: 1e-6)        // first frame passes through
        XCTAssertEqual(o1.world[5].x, f1.world[5].x, accuracy: 1e-6)
        let roi = try XCTUnwrap(o1.nextROI)
        XCTAssertEqual(roi.width, 0.5, accuracy: 1e-5)
        XCTAssertEqual(roi.xCenter, 0.5, accuracy: 1e-6)
        XCTAssertEqual(roi.yCenter, 0.6, accuracy: 1e-6)
        XCTAssertEqual(roi.rotation, 0, accuracy: 1e-6)

        let f2 = frame(0.05, visibility: 0)
        let o2 = try filter.update(pose: f2.pose, world: f2.world, auxiliary: f2.aux,
                                   timestampMicroseconds: 66_666, imageWidth: 100, imageHeight: 100)
        // Smoothed: strictly between the previous and the new value.
        XCTAssertGreaterThan(o2.pose[5].x, f1.pose[5].x)
        XCTAssertLessThan(o2.pose[5].x, f2.pose[5].x)
        XCTAssertLessThan(o2.world[5].x, f2.world[5].x)
        XCTAssertLessThan(o2.auxiliary[0].x, f2.aux[0].x)
        XCTAssertEqual(o2.pose[5].visibility, 0.9, accuracy: 1e-6)       // 0.1·0 + 0.9·1

        // Pose lost for a while, then back.
        filter.poseLost()
        let f3 = frame(0.1, visibility: 0)
        let o3 = try filter.update(pose: f3.pose, world: f3.world, auxiliary: f3.aux,
                                   timestampMicroseconds: 166_665, imageWidth: 100, imageHeight: 100)
        // Pose and aux one-euro were reset → unfiltered coordinates…
        XCTAssertEqual(o3.pose[5].x, f3.pose[5].x, accuracy: 1e-6)
        XCTAssertEqual(o3.auxiliary[0].x, f3.aux[0].x, accuracy: 1e-6)
        // …but visibility low-pass and world one-euro kept their history.
        XCTAssertEqual(o3.pose[5].visibility, 0.81, accuracy: 1e-6)      // 0.9·0.9
        XCTAssertLessThan(o3.world[5].x, f3.world[5].x)
    }

    func testWithoutSmoothingOnlyAuxIsFiltered() throws {
        var filter = PoseTemporalFilter(smoothLandmarks: false)
        let f1 = frame(0, visibility: 1)
        _ = try filter.update(pose: f1.pose, world: f1.world, auxiliary: f1.aux,
                              timestampMicroseconds: 33_333, imageWidth: 100, imageHeight: 100)
        let f2 = frame(0.05, visibility: 0)
        let o2 = try filter.update(pose: f2.pose, world: f2.world, auxiliary: f2.aux,
                                   timestampMicroseconds: 66_666, imageWidth: 100, imageHeight: 100)
        XCTAssertEqual(o2.pose, f2.pose)
        XCTAssertEqual(o2.world, f2.world)
        XCTAssertLessThan(o2.auxiliary[0].x, f2.aux[0].x)                 // aux smoothing is always on
        XCTAssertThrowsError(try filter.update(pose: f2.pose, world: f2.world, auxiliary: [f2.aux[0]],
                                               timestampMicroseconds: 99_999, imageWidth: 100, imageHeight: 100))
    }
}

final class SamplingGeometryTests: XCTestCase {
    func testSourcePointsAndInverse() {
        // ROI 40×40 px centred at (100, 50); a 4×4 tensor. Column 0 → lx = (0/4 − 0.5)·40 = −20.
        let upright = PixelRect(centerX: 100, centerY: 50, width: 40, height: 40, rotation: 0)
        XCTAssertEqual(upright.sourcePoint(column: 0, row: 0, tensorWidth: 4, tensorHeight: 4), SIMD2(80, 30))
        XCTAssertEqual(upright.sourcePoint(column: 2, row: 2, tensorWidth: 4, tensorHeight: 4), SIMD2(100, 50))
        // θ = +π/2: (lx, ly) = (−20, −20) → X = 100 − 1·(−20) = 120, Y = 50 + 1·(−20) = 30.
        let turned = PixelRect(centerX: 100, centerY: 50, width: 40, height: 40, rotation: .pi / 2)
        let p = turned.sourcePoint(column: 0, row: 0, tensorWidth: 4, tensorHeight: 4)
        XCTAssertEqual(p.x, 120, accuracy: 1e-4)
        XCTAssertEqual(p.y, 30, accuracy: 1e-4)
        for (i, j) in [(0, 0), (1, 3), (3, 2)] {
            let uv = turned.tensorCoordinates(ofImagePoint: turned.sourcePoint(column: i, row: j, tensorWidth: 4, tensorHeight: 4))
            XCTAssertEqual(uv.x, Float(i) / 4, accuracy: 1e-5)
            XCTAssertEqual(uv.y, Float(j) / 4, accuracy: 1e-5)
        }
    }
}
