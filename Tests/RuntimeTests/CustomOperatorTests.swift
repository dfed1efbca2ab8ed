import BlazeRuntime
import Foundation
import TFLite
import XCTest

/// MediaPipe's custom operators in the wheel models: they are registered, `inspect` decodes their
/// options, hostile `custom_options` bytes become errors naming the operator (never a trap), and each
/// custom-op model matches the reference of `Tools/mediapipe/custom_op_references.py`.
///
/// The models are MediaPipe 0.10.14 wheel files, looked up in `weights/mediapipe/`, then in
/// `$BLAZE_MEDIAPIPE_MODELS/<module>/`, then in `/tmp/wheel/x/mediapipe/modules/<module>/`.
final class CustomOperatorTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modules = ["selfie_segmentation": "selfie_segmentation", "selfie_segmentation_landscape": "selfie_segmentation",
                          "face_landmark_with_attention": "face_landmark"]

    static func modelURL(_ name: String) throws -> URL {
        let module = modules[name] ?? name
        var candidates = [root.appendingPathComponent("weights/mediapipe/\(name).tflite")]
        if let dir = ProcessInfo.processInfo.environment["BLAZE_MEDIAPIPE_MODELS"] {
            candidates.append(URL(fileURLWithPath: dir).appendingPathComponent("\(module)/\(name).tflite"))
        }
        candidates.append(URL(fileURLWithPath: "/tmp/wheel/x/mediapipe/modules/\(module)/\(name).tflite"))
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw XCTSkip("\(name).tflite (mediapipe 0.10.14 wheel) not found in \(candidates.map(\.path))")
        }
        return url
    }

    static func model(_ name: String) throws -> Model { try Model(contentsOf: try modelURL(name)) }

    // MARK: - Registry and inspect

    func testCustomOperatorsAreRegisteredAndDecoded() throws {
        for name in ["Convolution2DTransposeBias", "Landmarks2TransformMatrix", "TransformTensorBilinear", "TransformLandmarks"] {
            XCTAssertTrue(OperatorRegistry.supported.contains(.custom(name)), name)
        }
        let selfie = try Self.model("selfie_segmentation")
        XCTAssertFalse(OperatorRegistry.unsupportedOperators(in: selfie).contains { if case .custom = $0.kind { return true }; return false })
        let selfieReport = try ModelReport(model: selfie)
        XCTAssertEqual(selfieReport.rows[244].op, "CUSTOM(Convolution2DTransposeBias)")
        XCTAssertEqual(selfieReport.rows[244].params, "kernel 2x2 stride 2x2 pad SAME")
        XCTAssertEqual(selfieReport.rows[244].outputShapes, [[1, 256, 256, 1]])

        let face = try Self.model("face_landmark_with_attention")
        XCTAssertFalse(OperatorRegistry.unsupportedOperators(in: face).contains { if case .custom = $0.kind { return true }; return false })
        let report = try ModelReport(model: face)
        XCTAssertEqual(report.rows[192].params, "subset 80 indices rotation 61->291 crop 16x16 scale 1.5x1.5")
        XCTAssertEqual(report.rows[193].params, "subset 71 indices rotation 33->133 crop 16x16 scale 1.5x1.5")
        XCTAssertEqual(report.rows[194].params, "subset 71 indices rotation 362->263 crop 16x16 scale 1.5x1.5")
        for op in 195...197 { XCTAssertEqual(report.rows[op].params, "output 16x16") }
        for op in 701...705 { XCTAssertEqual(report.rows[op].op, "CUSTOM(TransformLandmarks)") }
    }

    // MARK: - Hostile custom_options

    /// File offset of operator `op`'s custom_options bytes (its u32 length is the 4 bytes before).
    private func customOptionsOffset(_ model: Model, op: Int) throws -> (offset: Int, count: Int) {
        let bytes = model.subgraphs[0].operators[op].options.customBytes
        let base = try XCTUnwrap(model.storage.bytes.baseAddress), start = try XCTUnwrap(bytes.baseAddress)
        return (start - base, bytes.count)
    }

    private func params(_ bytes: [UInt8], op: Int) throws -> String {
        try ModelReport(model: try Model(bytes: bytes)).rows[op].params
    }

    func testTransposeConvBiasOptionsErrorsNameTheOperator() throws {
        let model = try Self.model("selfie_segmentation")
        let (offset, count) = try customOptionsOffset(model, op: 244)
        XCTAssertEqual(count, 12)
        let original = [UInt8](model.storage.bytes)
        var b = original
        b[offset] = 0
        XCTAssertTrue(try params(b, op: 244).contains("custom_options padding (byte 0) is 0; expected 1 (SAME) or 2 (VALID)"))
        b = original
        b[offset + 4] = 0
        XCTAssertTrue(try params(b, op: 244).contains("custom_options stride_w (byte 4) is 0"))
        b = original
        for i in 8..<12 { b[offset + i] = 0xFF }
        XCTAssertTrue(try params(b, op: 244).contains("custom_options stride_h (byte 8) is -1"))
        for short in [0, 4, 11] {
            b = original
            b.replaceSubrange((offset - 4)..<offset, with: withUnsafeBytes(of: UInt32(short).littleEndian, Array.init))
            XCTAssertTrue(try params(b, op: 244).contains("custom_options holds \(short) bytes; expected 12"), "\(short)")
        }
        // The unit's error names the operator (RuntimeError.invalidOperator carries op 244).
        b = original
        b[offset] = 9
        let row = try ModelReport(model: try Model(bytes: b)).rows[244]
        XCTAssertTrue(row.params.hasPrefix("invalid options:"), row.params)
        XCTAssertTrue(row.params.contains("244"), row.params)
    }

    /// Every truncation and many single-byte corruptions of the FlexBuffers options of
    /// Landmarks2TransformMatrix (op 192, 351 bytes) and TransformTensorBilinear (op 195, 40 bytes):
    /// decoding either succeeds or reports an error; it never traps or reads outside the bytes.
    func testFlexBufferOptionsSurviveTruncationAndCorruption() throws {
        let model = try Self.model("face_landmark_with_attention")
        let original = [UInt8](model.storage.bytes)
        for op in [192, 195] {
            let (offset, count) = try customOptionsOffset(model, op: op)
            let good = try params(original, op: op)
            XCTAssertFalse(good.contains("invalid"), good)
            var rejected = 0, total = 0
            for short in 0..<count {
                var b = original
                b.replaceSubrange((offset - 4)..<offset, with: withUnsafeBytes(of: UInt32(short).littleEndian, Array.init))
                let p = try params(b, op: op)
                total += 1
                if p.hasPrefix("invalid options:") { rejected += 1; XCTAssertTrue(p.contains("custom_options"), p) }
            }
            XCTAssertGreaterThan(rejected, count / 2, "op \(op): most truncations must be rejected")
            // Corrupt every byte of the small map, every 3rd of the large one (test time), two ways each.
            for i in stride(from: 0, to: count, by: count > 100 ? 3 : 1) {
                for value in [original[offset + i] ^ 0xFF, original[offset + i] &+ 1] {
                    var b = original
                    b[offset + i] = value
                    let p = try params(b, op: op)
                    total += 1
                    if p.hasPrefix("invalid options:") { rejected += 1 }
                }
            }
            print("op \(op): \(rejected) of \(total) hostile custom_options rejected with an error, none trapped")
        }
    }

    // MARK: - Whole models against the reference

    /// Runs `model` on the fixture's input and compares every output with the reference within
    /// max(1e-4, 1.5 × XNNPACK's distance from builtin when the manifest records it), relative to
    /// max(1, max|ref|). Skipped while the model still has builtin operators the runtime lacks.
    func check(model name: String, image: String) throws {
        let url = try Self.modelURL(name)
        let model = try Model(contentsOf: url)
        let unsupported = OperatorRegistry.unsupportedOperators(in: model)
        XCTAssertFalse(unsupported.contains { if case .custom = $0.kind { return true }; return false },
                       "\(name): a custom operator is unsupported: \(unsupported.map(\.kind))")
        if !unsupported.isEmpty {
            let kinds = Set(unsupported.map(\.kind.description)).sorted()
            throw XCTSkip("\(name) still needs builtin operators \(kinds.joined(separator: ", ")); its custom operators are registered")
        }
        let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(name)/\(image)"))
        let outputs = dump.entries.filter { $0.role == "output" }
        XCTAssertEqual(outputs.count, model.subgraphs[0].outputs.count)
        var first: [[Float]]?
        for threads in [1, 2] {
            let interpreter = try Interpreter(model: model, options: .init(threads: threads))
            for entry in dump.entries where entry.role == "input" {
                guard let i = interpreter.inputs.firstIndex(where: { $0.index == entry.index }) else {
                    return XCTFail("reference input \(entry.name) is not a model input")
                }
                try interpreter.setInput(i, dump.values(of: entry))
            }
            interpreter.invoke()
            var results: [[Float]] = []
            for entry in outputs {
                guard let i = interpreter.outputs.firstIndex(where: { $0.index == entry.index }) else {
                    return XCTFail("reference output \(entry.name) is not a model output")
                }
                let ours = interpreter.output(i)
                let diff = TensorDifference(ours: ours, reference: try dump.values(of: entry))
                let tolerance = max(1e-4, 1.5 * (dump.xnnpackRelative[entry.name] ?? 0))
                XCTAssertTrue(diff.within(tolerance),
                              "\(name)/\(image) \(entry.name) threads \(threads): max|d| \(diff.maxAbs), max|ref| \(diff.maxRef), tolerance \(tolerance)")
                print("custom-op model \(name)/\(image) \(entry.name) threads=\(threads): max|d|=\(diff.maxAbs) rel=\(diff.relative) tol=\(tolerance)")
                results.append(ours)
            }
            if let first { XCTAssertEqual(first, results, "\(name)/\(image): outputs differ between thread counts") }
            first = results
        }
    }

    func testSelfieSegmentationAstronaut() throws { try check(model: "selfie_segmentation", image: "astronaut") }
    func testSelfieSegmentationLandscapeAstronaut() throws { try check(model: "selfie_segmentation_landscape", image: "astronaut") }
    func testFaceLandmarkWithAttentionAstronaut() throws { try check(model: "face_landmark_with_attention", image: "astronaut") }
}
