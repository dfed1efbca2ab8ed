import Foundation

/// What the landmark model produced on one ROI, before any temporal filtering.
public struct PoseObservation: Equatable, Sendable {
    /// 33 image-normalized pose landmarks (projected, unfiltered).
    public var landmarks: [Landmark]
    /// 33 world landmarks in metres (rotated by the ROI, unfiltered; visibility/presence copied).
    public var worldLandmarks: [Landmark]
    /// The 2 auxiliary landmarks (image-normalized, unfiltered).
    public var auxiliaryLandmarks: [Landmark]
    /// The ROI the model ran on.
    public var roi: NormalizedRect
    /// Detection score when the ROI came from the detector, else nil.
    public var detectionScore: Float?
    /// Pose presence probability (> the tracking threshold, or there would be no observation).
    public var presence: Float
    /// Image-sized mask (`[H, W]`, unsmoothed), when segmentation is on.
    public var mask: SegmentationMask?

    public init(landmarks: [Landmark], worldLandmarks: [Landmark], auxiliaryLandmarks: [Landmark],
                roi: NormalizedRect, detectionScore: Float?, presence: Float, mask: SegmentationMask?) {
        self.landmarks = landmarks
        self.worldLandmarks = worldLandmarks
        self.auxiliaryLandmarks = auxiliaryLandmarks
        self.roi = roi
        self.detectionScore = detectionScore
        self.presence = presence
        self.mask = mask
    }
}

/// The two per-frame stages a ``PoseTracker`` drives. ``PoseLandmarker`` is the real one; tests
/// replay MediaPipe's recorded stage outputs through the same tracking logic.
public protocol PoseFrameAnalyzer: AnyObject {
    /// Thresholds, model, `maxPoses`, segmentation switch.
    var landmarkerOptions: PoseLandmarkerOptions { get }
    /// Detector on the whole image (spec §2.2–§2.8): the landmark ROI and score of every NMS
    /// cluster, best first (empty when nothing scores ≥ `minDetectionConfidence`).
    func detectionROIs(in image: RGBImage) throws -> [(roi: NormalizedRect, score: Float)]
    /// Landmark model on `roi` (spec §2.9–§2.16); nil when presence ≤ `minTrackingConfidence`.
    func observePose(in image: RGBImage, roi: NormalizedRect, detectionScore: Float?) throws -> PoseObservation?
}

extension PoseLandmarker: PoseFrameAnalyzer {
    public var landmarkerOptions: PoseLandmarkerOptions { options }

    public func detectionROIs(in image: RGBImage) throws -> [(roi: NormalizedRect, score: Float)] {
        try detectROIs(in: image).candidates.map { ($0.roi, $0.detection.score) }
    }

    public func observePose(in image: RGBImage, roi: NormalizedRect, detectionScore: Float?) throws -> PoseObservation? {
        guard let pose = try landmarks(in: image, roi: roi, detectionScore: detectionScore).pose else { return nil }
        return PoseObservation(landmarks: pose.landmarks, worldLandmarks: pose.worldLandmarks,
                               auxiliaryLandmarks: pose.auxiliaryLandmarks, roi: pose.roi,
                               detectionScore: pose.detectionScore, presence: pose.presence, mask: pose.mask)
    }
}
