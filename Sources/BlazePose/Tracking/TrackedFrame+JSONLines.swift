import Foundation

extension TrackedFrame {
    /// One JSON Lines record (with the trailing newline) for `blazepose track --jsonl`:
    /// `{"frame":i,"timestamp_ms":t,"detector_ran":bool,"poses":[{"id":n,"score","presence","roi":{…},
    /// "landmarks":[…33],"world_landmarks":[…33]}]}` — each pose object is the one of
    /// `blazepose detect --json` plus `"id"` (``TrackedPose/id``); `score` is the detection score
    /// when the ROI came from the detector on this frame, `null` when it was tracked.
    /// `timestamp_ms` is ``timestampMicroseconds`` / 1000.
    public func jsonLine() -> String {
        let poseTexts = poses.map { $0.pose.jsonText(id: $0.id) }
        return JSONText.object([
            ("frame", "\(index)"),
            ("timestamp_ms", JSONText.number(Double(timestampMicroseconds) / 1000)),
            ("detector_ran", detectorRan ? "true" : "false"),
            ("poses", JSONText.array(poseTexts)),
        ]) + "\n"
    }
}
