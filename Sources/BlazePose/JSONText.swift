import BlazeRuntime
import BlazeSupport
/// A tiny JSON text builder with a fixed key order, so output is stable and diffable.
/// Floats are written with Swift's shortest round-trip representation (parsing the text gives
/// back the exact Float); non-finite values become `null` (JSON has no NaN/Infinity).
struct JSONText {
    private(set) var text = ""

    static func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }
    static func number(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }

    static func string(_ s: String) -> String { "\"" + jsonEscape(s) + "\"" }

    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
}

extension NormalizedRect {
    /// `{"x_center", "y_center", "width", "height", "rotation"}` (STAGES.md "rect").
    var jsonText: String {
        JSONText.object([("x_center", JSONText.number(xCenter)), ("y_center", JSONText.number(yCenter)),
                         ("width", JSONText.number(width)), ("height", JSONText.number(height)),
                         ("rotation", JSONText.number(rotation))])
    }
}

extension PoseResult {
    /// The `blazepose detect --json` document (documented in README.md):
    /// `{"image":{"width","height"},"model","poses":[{"score","presence","roi":{…},"landmarks":[…33],
    /// "world_landmarks":[…33]}],"timing_ms":{"decode","detector","landmark","total"}}`.
    /// Landmark objects: `{"name","x","y","z","visibility","presence"}`. A pose whose ROI came
    /// from a caller rather than the detector has `"score": null`.
    public func jsonText(model: String, decodeMilliseconds: Double, totalMilliseconds: Double) -> String {
        let poseTexts = poses.map { $0.jsonText(id: nil) }
        return JSONText.object([
            ("image", JSONText.object([("width", "\(imageWidth)"), ("height", "\(imageHeight)")])),
            ("model", JSONText.string(model)),
            ("poses", JSONText.array(poseTexts)),
            ("timing_ms", JSONText.object([("decode", JSONText.number(decodeMilliseconds)),
                                           ("detector", JSONText.number(timing.detectorMilliseconds)),
                                           ("landmark", JSONText.number(timing.landmarkMilliseconds)),
                                           ("total", JSONText.number(totalMilliseconds))])),
        ]) + "\n"
    }
}

extension Pose {
    /// The pose object of `detect --json` and `track --jsonl`: `{["id",] "score", "presence",
    /// "roi":{…}, "landmarks":[…33], "world_landmarks":[…33]}` with landmark objects
    /// `{"name","x","y","z","visibility","presence"}`. `score` is null when the ROI did not come
    /// from the detector on this image; `id` is written only when given (tracking).
    func jsonText(id: Int?) -> String {
        func landmarkList(_ list: [Landmark]) -> String {
            JSONText.array(list.enumerated().map { i, l in
                JSONText.object([("name", JSONText.string(PoseLandmark(rawValue: i)?.name ?? "landmark_\(i)")),
                                 ("x", JSONText.number(l.x)), ("y", JSONText.number(l.y)), ("z", JSONText.number(l.z)),
                                 ("visibility", JSONText.number(l.visibility)),
                                 ("presence", JSONText.number(l.presence))])
            })
        }
        var fields: [(String, String)] = id.map { [("id", "\($0)")] } ?? []
        fields += [("score", detectionScore.map { JSONText.number($0) } ?? "null"),
                   ("presence", JSONText.number(presence)),
                   ("roi", roi.jsonText),
                   ("landmarks", landmarkList(landmarks)),
                   ("world_landmarks", landmarkList(worldLandmarks))]
        return JSONText.object(fields)
    }
}
