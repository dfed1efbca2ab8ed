import BlazeRuntime
import Foundation
import TFLite
import XCTest

/// The operator registry: what the runtime supports, what `inspect` reports, and how each unit
/// decodes its options (typed errors naming the operator).
final class OperatorUnitTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tiny = root.appendingPathComponent("Tests/TFLiteTests/Fixtures/tiny_block_sparse.model")

    private func model(_ name: String) throws -> Model {
        let url = Self.root.appendingPathComponent("weights/\(name).tflite")
        guard FileManager.default.fileExists(atPath: url.path) else {
            XCTFail("missing \(url.path): run bash Tools/setup.sh")
            throw CocoaError(.fileNoSuchFile)
        }
        return try Model(contentsOf: url)
    }

    func testPoseModelsReportTheirFlopsAndAreFullySupported() throws {
        for (name, gflops) in [("pose_detection", "0.860"), ("pose_landmark_full", "0.772"), ("pose_landmark_lite", "0.423")] {
            let model = try model(name)
            XCTAssertEqual(String(format: "%.3f", try ModelReport(model: model).gflops), gflops, name)
            XCTAssertTrue(OperatorRegistry.unsupportedOperators(in: model).isEmpty, name)
        }
    }

    func testReportRowsComeFromTheUnits() throws {
        let model = try model("pose_detection")
        let report = try ModelReport(model: model)
        // op 3: the stem convolution, 3x3 stride 2 VALID after an explicit PAD, RELU6 fused.
        XCTAssertEqual(report.rows[3].op, "CONV_2D")
        XCTAssertEqual(report.rows[3].params, "kernel 3x3 stride 2x2 pad VALID")
        XCTAssertEqual(report.rows[3].activation, "RELU6")
        XCTAssertEqual(report.inputs.map(\.shape), [[1, 224, 224, 3]])
        XCTAssertEqual(report.outputs.map(\.name), ["Identity", "Identity_1"])
        for row in report.rows where row.op == "DEPTHWISE_CONV_2D" { XCTAssertTrue(row.params.hasSuffix("mult 1"), row.params) }
    }

    func testReportRenderings() throws {
        let model = try model("pose_landmark_full")
        let report = try ModelReport(model: model)
        let text = report.text()
        XCTAssertTrue(text.contains("CONV_2D") && text.contains("0.772 GFLOPs"), text)
        let json = try report.json()
        let decoded = try JSONDecoder().decode(ModelReport.self, from: Data(json.utf8))
        XCTAssertEqual(decoded.operatorCount, 332)
        XCTAssertEqual(decoded.rows.count, 332)
        let dot = report.dot(model: model)
        XCTAssertTrue(dot.hasPrefix("digraph"))
        XCTAssertEqual(dot.components(separatedBy: "[label=\"#").count - 1, 332)
    }

    func testSupportedSetIsTheRegistry() {
        let supported = OperatorRegistry.supported
        for code: BuiltinOperator in [.conv2D, .depthwiseConv2D, .add, .pad, .maxPool2D, .resizeBilinear, .depthToSpace,
                                      .concatenation, .reshape, .relu, .logistic, .dequantize, .densify] {
            XCTAssertTrue(supported.contains(.builtin(code)), "\(code)")
        }
        XCTAssertEqual(OperatorKind.custom("Convolution2DTransposeBias").description, "CUSTOM(Convolution2DTransposeBias)")
    }

    /// A bad option value is an error naming the operator, from its unit, at load.
    func testBadPaddingValueNamesTheOperator() throws {
        let original = try Model(contentsOf: Self.tiny)
        let op = 3   // CONV_2D
        let offset = try XCTUnwrap(try original.subgraphs[0].operators[op].options.byteOffset(ofField: 0, size: 1))
        var bytes = [UInt8](original.storage.bytes)
        bytes[offset] = 7
        let model = try Model(bytes: bytes)
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            XCTAssertEqual(error as? RuntimeError, .invalidOperator(op: op, name: "CONV_2D", detail: "unknown padding value 7"))
        }
        // inspect still renders the row, with the unit's error as its parameters.
        let report = try ModelReport(model: model)
        XCTAssertTrue(report.rows[op].params.contains("unknown padding value 7"), report.rows[op].params)
    }
}
