@_exported import PoseGeometry
@_exported import PoseImage

/// A segmentation mask with the size of the input image.
///
/// `values[y * width + x]` is the probability in `[0, 1]` that pixel `(x, y)` belongs to the person
/// (layout HW, row-major, top-left origin). Pixels outside the pose ROI are 0.
public struct SegmentationMask: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `[height, width]` probabilities.
    public let values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        self.width = width
        self.height = height
        self.values = values
    }
}

/// One person found in an image.
///
/// Coordinate conventions (MediaPipe's):
/// * ``landmarks``: `x = px / W`, `y = py / H` (normalized to the image; origin top-left, y down;
///   may be outside `[0, 1]` for points off the image). `z` is depth relative to the hips in the
///   same scale as `x` (multiply by `W` for pixel-like units; smaller = closer to the camera).
/// * ``worldLandmarks``: metres, origin at the hip centre, rotated with the ROI (x right, y down).
/// * `visibility` and `presence` are probabilities in `[0, 1]`; world landmarks copy them.
public struct Pose: Equatable, Sendable {
    /// The 33 pose landmarks in ``PoseLandmark`` order (index = `rawValue`).
    public var landmarks: [Landmark]
    /// The 33 world landmarks (metres), same order.
    public var worldLandmarks: [Landmark]
    /// The 2 auxiliary landmarks (model landmarks 33 mid-hip, 34 size/rotation point), image-
    /// normalized. A tracker builds the next frame's ROI from them (docs/pipeline.md §2.18).
    public var auxiliaryLandmarks: [Landmark]
    /// The ROI the landmark model ran on (image-normalized rect, rotation in radians, positive =
    /// clockwise on screen).
    public var roi: NormalizedRect
    /// Score of the detection the ROI came from; nil when the ROI was given by the caller (tracking).
    public var detectionScore: Float?
    /// The landmark model's pose-presence probability (already > `minTrackingConfidence`).
    public var presence: Float
    /// Segmentation mask, when enabled.
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

    /// The landmark `which`.
    public subscript(_ which: PoseLandmark) -> Landmark { landmarks[which.rawValue] }

    /// The ROI for the next video frame from this pose's auxiliary landmarks (unfiltered; a
    /// tracker that smooths the auxiliary landmarks should call
    /// `RegionOfInterest.poseROI(start:end:imageWidth:imageHeight:)` on its filtered values).
    public func nextROI(imageWidth: Int, imageHeight: Int) throws -> NormalizedRect? {
        guard auxiliaryLandmarks.count == 2 else { return nil }
        return try RegionOfInterest.poseROI(start: SIMD2(auxiliaryLandmarks[0].x, auxiliaryLandmarks[0].y),
                                            end: SIMD2(auxiliaryLandmarks[1].x, auxiliaryLandmarks[1].y),
                                            imageWidth: imageWidth, imageHeight: imageHeight)
    }
}

/// Wall time of the stages of one ``PoseLandmarker/detect(image:)`` call, in milliseconds.
public struct PoseTiming: Equatable, Sendable {
    /// Detector pre-processing, model and post-processing.
    public var detectorMilliseconds: Double = 0
    /// Crop, landmark model and post-processing, summed over all poses.
    public var landmarkMilliseconds: Double = 0
    public init() {}
}

/// The result of running the pipeline on one image.
public struct PoseResult: Equatable, Sendable {
    public var imageWidth: Int
    public var imageHeight: Int
    /// The poses found, best detection first; empty when nobody was found.
    public var poses: [Pose]
    public var timing: PoseTiming

    public init(imageWidth: Int, imageHeight: Int, poses: [Pose], timing: PoseTiming) {
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
        self.poses = poses
        self.timing = timing
    }
}

/// Everything the detector stage computed (docs/pipeline.md §2.2–§2.8), for `--dump-stages` and trackers.
public struct DetectorStages: Sendable {
    /// The 8-bit letterboxed input, `[224, 224, 3]` HWC RGB (zero border).
    public var inputBytes: [UInt8]
    /// The model input, `[1, 224, 224, 3]` NHWC RGB, `fma(p, 2/255, −1)`.
    public var input: [Float]
    /// Letterbox padding `[left, top, right, bottom]` as fractions of the 224 tensor.
    public var padding: LetterboxPadding
    /// Raw model output 0, `[1, 2254, 12]`: `x, y, w, h, kp0x, kp0y, …, kp3y` (224-px units, anchor-relative).
    public var rawBoxes: [Float]
    /// Raw model output 1, `[1, 2254, 1]` score logits.
    public var rawScores: [Float]
    /// Decoded detections with score ≥ threshold, anchor order, normalized to the letterboxed tensor.
    public var detectionsBeforeNMS: [Detection]
    /// After weighted NMS, best first, still in the letterboxed tensor frame.
    public var detectionsAfterNMS: [Detection]
    /// ``detectionsAfterNMS`` with the letterbox removed: normalized to the image.
    public var detections: [Detection]
    /// One candidate per detection in ``detections`` (same order) whose ROI is usable.
    public var candidates: [PoseCandidate]
}

/// A detection turned into a landmark ROI (docs/pipeline.md §2.8).
public struct PoseCandidate: Equatable, Sendable {
    /// The detection, image-normalized.
    public var detection: Detection
    /// Alignment rect from kp0→kp1 (side `2·d`, before ×1.25).
    public var alignmentRect: NormalizedRect
    /// The landmark ROI: square of side `2.5·|kp1 − kp0|` px centred on kp0.
    public var roi: NormalizedRect
}

/// Everything the landmark stage computed for one ROI (docs/pipeline.md §2.9–§2.16).
public struct LandmarkStages: Sendable {
    /// The ROI that was cropped (unpadded, image-normalized).
    public var roi: NormalizedRect
    /// Crop letterbox padding (≈0: pose ROIs are square in pixels).
    public var padding: LetterboxPadding
    /// The 8-bit crop, `[256, 256, 3]` HWC RGB (replicate border).
    public var inputBytes: [UInt8]
    /// The model input, `[1, 256, 256, 3]` NHWC RGB, `p/255`.
    public var input: [Float]
    /// Raw outputs: `[1, 195]` landmarks (39 × x, y, z, vis-logit, pres-logit; 256-px units).
    public var rawLandmarks: [Float]
    /// `[1, 1]` presence probability.
    public var rawPoseFlag: Float
    /// `[1, Hm, Wm, 1]` segmentation logits (128² lite, 256² full).
    public var rawSegmentation: [Float]
    /// Segmentation grid size `(Wm, Hm)`.
    public var segmentationSize: (width: Int, height: Int)
    /// `[1, 64, 64, 39]` heatmap logits, HWC.
    public var rawHeatmap: [Float]
    /// `[1, 117]` world landmarks, 39 × (x, y, z) metres.
    public var rawWorld: [Float]
    /// `rawPoseFlag > minTrackingConfidence`.
    public var present: Bool
    /// 39 landmarks normalized to the crop, σ applied (nil when not present).
    public var decoded: [Landmark]?
    /// 39 landmarks after heatmap refinement (nil when not present).
    public var refined: [Landmark]?
    /// σ(segmentation) on the model grid, `[Hm, Wm]` (nil when not present or disabled).
    public var maskROI: [Float]?
    /// The pose (nil when not present).
    public var pose: Pose?
}
