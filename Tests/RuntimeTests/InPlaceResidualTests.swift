import BlazeRuntime
import Foundation
import XCTest

/// A conv with a fused residual ADD writing its output into the residual's memory, when it is the
/// residual's last reader (`InterpreterOptions.inPlaceResidual`, `GraphBuilder.offerInPlace`): the
/// same bits as separate buffers, on every model, with the arena poisoned before each run, at 1 and
/// 2 threads; never more activation memory (the plan keeps in-place buffers only when they make it
/// smaller), and less where the shared buffer sat at the plan's peak.
final class InPlaceResidualTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func outputs(_ interpreter: Interpreter, arena: ActivationArena, poison: Float) throws -> [[UInt32]] {
        arena.fill(poison)
        try interpreter.fillInputsForBenchmark()
        interpreter.invoke()
        return interpreter.outputs.indices.map { interpreter.output($0).map(\.bitPattern) }
    }

    func testInPlaceResidualKeepsEveryBit() throws {
        // Activation bytes without → with in place, measured: pose_landmark_full 8.42 → 7.46 MiB
        // (its 256×256×8 decoder), palm_detection_full 3.81 → 2.69, face_landmark 2.16 → 1.60.
        let shrinks: Set<String> = ["pose_landmark_full", "mediapipe/palm_detection_full", "mediapipe/face_landmark"]
        let names = ["pose_detection", "pose_landmark_lite", "pose_landmark_full"] +
            ["face_detection_full_range_sparse", "face_detection_short_range", "face_landmark", "face_landmark_with_attention",
             "hand_landmark_full", "hand_landmark_lite", "hand_recrop", "iris_landmark", "palm_detection_full",
             "palm_detection_lite", "selfie_segmentation", "selfie_segmentation_landscape"].map { "mediapipe/" + $0 }
        var tested = 0, shrunk = 0
        for name in names {
            let url = Self.root.appendingPathComponent("weights/\(name).tflite")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            // The native GEMM (the plain build prefers OpenBLAS, whose epilogue cannot share).
            func make(_ threads: Int, inPlace: Bool, _ arena: ActivationArena) throws -> Interpreter {
                try Interpreter(contentsOf: url, options: .init(threads: threads, gemmBackend: .native, sharedArena: arena,
                                                                inPlaceResidual: inPlace))
            }
            let separateArena = ActivationArena()
            let separate = try make(1, inPlace: false, separateArena)
            let expected = try outputs(separate, arena: separateArena, poison: 0)
            for threads in [1, 2] {
                let arena = ActivationArena()
                let shared = try make(threads, inPlace: true, arena)
                // Scratch grows with the threads: compare plans of the same thread count.
                let separateBytes = try make(threads, inPlace: false, ActivationArena()).activationBytes
                XCTAssertLessThanOrEqual(shared.activationBytes, separateBytes, name)
                if threads == 1, shrinks.contains(name) {
                    XCTAssertLessThan(shared.activationBytes, separateBytes, "\(name): no output took a residual's memory")
                    shrunk += 1
                }
                for poison in [Float.nan, -0.0] {
                    let got = try outputs(shared, arena: arena, poison: poison)
                    XCTAssertEqual(got.count, expected.count, name)
                    for (i, (g, e)) in zip(got, expected).enumerated() where g != e {
                        XCTFail("\(name), \(threads) thread(s), arena \(poison): output \(i) differs in \(zip(g, e).filter { $0 != $1 }.count) of \(e.count) values")
                    }
                }
            }
            tested += 1
        }
        if tested == 0 { throw XCTSkip("no models in weights/: run bash Tools/setup.sh") }
        XCTAssertEqual(shrunk, shrinks.filter { FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("weights/\($0).tflite").path) }.count)
    }
}
