import Foundation

/// One person in one video frame.
public struct TrackedPose: Equatable, Sendable {
    /// Stable identity of the person across frames (0, 1, 2, … in order of first appearance). With
    /// `maxPoses == 1` there is a single track, so the ID stays the same through losses and
    /// re-detections, exactly as MediaPipe's single-person graph carries its filters through gaps.
    public var id: Int
    /// The pose after temporal filtering: smoothed ``Pose/landmarks`` and ``Pose/worldLandmarks``,
    /// the filtered ``Pose/auxiliaryLandmarks`` (the ones the next ROI is built from) and the
    /// blended ``Pose/mask``. ``Pose/roi`` is the ROI the landmark model ran on this frame.
    public var pose: Pose
    /// True when this frame's ROI came from the detector, false when it was tracked from the
    /// previous frame's landmarks.
    public var detected: Bool
}

/// The tracker's result for one frame.
public struct TrackedFrame: Equatable, Sendable {
    /// Zero-based index of the frame in the stream (frames processed before it by this tracker).
    public var index: Int
    /// The timestamp the frame was processed with, in microseconds.
    public var timestampMicroseconds: Int64
    public var imageWidth: Int
    public var imageHeight: Int
    /// Whether the pose detector ran on this frame (first frame, after a loss, every frame in static
    /// mode, and in multi-person mode whenever fewer than `maxPoses` people were tracked).
    public var detectorRan: Bool
    /// The people found, sorted by ``TrackedPose/id``; empty when nobody was found.
    public var poses: [TrackedPose]
    /// Wall time of the detector and of the landmark stages (all people) in this frame.
    public var timing: PoseTiming
    /// Wall time of the whole ``PoseTracker/process(_:timestampMicroseconds:)`` call, milliseconds.
    public var totalMilliseconds: Double
}

/// MediaPipe Pose in video mode: detection, ROI tracking from landmarks, temporal smoothing.
///
/// Per frame (docs/pipeline.md §1, §2.17–§2.19, Appendix A), for each tracked person:
/// * If the previous frame produced a pose, the landmark model runs on the ROI built from that
///   frame's **filtered** auxiliary landmarks, and the detector does not run.
/// * Otherwise (first frame, or the previous frame had no pose) the detector runs. A failing
///   presence (`flag ≤ minTrackingConfidence`) ends the pose for this frame with **no re-detection
///   in the same frame**; the next frame runs the detector.
/// * Smoothing (default on): visibility low-pass and one-euro filters for the pose, world and aux
///   landmarks with MediaPipe's constants and object-scale rule (`PoseTemporalFilter`), mask
///   blending with ratio 0.7. On a frame without the person the pose/aux one-euro filters reset;
///   the visibility, world and mask histories survive the gap (docs/pipeline.md §4.13).
///
/// With `maxPoses == 1` this is exactly MediaPipe's legacy graph. With `maxPoses = N > 1` (not in
/// MediaPipe): every person has its own track and filters; the detector re-runs whenever fewer than
/// N people are tracked, detections centred on a tracked person (`duplicateCenterDistance`) are skipped,
/// and a re-detected person takes back the ID and filter state of a lost track whose last ROI it
/// overlaps (`PoseTracking.assignIDs`, IoU ≥ `reidentificationIoU`).
///
/// Timestamps must strictly increase. A frame whose size differs from the previous frame's starts a
/// new stream: all tracks are dropped and IDs restart at 0 (the filters of the new stream's people
/// start empty). Not thread-safe: one frame at a time (``LivePoseTracker`` feeds it from a camera
/// without blocking).
public final class PoseTracker {
    /// The options in use (`options.landmarker` is the analyzer's own).
    public let options: PoseTrackerOptions
    /// The per-frame stages the tracker drives (a ``PoseLandmarker`` unless injected).
    public let analyzer: PoseFrameAnalyzer
    /// Frames processed since creation or ``reset()``.
    public private(set) var framesProcessed = 0
    /// Frames on which the detector ran since creation or ``reset()``.
    public private(set) var detectorRuns = 0

    private struct Track {
        let id: Int
        var filter: PoseTemporalFilter
        /// ROI for the next frame (nil: the person was not found in the last frame → detector).
        var nextROI: NormalizedRect?
        /// ROI of the last frame with a pose (for re-identification after a loss).
        var lastROI: NormalizedRect
        /// Last filtered mask (kept across gaps, docs/pipeline.md §2.19).
        var previousMask: SegmentationMask?
        var lostFrames = 0
    }

    private var tracks: [Track] = []
    private var nextID = 0
    private var lastTimestamp: Int64?
    private var frameSize: (width: Int, height: Int)?

    /// Loads the models (see ``PoseLandmarker/init(options:)``) and checks the options.
    public convenience init(options: PoseTrackerOptions = .init()) throws {
        try options.validate()
        try self.init(analyzer: PoseLandmarker(options: options.landmarker), options: options)
    }

