import BlazePose
import Foundation
import XCTest

/// The tracker's control flow and filters, checked without the models: MediaPipe's recorded
/// per-frame stage outputs are replayed through ``PoseTracker`` and everything MediaPipe decided
/// (detector frames, tracked ROIs, smoothed outputs, reset semantics) must be reproduced.
final class TrackingReplayTests: XCTestCase {
    func testReplayOfMediaPipeLiteStreamsReproducesItsVideoMode() throws { try checkReplay(.lite) }
    func testReplayOfMediaPipeFullStreamsReproducesItsVideoMode() throws { try checkReplay(.full) }

    private func checkReplay(_ model: ModelComplexity) throws {
        let reference = try MediaPipeVideoReference.load(model)
        let detections = reference.map { f -> [(roi: NormalizedRect, score: Float)] in
            guard f.detectorRan, let roi = f.roi, (f.detections ?? 0) > 0 else { return [] }
            return [(roi, 0.9)]
        }
        let analyzer = ReplayAnalyzer(options: PoseLandmarkerOptions(modelComplexity: model, enableSegmentation: false),
                                      detections: detections) { k, roi, score in
            let f = reference[k]
            guard f.poseFound else { return nil }
            return Pose(landmarks: f.unfilteredLandmarks, worldLandmarks: f.unfilteredWorldLandmarks,
                                   auxiliaryLandmarks: f.unfilteredAuxiliary, roi: roi, detectionScore: score,
                                   presence: f.presence ?? 1, mask: nil)
        }
        let tracker = try PoseTracker(analyzer: analyzer)
        let image = try RGBImage(width: 320, height: 240)
        var worstROI: Float = 0, worstLandmark: Float = 0, worstWorld: Float = 0, worstAux: Float = 0
        for f in reference {
            analyzer.frame = f.frame
            let out = try tracker.process(image, timestampMicroseconds: f.timestampMicroseconds)
            XCTAssertEqual(out.detectorRan, f.detectorRan, "\(model) frame \(f.frame): detector_ran")
            XCTAssertEqual(out.poses.count, f.poseFound ? 1 : 0, "\(model) frame \(f.frame): pose count")
            // The ROI the landmark model was asked to run on (tracked or detected) is MediaPipe's.
            let requested = analyzer.requests.filter { $0.frame == f.frame }
            if let roi = f.roi {
                XCTAssertEqual(requested.count, 1, "\(model) frame \(f.frame): landmark runs")
                if let r = requested.first { worstROI = max(worstROI, maxAbsDifference(r.roi, roi)) }
            } else {
                XCTAssertEqual(requested.count, 0, "\(model) frame \(f.frame): no ROI expected")
            }
            guard f.poseFound, let pose = out.poses.first?.pose else { continue }
            XCTAssertEqual(out.poses.first?.id, 0)
            worstLandmark = max(worstLandmark, maxAbsDifference(pose.landmarks, f.landmarks))
            worstWorld = max(worstWorld, maxAbsDifference(pose.worldLandmarks, f.worldLandmarks))
            worstAux = max(worstAux, maxAbsDifference(pose.auxiliaryLandmarks, f.auxiliary))
        }
        print("replay \(model): max |Δ| ROI \(worstROI), landmarks \(worstLandmark), world \(worstWorld) m, aux \(worstAux)")
        // Float32 round trips of one-euro filters computed in Double by both (docs/pipeline.md §5: ≤ 3e-7).
        XCTAssertLessThanOrEqual(worstROI, 2e-6, "\(model): tracked ROI vs MediaPipe's")
        XCTAssertLessThanOrEqual(worstLandmark, 2e-6, "\(model): smoothed landmarks vs MediaPipe's")
        XCTAssertLessThanOrEqual(worstWorld, 2e-6, "\(model): smoothed world landmarks vs MediaPipe's")
        XCTAssertLessThanOrEqual(worstAux, 2e-6, "\(model): smoothed aux landmarks vs MediaPipe's")
    }

    // MARK: - Synthetic scenes

    /// A standing person whose hips are at `hip` (normalized) with body size `size` (normalized
    /// height): aux0 = hips, aux1 = the size/rotation point straight above, like the model's.
    private func observation(hip: SIMD2<Float>, size: Float, roi: NormalizedRect, score: Float?, mask: SegmentationMask? = nil,
                             visibility: Float = 0.9) -> Pose {
        let landmarks = (0..<33).map { i in
            Landmark(x: hip.x + Float(i % 3 - 1) * 0.01, y: hip.y - size * Float(i) / 40, z: 0, visibility: visibility, presence: 0.95)
        }
        let world = (0..<33).map { i in Landmark(x: Float(i) * 0.01, y: -Float(i) * 0.02, z: 0.1, visibility: visibility, presence: 0.95) }
        let aux = [Landmark(x: hip.x, y: hip.y, z: 0, visibility: 1, presence: 1),
                   Landmark(x: hip.x, y: hip.y - size / 2, z: 0, visibility: 1, presence: 1)]
        return Pose(landmarks: landmarks, worldLandmarks: world, auxiliaryLandmarks: aux, roi: roi,
                               detectionScore: score, presence: 0.95, mask: mask)
    }

