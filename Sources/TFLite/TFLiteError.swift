/// Every way a `.tflite` file can fail to load or to decode.
///
/// Each case says *what* is wrong and *where*: the byte offset in the file and, when there is one,
/// the subgraph / tensor / operator / buffer index (rendered by `description`).
public enum TFLiteError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, stat-ed or mapped.
    case fileUnreadable(path: String, reason: String)
    /// The FlatBuffers structure is broken: an offset, length, alignment or vtable is invalid.
    case malformed(what: String, offset: Int, location: String)
    /// A verifier limit (nesting depth, table count, decoded element budget) was exceeded.
    case limitExceeded(what: String, limit: Int, location: String)
    /// The structure is valid FlatBuffers but the model is inconsistent (index out of range, bad enum value, ...).
    case invalidModel(what: String, location: String)
    /// The model uses something this reader does not implement (e.g. an operator outside the supported set).
    case unsupported(what: String, location: String)

    public var description: String {
        func at(_ location: String) -> String { location.isEmpty ? "" : " (\(location))" }
        switch self {
        case let .fileUnreadable(path, reason):
            return "cannot read model file '\(path)': \(reason)"
        case let .malformed(what, offset, location):
            return "malformed TFLite file: \(what) at byte \(offset)\(at(location))"
        case let .limitExceeded(what, limit, location):
            return "TFLite verifier limit exceeded: \(what) (limit \(limit))\(at(location))"
        case let .invalidModel(what, location):
            return "invalid TFLite model: \(what)\(at(location))"
        case let .unsupported(what, location):
            return "unsupported TFLite feature: \(what)\(at(location))"
        }
    }
}
