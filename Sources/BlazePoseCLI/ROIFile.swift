import BlazePose
import BlazeSupport
import Foundation

/// Reads a STAGES.md "rect" JSON file (`--roi-json`) into a ROI:
/// `{"x_center", "y_center", "width", "height", "rotation"}`, image-normalized, radians.
///
/// The file is read boundedly (a regular file of at most 1 MiB; a FIFO is an error, not a hang) and
/// type-checked with `JSONDecoder`: every key must be present and a finite JSON number. `true`,
/// `"0.5"`, `null`, and values that overflow Float are errors naming the key (JSONSerialization,
/// used before, bridged `true` to 1).
func readROI(_ path: String) throws -> NormalizedRect {
    let bytes: [UInt8]
    do { bytes = try RegularFile.contents(ofFile: path, limit: 1 << 20, what: "ROI file") } catch {
        throw CLIError("--roi-json: cannot read \(error)")
    }
    let rect: ROIFile
    do { rect = try JSONDecoder().decode(ROIFile.self, from: Data(bytes)) } catch let error as DecodingError {
        throw CLIError("--roi-json \(path): \(ROIFile.explain(error))")
    }
    return NormalizedRect(xCenter: try rect.value(rect.x_center, "x_center", path), yCenter: try rect.value(rect.y_center, "y_center", path),
                          width: try rect.value(rect.width, "width", path), height: try rect.value(rect.height, "height", path),
                          rotation: try rect.value(rect.rotation, "rotation", path))
}

/// The JSON object of a `--roi-json` file; other keys are ignored.
struct ROIFile: Decodable {
    // swiftlint:disable identifier_name — the JSON keys.
    var x_center: Double
    var y_center: Double
    var width: Double
    var height: Double
    var rotation: Double

    /// `v` as a finite Float, else an error naming `key`.
    func value(_ v: Double, _ key: String, _ path: String) throws -> Float {
        guard v.isFinite, Float(v).isFinite else { throw CLIError("--roi-json \(path): \"\(key)\" must be a finite number, got \(v)") }
        return Float(v)
    }

    /// One line for a decoding failure: which key, and what was wrong with it.
    static func explain(_ error: DecodingError) -> String {
        func key(_ path: [CodingKey]) -> String { path.last.map { "\"\($0.stringValue)\"" } ?? "the top level" }
        switch error {
        case let .typeMismatch(type, context):
            return context.codingPath.isEmpty ? "not a JSON object" : "\(key(context.codingPath)) must be a number (expected \(type))"
        case let .valueNotFound(_, context):
            return "\(key(context.codingPath)) must be a number, got null"
        case let .keyNotFound(missing, _):
            return "missing \"\(missing.stringValue)\""
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(key(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
