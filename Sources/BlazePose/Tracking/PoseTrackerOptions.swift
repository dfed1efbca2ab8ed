import Foundation

/// Settings of a ``PoseTracker`` (MediaPipe's video-mode `mp.solutions.pose` options).
///
/// The defaults reproduce `Pose(static_image_mode=False, smooth_landmarks=True,
/// enable_segmentation=True, smooth_segmentation=True)` with the published graph options
/// (heatmap kernel 7, mask smoothing ratio 0.7).
public struct PoseTrackerOptions: Sendable {
    /// Models, thresholds, threads, weights. `landmarker.maxPoses` is the number of people tracked;
    /// `landmarker.minTrackingConfidence` is the presence threshold that keeps a track alive
    /// (`presence > threshold`, docs/pipeline.md §2.10); `landmarker.enableSegmentation` turns the masks on.
    public var landmarker: PoseLandmarkerOptions
    /// MediaPipe's `static_image_mode`: run the detector on every frame, no tracking, no landmark or
    /// mask smoothing. Default false.
    public var staticImageMode: Bool
    /// One-euro smoothing of the pose and world landmarks plus the visibility low-pass (docs/pipeline.md §2.17
    /// a–b). The auxiliary landmarks that drive the next ROI are always smoothed (docs/pipeline.md §2.17 c). Ignored
    /// (off) in static mode. Default true.
    public var smoothLandmarks: Bool
    /// Blend each mask with the previous one of the same person (docs/pipeline.md §2.19). Ignored (off) in static
    /// mode. Default true.
    public var smoothSegmentation: Bool
    /// `combine_with_previous_ratio` of the mask smoothing (MediaPipe's graph: 0.7).
    public var segmentationSmoothingRatio: Float
    /// Multi-person only (`maxPoses > 1`): two ROIs whose centres (the hip centres) are closer than
    /// this fraction of the smaller ROI's side (in pixels) belong to the same person. A detection
    /// that close to a person tracked in this frame is skipped, and of two tracks whose next ROIs
    /// are that close the younger is dropped. (Not IoU: pose ROIs are 2.5× the body scale, so two
    /// people standing side by side easily have ROI IoU > 0.5.) Default 0.1 = a quarter of the
    /// hip-to-scale-point distance.
    public var duplicateCenterDistance: Float
    /// Multi-person only: a re-detected person gets back the ID (and world/visibility filter state)
    /// of a lost track when their ROIs overlap with at least this IoU (`PoseTracking.assignIDs`).
    public var reidentificationIoU: Float
    /// Multi-person only: a lost track is forgotten after this many frames without a pose.
    public var maxLostFrames: Int

    public init(landmarker: PoseLandmarkerOptions = .init(),
                staticImageMode: Bool = false,
                smoothLandmarks: Bool = true,
                smoothSegmentation: Bool = true,
                segmentationSmoothingRatio: Float = 0.7,
                duplicateCenterDistance: Float = 0.1,
                reidentificationIoU: Float = 0.1,
                maxLostFrames: Int = 30) {
        self.landmarker = landmarker
        self.staticImageMode = staticImageMode
        self.smoothLandmarks = smoothLandmarks
        self.smoothSegmentation = smoothSegmentation
        self.segmentationSmoothingRatio = segmentationSmoothingRatio
        self.duplicateCenterDistance = duplicateCenterDistance
        self.reidentificationIoU = reidentificationIoU
        self.maxLostFrames = maxLostFrames
    }

    /// Checks every option; throws ``BlazePoseError/invalidOption(name:value:reason:)``.
    public func validate() throws {
        try landmarker.validate()
        func bad(_ name: String, _ value: String, _ reason: String) -> BlazePoseError {
            .invalidOption(name: name, value: value, reason: reason)
        }
        guard segmentationSmoothingRatio.isFinite, (0...1).contains(segmentationSmoothingRatio) else {
            throw bad("segmentationSmoothingRatio", "\(segmentationSmoothingRatio)", "must be in [0, 1]")
        }
        guard duplicateCenterDistance.isFinite, duplicateCenterDistance >= 0, duplicateCenterDistance <= 10 else {
            throw bad("duplicateCenterDistance", "\(duplicateCenterDistance)", "must be in [0, 10]")
        }
        guard reidentificationIoU.isFinite, reidentificationIoU > 0, reidentificationIoU <= 1 else {
            throw bad("reidentificationIoU", "\(reidentificationIoU)", "must be in (0, 1]")
        }
        guard (0...100_000).contains(maxLostFrames) else {
            throw bad("maxLostFrames", "\(maxLostFrames)", "must be in 0...100000")
        }
    }
}

/// Errors of the video tracker and its frame sources. Each says what failed and where.
public enum PoseTrackerError: Error, CustomStringConvertible, Equatable {
    /// Timestamps must strictly increase (MediaPipe rejects a non-increasing packet timestamp).
    case nonIncreasingTimestamp(previous: Int64, current: Int64)
    /// A frame source could not deliver frame `index` (truncated Y4M, unreadable PNG, …).
    case frameUnreadable(index: Int, source: String, reason: String)
    /// The input cannot be used as a frame source at all (empty folder, not a Y4M stream, …).
    case invalidSource(String)
    /// Results could not be written (`destination` is a path or "standard output").
    case outputFailed(destination: String, reason: String)

    public var description: String {
        switch self {
        case let .nonIncreasingTimestamp(previous, current):
            return "timestamps must strictly increase: got \(current) µs after \(previous) µs"
        case let .frameUnreadable(index, source, reason):
            return "frame \(index) (\(source)) cannot be read: \(reason)"
        case let .invalidSource(message):
            return "invalid input: \(message)"
        case let .outputFailed(destination, reason):
            return "cannot write \(destination): \(reason)"
        }
    }
}
