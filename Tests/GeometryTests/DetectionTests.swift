import XCTest
import PoseGeometry

final class DetectionDecodingTests: XCTestCase {
    /// A raw detector output where every anchor is rejected (logit −1000,
    /// clipped to −100, σ ≈ 0) except the rows we set.
    func makeRaw() -> (boxes: [Float], scores: [Float]) {
        (Array(repeating: 0, count: 2254 * 12), Array(repeating: -1000, count: 2254))
    }

    func testDecodeHandMadeTensor() throws {
        let anchors = try SSDAnchors.generate(.poseDetector)
        var (boxes, scores) = makeRaw()
        func setRow(_ i: Int, _ values: [Float]) { for (j, v) in values.enumerated() { boxes[i * 12 + j] = v } }

        // Anchor 0, centre a = (0.5/28, 0.5/28) = (0.017857, 0.017857). XYWH layout, /224.
        // x = 22.4/224 = 0.1 → xc = 0.117857; y = −11.2/224 = −0.05 → yc = −0.032143
        // w = 44.8/224 = 0.2; h = 22.4/224 = 0.1
        // → xmin = 0.117857 − 0.1 = 0.017857, ymin = −0.032143 − 0.05 = −0.082143
        // kp0 raw (0,0) → anchor centre; kp1 raw (224, 112) → (1 + a, 0.5 + a)
        setRow(0, [22.4, -11.2, 44.8, 22.4, 0, 0, 224, 112, -22.4, 0, 0, 44.8])
        scores[0] = 0            // σ(0) = 0.5 exactly: kept because score ≥ 0.5
        // Anchor 5: score σ(2) = 0.880797 but negative width → dropped.
        setRow(5, [0, 0, -1, 10, 0, 0, 0, 0, 0, 0, 0, 0])
        scores[5] = 2
        // Anchor 7: NaN score → dropped.
        scores[7] = .nan
        // Anchor 9: huge logit but NaN height → dropped.
        setRow(9, [0, 0, 10, .nan, 0, 0, 0, 0, 0, 0, 0, 0])
        scores[9] = 1000
        // Anchor 11: σ(−0.01) = 0.4975 < 0.5 → dropped.
        setRow(11, [0, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, 0])
        scores[11] = -0.01
        // Anchor 1968 (group 3, cell (1,0), centre (1.5/7, 0.5/7) = (0.214286, 0.071429)):
        // logit 1000 clipped to 100 → σ = 1; zero-size box is allowed (not negative).
        setRow(1968, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        scores[1968] = 1000

        let detections = try DetectionDecoder.decode(boxes: boxes, scores: scores, anchors: anchors,
                                                     options: .poseDetector())
        XCTAssertEqual(detections.map(\.anchorIndex), [0, 1968])
        guard detections.count == 2 else { return XCTFail("expected 2 detections, got \(detections.count)") }

        let d = detections[0]
        let a: Float = 0.5 / 28
        XCTAssertEqual(d.score, 0.5)
        XCTAssertEqual(d.xMin, 0.1 + a - 0.1, accuracy: 1e-6)
        XCTAssertEqual(d.yMin, -0.05 + a - 0.05, accuracy: 1e-6)
        XCTAssertEqual(d.width, 0.2, accuracy: 1e-6)
        XCTAssertEqual(d.height, 0.1, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints.count, 4)
        XCTAssertEqual(d.keypoints[0].x, a, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints[0].y, a, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints[1].x, 1 + a, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints[1].y, 0.5 + a, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints[2].x, -0.1 + a, accuracy: 1e-6)
        XCTAssertEqual(d.keypoints[3].y, 0.2 + a, accuracy: 1e-6)

        let e = detections[1]
        XCTAssertEqual(e.score, 1)                       // σ(100) rounds to 1 in Float
        XCTAssertEqual(e.xMin, 1.5 / 7, accuracy: 1e-6)
        XCTAssertEqual(e.yMin, 0.5 / 7, accuracy: 1e-6)
        XCTAssertEqual(e.width, 0)
    }

    func testThresholdIsInclusiveAndConfigurable() throws {
        let anchors = try SSDAnchors.generate(.poseDetector)
        var (boxes, scores) = makeRaw()
        boxes[2] = 10; boxes[3] = 10
        scores[0] = 2            // σ(2) = 0.880797
        let strict = try DetectionDecoder.decode(boxes: boxes, scores: scores, anchors: anchors,
                                                 options: .poseDetector(minScoreThreshold: 0.9))
        XCTAssertTrue(strict.isEmpty)
        let loose = try DetectionDecoder.decode(boxes: boxes, scores: scores, anchors: anchors,
                                                options: .poseDetector(minScoreThreshold: 0.88))
        guard loose.count == 1 else { return XCTFail("expected 1 detection, got \(loose.count)") }
        XCTAssertEqual(loose[0].score, 0.880797, accuracy: 1e-6)
    }

    func testWrongBufferSizesThrow() throws {
        let anchors = try SSDAnchors.generate(.poseDetector)
        let (boxes, scores) = makeRaw()
        XCTAssertThrowsError(try DetectionDecoder.decode(boxes: Array(boxes.dropLast()), scores: scores,
                                                         anchors: anchors, options: .poseDetector())) { error in
            XCTAssertEqual(error as? PoseGeometryError,
                           .bufferSizeMismatch(what: "detector boxes [2254×12]", expected: 27048, actual: 27047))
        }
        XCTAssertThrowsError(try DetectionDecoder.decode(boxes: boxes, scores: [0], anchors: anchors,
                                                         options: .poseDetector()))
        // An absurd box count must throw, not overflow the size computation.
        var huge = DetectionDecoderOptions.poseDetector()
        huge.numBoxes = Int.max / 2
        XCTAssertThrowsError(try DetectionDecoder.decode(boxes: boxes, scores: scores, anchors: anchors, options: huge))
        var badLayout = DetectionDecoderOptions.poseDetector()
        badLayout.numKeypoints = 5                       // 4 + 2·5 = 14 > 12 values per row
        XCTAssertThrowsError(try DetectionDecoder.decode(boxes: boxes, scores: scores, anchors: anchors, options: badLayout))
        XCTAssertThrowsError(try DetectionDecoder.decode(boxes: boxes, scores: scores, anchors: Array(anchors.prefix(10)),
                                                         options: .poseDetector()))
    }
}

final class WeightedNMSTests: XCTestCase {
    func box(_ x: Float, _ y: Float, _ w: Float, _ h: Float, score: Float, anchor: Int,
             kp: SIMD2<Float> = .zero) -> Detection {
        Detection(score: score, xMin: x, yMin: y, width: w, height: h, keypoints: [kp], anchorIndex: anchor)
    }

