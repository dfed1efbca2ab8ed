import XCTest
import PoseGeometry

final class PoseTrackingTests: XCTestCase {
    func square(_ x: Float, _ y: Float, _ side: Float, rotation: Float = 0) -> NormalizedRect {
        NormalizedRect(xCenter: x, yCenter: y, width: side, height: side, rotation: rotation)
    }

    func testRotatedIoU() throws {
        let a = square(0.5, 0.5, 0.2)
        XCTAssertEqual(try PoseTracking.intersectionOverUnion(a, a, imageWidth: 1000, imageHeight: 1000), 1, accuracy: 1e-5)
        XCTAssertEqual(try PoseTracking.intersectionOverUnion(a, square(0.9, 0.9, 0.1), imageWidth: 1000, imageHeight: 1000), 0)
        // Shifted by half a side: intersection 100·200 = 20 000 px², union 80 000 − 20 000 → 1/3.
        XCTAssertEqual(try PoseTracking.intersectionOverUnion(a, square(0.6, 0.5, 0.2), imageWidth: 1000, imageHeight: 1000),
                       1.0 / 3.0, accuracy: 1e-5)
        // A square and the same square turned 45° about its centre: the overlap is a regular
        // octagon with inradius r = s/2, area 8·r²·tan(π/8) = 2·(√2 − 1)·s² = 0.828427·s²;
        // IoU = 0.828427/(2 − 0.828427) = 0.707107 = 1/√2. (Axis-aligned bounds would say 0.5.)
        XCTAssertEqual(try PoseTracking.intersectionOverUnion(a, square(0.5, 0.5, 0.2, rotation: .pi / 4),
                                                              imageWidth: 1000, imageHeight: 1000),
                       1 / Float(2).squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(try PoseTracking.intersectionOverUnion(a, square(0.5, 0.5, 0), imageWidth: 1000, imageHeight: 1000), 0)
    }

    func testTwoPeopleCrossing() throws {
        // A (large, side 0.4) walks right, B (small, side 0.2) walks left, 0.1 per frame; they
        // cross at x = 0.5 on frame 2. At the crossing the IoUs are:
        // prevA(0.4)·curA(0.5) = (0.3·0.4)/(0.32 − 0.12) = 0.6; prevB(0.6)·curB(0.5) = 0.02/0.06 = 0.333;
        // the cross pairs (a small square inside a large one) = 0.04/0.16 = 0.25 → greedy keeps identities.
        var nextID = 0
        var tracked: [(id: Int, rect: NormalizedRect)] = []
        var idsOfA: [Int] = [], idsOfB: [Int] = []
        for frame in 0..<5 {
            let a = square(0.3 + 0.1 * Float(frame), 0.5, 0.4)
            let b = square(0.7 - 0.1 * Float(frame), 0.5, 0.2)
            // Alternate the input order to show the result does not depend on it.
            let current = frame.isMultiple(of: 2) ? [a, b] : [b, a]
            let ids = try PoseTracking.assignIDs(previous: tracked, current: current,
                                                 imageWidth: 1000, imageHeight: 1000, nextID: &nextID)
            guard ids.count == 2 else { return XCTFail("expected 2 IDs, got \(ids.count)") }
            let (idA, idB) = frame.isMultiple(of: 2) ? (ids[0], ids[1]) : (ids[1], ids[0])
            idsOfA.append(idA)
            idsOfB.append(idB)
            tracked = zip(ids, current).map { (id: $0, rect: $1) }
        }
        XCTAssertEqual(idsOfA, [0, 0, 0, 0, 0])
        XCTAssertEqual(idsOfB, [1, 1, 1, 1, 1])
        XCTAssertEqual(nextID, 2)

        // A newcomer far away gets a fresh ID; a vanished person's ID is not reused.
        let ids = try PoseTracking.assignIDs(previous: tracked, current: [square(0.1, 0.1, 0.1), square(0.7, 0.5, 0.4)],
                                             imageWidth: 1000, imageHeight: 1000, nextID: &nextID)
        XCTAssertEqual(ids, [2, 0])
        XCTAssertEqual(nextID, 3)
    }

    func testMinIoUThreshold() throws {
        var nextID = 10
        let previous = [(id: 4, rect: square(0.5, 0.5, 0.2))]
        // IoU 1/3 < 0.5 → no match → new ID.
        XCTAssertEqual(try PoseTracking.assignIDs(previous: previous, current: [square(0.6, 0.5, 0.2)],
                                                  imageWidth: 100, imageHeight: 100, minIoU: 0.5, nextID: &nextID), [10])
        XCTAssertEqual(try PoseTracking.assignIDs(previous: previous, current: [square(0.6, 0.5, 0.2)],
                                                  imageWidth: 100, imageHeight: 100, minIoU: 0.3, nextID: &nextID), [4])
        XCTAssertThrowsError(try PoseTracking.assignIDs(previous: previous, current: [square(0.6, 0.5, 0.2)],
                                                        imageWidth: 0, imageHeight: 100, nextID: &nextID))
    }
}
