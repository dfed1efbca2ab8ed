import BlazePose
import Foundation
import XCTest

/// One frame of `Tests/Fixtures/video/<model>.jsonl` (written by Tools/mediapipe/video_reference.py
/// from MediaPipe 0.10.14's video-mode graph, verified equal to `mp.solutions.pose`).
struct MediaPipeVideoFrame {
    var frame: Int
    var timestampMicroseconds: Int64
    var detectorRan: Bool
    var detections: Int?
    var presence: Float?
    /// ROI the landmark model ran on (from the detector this frame, or the previous frame's next ROI).
    var roi: NormalizedRect?
    var poseFound: Bool
    /// Filtered outputs (x, y, z, visibility).
    var landmarks: [Landmark] = []
    var worldLandmarks: [Landmark] = []
    var auxiliary: [Landmark] = []
    var nextROI: NormalizedRect?
    /// Smoothing inputs (x, y, z, visibility, presence; world: x, y, z + the image landmarks' scores).
    var unfilteredLandmarks: [Landmark] = []
    var unfilteredWorldLandmarks: [Landmark] = []
    var unfilteredAuxiliary: [Landmark] = []
    var maskMean: Double?
    var maskFractionAboveHalf: Double?
    /// `packbits(mask > 0.5)` (row-major, MSB first) for a few frames.
    var maskBits: [UInt8]?
}

enum MediaPipeVideoReference {
    static func load(_ model: ModelComplexity) throws -> [MediaPipeVideoFrame] {
        let data = try readPackageFile("Tests/Fixtures/video/\(model.rawValue).jsonl",
                                       hint: "regenerate with Tools/mediapipe/video_reference.py")
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.count > 1 else { throw TrackingFixtureError(description: "\(model.rawValue).jsonl has no frames") }
        return try lines.dropFirst().map { line in
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw TrackingFixtureError(description: "\(model.rawValue).jsonl: a line is not a JSON object")
            }
            return try parse(o)
        }
    }

    private static func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }

    private static func rect(_ v: Any?) -> NormalizedRect? {
        guard let a = v as? [NSNumber], a.count == 5 else { return nil }
        return NormalizedRect(xCenter: a[0].floatValue, yCenter: a[1].floatValue, width: a[2].floatValue,
                              height: a[3].floatValue, rotation: a[4].floatValue)
    }

    private static func rows(_ v: Any?, scores: [Landmark]? = nil) throws -> [Landmark] {
        guard let list = v as? [[NSNumber]] else { return [] }
        return try list.enumerated().map { i, r in
            guard r.count >= 3 else { throw TrackingFixtureError(description: "landmark row with \(r.count) values") }
            let vis = r.count > 3 ? r[3].floatValue : (scores?[i].visibility ?? 0)
            let pres = r.count > 4 ? r[4].floatValue : (scores?[i].presence ?? 0)
            return Landmark(x: r[0].floatValue, y: r[1].floatValue, z: r[2].floatValue, visibility: vis, presence: pres)
        }
    }

    private static func parse(_ o: [String: Any]) throws -> MediaPipeVideoFrame {
        guard let frame = o["frame"] as? Int, let ts = o["timestamp_us"] as? Int, let ran = o["detector_ran"] as? Bool,
              let found = o["pose_found"] as? Bool else {
            throw TrackingFixtureError(description: "reference frame lacks frame/timestamp_us/detector_ran/pose_found")
        }
        var f = MediaPipeVideoFrame(frame: frame, timestampMicroseconds: Int64(ts), detectorRan: ran,
                                    detections: o["detections"] as? Int, presence: number(o["presence"]).map(Float.init),
                                    roi: rect(o["roi"]), poseFound: found)
        guard found else { return f }
        f.landmarks = try rows(o["landmarks"])
        f.worldLandmarks = try rows(o["world_landmarks"])
        f.auxiliary = try rows(o["auxiliary"])
        f.nextROI = rect(o["next_roi"])
        f.unfilteredLandmarks = try rows(o["unfiltered_landmarks"])
        f.unfilteredWorldLandmarks = try rows(o["unfiltered_world_landmarks"], scores: f.unfilteredLandmarks)
        f.unfilteredAuxiliary = try rows(o["unfiltered_auxiliary"])
        guard f.landmarks.count == 33, f.worldLandmarks.count == 33, f.auxiliary.count == 2,
              f.unfilteredLandmarks.count == 33, f.unfilteredWorldLandmarks.count == 33, f.unfilteredAuxiliary.count == 2 else {
            throw TrackingFixtureError(description: "reference frame \(frame): wrong landmark counts")
        }
        if let mask = o["mask"] as? [String: Any] {
            f.maskMean = number(mask["mean"])
            f.maskFractionAboveHalf = number(mask["fraction_above_0_5"])
            if let b64 = mask["bits_above_0_5"] as? String, let bits = Data(base64Encoded: b64) {
                f.maskBits = [UInt8](bits)
            }
        }
        return f
    }
}

/// Replays recorded per-frame stage outputs through a ``PoseTracker`` (no models): the detector
/// returns the recorded detection ROI on frames where the reference ran it, the landmark stage
/// returns the recorded unfiltered outputs. Every ROI the tracker asks for is recorded.
final class ReplayAnalyzer: PoseFrameAnalyzer {
    var landmarkerOptions: PoseLandmarkerOptions
    /// Per frame: detection ROIs (best first) and, per ROI the tracker may ask for, the observation.
    var detections: [[(roi: NormalizedRect, score: Float)]]
    /// Returns the observation for (frame, requested ROI) — nil = presence failed.
    var observe: (Int, NormalizedRect, Float?) -> Pose?
    var frame = 0
    private(set) var requests: [(frame: Int, roi: NormalizedRect, detection: Bool)] = []
    private(set) var detectorCalls: [Int] = []

    init(options: PoseLandmarkerOptions, detections: [[(roi: NormalizedRect, score: Float)]],
         observe: @escaping (Int, NormalizedRect, Float?) -> Pose?) {
        landmarkerOptions = options
        self.detections = detections
        self.observe = observe
    }

    func detectionROIs(in image: RGBImage) throws -> [(roi: NormalizedRect, score: Float)] {
        detectorCalls.append(frame)
        return frame < detections.count ? detections[frame] : []
    }

    func observePose(in image: RGBImage, roi: NormalizedRect, detectionScore: Float?) throws -> Pose? {
        requests.append((frame, roi, detectionScore != nil))
        return observe(frame, roi, detectionScore)
    }
}

/// Largest |a − b| over x, y, z (and visibility when `visibility`), landmark by landmark.
func maxAbsDifference(_ a: [Landmark], _ b: [Landmark], visibility: Bool = true) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (p, q) in zip(a, b) {
        worst = max(worst, abs(p.x - q.x), abs(p.y - q.y), abs(p.z - q.z))
        if visibility { worst = max(worst, abs(p.visibility - q.visibility)) }
    }
    return worst
}

func maxAbsDifference(_ a: NormalizedRect, _ b: NormalizedRect) -> Float {
    var dr = abs(a.rotation - b.rotation)
    dr = min(dr, abs(dr - 2 * .pi))
    return max(abs(a.xCenter - b.xCenter), abs(a.yCenter - b.yCenter), abs(a.width - b.width), abs(a.height - b.height), dr)
}