    func testMergeAndNonMerge() {
        // A (0.9) and B (0.6) overlap: intersection x∈[0.1,0.4] → 0.3·0.4 = 0.12,
        // union 0.16 + 0.16 − 0.12 = 0.20 → IoU 0.6 > 0.3 → one cluster.
        // C (0.7) is far away → its own cluster, emitted second (0.9 > 0.7).
        let a = box(0.0, 0.0, 0.4, 0.4, score: 0.9, anchor: 3, kp: SIMD2(0.2, 0.2))
        let b = box(0.1, 0.0, 0.4, 0.4, score: 0.6, anchor: 1, kp: SIMD2(0.5, 0.8))
        let c = box(0.6, 0.6, 0.2, 0.2, score: 0.7, anchor: 2, kp: SIMD2(0.7, 0.7))
        XCTAssertEqual(intersectionOverUnion(a, b), 0.6, accuracy: 1e-6)

        let out = [b, c, a].weightedNonMaxSuppression()
        guard out.count == 2 else { return XCTFail("expected 2 clusters, got \(out.count)") }
        let m = out[0]
        // T = 0.9 + 0.6 = 1.5
        XCTAssertEqual(m.score, 0.9)                                  // top's score, not an average
        XCTAssertEqual(m.anchorIndex, 3)
        XCTAssertEqual(m.xMin, (0.0 * 0.9 + 0.1 * 0.6) / 1.5, accuracy: 1e-6)           // 0.04
        XCTAssertEqual(m.yMin, 0, accuracy: 1e-6)
        XCTAssertEqual(m.width, (0.4 * 0.9 + 0.5 * 0.6) / 1.5 - 0.04, accuracy: 1e-6)   // 0.44 − 0.04 = 0.40
        XCTAssertEqual(m.height, 0.4, accuracy: 1e-6)
        XCTAssertEqual(m.keypoints[0].x, (0.2 * 0.9 + 0.5 * 0.6) / 1.5, accuracy: 1e-6) // 0.32
        XCTAssertEqual(m.keypoints[0].y, (0.2 * 0.9 + 0.8 * 0.6) / 1.5, accuracy: 1e-6) // 0.44
        let s = out[1]
        XCTAssertEqual(s.anchorIndex, 2)
        XCTAssertEqual(s.score, 0.7)
        XCTAssertEqual(s.xMin, 0.6, accuracy: 1e-6)
        XCTAssertEqual(s.width, 0.2, accuracy: 1e-6)
    }

