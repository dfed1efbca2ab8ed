import Foundation

/// The two per-frame stages a ``PoseTracker`` drives. ``PoseLandmarker`` is the real one; tests
/// replay MediaPipe's recorded stage outputs through the same tracking logic.
public protocol PoseFrameAnalyzer: AnyObject {
    /// Thresholds, model, `maxPoses`, segmentation switch.
    var landmarkerOptions: PoseLandmarkerOptions { get }
    /// Detector on the whole image (docs/pipeline.md §2.2–§2.8): the landmark ROI and score of every NMS
    /// cluster, best first (empty when nothing scores ≥ `minDetectionConfidence`).
    func detectionROIs(in image: RGBImage) throws -> [(roi: NormalizedRect, score: Float)]
    /// Landmark model on `roi` (docs/pipeline.md §2.9–§2.16): the unfiltered pose, or nil when presence ≤
    /// `minTrackingConfidence`.
    func observePose(in image: RGBImage, roi: NormalizedRect, detectionScore: Float?) throws -> Pose?
}

extension PoseLandmarker: PoseFrameAnalyzer {
    public var landmarkerOptions: PoseLandmarkerOptions { options }

    public func detectionROIs(in image: RGBImage) throws -> [(roi: NormalizedRect, score: Float)] {
        try detectROIs(in: image, keepingInput: false).candidates.map { ($0.roi, $0.detection.score) }
    }

    public func observePose(in image: RGBImage, roi: NormalizedRect, detectionScore: Float?) throws -> Pose? {
        try landmarks(in: image, roi: roi, detectionScore: detectionScore, keepingRawTensors: false).pose
    }
}
