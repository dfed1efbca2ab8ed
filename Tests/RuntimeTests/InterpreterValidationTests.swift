import BlazeRuntime
import Foundation
import TFLite
import XCTest

/// A model with an operator or option the runtime does not implement fails at load, naming
/// the operator index and its TFLite name.
final class InterpreterValidationTests: XCTestCase {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TFLiteTests/Fixtures/tiny_block_sparse.model")

    /// The hand-made model (DENSIFY → DEQUANTIZE weights, PAD, CONV_2D RELU6, MAX_POOL_2D) loads and runs.
    func testTinyModelLoadsAndRuns() throws {
        let interpreter = try Interpreter(contentsOf: Self.tiny, options: .init(threads: 1))
        try interpreter.setInput(0, [Float](repeating: 1, count: 64))
        interpreter.invoke()
        let out = interpreter.output(0)
        XCTAssertEqual(out.count, 36)
        XCTAssertTrue(out.allSatisfy { $0 >= 0 && $0 <= 6 }, "RELU6 output out of range: \(out)")
    }

    func testUnsupportedOperatorIsNamedWithItsIndex() throws {
        var model = try Model(contentsOf: Self.tiny)
        let op = 4   // MAX_POOL_2D in the file
        let code = model.subgraphs[0].operators[op].opcodeIndex
        model.operatorCodes[code].builtinCode = BuiltinOperator(rawValue: 16)   // LSTM: not implemented
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            XCTAssertEqual(error as? RuntimeError, .unsupportedOperator(op: op, name: "LSTM"))
            XCTAssertTrue("\(error)".contains("operator 4 (LSTM)"), "\(error)")
        }
    }

    func testUnsupportedFusedActivationIsNamed() throws {
        let original = try Model(contentsOf: Self.tiny)
        let op = 3   // CONV_2D
        XCTAssertEqual(original.opcode(of: original.subgraphs[0].operators[op]), .conv2D)
        // Patch fused_activation_function (Conv2DOptions field 3) to TANH (4) in a copy of the file.
        let offset = try XCTUnwrap(try original.subgraphs[0].operators[op].options.byteOffset(ofField: 3, size: 1))
        var bytes = [UInt8](original.storage.bytes)
        bytes[offset] = 4
        let model = try Model(bytes: bytes)
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            XCTAssertEqual(error as? RuntimeError, .unsupportedOption(op: op, name: "CONV_2D", detail: "fused activation TANH"))
        }
    }

    func testWrongOutputShapeIsRejected() throws {
        var model = try Model(contentsOf: Self.tiny)
        let output = model.subgraphs[0].operators[4].outputs[0]
        model.subgraphs[0].tensors[output].shape = [1, 2, 2, 4]
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            guard case let .invalidOperator(op, name, detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(op, 4)
            XCTAssertEqual(name, "MAX_POOL_2D")
            XCTAssertTrue(detail.contains("[1, 2, 2, 4]"), detail)
        }
    }

    func testInputSizeIsChecked() throws {
        let interpreter = try Interpreter(contentsOf: Self.tiny, options: .init(threads: 1))
        XCTAssertThrowsError(try interpreter.setInput(0, [Float](repeating: 0, count: 63))) { error in
            XCTAssertEqual(error as? RuntimeError, .inputSize(input: 0, name: "input", expected: 64, got: 63))
        }
        XCTAssertThrowsError(try interpreter.setInput(1, [Float](repeating: 0, count: 64)))
    }

    // MARK: - Whole-graph checks before any allocation (issue: interpreter shapes unchecked)

    /// A graph input used by no operator with a shape whose element count overflows: a typed error
    /// naming the tensor, not a trap in an unchecked product.
    func testOverflowingUnusedInputShapeIsATypedError() throws {
        var model = try Model(contentsOf: Self.tiny)
        let extra = model.subgraphs[0].tensors.count
        var tensor = model.subgraphs[0].tensors[0]
        tensor.name = "huge"
        tensor.shape = [1 << 32, 1 << 32]
        model.subgraphs[0].tensors.append(tensor)
        model.subgraphs[0].inputs.append(extra)
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            guard case let .tensorSize(t, name, shape, detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(t, extra); XCTAssertEqual(name, "huge"); XCTAssertEqual(shape, [1 << 32, 1 << 32])
            XCTAssertTrue(detail.contains("overflows"), detail)
        }
    }

    /// A constant whose shape holds no element but whose other dimensions are huge (the DENSIFY
    /// output [603979780, 2075448909, 0, 4]: 5·10^18 floats once the 0 counts as 1, as the
    /// constants' budget counts it): a typed error naming the tensor, not a trap in the budget's
    /// sum. Found by `Tools/fuzz/run-interpreter.sh` (the CLI died with SIGILL on such a file).
    func testConstantWithAZeroAndHugeDimensionsIsATypedError() throws {
        var model = try Model(contentsOf: Self.tiny)
        XCTAssertEqual(model.opcode(of: model.subgraphs[0].operators[0]), .densify)
        let densified = model.subgraphs[0].operators[0].outputs[0]
        model.subgraphs[0].tensors[densified].shape = [603979780, 2075448909, 0, 4]
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            guard case let .memoryBudget(needed, _, detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(needed, Int.max)
            XCTAssertTrue(detail.contains("tensor \(densified) "), detail)
            XCTAssertTrue("\(error)".contains("needs more than \(Int.max) bytes"), "\(error)")
        }
    }

    /// [2^20, 2^20] floats (4 TiB) is representable but over the budget: named, nothing allocated.
    func testTensorOverTheBudgetIsNamedWithItsSize() throws {
        var model = try Model(contentsOf: Self.tiny)
        let output = model.subgraphs[0].operators[4].outputs[0]
        model.subgraphs[0].tensors[output].shape = [1 << 20, 1 << 20]
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            guard case let .tensorSize(t, _, _, detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(t, output)
            XCTAssertTrue(detail.contains("\(4 << 40) bytes") && detail.contains("budget"), detail)
        }
    }

    /// A 16-GiB activation ([1, 65536, 65536, 1]) through a real operator chain: rejected before
    /// the arena is sized.
    func testHugeActivationChainIsRejectedBeforeAllocation() throws {
        var model = try Model(contentsOf: Self.tiny)
        model.subgraphs[0].tensors[0].shape = [1, 65536, 65536, 1]
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            guard case .tensorSize(0, _, _, _)? = error as? RuntimeError else { return XCTFail("\(error)") }
        }
    }

    /// The budget covers arena + scratch + constants together and is configurable.
    func testMemoryBudgetIsEnforcedAndConfigurable() throws {
        XCTAssertNoThrow(try Interpreter(contentsOf: Self.tiny, options: .init(threads: 1, memoryBudget: 1 << 20)))
        XCTAssertThrowsError(try Interpreter(contentsOf: Self.tiny, options: .init(threads: 1, memoryBudget: 600))) { error in
            guard case let .memoryBudget(needed, budget, _)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(budget, 600)
            XCTAssertGreaterThan(needed, 600)
        }
    }

    func testModelWithoutOperatorsIsAnError() throws {
        var model = try Model(contentsOf: Self.tiny)
        model.subgraphs[0].operators = []
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            XCTAssertEqual(error as? RuntimeError, .emptyGraph)
        }
    }

    func testGraphOutputNoOperatorWritesIsAnError() throws {
        var model = try Model(contentsOf: Self.tiny)
        // Drop the last operator: its output stays a graph output that nothing writes.
        let output = model.subgraphs[0].outputs[0]
        model.subgraphs[0].operators.removeLast()
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            XCTAssertEqual(error as? RuntimeError, .outputNotProduced(tensor: output, name: "output"))
        }
    }

    func testDynamicGraphInputIsRejected() throws {
        var model = try Model(contentsOf: Self.tiny)
        model.subgraphs[0].tensors[0].shape = [-1, 4, 4, 4]
        XCTAssertThrowsError(try Interpreter(model: model)) { error in
            guard case .dynamicShape(0, _, _)? = error as? RuntimeError else { return XCTFail("\(error)") }
        }
    }
}
