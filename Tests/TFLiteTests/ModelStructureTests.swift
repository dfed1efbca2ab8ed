import Foundation
import TFLite
import XCTest

final class ModelStructureTests: XCTestCase {
    private func counts(_ model: Model) -> [String: Int] {
        var result: [String: Int] = [:]
        for op in model.subgraphs[0].operators { result[model.opcode(of: op).description, default: 0] += 1 }
        return result
    }

    func testDetectorOperatorCountsAndFlops() throws {
        let model = try loadModel("pose_detection")
        XCTAssertEqual(model.subgraphs[0].operators.count, 291)
        XCTAssertEqual(counts(model), ["PAD": 8, "DEQUANTIZE": 144, "CONV_2D": 45, "DEPTHWISE_CONV_2D": 28, "DENSIFY": 38,
                                       "ADD": 15, "DEPTH_TO_SPACE": 3, "RESIZE_BILINEAR": 2, "RESHAPE": 6, "CONCATENATION": 2])
        let report = try ModelReport(model: model)
        XCTAssertEqual(String(format: "%.3f", report.gflops), "0.860")
        XCTAssertEqual(report.inputs.map(\.shape), [[1, 224, 224, 3]])
        XCTAssertEqual(report.outputs.map(\.shape), [[1, 2254, 12], [1, 2254, 1]])
        XCTAssertEqual(report.outputs.map(\.name), ["Identity", "Identity_1"])
    }

    func testLandmarkFullOperatorCountsAndFlops() throws {
        let model = try loadModel("pose_landmark_full")
        XCTAssertEqual(model.subgraphs[0].operators.count, 332)
        XCTAssertEqual(counts(model), ["PAD": 5, "DEQUANTIZE": 192, "CONV_2D": 58, "DEPTHWISE_CONV_2D": 38, "ADD": 28,
                                       "RESIZE_BILINEAR": 5, "MAX_POOL_2D": 2, "RESHAPE": 3, "LOGISTIC": 1])
        XCTAssertEqual(String(format: "%.3f", try ModelReport(model: model).gflops), "0.772")
    }

    func testLandmarkLiteOperatorCountsAndFlops() throws {
        let model = try loadModel("pose_landmark_lite")
        XCTAssertEqual(model.subgraphs[0].operators.count, 488)
        XCTAssertEqual(counts(model), ["DEQUANTIZE": 236, "CONV_2D": 62, "RELU": 57, "DEPTHWISE_CONV_2D": 56, "ADD": 53,
                                       "MAX_POOL_2D": 9, "PAD": 7, "RESIZE_BILINEAR": 4, "LOGISTIC": 1, "RESHAPE": 3])
        XCTAssertEqual(String(format: "%.3f", try ModelReport(model: model).gflops), "0.423")
    }

    func testAllPoseModelsUseOnlySupportedOperatorsWithMatchingOptions() throws {
        for name in ["pose_detection", "pose_landmark_lite", "pose_landmark_full"] {
            let model = try loadModel(name)
            XCTAssertTrue(model.unsupportedOperators().isEmpty, name)
            XCTAssertNoThrow(try model.validateOperators(), name)
            // Restricting the set must report the missing op by name and index.
            let restricted = Model.poseOperators.subtracting([.add])
            let missing = model.unsupportedOperators(supported: restricted)
            XCTAssertFalse(missing.isEmpty)
            XCTAssertTrue(missing.allSatisfy { $0.op == .add && model.opcode(of: model.subgraphs[0].operators[$0.index]) == .add })
            XCTAssertThrowsError(try model.validateOperators(supported: restricted)) { error in
                XCTAssertTrue("\(error)".contains("ADD") && "\(error)".contains("operator \(missing[0].index)"), "\(error)")
            }
        }
    }

    func testDecodedOptionsOfDetectorFirstLayers() throws {
        let model = try loadModel("pose_detection")
        let ops = model.subgraphs[0].operators
        // op 3: the stem convolution, 3x3 stride 2 VALID after an explicit PAD, RELU6 fused (see inspect).
        guard case let .conv2D(conv) = ops[3].options else { return XCTFail("op 3 is not a conv: \(ops[3].options)") }
        XCTAssertEqual(conv, Conv2DOptions(padding: .valid, strideW: 2, strideH: 2, activation: .relu6, dilationW: 1, dilationH: 1))
        XCTAssertEqual(model.subgraphs[0].tensors[ops[3].inputs[1]].shape, [24, 3, 3, 3])   // OHWI
        // Every depthwise conv has multiplier 1 and unit dilation; every RESIZE_BILINEAR has explicit flags.
        for op in ops {
            if case let .depthwiseConv2D(dw) = op.options {
                XCTAssertEqual(dw.depthMultiplier, 1); XCTAssertEqual(dw.dilationW, 1); XCTAssertEqual(dw.dilationH, 1)
            }
            if model.opcode(of: op) == .depthToSpace {
                guard case let .depthToSpace(d) = op.options else { return XCTFail("DEPTH_TO_SPACE without options") }
                XCTAssertGreaterThan(d.blockSize, 1)
            }
        }
    }

    func testBytesAndMappedLoadsAgree() throws {
        let url = try weightsURL("pose_landmark_lite")
        let mapped = try Model(contentsOf: url)
        let copied = try Model(bytes: [UInt8](try Data(contentsOf: url)))
        XCTAssertEqual(mapped.buffers, copied.buffers)
        XCTAssertEqual(mapped.subgraphs[0].tensors.map(\.name), copied.subgraphs[0].tensors.map(\.name))
        let index = mapped.subgraphs[0].tensors.first { !$0.shape.isEmpty && mapped.buffers[$0.buffer].count > 0 }!.buffer
        XCTAssertEqual(Array(try mapped.bufferData(index)), Array(try copied.bufferData(index)))
        XCTAssertThrowsError(try mapped.bufferData(mapped.buffers.count))
    }

    func testReportRenderings() throws {
        let model = try loadModel("pose_landmark_full")
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

    func testMissingFileIsATypedError() {
        XCTAssertThrowsError(try Model(contentsOf: URL(fileURLWithPath: "/nonexistent/model.tflite"))) { error in
            guard case TFLiteError.fileUnreadable = error else { return XCTFail("\(error)") }
        }
    }
}
