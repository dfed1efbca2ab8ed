import BlazeKernels
import BlazeRuntime
import Foundation
import XCTest

/// The load-time choice of the sparse 1×1 conv kernel (`InterpreterOptions.sparseConvolutions`).
final class SparseConvTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func outputs(_ path: URL, backend: GemmBackend, sparse: Bool, threads: Int) throws -> (outputs: [[Float]], sparseSteps: Int) {
        let interpreter = try Interpreter(contentsOf: path, options: .init(threads: threads, gemmBackend: backend,
                                                                           sparseConvolutions: sparse))
        try interpreter.fillInputsForBenchmark()
        interpreter.invoke()
        let count = interpreter.steps.filter { $0.variant?.hasPrefix("sparse ") ?? false }.count
        return (interpreter.outputs.indices.map { interpreter.output($0) }, count)
    }

    /// `model` has `eligible` 1×1 stride-1 convs with ≥ 50% zero weights and more than one output channel.
    func check(_ relative: String, eligible: Int) throws {
        let path = Self.root.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: path.path) else { return XCTFail("missing \(path.path): run bash Tools/setup.sh") }
        // Native GEMM: dense and sparse give the same bits, so whatever the timing picks, the
        // outputs equal the dense run's, for every thread count.
        let dense = try outputs(path, backend: .native, sparse: false, threads: 1)
        XCTAssertEqual(dense.sparseSteps, 0)
        for threads in [1, 2] {
            let got = try outputs(path, backend: .native, sparse: true, threads: threads)
            XCTAssertLessThanOrEqual(got.sparseSteps, eligible)
            for (i, (a, b)) in zip(got.outputs, dense.outputs).enumerated() {
                let mismatches = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(mismatches, 0, "\(relative) output \(i), threads \(threads): sparse differs from dense")
            }
        }
        // OpenBLAS (other bits): the sparse kernel is taken by the fixed rule on every eligible layer.
        let blas = try outputs(path, backend: .openBLAS, sparse: false, threads: 1)
        let blasSparse = try outputs(path, backend: .openBLAS, sparse: true, threads: 2)
        XCTAssertEqual(blasSparse.sparseSteps, eligible, "\(relative): sparse layers under OpenBLAS")
        for (i, (a, b)) in zip(blasSparse.outputs, blas.outputs).enumerated() {
            let scale = b.map { abs($0) }.max() ?? 0
            let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(diff, 1e-4 * max(1, scale), "\(relative) output \(i): sparse vs OpenBLAS dense")
        }
    }

    func testPoseDetector() throws { try check("weights/pose_detection.tflite", eligible: Self.eligible["pose_detection"] ?? -1) }
    func testSparseFaceDetector() throws {
        try check("weights/mediapipe/face_detection_full_range_sparse.tflite",
                  eligible: Self.eligible["face_detection_full_range_sparse"] ?? -1)
    }

    /// Every DENSIFY'd weight tensor of these models (`blazepose inspect`: 38 and 46 DENSIFY ops)
    /// feeds a 1×1 stride-1 conv with O > 1 and ~75% / ~70% zeros.
    static let eligible: [String: Int] = ["pose_detection": 38, "face_detection_full_range_sparse": 46]
}
