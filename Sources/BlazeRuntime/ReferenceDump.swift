import Foundation
import TFLite

/// A folder of reference tensors written by `Tools/litert/reference.py`:
/// `manifest.json` plus one `.npy` per tensor (input, outputs, optionally intermediates).
public struct ReferenceDump: Sendable {
    /// One tensor the reference holds.
    public struct Entry: Sendable, Decodable {
        public var file: String
        public var name: String
        /// Tensor index in the model's subgraph 0.
        public var index: Int
        public var shape: [Int]
        /// "input", "output" or "intermediate".
        public var role: String
        public var producerOpIndex: Int?
        public var producerOpName: String?
        /// "uint8" when a float input is stored as 8-bit pixels (see ``InputTransform``).
        public var storedDtype: String?

        enum CodingKeys: String, CodingKey {
            case file, name, index, shape, role
            case producerOpIndex = "producer_op_index", producerOpName = "producer_op_name", storedDtype = "stored_dtype"
        }
    }

    /// `x = Float32(p) * scale + offset` (two roundings, no FMA) for 8-bit stored inputs.
    public struct InputTransform: Sendable, Decodable {
        public var scale: Float
        public var offset: Float
    }

    struct XNNPACKDifference: Decodable {
        var output: String
        var relative: Float
    }

    struct Manifest: Decodable {
        var model: String?
        var tensors: [Entry]
        var inputTransform: InputTransform?
        var xnnpackVsBuiltin: [XNNPACKDifference]?
        enum CodingKeys: String, CodingKey {
            case model, tensors, inputTransform = "input_transform", xnnpackVsBuiltin = "xnnpack_vs_builtin"
        }
    }

    public let directory: URL
    public let model: String?
    public let entries: [Entry]
    public let inputTransform: InputTransform?
    /// max|XNNPACK − builtin| / max|builtin| per output name, when the reference recorded it.
    public let xnnpackRelative: [String: Float]

    /// Largest `manifest.json` read: 16 MiB (a dump of every tensor of the heavy model is ~200 KB).
    public static let maxManifestBytes = 16 << 20

    /// Reads `directory/manifest.json` (a regular file of at most ``maxManifestBytes``).
    /// - Throws: ``ReferenceDumpError/unreadable(path:reason:)`` or ``ReferenceDumpError/badManifest(path:reason:)``,
    ///   the latter also for an entry with a negative or overflowing shape or an unknown role.
    public init(directory: URL) throws {
        self.directory = directory
        let url = directory.appendingPathComponent("manifest.json")
        let data: Data
        do { data = Data(try RegularFile.contents(ofFile: url.path, limit: Self.maxManifestBytes, what: "manifest")) } catch let error as RegularFileError {
            throw ReferenceDumpError.unreadable(path: url.path, reason: error.reason)
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw ReferenceDumpError.badManifest(path: url.path, reason: String(describing: error))
        }
        for (i, entry) in manifest.tensors.enumerated() {
            guard ["input", "output", "intermediate"].contains(entry.role) else {
                throw ReferenceDumpError.badManifest(path: url.path, reason: "tensors[\(i)] ('\(entry.name)') has role '\(entry.role)'; expected input, output or intermediate")
            }
            guard Self.elementCount(entry.shape) != nil else {
                throw ReferenceDumpError.badManifest(path: url.path, reason: "tensors[\(i)] ('\(entry.name)') has shape \(entry.shape): a negative dimension or an element count that overflows")
            }
        }
        model = manifest.model
        entries = manifest.tensors
        inputTransform = manifest.inputTransform
        xnnpackRelative = Dictionary((manifest.xnnpackVsBuiltin ?? []).map { ($0.output, $0.relative) }, uniquingKeysWith: max)
    }

    /// The float values of `entry`, applying the input transform to 8-bit stored inputs.
    public func values(of entry: Entry) throws -> [Float] {
        // Element count from the manifest, overflow-checked; the .npy may hold no more than that.
        guard let expected = Self.elementCount(entry.shape) else {
            throw ReferenceDumpError.shapeMismatch(file: entry.file, manifest: entry.shape, npy: [])
        }
        let array = try NPYArray(contentsOf: directory.appendingPathComponent(entry.file),
                                 maxDataBytes: min(NPYArray.defaultMaxDataBytes, expected.multipliedReportingOverflow(by: 8).partialValue))
        guard array.count == expected else {
            throw ReferenceDumpError.shapeMismatch(file: entry.file, manifest: entry.shape, npy: array.shape)
        }
        if entry.storedDtype == "uint8" {
            guard let t = inputTransform else { throw ReferenceDumpError.missingTransform(file: entry.file) }
            return try array.floats(scale: t.scale, offset: t.offset)
        }
        return try array.floats()
    }
}

extension ReferenceDump {
    /// Product of `shape`, nil for a negative dimension or an overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            product = next
        }
        return product
    }
}

/// Why a reference dump cannot be read or compared.
public enum ReferenceDumpError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case badManifest(path: String, reason: String)
    case shapeMismatch(file: String, manifest: [Int], npy: [Int])
    case missingTransform(file: String)
    /// A manifest entry names a tensor index the model does not have, or whose name or shape differ.
    case unknownTensor(file: String, index: Int, detail: String)
    /// A model input the manifest holds no value for.
    case missingInput(index: Int, name: String)
    /// No output or intermediate was compared (none listed, or none materialized by the interpreter).
    case nothingCompared(entries: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .badManifest(path, reason): return "\(path) is not a valid reference manifest: \(reason)"
        case let .shapeMismatch(file, m, n): return "\(file): manifest shape \(m) but the .npy holds \(n)"
        case let .missingTransform(file): return "\(file) is stored as uint8 but the manifest has no input_transform"
        case let .unknownTensor(file, index, detail): return "manifest entry \(file) (tensor #\(index)): \(detail)"
        case let .missingInput(index, name): return "the manifest holds no value for model input tensor #\(index) '\(name)'"
        case let .nothingCompared(entries):
            return entries == 0 ? "the manifest lists no tensors: nothing to compare"
                : "none of the manifest's \(entries) tensor(s) is an output or intermediate this interpreter materializes: nothing was compared"
        }
    }
}

/// How far `ours` is from `reference`.
public struct TensorDifference: Sendable {
    public var maxAbs: Float
    /// max|reference|
    public var maxRef: Float
    /// `maxAbs / max(1, maxRef)`: the figure the 1e-4 bar is stated in.
    public var relative: Float { maxAbs / max(1, maxRef) }
    /// `maxAbs / maxRef` (relative to the tensor's own scale).
    public var relativeToMax: Float { maxRef > 0 ? maxAbs / maxRef : maxAbs }
    public var hasNaN: Bool

    public init(ours: [Float], reference: [Float]) {
        var maxAbs: Float = 0, maxRef: Float = 0, nan = ours.count != reference.count
        for i in 0..<min(ours.count, reference.count) {
            let d = abs(ours[i] - reference[i])
            if d.isNaN { nan = true }
            maxAbs = max(maxAbs, d)
            maxRef = max(maxRef, abs(reference[i]))
        }
        self.maxAbs = maxAbs
        self.maxRef = maxRef
        self.hasNaN = nan
    }

    /// Within `max|ours − ref| ≤ tolerance · max(1, max|ref|)`.
    public func within(_ tolerance: Float) -> Bool { !hasNaN && maxAbs <= tolerance * max(1, maxRef) }
}