    func testThresholdIsStrict() {
        // A = [0,1]², B = [0.625,1.25]×[0,1]: intersection 0.375, union 1 + 0.625 − 0.375 = 1.25,
        // IoU = 0.375/1.25 = 0.3 (exactly Float(0.3)) → NOT merged (needs > 0.3).
        let a = box(0, 0, 1, 1, score: 0.9, anchor: 0)
        let b = box(0.625, 0, 0.625, 1, score: 0.8, anchor: 1)
        XCTAssertEqual(intersectionOverUnion(a, b), 0.3)
        let out = [a, b].weightedNonMaxSuppression(iouThreshold: 0.3)
        guard out.count == 2 else { return XCTFail("IoU == 0.3 must not merge; got \(out.count) cluster(s)") }
        XCTAssertEqual(out[0], a)          // a single candidate: weighted mean of itself
        XCTAssertEqual(out[1].anchorIndex, 1)

        // Shift B left by 0.125: intersection 0.5, union 1.125 → IoU 0.444 > 0.3 → merged.
        let b2 = box(0.5, 0, 0.625, 1, score: 0.8, anchor: 1)
        XCTAssertEqual([a, b2].weightedNonMaxSuppression(iouThreshold: 0.3).count, 1)
    }

    func testZeroAreaTopStopsTheLoop() {
        // The top has width 0: its IoU with itself is 0/0 → 0, so nothing is a
        // candidate, it is emitted unchanged and the loop stops: the second
        // detection (which overlaps it) is never emitted.
        let top = box(0.5, 0.5, 0, 0.2, score: 0.95, anchor: 4)
        let other = box(0.4, 0.4, 0.3, 0.3, score: 0.8, anchor: 5)
        let far = box(0.0, 0.0, 0.1, 0.1, score: 0.7, anchor: 6)
        let out = [other, far, top].weightedNonMaxSuppression()
        XCTAssertEqual(out, [top])
    }

    func testTiesAreOrderedByAnchorIndex() {
        // Equal scores, disjoint boxes, given in reverse anchor order: output by anchor index.
        let p = box(0.0, 0.0, 0.1, 0.1, score: 0.8, anchor: 10)
        let q = box(0.5, 0.5, 0.1, 0.1, score: 0.8, anchor: 2)
        XCTAssertEqual([p, q].weightedNonMaxSuppression().map(\.anchorIndex), [2, 10])
        XCTAssertEqual([q, p].weightedNonMaxSuppression().map(\.anchorIndex), [2, 10])
    }