    /// Mask history: kept across a gap (docs/pipeline.md §2.19), blended with ratio 0.7, off in static mode.
    func testMaskSmoothingKeepsHistoryAcrossGapsAndIsOffInStaticMode() throws {
        let width = 8, height = 6
        let present = [true, true, false, true, true]
        let levels: [Float] = [0.9, 0.2, 0, 0.6, 0.45]
        let hip = SIMD2<Float>(0.5, 0.6)
        let roi = try XCTUnwrap(RegionOfInterest.poseROI(start: hip, end: hip - SIMD2(0, 0.2), imageWidth: width, imageHeight: height))
        func run(staticMode: Bool, smooth: Bool) throws -> [TrackedFrame] {
            let analyzer = ReplayAnalyzer(options: PoseLandmarkerOptions(), detections: present.map { $0 ? [(roi: roi, score: Float(0.9))] : [] }) { k, r, score in
                guard present[k] else { return nil }
                let mask = SegmentationMask(width: width, height: height, values: [Float](repeating: levels[k], count: width * height))
                return self.observation(hip: hip, size: 0.4, roi: r, score: score, mask: mask)
            }
            let tracker = try PoseTracker(analyzer: analyzer, options: PoseTrackerOptions(staticImageMode: staticMode, smoothSegmentation: smooth))
            let image = try RGBImage(width: width, height: height)
            return try present.indices.map { k in
                analyzer.frame = k
                return try tracker.process(image, timestampMicroseconds: 33333 * Int64(k + 1))
            }
        }
        let frames = try run(staticMode: false, smooth: true)
        XCTAssertEqual(frames.map(\.detectorRan), [true, false, false, true, false], "detector: first frame, then after the loss")
        var expected: [Float?] = []
        var previous: Float?
        for k in present.indices {
            guard present[k] else { expected.append(nil); continue }
            let value = previous.map { SegmentationSmoothing.blendPixel(current: levels[k], previous: $0, ratio: 0.7) } ?? levels[k]
            expected.append(value)
            previous = value   // the history is the last *filtered* mask, however many frames back
        }
        for (k, frame) in frames.enumerated() {
            let got = frame.poses.first?.pose.mask?.values.first
            XCTAssertEqual(got, expected[k], "frame \(k): smoothed mask value")
        }
        XCTAssertNotEqual(expected[3], levels[3], "the test must exercise blending across the gap")
        for (k, frame) in try run(staticMode: true, smooth: true).enumerated() {
            XCTAssertEqual(frame.poses.first?.pose.mask?.values.first, present[k] ? levels[k] : nil, "static frame \(k): no smoothing")
            XCTAssertTrue(frame.detectorRan, "static mode detects on every frame")
        }
        for (k, frame) in try run(staticMode: false, smooth: false).enumerated() {
            XCTAssertEqual(frame.poses.first?.pose.mask?.values.first, present[k] ? levels[k] : nil, "frame \(k): smoothing off")
        }
    }

    /// Two people walking past each other (one behind the other, their ROIs overlapping while they
    /// cross) keep their IDs, and the detector re-runs only while fewer than `maxPoses` are tracked.
    func testTwoPeopleCrossingKeepTheirIDs() throws {
        let width = 640, height = 480
        let frameCount = 60
        let size: Float = 0.5
        // Person A walks left → right with hips at y 0.55, B right → left at y 0.7 (in front, lower in
        // the picture); their 300-px ROIs overlap with IoU up to ≈ 0.6 while they cross (so ROI IoU
        // cannot tell them apart). B enters at frame 4.
        func hipA(_ k: Int) -> SIMD2<Float> { SIMD2(0.2 + 0.01 * Float(k), 0.55) }
        func hipB(_ k: Int) -> SIMD2<Float> { SIMD2(0.8 - 0.01 * Float(k), 0.7) }
        func visible(_ person: Int, _ k: Int) -> Bool { person == 0 || k >= 4 }
        func roi(_ hip: SIMD2<Float>) -> NormalizedRect {
            // swiftlint:disable:next force_try
            try! RegionOfInterest.poseROI(start: hip, end: hip - SIMD2(0, size / 2), imageWidth: width, imageHeight: height)!
        }
        let detections = (0..<frameCount).map { k in
            [0, 1].filter { visible($0, k) }.map { (roi: roi($0 == 0 ? hipA(k) : hipB(k)), score: Float(0.9 - 0.1 * Float($0))) }
        }
        let analyzer = ReplayAnalyzer(options: PoseLandmarkerOptions(maxPoses: 2), detections: detections) { k, r, score in
            // The landmark model locks onto the visible person whose hips are nearest the ROI centre.
            let centre = SIMD2(r.xCenter, r.yCenter)
            let people = [0, 1].filter { visible($0, k) }.map { ($0, $0 == 0 ? hipA(k) : hipB(k)) }
            guard let nearest = people.min(by: { simdDistance($0.1, centre) < simdDistance($1.1, centre) }) else { return nil }
            return self.observation(hip: nearest.1, size: size, roi: r, score: score)
        }
        let tracker = try PoseTracker(analyzer: analyzer)
        let image = try RGBImage(width: width, height: height)
        var detectorFrames: [Int] = []
        for k in 0..<frameCount {
            analyzer.frame = k
            let out = try tracker.process(image, timestampMicroseconds: 33333 * Int64(k + 1))
            if out.detectorRan { detectorFrames.append(k) }
            XCTAssertEqual(out.poses.count, visible(1, k) ? 2 : 1, "frame \(k): people")
            for tracked in out.poses {
                // ID 0 is A (hips at y 0.55), ID 1 is B (y 0.7), before, during and after the crossing.
                let hipY = tracked.pose.auxiliaryLandmarks[0].y
                XCTAssertEqual(tracked.id, hipY < 0.625 ? 0 : 1, "frame \(k): ID of the person with hips at y \(hipY)")
            }
        }
        XCTAssertEqual(detectorFrames, [0, 1, 2, 3, 4], "detector until both are tracked, then never")
    }
}

private func simdDistance(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float {
    let d = a - b
    return (d * d).sum().squareRoot()
}