    /// Tracks with an already loaded ``PoseLandmarker`` (or any ``PoseFrameAnalyzer``); its
    /// `landmarkerOptions` replace `options.landmarker`.
    public init(analyzer: PoseFrameAnalyzer, options: PoseTrackerOptions = .init()) throws {
        var options = options
        options.landmarker = analyzer.landmarkerOptions
        try options.validate()
        self.options = options
        self.analyzer = analyzer
    }

    /// Forgets every track and filter (a new, unrelated stream follows). IDs restart at 0.
    public func reset() {
        tracks = []
        nextID = 0
        lastTimestamp = nil
        frameSize = nil
        framesProcessed = 0
        detectorRuns = 0
    }

    private var tracking: Bool { !options.staticImageMode }
    private var maxPoses: Int { options.landmarker.maxPoses }

    /// Processes the next frame of the stream.
    /// - Parameters:
    ///   - image: RGB8 frame (any size; a size change starts a new stream).
    ///   - timestampMicroseconds: frame time in µs, strictly increasing, preferably > 0 (MediaPipe's
    ///     Python API stamps frame k at `33333·(k+1)`). The filters derive their rate from it.
    /// - Throws: ``PoseTrackerError/nonIncreasingTimestamp(previous:current:)``; errors of the
    ///   landmarker (e.g. `BlazePoseError`) and of the filters (`PoseGeometryError`).
    public func process(_ image: RGBImage, timestampMicroseconds: Int64) throws -> TrackedFrame {
        let start = DispatchTime.now().uptimeNanoseconds
        if let last = lastTimestamp, timestampMicroseconds <= last {
            throw PoseTrackerError.nonIncreasingTimestamp(previous: last, current: timestampMicroseconds)
        }
        if let size = frameSize, size != (image.width, image.height) {
            // A new stream: its people are new people, so ids start again at 0.
            tracks = []
            nextID = 0
        }
        lastTimestamp = timestampMicroseconds
        frameSize = (image.width, image.height)
        let width = image.width, height = image.height
        var timing = PoseTiming()

        // 1. People tracked from the previous frame: landmark model on their ROIs, no detector.
        var found: [(track: Int, pose: Pose, detected: Bool)] = []
        let active = tracking ? activeTrackIndices(width: width, height: height) : []
        let detectorRuns = !tracking || active.count < maxPoses
        let landmarkStart = DispatchTime.now().uptimeNanoseconds
        for index in active {
            guard let roi = tracks[index].nextROI else { continue }
            if let pose = try analyzer.observePose(in: image, roi: roi, detectionScore: nil) {
                found.append((index, pose, false))
            }
        }
        timing.landmarkMilliseconds += milliseconds(since: landmarkStart)

        // 2. Detector: on the first frame, after a loss, in static mode, or when people are missing.
        //    A track that failed just now is *not* re-detected here when maxPoses == 1 (MediaPipe).
        var detectedPoses: [Pose] = []
        if detectorRuns {
            let detectorStart = DispatchTime.now().uptimeNanoseconds
            let candidates = try analyzer.detectionROIs(in: image)
            timing.detectorMilliseconds = milliseconds(since: detectorStart)
            let candidateStart = DispatchTime.now().uptimeNanoseconds
            var slots = maxPoses - found.count
            let trackedROIs = found.map(\.pose.roi)
            for candidate in candidates where slots > 0 {
                if maxPoses > 1, trackedROIs.contains(where: { samePerson(candidate.roi, $0, width: width, height: height) }) {
                    continue
                }
                // The slot is used whether or not presence passes: MediaPipe tries only its first
                // detection and does not fall back to the second.
                slots -= 1
                if let pose = try analyzer.observePose(in: image, roi: candidate.roi, detectionScore: candidate.score) {
                    detectedPoses.append(pose)
                }
            }
            timing.landmarkMilliseconds += milliseconds(since: candidateStart)
            self.detectorRuns += 1
        }

        // 3. IDs for the detected people: back to a lost track, or a new track.
        let matchedTracks = Set(found.map(\.track))
        let assigned = try assignTracks(to: detectedPoses, excluding: matchedTracks, width: width, height: height)
        for (pose, index) in zip(detectedPoses, assigned) { found.append((index, pose, true)) }

        // 4. Temporal filtering per person; tracks without a pose this frame are "lost".
        var output: [TrackedPose] = []
        var withPose = Set<Int>()
        for (index, raw, detected) in found {
            withPose.insert(index)
            let filtered = try tracks[index].filter.update(
                pose: raw.landmarks, world: raw.worldLandmarks, auxiliary: raw.auxiliaryLandmarks,
                timestampMicroseconds: timestampMicroseconds, imageWidth: width, imageHeight: height)
            var mask: SegmentationMask?
            if let rawMask = raw.mask {
                mask = try smoothedMask(rawMask, previous: tracks[index].previousMask)
                tracks[index].previousMask = mask
            }
            let pose = Pose(landmarks: filtered.pose, worldLandmarks: filtered.world, auxiliaryLandmarks: filtered.auxiliary,
                            roi: raw.roi, detectionScore: raw.detectionScore, presence: raw.presence, mask: mask)
            tracks[index].nextROI = tracking ? filtered.nextROI : nil
            tracks[index].lastROI = raw.roi
            tracks[index].lostFrames = 0
            output.append(TrackedPose(id: tracks[index].id, pose: pose, detected: detected))
        }
        for index in tracks.indices where !withPose.contains(index) {
            tracks[index].filter.poseLost()
            tracks[index].nextROI = nil
            tracks[index].lostFrames += 1
        }
        if maxPoses > 1 {
            tracks.removeAll { $0.lostFrames > options.maxLostFrames }
        }
        output.sort { $0.id < $1.id }
        framesProcessed += 1
        return TrackedFrame(index: framesProcessed - 1, timestampMicroseconds: timestampMicroseconds,
                            imageWidth: width, imageHeight: height, detectorRan: detectorRuns, poses: output,
                            timing: timing, totalMilliseconds: milliseconds(since: start))
    }