    func testEmptyInput() {
        XCTAssertEqual([Detection]().weightedNonMaxSuppression(), [])
    }

    func testTouchingBoxesIntersectWithZeroArea() {
        let a = box(0, 0, 0.5, 0.5, score: 0.9, anchor: 0)
        let b = box(0.5, 0, 0.5, 0.5, score: 0.8, anchor: 1)
        XCTAssertEqual(intersectionOverUnion(a, b), 0)
    }
}

final class LetterboxTests: XCTestCase {
    func testLandscapeImagePadsVertically() throws {
        // 760×540 into 224²: ta = 1 > ra = 540/760 = 0.710526 → height grows to 760,
        // pv = (1 − 0.710526)/2 = 0.144737 (0.144737·224 = 32.4 rows of padding).
        let roi = try PixelRect.wholeImage(width: 760, height: 540)
        XCTAssertEqual(roi, PixelRect(centerX: 380, centerY: 270, width: 760, height: 540, rotation: 0))
        let (padded, pad) = try roi.paddedToAspectRatio(tensorWidth: 224, tensorHeight: 224)
        XCTAssertEqual(padded.width, 760)
        XCTAssertEqual(padded.height, 760, accuracy: 1e-3)
        XCTAssertEqual(pad.left, 0)
        XCTAssertEqual(pad.right, 0)
        XCTAssertEqual(pad.top, (1 - 540.0 / 760.0) / 2, accuracy: 1e-6)
        XCTAssertEqual(pad.bottom, pad.top)
    }

    func testPortraitImagePadsHorizontally() throws {
        // 405×540: ra = 4/3 > 1 → width grows to 540, ph = (1 − 1/(4/3))/2 = (1 − 0.75)/2 = 0.125.
        let (padded, pad) = try PixelRect.wholeImage(width: 405, height: 540)
            .paddedToAspectRatio(tensorWidth: 224, tensorHeight: 224)
        XCTAssertEqual(padded.width, 540, accuracy: 1e-3)
        XCTAssertEqual(padded.height, 540)
        XCTAssertEqual(pad, LetterboxPadding(left: 0.125, top: 0, right: 0.125, bottom: 0))
    }

    func testInvalidSizesThrow() {
        XCTAssertThrowsError(try PixelRect.wholeImage(width: 0, height: 10))
        let r = PixelRect(centerX: 0, centerY: 0, width: 0, height: 0, rotation: 0)
        XCTAssertThrowsError(try r.paddedToAspectRatio(tensorWidth: 256, tensorHeight: 256))
    }

    func testDetectionLetterboxRemoval() {
        // Padding top = bottom = 0.125: y' = (y − 0.125)/0.75, height' = height/0.75; x unchanged.
        let d = Detection(score: 0.9, xMin: 0.3, yMin: 0.5, width: 0.2, height: 0.3,
                          keypoints: [SIMD2(0.4, 0.2), SIMD2(0.6, 0.875)], anchorIndex: 0)
        let r = d.removingLetterbox(LetterboxPadding(left: 0, top: 0.125, right: 0, bottom: 0.125))
        XCTAssertEqual(r.xMin, 0.3)
        XCTAssertEqual(r.width, 0.2)
        XCTAssertEqual(r.yMin, (0.5 - 0.125) / 0.75, accuracy: 1e-6)        // 0.5
        XCTAssertEqual(r.height, 0.3 / 0.75, accuracy: 1e-6)                // 0.4
        XCTAssertEqual(r.keypoints[0].y, (0.2 - 0.125) / 0.75, accuracy: 1e-6) // 0.1
        XCTAssertEqual(r.keypoints[1].y, 1.0, accuracy: 1e-6)
        XCTAssertEqual(r.keypoints[1].x, 0.6)
        XCTAssertEqual(r.score, 0.9)
    }
}
