import Foundation
import PoseImage
import XCTest

/// Helpers shared by the tracking tests: package paths, the synthetic video sequence, SHA-256.

/// The package root, found from this file's path (`Tests/PoseTests/…`) so tests run from anywhere.
let trackingPackageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A test-fixture error that names the missing/broken file (tests fail, they never skip).
struct TrackingFixtureError: Error, CustomStringConvertible {
    let description: String
}

/// Reads a file relative to the package root or throws a clear error.
func readPackageFile(_ relativePath: String, hint: String) throws -> Data {
    let url = trackingPackageRoot.appendingPathComponent(relativePath)
    guard let data = FileManager.default.contents(atPath: url.path) else {
        throw TrackingFixtureError(description: "missing \(url.path) (\(hint))")
    }
    return data
}

/// The 48-frame pan/zoom test sequence of `Tools/mediapipe/video_make_sequence.py`, regenerated
/// bit-exactly from `Tests/Fixtures/video/sequence.json` (per-frame OpenCV warp matrices over
/// `Tests/Fixtures/images/astronaut.png`, uniform grey no-person frames).
struct TrackingSequence {
    struct Frame {
        let index: Int
        let source: String
        let timestampMicroseconds: Int64
        /// Forward 3×3 homography (source px → frame px), row-major; nil for grey frames.
        let matrix: [Double]?
        let sha256: String
    }

    let width: Int
    let height: Int
    let frames: [Frame]

    static func load() throws -> TrackingSequence {
        let data = try readPackageFile("Tests/Fixtures/video/sequence.json",
                                       hint: "regenerate with Tools/mediapipe/video_make_sequence.py")
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let width = root["width"] as? Int, let height = root["height"] as? Int,
              let list = root["frames"] as? [[String: Any]] else {
            throw TrackingFixtureError(description: "sequence.json: missing width/height/frames")
        }
        var frames: [Frame] = []
        for (k, f) in list.enumerated() {
            guard let source = f["source"] as? String, let ts = f["timestamp_us"] as? Int,
                  let sha = f["sha256"] as? String else {
                throw TrackingFixtureError(description: "sequence.json: frame \(k) lacks source/timestamp_us/sha256")
            }
            var matrix: [Double]? = nil
            if let hex = f["matrix_f64_hex"] as? [String] {
                // Bit patterns, not decimals: the exact float64 matrix cv2 used.
                let values = hex.compactMap { UInt64($0, radix: 16).map(Double.init(bitPattern:)) }
                guard values.count == 9 else {
                    throw TrackingFixtureError(description: "sequence.json: frame \(k) matrix is not 9 hex float64")
                }
                matrix = values
            }
            frames.append(Frame(index: k, source: source, timestampMicroseconds: Int64(ts), matrix: matrix, sha256: sha))
        }
        return TrackingSequence(width: width, height: height, frames: frames)
    }

    /// Renders every frame (RGB8, `width × height`).
    func render() throws -> [RGBImage] {
        var sources: [String: RGBImage] = [:]
        return try frames.map { frame in
            if frame.source == "gray128" {
                return try RGBImage(width: width, height: height, fill: RGBColor(r: 128, g: 128, b: 128))
            }
            guard let matrix = frame.matrix else {
                throw TrackingFixtureError(description: "frame \(frame.index): source \(frame.source) without matrix")
            }
            let image: RGBImage
            if let cached = sources[frame.source] {
                image = cached
            } else {
                let path = trackingPackageRoot.appendingPathComponent("Tests/Fixtures/images/\(frame.source)").path
                image = try RGBImage(pngFile: path)
                sources[frame.source] = image
            }
            let pixels = try warpPerspectiveRGB8(image: image, forward: matrix, outputWidth: width,
                                                 outputHeight: height, border: .zero)
            return try RGBImage(width: width, height: height, pixels: pixels)
        }
    }
}

/// SHA-256 (FIPS 180-4) of `bytes`, lower-case hex. Written here because Foundation on Linux has
/// no digest API and the package takes no crypto dependency; checked against the standard test
/// vectors in `TrackingSequenceTests`.
func sha256Hex(_ bytes: [UInt8]) -> String {
    let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    // Padding: 0x80, zeros to 56 mod 64, then the bit length big-endian.
    var message = bytes
    let bitLength = UInt64(bytes.count) &* 8
    message.append(0x80)
    while message.count % 64 != 56 { message.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) { message.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: message.count, by: 64) {
        for i in 0..<16 {
            let b = chunk + 4 * i
            w[i] = UInt32(message[b]) << 24 | UInt32(message[b + 1]) << 16 | UInt32(message[b + 2]) << 8 | UInt32(message[b + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        for i in 0..<64 {
            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
        h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
    }
    return h.map { word in
        let s = String(word, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }.joined()
}
