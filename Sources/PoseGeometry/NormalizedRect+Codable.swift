/// JSON form `{"x_center","y_center","width","height","rotation"}` (the `"roi"` object of
/// `blazepose detect --json` and Tools/mediapipe/STAGES.md "rect"). Non-finite values are written
/// as `null` and read back as NaN.
extension NormalizedRect: Codable {
    private enum CodingKeys: String, CodingKey {
        case xCenter = "x_center", yCenter = "y_center", width, height, rotation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value(_ key: CodingKeys) throws -> Float {
            try c.decodeNil(forKey: key) ? .nan : c.decode(Float.self, forKey: key)
        }
        self.init(xCenter: try value(.xCenter), yCenter: try value(.yCenter), width: try value(.width),
                  height: try value(.height), rotation: try value(.rotation))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (key, v) in [(CodingKeys.xCenter, xCenter), (.yCenter, yCenter), (.width, width), (.height, height),
                         (.rotation, rotation)] {
            if v.isFinite { try c.encode(v, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
    }
}
