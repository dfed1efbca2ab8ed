import BlazeRuntime
import Foundation
import XCTest

/// Load-time fusions (PAD → conv padding, conv + ADD epilogue, RELU folding) must change
/// nothing but speed: every output bit-identical to the unfused graph (`fuseOperators: false`),
/// for 1 and 2 threads, and the fusions must actually fire on the BlazePose models. The one
/// reordering (`convolveBeforeResize`, on by default) is off for that, and checked on its own
/// (`testConvolveBeforeResize`).
final class FusionTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `reorder`: `InterpreterOptions.convolveBeforeResize` (off: every fusion keeps the graph's bits).
    func makeInterpreter(_ weights: URL, threads: Int, fused: Bool, preserve: Bool = false,
                         backend: GemmBackend = .preferred, sparse: SparseConvolutionPolicy = .auto,
                         reorder: Bool = false) throws -> Interpreter {
        try Interpreter(contentsOf: weights, options: .init(threads: threads, preserveIntermediates: preserve,
                                                            gemmBackend: backend, fuseOperators: fused,
                                                            sparseConvolutions: sparse, convolveBeforeResize: reorder))
    }

    /// The model's weights and its astronaut reference dump; nil (after a failure) when the weights
    /// are missing.
    func fixture(_ model: String, _ folder: String) throws -> (URL, ReferenceDump)? {
        let weights = Self.root.appendingPathComponent("\(folder)/\(model).tflite")
        guard FileManager.default.fileExists(atPath: weights.path) else {
            XCTFail("missing \(weights.path): run bash Tools/setup.sh")
            return nil
        }
        return (weights, try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(model)/astronaut")))
    }

    func run(_ interpreter: Interpreter, _ dump: ReferenceDump) throws -> [[Float]] {
        for entry in dump.entries where entry.role == "input" {
            guard let i = interpreter.inputs.firstIndex(where: { $0.index == entry.index }) else {
                XCTFail("reference input \(entry.name) is not a model input"); return []
            }
            try interpreter.setInput(i, dump.values(of: entry))
        }
        interpreter.invoke()
        return interpreter.outputs.indices.map { interpreter.output($0) }
    }

    /// `backend`: the GEMM of both interpreters (the pointwise → depthwise fusion needs the native
    /// one, which the plain build does not prefer).
    func check(model: String, minimumRemovedSteps: Int, folder: String = "weights", pointwiseDepthwise: Int = 0,
               projections: Int = 0, resizes: Int = 0, backend: GemmBackend = .preferred, sparse: SparseConvolutionPolicy = .auto) throws {
        guard let (weights, dump) = try fixture(model, folder) else { return }
        let unfused = try makeInterpreter(weights, threads: 1, fused: false, backend: backend, sparse: sparse)
        let expected = try run(unfused, dump)
        for threads in [1, 2] {
            let fused = try makeInterpreter(weights, threads: threads, fused: true, backend: backend, sparse: sparse)
            XCTAssertGreaterThanOrEqual(unfused.steps.count - fused.steps.count, minimumRemovedSteps,
                                        "\(model): fusions did not fire (\(unfused.steps.count) → \(fused.steps.count) steps)")
            // Pointwise → depthwise pairs in row bands (`PointwiseDepthwiseOperator`), by step label.
            XCTAssertEqual(fused.steps.filter { $0.variant?.hasPrefix("+depthwise") == true }.count, pointwiseDepthwise,
                           "\(model): pointwise → depthwise fusions")
            // Their projections (`+conv op N` in the same label).
            XCTAssertEqual(fused.steps.filter { $0.variant?.contains("+conv op") == true }.count, projections,
                           "\(model): projections run in the pairs' steps")
            // RESIZE_BILINEAR → 1×1 conv (`+resize op N` last in the conv's label).
            XCTAssertEqual(fused.steps.filter { $0.variant?.contains("+resize op") == true }.count, resizes,
                           "\(model): resize → conv fusions")
            let got = try run(fused, dump)
            XCTAssertEqual(got.count, expected.count)
            for (i, (a, b)) in zip(got, expected).enumerated() {
                let mismatches = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(mismatches, 0, "\(model) output \(i) threads \(threads): \(mismatches) values differ from the unfused run")
            }
        }
        // Fused-away intermediates are not materialized (no arena offset), which is what lets
        // `compare` skip them instead of comparing stale memory.
        let preservedFused = try makeInterpreter(weights, threads: 1, fused: true, preserve: true, backend: backend, sparse: sparse)
        let preservedUnfused = try makeInterpreter(weights, threads: 1, fused: false, preserve: true, backend: backend, sparse: sparse)
        let planned = { (i: Interpreter) in i.plan.offsets.filter { $0 != nil }.count }
        XCTAssertGreaterThanOrEqual(planned(preservedUnfused) - planned(preservedFused), minimumRemovedSteps,
                                    "\(model): fused-away tensors still have arena storage")
    }

    // Removed steps per model (measured with `blazepose profile`): detector 5 PAD + 15 ADD,
    // lite 57 RELU + 37 ADD + 4 ADD after a RESIZE_BILINEAR (their skips are depthwise outputs
    // whose folded RELU comes after the resize in file order), full 5 PAD + 22 ADD + 4 ADD after a
    // RESIZE_BILINEAR.
    // Pointwise → depthwise pairs: through a folded PAD, the detector's sparse 112×112×64 expansion
    // and pose_landmark_full's dense 128×128×64 one (native GEMM), both ≥ 3 MiB; with a stride-1
    // depthwise conv from 1.5 MiB, the detector's 56×56×144 pair and full's 64×64×144 one; each
    // with the 1×1 projection reading its depthwise output (and that conv's fused ADD). The detector's two RESIZE_BILINEAR
    // → sparse 1×1 conv pairs: computed in the sparse kernel's input transposes, and with every
    // layer dense (`.off`) resized into scratch before the GEMM.
    func testDetectorFusedEqualsUnfused() throws {
        try check(model: "pose_detection", minimumRemovedSteps: 26, pointwiseDepthwise: 2, projections: 2, resizes: 2,
                  backend: .native)
        try check(model: "pose_detection", minimumRemovedSteps: 26, pointwiseDepthwise: 2, projections: 2, resizes: 2, backend: .native,
                  sparse: .off)
    }
    func testLiteFusedEqualsUnfused() throws { try check(model: "pose_landmark_lite", minimumRemovedSteps: 98) }
    func testFullFusedEqualsUnfused() throws {
        try check(model: "pose_landmark_full", minimumRemovedSteps: 35, pointwiseDepthwise: 2, projections: 2, backend: .native)
    }
    // The pointwise → depthwise pair on a map ≥ 3 MiB (112×112×64) in both hand landmark models,
    // and in hand_landmark_full a stride-1 one on 56×56×144 (1.8 MB); hand_landmark_full's two run
    // their projections too, hand_landmark_lite's not (its ADD's skip, a MAX_POOL of the
    // expansion's input, is computed after the expansion's step).
    func testHandLandmarkLiteFusedEqualsUnfused() throws {
        try check(model: "hand_landmark_lite", minimumRemovedSteps: 1, folder: "weights/mediapipe", pointwiseDepthwise: 1,
                  backend: .native)
        // With OpenBLAS (other bits than the native GEMM) the pair is not fused.
        try check(model: "hand_landmark_lite", minimumRemovedSteps: 0, folder: "weights/mediapipe", pointwiseDepthwise: 0,
                  backend: .openBLAS)
    }
    // The selfie segmenters' three RESIZE_BILINEAR → dense 1×1 conv (+ ADD) decoder steps, and
    // palm detection's two (each conv with a folded PRELU).
    func testSegmentationAndPalmResizeFusedEqualsUnfused() throws {
        try check(model: "selfie_segmentation", minimumRemovedSteps: 6, folder: "weights/mediapipe", resizes: 3, backend: .native)
        try check(model: "palm_detection_full", minimumRemovedSteps: 2, folder: "weights/mediapipe", resizes: 2, backend: .native)
    }

    /// `convolveBeforeResize` (the default): the conv runs before the resize it reads
    /// (`ResizedPointwiseOperator`). Not the graph's bits, but the same values to float rounding:
    /// every output within 1e-5 · max(1, max|unfused|) of the unfused run (measured: the detector's
    /// 6.0e-7 and 2.8e-7, selfie_segmentation's mask 6.2e-6; the model tests hold every model to
    /// LiteRT's builtin kernels at XNNPACK's distance), the same bits at 1 and 2 threads, and it
    /// fires on every resize → conv step.
    func testConvolveBeforeResize() throws {
        let cases: [(model: String, folder: String, reordered: Int, sparse: SparseConvolutionPolicy)] = [
            ("pose_detection", "weights", 2, .auto), ("pose_detection", "weights", 2, .off),
            ("selfie_segmentation", "weights/mediapipe", 3, .auto), ("palm_detection_full", "weights/mediapipe", 2, .auto),
        ]
        for c in cases {
            guard let (weights, dump) = try fixture(c.model, c.folder) else { return }
            let expected = try run(try makeInterpreter(weights, threads: 1, fused: false, backend: .native, sparse: c.sparse), dump)
            var first: [[Float]]?
            for threads in [1, 2] {
                let reordered = try makeInterpreter(weights, threads: threads, fused: true, backend: .native, sparse: c.sparse,
                                                    reorder: true)
                XCTAssertEqual(reordered.steps.filter { $0.variant?.hasSuffix(" after") == true }.count, c.reordered,
                               "\(c.model): convs run before their resize")
                let got = try run(reordered, dump)
                XCTAssertEqual(got.count, expected.count)
                for (i, (a, b)) in zip(got, expected).enumerated() {
                    let scale = max(1, b.map { abs($0) }.max() ?? 0)
                    // A NaN anywhere counts as the largest difference.
                    let worst = zip(a, b).reduce(Float(0)) { m, p in let d = abs(p.0 - p.1); return d <= m ? m : (d.isNaN ? .infinity : d) }
                    XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(c.model) output \(i) threads \(threads): max |reordered − unfused|")
                }
                if let first {
                    XCTAssertEqual(zip(first.joined(), got.joined()).filter { $0.bitPattern != $1.bitPattern }.count, 0,
                                   "\(c.model): the same bits at 1 and 2 threads")
                }
                first = got
            }
        }
    }

    func testHandLandmarkFullFusedEqualsUnfused() throws {
        try check(model: "hand_landmark_full", minimumRemovedSteps: 4, folder: "weights/mediapipe", pointwiseDepthwise: 2, projections: 2,
                  backend: .native)
    }

    // PRELU folded into the producing conv / depthwise conv (only where the PRELU is the sole
    // reader of its input), counted from `blazepose profile` with and without --no-fuse:
    // face_landmark 17 PRELU + 3 PAD, iris_landmark 47 PRELU + 1 PAD, hand_recrop 7 PRELU + 3 ADD.
    func testFaceLandmarkFusedEqualsUnfused() throws {
        try check(model: "face_landmark", minimumRemovedSteps: 17, folder: "weights/mediapipe")
    }
    func testIrisLandmarkFusedEqualsUnfused() throws {
        try check(model: "iris_landmark", minimumRemovedSteps: 47, folder: "weights/mediapipe")
    }
    func testHandRecropFusedEqualsUnfused() throws {
        // + 3 channel PADs folded into the conv's residual.
        try check(model: "hand_recrop", minimumRemovedSteps: 10, folder: "weights/mediapipe")
    }
    // face_detection_short_range: 11 channel PAD → ADD shortcuts into the conv epilogue (PAD, ADD
    // and the RELU after it: 33 steps), 1 RELU after the stem.
    func testFaceDetectionShortRangeFusedEqualsUnfused() throws {
        try check(model: "face_detection_short_range", minimumRemovedSteps: 34, folder: "weights/mediapipe")
    }
}
