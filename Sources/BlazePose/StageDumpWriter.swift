import BlazeRuntime
import BlazeSupport
import Foundation

/// Writes one pipeline run as a per-stage dump directory in the layout of
/// `Tools/mediapipe/STAGES.md` (schema_version 1), so `Tools/mediapipe/compare_stages.py` can
/// compare it with MediaPipe's own stages.
///
/// Only the first ROI's landmark stages are written (MediaPipe runs one pose). As in MediaPipe's
/// dumps, a stage file exists only when the pipeline produced that stage: with no detection the
/// dump ends at `detections_before_nms`; when the presence gate fails it ends at `pose_presence`.
public struct StageDumpWriter {
    public let directory: URL
    private var stages: [(String, String)] = []   // (name, manifest entry JSON)

    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw BlazePoseError.invalidOption(name: "dump directory", value: directory.path,
                                               reason: "cannot create it: \(error.localizedDescription)")
        }
    }

    private mutating func npy(_ name: String, floats: [Float], shape: [Int]) throws {
        try NPYArray(floats: floats, shape: shape).write(to: directory.appendingPathComponent(name + ".npy"))
        record(name, npy: "float32", shape: shape)
    }

    private mutating func npy(_ name: String, bytes: [UInt8], shape: [Int]) throws {
        try NPYArray(uint8s: bytes, shape: shape).write(to: directory.appendingPathComponent(name + ".npy"))
        record(name, npy: "uint8", shape: shape)
    }

    private mutating func record(_ name: String, npy dtype: String, shape: [Int]) {
        stages.append((name, JSONText.object([("file", JSONText.string(name + ".npy")), ("format", "\"npy\""),
                                              ("dtype", JSONText.string(dtype)),
                                              ("shape", JSONText.array(shape.map(String.init)))])))
    }

    private mutating func json(_ name: String, _ text: String) throws {
        try write(text + "\n", to: name + ".json")
        stages.append((name, JSONText.object([("file", JSONText.string(name + ".json")), ("format", "\"json\"")])))
    }

    private func write(_ text: String, to file: String) throws {
        let url = directory.appendingPathComponent(file)
        do {
            try Data(text.utf8).write(to: url)
        } catch {
            throw BlazePoseError.invalidOption(name: "dump file", value: url.path,
                                               reason: "cannot write: \(error.localizedDescription)")
        }
    }

    private static func detectionText(_ d: Detection) -> String {
        JSONText.object([("score", JSONText.number(d.score)), ("xmin", JSONText.number(d.xMin)),
                         ("ymin", JSONText.number(d.yMin)), ("width", JSONText.number(d.width)),
                         ("height", JSONText.number(d.height)),
                         ("keypoints", JSONText.array(d.keypoints.map {
                             JSONText.array([JSONText.number($0.x), JSONText.number($0.y)])
                         }))])
    }

    private static func rows(_ list: [Landmark]) -> String {
        JSONText.array(list.map {
            JSONText.array([$0.x, $0.y, $0.z, $0.visibility, $0.presence].map { JSONText.number($0) })
        })
    }

    /// Writes every stage of `detector` and `landmarks` (the first ROI's) plus `manifest.json`.
    /// With `detector == nil` (a ROI given by the caller) only the landmark stages are written.
    public mutating func write(imageName: String, imageWidth: Int, imageHeight: Int, options: PoseLandmarkerOptions,
                               detector: DetectorStages?, landmarks: LandmarkStages?) throws {
        let s = PoseLandmarker.detectorSize
        var poseFound = false
        if let detector {
        try npy("detector_input", floats: detector.input, shape: [1, s, s, 3])
        try npy("detector_input_u8", bytes: detector.inputBytes, shape: [s, s, 3])
        try npy("detector_raw_boxes", floats: detector.rawBoxes, shape: [1, detector.rawScores.count, 12])
        try npy("detector_raw_scores", floats: detector.rawScores, shape: [1, detector.rawScores.count, 1])
        try json("detections_before_nms", JSONText.array(detector.detectionsBeforeNMS.map(Self.detectionText)))
        if !detector.detectionsAfterNMS.isEmpty {
            try json("detections_after_nms", JSONText.array(detector.detectionsAfterNMS.map(Self.detectionText)))
            try json("detections_unletterboxed", JSONText.array(detector.detections.map(Self.detectionText)))
            try json("detection", Self.detectionText(detector.detections[0]))
            if let candidate = detector.candidates.first, candidate.detection == detector.detections[0] {
                try json("roi_alignment", candidate.alignmentRect.jsonText)
                try json("roi", candidate.roi.jsonText)
            }
        }
        }
        if let l = landmarks {
            let c = PoseLandmarker.cropSize
            try npy("landmark_input", floats: l.input, shape: [1, c, c, 3])
            try npy("landmark_input_u8", bytes: l.inputBytes, shape: [c, c, 3])
            try npy("landmark_raw_landmarks", floats: l.rawLandmarks, shape: [1, l.rawLandmarks.count])
            try npy("landmark_raw_poseflag", floats: [l.rawPoseFlag], shape: [1, 1])
            let (mw, mh) = l.segmentationSize
            try npy("landmark_raw_segmentation", floats: l.rawSegmentation, shape: [1, mh, mw, 1])
            try npy("landmark_raw_heatmap", floats: l.rawHeatmap, shape: [1, 64, 64, 39])
            try npy("landmark_raw_world", floats: l.rawWorld, shape: [1, l.rawWorld.count])
            try json("pose_presence", JSONText.object([("score", JSONText.number(l.rawPoseFlag)),
                                                       ("present", l.present ? "true" : "false")]))
            if let decoded = l.decoded, let refined = l.refined, let pose = l.pose {
                poseFound = true
                try json("landmarks_decoded", Self.rows(decoded))
                try json("landmarks_refined", Self.rows(refined))
                try json("landmarks_projected", Self.rows(pose.landmarks))
                try json("auxiliary_projected", Self.rows(pose.auxiliaryLandmarks))
                try json("world_landmarks", Self.rows(pose.worldLandmarks))
                // Static mode: MediaPipe's smoothing nodes pass the first sample through, so the
                // final streams equal the projected ones (up to a float32 pixel round trip).
                try json("landmarks_final", Self.rows(pose.landmarks))
                try json("world_landmarks_final", Self.rows(pose.worldLandmarks))
                try json("auxiliary_filtered", Self.rows(pose.auxiliaryLandmarks))
                if let next = try pose.nextROI(imageWidth: imageWidth, imageHeight: imageHeight) {
                    try json("roi_from_landmarks", next.jsonText)
                }
                if let maskROI = l.maskROI, let mask = pose.mask {
                    try npy("mask_roi", floats: maskROI, shape: [mh, mw])
                    try npy("mask", floats: mask.values, shape: [mask.height, mask.width])
                }
            }
        }
        let manifest = JSONText.object([
            ("schema_version", "1"),
            ("producer", JSONText.string("blazepose-swift (blazepose detect --dump-stages)")),
            ("image", JSONText.string(imageName)),
            ("image_size", JSONText.array(["\(imageWidth)", "\(imageHeight)"])),
            ("model", JSONText.string(options.modelComplexity.rawValue)),
            ("heatmap_kernel", "\(options.heatmapKernelSize)"),
            ("pose_found", poseFound ? "true" : "false"),
            ("min_detection_confidence", JSONText.number(options.minDetectionConfidence)),
            ("min_tracking_confidence", JSONText.number(options.minTrackingConfidence)),
            ("roi_source", JSONText.string(detector == nil ? "given (--roi-json)" : "detector")),
            ("stages", JSONText.object(stages)),
        ])
        try write(manifest + "\n", to: "manifest.json")
    }
}
