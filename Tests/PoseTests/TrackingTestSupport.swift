import Foundation
import PoseImage
import BlazeTestSupport
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

