import BlazePose
import Foundation
import XCTest

/// Ours vs MediaPipe 0.10.14's video mode on the regenerated test sequence, with the real models.
final class TrackingParityTests: XCTestCase {
    private static var frames: [RGBImage]?

    private func sequenceFrames() throws -> [RGBImage] {
        if let frames = Self.frames { return frames }
        let frames = try TrackingSequence.load().render()
        Self.frames = frames
        return frames
    }

    private func weightsDirectory(for model: ModelComplexity) throws -> URL {
        let dir = trackingPackageRoot.appendingPathComponent("weights", isDirectory: true)
        for file in ["pose_detection.tflite", model.landmarkModelFileName] {
            let path = dir.appendingPathComponent(file).path
            guard FileManager.default.fileExists(atPath: path) else {
                XCTFail("missing weights file \(path): run bash Tools/setup.sh")
                throw BlazePoseError.missingWeights(path: path, hint: "run bash Tools/setup.sh")
            }
        }
        return dir
    }

    private func landmarker(_ model: ModelComplexity, threads: Int = 2) throws -> PoseLandmarker {
        try PoseLandmarker(options: PoseLandmarkerOptions(modelComplexity: model, enableSegmentation: true, threads: threads,
                                                          weightsDirectory: weightsDirectory(for: model)))
    }

    /// Mean over landmarks of the pixel distance (x·W, y·H).
    private func meanPixelError(_ a: [Landmark], _ b: [Landmark], width: Int, height: Int) -> Double {
        zip(a, b).map { p, q in
            let dx = Double(p.x - q.x) * Double(width), dy = Double(p.y - q.y) * Double(height)
            return (dx * dx + dy * dy).squareRoot()
        }.reduce(0, +) / Double(a.count)
    }

    private func meanWorldErrorMillimetres(_ a: [Landmark], _ b: [Landmark]) -> Double {
        zip(a, b).map { p, q in
            let d = SIMD3<Double>(Double(p.x - q.x), Double(p.y - q.y), Double(p.z - q.z))
            return (d * d).sum().squareRoot() * 1000
        }.reduce(0, +) / Double(a.count)
    }

    // MARK: - Per frame, on MediaPipe's ROI

    /// The landmark stage on every frame, run on exactly the ROI MediaPipe's tracker used: our
    /// unfiltered landmarks vs MediaPipe's unfiltered landmarks. This isolates the model + decoding
    /// from the tracking feedback loop.
    func testLandmarksOnMediaPipeROIsLite() throws { try checkOnMediaPipeROIs(.lite) }
    func testLandmarksOnMediaPipeROIsFull() throws { try checkOnMediaPipeROIs(.full) }

    private func checkOnMediaPipeROIs(_ model: ModelComplexity) throws {
        let reference = try MediaPipeVideoReference.load(model)
        let frames = try sequenceFrames()
        let landmarker = try landmarker(model)
        var pixel: [Double] = [], world: [Double] = []
        for f in reference {
            guard let roi = f.roi else { continue }
            let ours = try landmarker.observePose(in: frames[f.frame], roi: roi, detectionScore: nil)
            XCTAssertEqual(ours != nil, f.poseFound, "\(model) frame \(f.frame): presence gate")
            guard let ours, f.poseFound else { continue }
            pixel.append(meanPixelError(ours.landmarks, f.unfilteredLandmarks, width: frames[f.frame].width,
                                        height: frames[f.frame].height))
            world.append(meanWorldErrorMillimetres(ours.worldLandmarks, f.unfilteredWorldLandmarks))
        }
        let meanPixel = pixel.reduce(0, +) / Double(pixel.count), meanWorld = world.reduce(0, +) / Double(world.count)
        print(String(format: "on MediaPipe's ROIs, %@: %d frames, mean landmark error %.4f px (worst frame %.4f), world %.4f mm (worst %.4f)",
                     model.rawValue, pixel.count, meanPixel, pixel.max() ?? 0, meanWorld, world.max() ?? 0))
        XCTAssertEqual(pixel.count, reference.filter(\.poseFound).count)
        XCTAssertLessThanOrEqual(meanPixel, 1, "\(model): mean landmark error on MediaPipe's ROIs")
        XCTAssertLessThanOrEqual(meanWorld, 5, "\(model): mean world landmark error on MediaPipe's ROIs")
    }

    // MARK: - Free-running tracker

    func testTrackerMatchesMediaPipeVideoModeLite() throws { try checkTracker(.lite) }
    func testTrackerMatchesMediaPipeVideoModeFull() throws { try checkTracker(.full) }

