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
        let graph = model.subgraphs[0]
        XCTAssertEqual(graph.inputs.map { graph.tensors[$0].shape }, [[1, 224, 224, 3]])
        XCTAssertEqual(graph.outputs.map { graph.tensors[$0].shape }, [[1, 2254, 12], [1, 2254, 1]])
        XCTAssertEqual(graph.outputs.map { graph.tensors[$0].name }, ["Identity", "Identity_1"])
    }

    func testLandmarkFullOperatorCountsAndFlops() throws {
        let model = try loadModel("pose_landmark_full")
        XCTAssertEqual(model.subgraphs[0].operators.count, 332)
        XCTAssertEqual(counts(model), ["PAD": 5, "DEQUANTIZE": 192, "CONV_2D": 58, "DEPTHWISE_CONV_2D": 38, "ADD": 28,
                                       "RESIZE_BILINEAR": 5, "MAX_POOL_2D": 2, "RESHAPE": 3, "LOGISTIC": 1])
    }

    func testLandmarkLiteOperatorCountsAndFlops() throws {
        let model = try loadModel("pose_landmark_lite")
        XCTAssertEqual(model.subgraphs[0].operators.count, 488)
        XCTAssertEqual(counts(model), ["DEQUANTIZE": 236, "CONV_2D": 62, "RELU": 57, "DEPTHWISE_CONV_2D": 56, "ADD": 53,
                                       "MAX_POOL_2D": 9, "PAD": 7, "RESIZE_BILINEAR": 4, "LOGISTIC": 1, "RESHAPE": 3])
    }

    /// The reader locates each operator's options table; its fields are read on demand through
    /// checked reads (the runtime's operator units decode them; see OperatorUnitTests).
    func testRawOptionsOfDetectorFirstLayers() throws {
        let model = try loadModel("pose_detection")
        let ops = model.subgraphs[0].operators
        // op 3: the stem convolution, 3x3 stride 2 VALID after an explicit PAD, RELU6 fused (see inspect).
        let conv = ops[3].options
        XCTAssertEqual(model.opcode(of: ops[3]), .conv2D)
        XCTAssertEqual(conv.unionType, 1)   // Conv2DOptions
        XCTAssertTrue(conv.hasTable)
        XCTAssertEqual(try conv.scalar(0, "padding", default: Int8(0)), 1)            // VALID
        XCTAssertEqual(try conv.int(1, "stride_w"), 2)
        XCTAssertEqual(try conv.int(2, "stride_h"), 2)
        XCTAssertEqual(try conv.scalar(3, "fused_activation_function", default: Int8(0)), 3)   // RELU6
        XCTAssertEqual(try conv.int(4, "dilation_w_factor", default: 1), 1)
        XCTAssertEqual(model.subgraphs[0].tensors[ops[3].inputs[1]].shape, [24, 3, 3, 3])   // OHWI
        // The field's byte offset lies inside the file, where its value is stored.
        let offset = try XCTUnwrap(try conv.byteOffset(ofField: 3, size: 1))
        XCTAssertEqual(model.storage.bytes[offset], 3)
        for op in ops where model.opcode(of: op) == .depthToSpace {
            XCTAssertEqual(op.options.unionType, 94)
            XCTAssertGreaterThan(try op.options.int(0, "block_size"), 1)
        }
        // Operators without options (DEQUANTIZE's table is empty) read every field as its default.
        let dequantize = try XCTUnwrap(ops.first { model.opcode(of: $0) == .dequantize })
        XCTAssertEqual(try dequantize.options.int(0, "absent", default: 7), 7)
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

    func testMissingFileIsATypedError() {
        XCTAssertThrowsError(try Model(contentsOf: URL(fileURLWithPath: "/nonexistent/model.tflite"))) { error in
            guard case TFLiteError.fileUnreadable = error else { return XCTFail("\(error)") }
        }
    }
}
