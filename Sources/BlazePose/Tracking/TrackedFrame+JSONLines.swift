import Foundation

extension TrackedFrame {
    /// One JSON Lines record (with the trailing newline) for `blazepose track --jsonl`:
    /// `{"frame":i,"timestamp_ms":t,"detector_ran":bool,"poses":[{"id":n,"score","presence","roi":{…},
    /// "landmarks":[…33],"world_landmarks":[…33]}]}` — each pose object is the one of
    /// `blazepose detect --json` plus `"id"` (``TrackedPose/id``); `score` is the detection score
    /// when the ROI came from the detector on this frame, `null` when it was tracked.
    /// `timestamp_ms` is ``timestampMicroseconds`` / 1000.
    public func jsonLine() -> String {
        func landmarkList(_ list: [Landmark]) -> String {
            JSONText.array(list.enumerated().map { i, l in
                JSONText.object([("name", JSONText.string(PoseLandmark(rawValue: i)?.name ?? "landmark_\(i)")),
                                 ("x", JSONText.number(l.x)), ("y", JSONText.number(l.y)), ("z", JSONText.number(l.z)),
                                 ("visibility", JSONText.number(l.visibility)),
                                 ("presence", JSONText.number(l.presence))])
            })
        }
        let poseTexts = poses.map { tracked in
            let pose = tracked.pose
            return JSONText.object([("id", "\(tracked.id)"),
                                    ("score", pose.detectionScore.map { JSONText.number($0) } ?? "null"),
                                    ("presence", JSONText.number(pose.presence)),
                                    ("roi", pose.roi.jsonText),
                                    ("landmarks", landmarkList(pose.landmarks)),
                                    ("world_landmarks", landmarkList(pose.worldLandmarks))])
        }
        return JSONText.object([
            ("frame", "\(index)"),
            ("timestamp_ms", JSONText.number(Double(timestampMicroseconds) / 1000)),
            ("detector_ran", detectorRan ? "true" : "false"),
            ("poses", JSONText.array(poseTexts)),
        ]) + "\n"
    }
}
