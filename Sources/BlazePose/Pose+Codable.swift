import Foundation

// The Codable forms use the keys of the command line's JSON (README "JSON format"), so a
// `JSONEncoder` document and `blazepose detect --json` / `track --jsonl` share one schema:
// decoding either gives the same values. Keys the command line does not write are Swift-only
// extensions, written by the encoder and optional when decoding.

/// A landmark with its `"name"`, as the command line writes it (the name is ignored when decoding).
private struct NamedLandmark: Codable {
    var name: String
    var landmark: Landmark

    private enum CodingKeys: String, CodingKey { case name }

    init(name: String, landmark: Landmark) {
        self.name = name
        self.landmark = landmark
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        landmark = try Landmark(from: decoder)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try landmark.encode(to: encoder)
    }

    static func list(_ landmarks: [Landmark]) -> [NamedLandmark] {
        landmarks.enumerated().map { i, l in
            NamedLandmark(name: PoseLandmark(rawValue: i)?.name ?? "landmark_\(i)", landmark: l)
        }
    }
}

/// `{"score","presence","roi","landmarks","world_landmarks"}` as in `detect --json` (landmark
/// objects with `"name"`; `score` null when the ROI did not come from the detector), plus the
/// Swift-only `"auxiliary_landmarks"` (2 unnamed landmark objects) and `"mask"` (only when
/// present). Decoding accepts documents without the Swift-only keys (`auxiliaryLandmarks = []`,
/// `mask = nil`), e.g. the command line's output.
extension Pose: Codable {
    enum CodingKeys: String, CodingKey {
        case score, presence, roi, landmarks
        case worldLandmarks = "world_landmarks", auxiliaryLandmarks = "auxiliary_landmarks", mask
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let presence = try c.decodeNil(forKey: .presence) ? Float.nan : try c.decode(Float.self, forKey: .presence)
        self.init(landmarks: try c.decode([NamedLandmark].self, forKey: .landmarks).map(\.landmark),
                  worldLandmarks: try c.decode([NamedLandmark].self, forKey: .worldLandmarks).map(\.landmark),
                  auxiliaryLandmarks: try c.decodeIfPresent([Landmark].self, forKey: .auxiliaryLandmarks) ?? [],
                  roi: try c.decode(NormalizedRect.self, forKey: .roi),
                  detectionScore: try c.decodeIfPresent(Float.self, forKey: .score),
                  presence: presence,
                  mask: try c.decodeIfPresent(SegmentationMask.self, forKey: .mask))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let detectionScore, detectionScore.isFinite {
            try c.encode(detectionScore, forKey: .score)
        } else {
            try c.encodeNil(forKey: .score)
        }
        if presence.isFinite { try c.encode(presence, forKey: .presence) } else { try c.encodeNil(forKey: .presence) }
        try c.encode(roi, forKey: .roi)
        try c.encode(NamedLandmark.list(landmarks), forKey: .landmarks)
        try c.encode(NamedLandmark.list(worldLandmarks), forKey: .worldLandmarks)
        try c.encode(auxiliaryLandmarks, forKey: .auxiliaryLandmarks)
        try c.encodeIfPresent(mask, forKey: .mask)
    }
}

/// `{"width","height","values":[…width·height]}` (Swift-only; the command line writes masks as PNG).
extension SegmentationMask: Codable {
    private enum CodingKeys: String, CodingKey { case width, height, values }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let width = try c.decode(Int.self, forKey: .width), height = try c.decode(Int.self, forKey: .height)
        let values = try c.decode([Float].self, forKey: .values)
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, count == values.count else {
            throw DecodingError.dataCorruptedError(forKey: .values, in: c,
                                                   debugDescription: "mask \(width)x\(height) needs \(width)·\(height) values, got \(values.count)")
        }
        self.init(width: width, height: height, values: values)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(values, forKey: .values)
    }
}

/// `{"detector","landmark"}` milliseconds (the `timing_ms` keys of `detect --json`; the command
/// line adds `decode` and `total`, which decoding ignores).
extension PoseTiming: Codable {
    private enum CodingKeys: String, CodingKey {
        case detector, landmark
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        detectorMilliseconds = try c.decodeIfPresent(Double.self, forKey: .detector) ?? 0
        landmarkMilliseconds = try c.decodeIfPresent(Double.self, forKey: .landmark) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(detectorMilliseconds, forKey: .detector)
        try c.encode(landmarkMilliseconds, forKey: .landmark)
    }
}

/// `{"image":{"width","height"},"poses":[…],"timing_ms":{"detector","landmark"}}`: the document of
/// `blazepose detect --json` without `"model"` and the `decode`/`total` timings (which decoding ignores).
extension PoseResult: Codable {
    private enum CodingKeys: String, CodingKey {
        case image, poses, timing = "timing_ms"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let image = try c.decode(ImageSize.self, forKey: .image)
        self.init(imageWidth: image.width, imageHeight: image.height, poses: try c.decode([Pose].self, forKey: .poses),
                  timing: try c.decodeIfPresent(PoseTiming.self, forKey: .timing) ?? PoseTiming())
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ImageSize(width: imageWidth, height: imageHeight), forKey: .image)
        try c.encode(poses, forKey: .poses)
        try c.encode(timing, forKey: .timing)
    }
}

/// `{"width","height"}`.
struct ImageSize: Codable {
    var width: Int
    var height: Int
}
