import BlazeRuntime
import BlazeTestSupport
import Foundation
import TFLite
import XCTest

/// Structure-aware mutation of whole models through `Interpreter.init` and one `invoke`: shapes,
/// tensor types, buffer indices, operator inputs/outputs, operator codes, graph inputs/outputs and
/// option bytes are edited (byte flips alone rarely make a valid model with a bad shape). Every case
/// must load and run, or throw a typed error naming its tensor or operator; a model that loads must
/// stay within the memory budget. A crash or trap fails the whole run.
final class InterpreterMutationTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tiny = root.appendingPathComponent("Tests/TFLiteTests/Fixtures/tiny_block_sparse.model")
    static let budget = 1 << 20

    /// Dimension values that stress checks: negative, zero, small, large, overflowing.
    static let dims = [-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 9, 16, 65536, 1 << 31, 1 << 32, 1 << 40, Int.max / 2]

    private func mutate(_ model: inout Model, _ rng: inout SplitMix64) {
        var graph = model.subgraphs[0]
        let tensorCount = graph.tensors.count
        func randomTensor() -> Int { rng.below(tensorCount + 4) - 2 }
        switch rng.below(9) {
        case 0, 1:   // one dimension of one tensor
            let t = rng.below(tensorCount)
            if graph.tensors[t].shape.isEmpty { graph.tensors[t].shape = [Self.dims[rng.below(Self.dims.count)]] } else {
                graph.tensors[t].shape[rng.below(graph.tensors[t].shape.count)] = Self.dims[rng.below(Self.dims.count)]
            }
        case 2:      // rank change
            let t = rng.below(tensorCount)
            if rng.below(2) == 0, !graph.tensors[t].shape.isEmpty { graph.tensors[t].shape.removeLast() } else { graph.tensors[t].shape.append(1 + rng.below(3)) }
        case 3:      // tensor type
            graph.tensors[rng.below(tensorCount)].type = TensorType.allCases[rng.below(TensorType.allCases.count)]
        case 4:      // buffer index
            graph.tensors[rng.below(tensorCount)].buffer = rng.below(model.buffers.count + 3) - 1
        case 5:      // an operator input or output
            let o = rng.below(graph.operators.count)
            if rng.below(2) == 0, !graph.operators[o].inputs.isEmpty {
                graph.operators[o].inputs[rng.below(graph.operators[o].inputs.count)] = randomTensor()
            } else if !graph.operators[o].outputs.isEmpty {
                graph.operators[o].outputs[rng.below(graph.operators[o].outputs.count)] = randomTensor()
            }
        case 6:      // arity
            let o = rng.below(graph.operators.count)
            if rng.below(2) == 0, !graph.operators[o].inputs.isEmpty { graph.operators[o].inputs.removeLast() } else { graph.operators[o].inputs.append(randomTensor()) }
        case 7:      // operator code or order
            if rng.below(2) == 0 {
                graph.operators[rng.below(graph.operators.count)].opcodeIndex = rng.below(model.operatorCodes.count + 1)
            } else {
                graph.operators.swapAt(rng.below(graph.operators.count), rng.below(graph.operators.count))
            }
        default:     // graph inputs / outputs
            if rng.below(2) == 0 { graph.inputs = [randomTensor()] } else { graph.outputs = [randomTensor()] }
        }
        model.subgraphs[0] = graph
    }

    /// One case: load and run, or a typed error that names its tensor or operator.
    private func attempt(_ model: Model, _ label: String, _ stats: inout (ran: Int, rejected: Int), budget: Int = InterpreterMutationTests.budget) {
        do {
            let interpreter = try Interpreter(model: model, options: .init(threads: 1, memoryBudget: budget))
            XCTAssertLessThanOrEqual(interpreter.memoryBytes, budget, label)
            for (i, info) in interpreter.inputs.enumerated() {
                try interpreter.setInput(i, [Float](repeating: 0.5, count: info.elementCount))
            }
            interpreter.invoke()
            stats.ran += 1
        } catch let error as RuntimeError {
            let text = error.description
            switch error {
            case .emptyGraph, .memoryBudget, .noSubgraph: break
            case .invalidGraph: XCTAssertTrue(text.contains("tensor index"), text)
            default: XCTAssertTrue(text.contains("tensor") || text.contains("operator") || text.contains("input"), "\(label): \(text)")
            }
            stats.rejected += 1
        } catch let error as TFLiteError {
            XCTAssertGreaterThan(error.description.count, 20, label)
            stats.rejected += 1
        } catch {
            XCTFail("\(label): untyped error \(error)")
        }
    }

    func testTwentyThousandStructureAwareMutations() throws {
        let original = try Model(contentsOf: Self.tiny)
        var rng = SplitMix64(seed: 0x1A7E_4B1D)
        var stats = (ran: 0, rejected: 0)
        for c in 0..<20_000 {
            var model = original
            for _ in 0...rng.below(3) { mutate(&model, &rng) }
            attempt(model, "case \(c)", &stats)
        }
        print("interpreter mutations: 20000 cases, \(stats.ran) loaded and ran, \(stats.rejected) rejected with a typed error")
        XCTAssertGreaterThan(stats.ran, 100, "too few mutated models load: the mutator is too destructive to test invoke")
        XCTAssertGreaterThan(stats.rejected, 5_000)
    }

    /// The same mutator on a real model (every operator type of the lite landmark model), fewer cases:
    /// each load resolves 2.9 MB of constants.
    func testRealModelMutations() throws {
        let url = Self.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        guard FileManager.default.fileExists(atPath: url.path) else { return XCTFail("missing \(url.path): run bash Tools/setup.sh") }
        let original = try Model(contentsOf: url)
        var rng = SplitMix64(seed: 0x11FE_0001)
        var stats = (ran: 0, rejected: 0)
        for c in 0..<300 {
            var model = original
            mutate(&model, &rng)
            attempt(model, "lite case \(c)", &stats, budget: 256 << 20)
        }
        print("lite-model mutations: 300 cases, \(stats.ran) loaded and ran, \(stats.rejected) rejected")
        XCTAssertGreaterThan(stats.ran, 10)
    }

    /// Option bytes: every byte of every operator's options table object, set to edge values.
    func testOptionByteMutations() throws {
        let original = try Model(contentsOf: Self.tiny)
        let bytes = [UInt8](original.storage.bytes)
        var stats = (ran: 0, rejected: 0)
        for (o, op) in original.subgraphs[0].operators.enumerated() {
            for field in 0..<8 {
                guard let offset = try op.options.byteOffset(ofField: field, size: 1) else { continue }
                for value: UInt8 in [0, 1, 2, 3, 4, 5, 7, 0x7F, 0x80, 0xFF] {
                    var copy = bytes
                    copy[offset] = value
                    guard let model = try? Model(bytes: copy) else { stats.rejected += 1; continue }
                    attempt(model, "operator \(o) field \(field) = \(value)", &stats)
                }
            }
        }
        print("option mutations: \(stats.ran) ran, \(stats.rejected) rejected")
        XCTAssertGreaterThan(stats.ran + stats.rejected, 50)
    }
}
