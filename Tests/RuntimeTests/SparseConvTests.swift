import BlazeKernels
import BlazeRuntime
import Foundation
import TFLite
import XCTest

/// The load-time choice of the sparse 1×1 conv kernel (`InterpreterOptions.sparseConvolutions`).
final class SparseConvTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func outputs(_ path: URL, backend: GemmBackend, sparse: SparseConvolutionPolicy, threads: Int) throws -> (outputs: [[Float]], sparseSteps: Int) {
        let interpreter = try Interpreter(contentsOf: path, options: .init(threads: threads, gemmBackend: backend,
                                                                           sparseConvolutions: sparse))
        try interpreter.fillInputsForBenchmark()
        interpreter.invoke()
        let count = interpreter.steps.map { Self.layers("sparse ", in: Self.parts($0.variant)) }.reduce(0, +)
        return (interpreter.outputs.indices.map { interpreter.output($0) }, count)
    }

    /// `model` has `eligible` 1×1 stride-1 convs with ≥ 50% zero weights and more than one output channel.
    func check(_ relative: String, eligible: Int, chosen: Int) throws {
        let path = Self.root.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: path.path) else { return XCTFail("missing \(path.path): run bash Tools/setup.sh") }
        // Native GEMM: dense and sparse give the same bits, so every eligible layer forced sparse,
        // or whatever the cost model picks, gives the dense run's outputs, for every thread count.
        let dense = try outputs(path, backend: .native, sparse: .off, threads: 1)
        XCTAssertEqual(dense.sparseSteps, 0)
        for (policy, threads) in [(SparseConvolutionPolicy.always, 1), (.always, 2), (.auto, 1), (.auto, 2), (.auto, 3)] {
            let got = try outputs(path, backend: .native, sparse: policy, threads: threads)
            XCTAssertEqual(got.sparseSteps, policy == .always ? eligible : chosen, "\(relative): sparse layers, \(policy)")
            for (i, (a, b)) in zip(got.outputs, dense.outputs).enumerated() {
                let mismatches = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(mismatches, 0, "\(relative) output \(i), \(policy), threads \(threads): sparse differs from dense")
            }
        }
        // OpenBLAS gives other bits than the sparse kernel, so the fixed rule there is to stay dense.
        let blas = try outputs(path, backend: .openBLAS, sparse: .always, threads: 2)
        XCTAssertEqual(blas.sparseSteps, 0, "\(relative): sparse layers under OpenBLAS")
        XCTAssertEqual(try eligibleLayers(path), eligible, "\(relative): 1x1 convs with >= 50% zero weights")
    }

    /// Counted from the model file, independently of the interpreter: CONV_2D ops with 1×1 weights
    /// `[O, 1, 1, I]`, O > 1, at least half of them zero (stride and padding are 1 and none in these models).
    func eligibleLayers(_ path: URL) throws -> Int {
        let model = try Model(contentsOf: path)
        let constants = try model.resolveConstants()
        let graph = model.subgraphs[0]
        return graph.operators.filter { op in
            guard model.opcode(of: op) == .conv2D, op.inputs.count > 1, op.inputs[1] >= 0 else { return false }
            let shape = graph.tensors[op.inputs[1]].shape
            guard shape.count == 4, shape[0] > 1, shape[1] == 1, shape[2] == 1,
                  let w = constants[op.inputs[1]] else { return false }
            return 2 * w.filter { $0 == 0 }.count >= w.count
        }.count
    }

    func testPoseDetector() throws {
        try check("weights/pose_detection.tflite", eligible: Self.eligible["pose_detection"] ?? -1,
                  chosen: Self.chosen["pose_detection"] ?? -1)
    }
    func testSparseFaceDetector() throws {
        try check("weights/mediapipe/face_detection_full_range_sparse.tflite",
                  eligible: Self.eligible["face_detection_full_range_sparse"] ?? -1,
                  chosen: Self.chosen["face_detection_full_range_sparse"] ?? -1)
    }

    /// The default (`.auto`) takes the sparse kernel where the cost model predicts it faster, the
    /// same layers for every thread count, and labels the others `dense Z%` (other labels: dense
    /// convs on binary16 panels, `f16-panels`, not sparse-eligible).
    func testDefaultLabelsEveryEligibleLayer() throws {
        let path = Self.root.appendingPathComponent("weights/pose_detection.tflite")
        let interpreter = try Interpreter(contentsOf: path, options: .init(threads: 1, gemmBackend: .native))
        let labels = interpreter.steps.compactMap(\.variant)
        let parts = labels.map { Self.parts($0) }
        let sparseOrDense = parts.map { Self.layers("sparse ", in: $0) + Self.layers("dense ", in: $0) }.reduce(0, +)
        XCTAssertEqual(sparseOrDense, Self.eligible["pose_detection"], "every eligible layer is labelled")
        XCTAssertEqual(parts.map { Self.layers("sparse ", in: $0) }.reduce(0, +), Self.chosen["pose_detection"])
        // The 112×112×64 and 56×56×144 expansions also run the depthwise conv reading them and its
        // projection (`+depthwise op 18`, `+conv op 22 sparse 75%`), two convs the resize producing
        // their input (`+resize op 200`).
        XCTAssertTrue(parts.allSatisfy { $0.allSatisfy { $0.hasPrefix("sparse ") || $0.hasPrefix("dense ") || $0 == "f16-panels"
            || $0 == "f16 values" || $0.hasPrefix("+depthwise op ") || $0.hasPrefix("+conv op ") || $0.hasPrefix("+resize op ") } },
                      "\(labels)")
        // Its sparse weights are binary16 in the file, so every sparse layer keeps them so where the
        // build widens halves in one instruction (`HalfPanelPolicy.auto`), and none elsewhere.
        let halfLayers = parts.reduce(0) { sum, step in sum + step.filter { $0 == "f16 values" }.count }
        XCTAssertEqual(halfLayers, PanelPrecision.buildWidensHalves ? Self.chosen["pose_detection"] ?? -1 : 0, "\(labels)")
    }

    /// A step's variant label as its comma-separated parts (`+depthwise op 18, sparse 75%`).
    static func parts(_ variant: String?) -> [String] {
        (variant ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Conv layers of a step labelled `kind` (`sparse ` or `dense `): the step's own conv, and a
    /// projection it runs (`+conv op 22 sparse 75%`).
    static func layers(_ kind: String, in parts: [String]) -> Int {
        parts.filter { $0.hasPrefix(kind) || ($0.hasPrefix("+conv op ") && $0.contains(" " + kind)) }.count
    }

    /// Every DENSIFY'd weight tensor of these models (`blazepose inspect`: 38 and 46 DENSIFY ops)
    /// feeds a 1×1 stride-1 conv with O > 1 and ~75% / ~70% zeros.
    static let eligible: [String: Int] = ["pose_detection": 38, "face_detection_full_range_sparse": 46]
    /// Of those, the layers `SparseCostModel` puts on the sparse kernel (the others are small-O
    /// layers on large maps, where the dense GEMM measured faster).
    static let chosen: [String: Int] = ["pose_detection": 38, "face_detection_full_range_sparse": 44]
}