    /// Indices of tracks with a usable next ROI. In multi-person mode, when two tracks' ROIs are
    /// centred on the same spot (`duplicateCenterDistance`) they have converged on one person: the
    /// younger (higher ID) track is dropped.
    private func activeTrackIndices(width: Int, height: Int) -> [Int] {
        var active: [Int] = []
        for index in tracks.indices {
            guard let roi = tracks[index].nextROI else { continue }
            let finite = [roi.xCenter, roi.yCenter, roi.width, roi.height, roi.rotation].allSatisfy(\.isFinite)
            guard finite, roi.isUsableCropRegion else {
                tracks[index].nextROI = nil
                continue
            }
            active.append(index)
        }
        guard maxPoses > 1, active.count > 1 else { return active }
        var kept: [Int] = []
        // Older tracks (lower ID) first, so the younger duplicate is the one dropped.
        for index in active.sorted(by: { tracks[$0].id < tracks[$1].id }) {
            guard let roi = tracks[index].nextROI else { continue }
            let duplicate = kept.contains { other in
                guard let otherROI = tracks[other].nextROI else { return false }
                return samePerson(roi, otherROI, width: width, height: height)
            }
            if duplicate {
                tracks[index].nextROI = nil   // lost this frame: its filters reset below
            } else {
                kept.append(index)
            }
        }
        return kept.sorted()
    }

    /// Centre distance (pixels) below `duplicateCenterDistance` × the smaller side (pixels).
    private func samePerson(_ a: NormalizedRect, _ b: NormalizedRect, width: Int, height: Int) -> Bool {
        let dx = (a.xCenter - b.xCenter) * Float(width), dy = (a.yCenter - b.yCenter) * Float(height)
        let side = min(a.width * Float(width), b.width * Float(width))
        return (dx * dx + dy * dy).squareRoot() < options.duplicateCenterDistance * side
    }

    /// Track index for each detected pose. `maxPoses == 1`: the single track (created on the first
    /// pose) always continues, as MediaPipe's one-person graph does. Otherwise: ROI-overlap matching
    /// against tracks that have no pose yet this frame; unmatched poses open new tracks.
    private func assignTracks(to poses: [Pose], excluding taken: Set<Int>, width: Int, height: Int) throws -> [Int] {
        guard !poses.isEmpty else { return [] }
        if maxPoses == 1 {
            if tracks.isEmpty { tracks.append(newTrack()) }
            return [0]
        }
        let candidates = tracks.indices.filter { !taken.contains($0) }
        var next = nextID
        let ids = try PoseTracking.assignIDs(previous: candidates.map { (id: tracks[$0].id, rect: tracks[$0].lastROI) },
                                             current: poses.map(\.roi), imageWidth: width, imageHeight: height,
                                             minIoU: options.reidentificationIoU, nextID: &next)
        var result: [Int] = []
        for (id, pose) in zip(ids, poses) {
            if let existing = tracks.firstIndex(where: { $0.id == id }) {
                result.append(existing)
            } else {
                var track = newTrack(id: id)
                track.lastROI = pose.roi
                tracks.append(track)
                result.append(tracks.count - 1)
            }
        }
        nextID = max(nextID, next)
        return result
    }

    private func newTrack(id: Int? = nil) -> Track {
        let id = id ?? nextID
        nextID = max(nextID, id + 1)
        return Track(id: id, filter: PoseTemporalFilter(smoothLandmarks: options.smoothLandmarks && tracking),
                     nextROI: nil, lastROI: NormalizedRect(xCenter: 0, yCenter: 0, width: 0, height: 0),
                     previousMask: nil)
    }

    /// docs/pipeline.md §2.19: blend with the previous filtered mask of the same person (any number of frames
    /// back); no history, a size change, or smoothing off → the mask passes through.
    private func smoothedMask(_ mask: SegmentationMask, previous: SegmentationMask?) throws -> SegmentationMask {
        guard tracking, options.smoothSegmentation, let previous,
              previous.width == mask.width, previous.height == mask.height else { return mask }
        let values = try SegmentationSmoothing.blend(current: mask.values, previous: previous.values,
                                                     ratio: options.segmentationSmoothingRatio)
        return SegmentationMask(width: mask.width, height: mask.height, values: values)
    }
}

@inline(__always)
private func milliseconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}