    private func checkTracker(_ model: ModelComplexity) throws {
        let reference = try MediaPipeVideoReference.load(model)
        let frames = try sequenceFrames()
        let tracker = try PoseTracker(analyzer: landmarker(model))
        var pixel: [Double] = [], world: [Double] = [], maskFlips: [Double] = []
        var errorsByFrame: [Int: (pixel: Double, world: Double)] = [:]
        var detectorOurs: [Int] = [], detectorTheirs: [Int] = []
        for f in reference {
            let out = try tracker.process(frames[f.frame], timestampMicroseconds: f.timestampMicroseconds)
            if out.detectorRan { detectorOurs.append(f.frame) }
            if f.detectorRan { detectorTheirs.append(f.frame) }
            XCTAssertEqual(out.poses.count, f.poseFound ? 1 : 0, "\(model) frame \(f.frame): pose found")
            guard f.poseFound, let pose = out.poses.first?.pose else { continue }
            let (w, h) = (frames[f.frame].width, frames[f.frame].height)
            pixel.append(meanPixelError(pose.landmarks, f.landmarks, width: w, height: h))
            world.append(meanWorldErrorMillimetres(pose.worldLandmarks, f.worldLandmarks))
            errorsByFrame[f.frame] = (pixel[pixel.count - 1], world[world.count - 1])
            if let bits = f.maskBits, let mask = pose.mask {
                // Fraction of pixels on the other side of 0.5 than MediaPipe's smoothed mask.
                var flips = 0
                for i in 0..<(w * h) where (mask.values[i] > 0.5) != ((bits[i / 8] >> (7 - UInt8(i % 8))) & 1 == 1) { flips += 1 }
                maskFlips.append(Double(flips) / Double(w * h))
                if f.frame == reference[0].frame {
                    // First frame: no mask history and no loop yet. The mask warp is OpenCV's 1/32-px
                    // fixed point; ROI ulps move a few dozen pixels across 0.5 at most (STAGES.md).
                    XCTAssertLessThanOrEqual(Double(flips) / Double(w * h), 0.001, "\(model) frame 0: mask > 0.5 disagreement")
                }
            }
        }
        let meanPixel = pixel.reduce(0, +) / Double(max(1, pixel.count))
        let meanWorld = world.reduce(0, +) / Double(max(1, world.count))
        print(String(format: "tracker vs MediaPipe, %@: detector frames ours %@ / MediaPipe %@; mean landmark error %.3f px (worst frame %.3f), world %.3f mm (worst %.3f), mask >0.5 disagreement %@",
                     model.rawValue, "\(detectorOurs)", "\(detectorTheirs)", meanPixel, pixel.max() ?? 0, meanWorld,
                     world.max() ?? 0, maskFlips.map { String(format: "%.4f", $0) }.joined(separator: " ")))
        XCTAssertEqual(detectorOurs, detectorTheirs, "\(model): the detector must run on the same frames")
        // On frames whose ROI comes from the detector there is no feedback loop: the whole pipeline
        // must agree there. The pose one-euro filters restart on such a frame (first sample passes
        // through), so the image landmarks carry no history; the world filter is never reset
        // (docs/pipeline.md §4.13), so world landmarks are loop-free only on the very first frame.
        let detectorFramesWithPose = reference.filter { $0.detectorRan && $0.poseFound }.map(\.frame)
        XCTAssertFalse(detectorFramesWithPose.isEmpty)
        for frame in detectorFramesWithPose {
            guard let e = errorsByFrame[frame] else { continue }   // the pose-count assertion above failed
            print(String(format: "  %@ frame %d (detector): %.4f px, %.4f mm", model.rawValue, frame, e.pixel, e.world))
            XCTAssertLessThanOrEqual(e.pixel, 1, "\(model) frame \(frame) (detector): mean landmark error")
            if frame == reference[0].frame {
                XCTAssertLessThanOrEqual(e.world, 5, "\(model) frame \(frame) (first detection): mean world error")
            }
        }
        // NOT asserted: the mean over the free-running sequence. MediaPipe's tracking loop (ROI from
        // the previous frame's landmarks) amplifies ~1e-6 differences into pixel-sized ones through
        // the 1/32-px crop quantisation and the heatmap-refinement window/gate discontinuities:
        // Tools/mediapipe/video_sensitivity.py shows MediaPipe against *itself*, with one pixel of
        // frame 0 changed by one grey level, differing by 3.1 px / 18 mm (lite) and 1.35 px / 15 mm
        // (full) on this sequence, and with that pixel changed in every frame (like an
        // implementation whose float rounding differs a little on every frame) by 8.2–9.8 px /
        // 48–51 mm (lite) and 3.5–3.9 px / 27–31 mm (full). Ours vs MediaPipe falls in that range. The ≤ 1 px / ≤ 5 mm bar is asserted per frame on MediaPipe's own
        // ROIs (testLandmarksOnMediaPipeROIs*) and the loop itself is checked exactly by
        // TrackingReplayTests; the free-running figures are printed above for the report.
    }
}
