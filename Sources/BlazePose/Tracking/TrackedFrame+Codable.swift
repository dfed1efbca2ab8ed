import Foundation

/// `{"id", …the pose object of ``Pose``'s Codable form…}` as in `track --jsonl`, plus the
/// Swift-only `"detected"`. Decoding a command-line pose (no `"detected"`) sets
/// ``TrackedPose/detected`` to `score != null`, which is what the tracker does.
extension TrackedPose: Codable {
    private enum CodingKeys: String, CodingKey { case id, detected }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let pose = try Pose(from: decoder)
        self.init(id: try c.decode(Int.self, forKey: .id), pose: pose,
                  detected: try c.decodeIfPresent(Bool.self, forKey: .detected) ?? (pose.detectionScore != nil))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(detected, forKey: .detected)
        try pose.encode(to: encoder)
    }
}

/// `{"frame","timestamp_ms","detector_ran","poses":[…]}` as in `track --jsonl`
/// (`timestamp_ms` = µs / 1000, read back rounded to whole µs), plus the Swift-only
/// `"image":{"width","height"}` and `"timing_ms":{"detector","landmark","total"}`, which decode
/// to 0 when absent (the command line's lines do not carry them).
extension TrackedFrame: Codable {
    private enum CodingKeys: String, CodingKey {
        case frame, timestampMilliseconds = "timestamp_ms", image, detectorRan = "detector_ran", poses
        case timing = "timing_ms"
    }

    private enum TimingKeys: String, CodingKey { case detector, landmark, total }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let milliseconds = try c.decode(Double.self, forKey: .timestampMilliseconds)
        let microseconds = (milliseconds * 1000).rounded()
        guard microseconds.isFinite, abs(microseconds) < 9e18 else {
            throw DecodingError.dataCorruptedError(forKey: .timestampMilliseconds, in: c,
                                                   debugDescription: "timestamp \(milliseconds) ms is out of range")
        }
        let image = try c.decodeIfPresent(ImageSize.self, forKey: .image)
        var timing = PoseTiming(), total = 0.0
        if c.contains(.timing) {
            let t = try c.nestedContainer(keyedBy: TimingKeys.self, forKey: .timing)
            timing.detectorMilliseconds = try t.decodeIfPresent(Double.self, forKey: .detector) ?? 0
            timing.landmarkMilliseconds = try t.decodeIfPresent(Double.self, forKey: .landmark) ?? 0
            total = try t.decodeIfPresent(Double.self, forKey: .total) ?? 0
        }
        self.init(index: try c.decode(Int.self, forKey: .frame), timestampMicroseconds: Int64(microseconds),
                  imageWidth: image?.width ?? 0, imageHeight: image?.height ?? 0,
                  detectorRan: try c.decode(Bool.self, forKey: .detectorRan),
                  poses: try c.decode([TrackedPose].self, forKey: .poses), timing: timing, totalMilliseconds: total)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .frame)
        try c.encode(Double(timestampMicroseconds) / 1000, forKey: .timestampMilliseconds)
        try c.encode(ImageSize(width: imageWidth, height: imageHeight), forKey: .image)
        try c.encode(detectorRan, forKey: .detectorRan)
        try c.encode(poses, forKey: .poses)
        var t = c.nestedContainer(keyedBy: TimingKeys.self, forKey: .timing)
        try t.encode(timing.detectorMilliseconds, forKey: .detector)
        try t.encode(timing.landmarkMilliseconds, forKey: .landmark)
        try t.encode(totalMilliseconds, forKey: .total)
    }
}
