/// JSON form `{"x","y","z","visibility","presence"}` — the landmark object of `blazepose detect
/// --json` without its `"name"` (a ``Landmark`` does not know its index; pose encoders add it,
/// decoders ignore it). A non-finite value is written as `null` and read back as NaN, as the
/// command line does.
extension Landmark: Codable {
    private enum CodingKeys: String, CodingKey {
        case x, y, z, visibility, presence
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value(_ key: CodingKeys) throws -> Float {
            try c.decodeNil(forKey: key) ? .nan : c.decode(Float.self, forKey: key)
        }
        self.init(x: try value(.x), y: try value(.y), z: try value(.z),
                  visibility: try value(.visibility), presence: try value(.presence))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (key, v) in [(CodingKeys.x, x), (.y, y), (.z, z), (.visibility, visibility), (.presence, presence)] {
            if v.isFinite { try c.encode(v, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
    }
}
