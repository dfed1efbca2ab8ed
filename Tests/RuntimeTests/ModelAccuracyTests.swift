import BlazeRuntime
import Foundation
import XCTest

/// Runs the three BlazePose models and MediaPipe's other float models (face, iris, palm, hand;
/// weights/mediapipe/ from Tools/fetch-mediapipe-models.sh) on real-image inputs and compares every
/// output with LiteRT's builtin reference kernels (fixtures from Tools/litert/make_fixtures.sh).
final class ModelAccuracyTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tolerance: Float = 1e-4

    func check(model: String, image: String, threads: [Int] = [1, 2], folder: String = "weights") throws {
        let weights = Self.root.appendingPathComponent("\(folder)/\(model).tflite")
        guard FileManager.default.fileExists(atPath: weights.path) else {
            return XCTFail("missing \(weights.path): run bash Tools/setup.sh")
        }
        let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(model)/\(image)"))
        let inputs = dump.entries.filter { $0.role == "input" }
        let outputs = dump.entries.filter { $0.role == "output" }
        XCTAssertFalse(outputs.isEmpty)
        var first: [[Float]]? = nil, firstNative: [[Float]]? = nil
        // This build's defaults at every thread count, then the native GEMM at both vector widths
        // (both are compiled on every target) at 2 threads: every run within the bar; runs of the
        // same backend bit-identical (the native ones whatever the width).
        let preferred = GemmBackend.preferred
        let runs = threads.map { ($0, preferred, GemmLanes.build) }
            + GemmLanes.allCases.map { (2, GemmBackend.native, $0) }
        for (n, backend, lanes) in runs {
            let interpreter = try Interpreter(contentsOf: weights,
                                              options: .init(threads: n, gemmBackend: backend, gemmLanes: lanes))
            for entry in inputs {
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
                // The bar is 1e-4. Where LiteRT's own XNNPACK delegate is farther than that from
                // its builtin kernels (full model's segmentation logits: 3.3e-4, a high-gain decoder
                // that amplifies float rounding), we must be no farther than XNNPACK is.
                let tolerance = max(Self.tolerance, dump.xnnpackRelative[entry.name] ?? 0)
                XCTAssertTrue(diff.within(tolerance),
                              "\(model)/\(image) \(entry.name) threads \(n) \(backend) \(lanes): max|d| \(diff.maxAbs), max|ref| \(diff.maxRef)")
                print("accuracy \(model)/\(image) \(entry.name) threads=\(n) \(backend) \(lanes): max|d|=\(diff.maxAbs) rel=\(diff.relative)")
                results.append(ours)
            }
            // Bit-identical across thread counts and GEMM vector widths.
            if backend == preferred {
                if let first { XCTAssertEqual(first, results, "\(model)/\(image): outputs differ (threads \(n), \(lanes))") }
                first = first ?? results
            }
            if backend == .native {
                if let firstNative { XCTAssertEqual(firstNative, results, "\(model)/\(image): native outputs differ (\(lanes))") }
                firstNative = firstNative ?? results
            }
        }
    }

    func testDetectorAstronaut() throws { try check(model: "pose_detection", image: "astronaut") }
    func testDetectorGraceHopper() throws { try check(model: "pose_detection", image: "grace_hopper") }
    func testLiteAstronaut() throws { try check(model: "pose_landmark_lite", image: "astronaut") }
    func testLiteGraceHopper() throws { try check(model: "pose_landmark_lite", image: "grace_hopper") }
    func testFullAstronaut() throws { try check(model: "pose_landmark_full", image: "astronaut", threads: [1, 2, 3]) }

    // MediaPipe's other models in the 0.10.14 wheel that use only builtin operators.
    private func checkWheel(_ model: String) throws { try check(model: model, image: "astronaut", folder: "weights/mediapipe") }
    func testFaceDetectionShortRange() throws { try checkWheel("face_detection_short_range") }
    func testFaceDetectionFullRangeSparse() throws { try checkWheel("face_detection_full_range_sparse") }
    func testFaceLandmark() throws { try checkWheel("face_landmark") }
    func testIrisLandmark() throws { try checkWheel("iris_landmark") }
    func testPalmDetectionLite() throws { try checkWheel("palm_detection_lite") }
    func testPalmDetectionFull() throws { try checkWheel("palm_detection_full") }
    func testHandLandmarkLite() throws { try checkWheel("hand_landmark_lite") }
    func testHandLandmarkFull() throws { try checkWheel("hand_landmark_full") }
    func testHandRecrop() throws { try checkWheel("hand_recrop") }

    /// `compare`'s default tolerance is the bar above: the full model's segmentation logits
    /// (`Identity_2`, rel ≈ 3.1e-4, XNNPACK itself 3.3e-4 from the builtin kernels) pass with the
    /// XNNPACK-scaled tolerance and fail a flat 1e-4, which every other output still meets.
    func testCompareHoldsOutputsToTheXNNPACKScaledBar() throws {
        let weights = Self.root.appendingPathComponent("weights/pose_landmark_full.tflite")
        let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/pose_landmark_full/astronaut"))
        let xnnpack = try XCTUnwrap(dump.xnnpackRelative["Identity_2"])
        let interpreter = try Interpreter(contentsOf: weights, options: .init(threads: 1))
        let scaled = try interpreter.compare(with: dump, tolerance: Self.tolerance, xnnpackScaled: true)
        XCTAssertTrue(scaled.allWithinTolerance, "\(scaled.rows.map { ($0.name, $0.difference.relative, $0.tolerance) })")
        XCTAssertEqual(scaled.rows.first { $0.name == "Identity_2" }?.tolerance, 1.5 * xnnpack)
        let flat = try interpreter.compare(with: dump, tolerance: Self.tolerance)
        XCTAssertEqual(flat.rows.filter { !$0.withinTolerance }.map(\.name), ["Identity_2"])
    }

    /// Two runs of the same interpreter give identical outputs (no state leaks between
    /// inferences, and the input survives the run).
    func testRepeatedRunsAreIdentical() throws {
        let weights = Self.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        guard FileManager.default.fileExists(atPath: weights.path) else { return XCTFail("missing \(weights.path): run bash Tools/setup.sh") }
        let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/pose_landmark_lite/astronaut"))
        let interpreter = try Interpreter(contentsOf: weights, options: .init(threads: 2))
        try interpreter.setInput(0, dump.values(of: dump.entries.first { $0.role == "input" }!))
        interpreter.invoke()
        let a = (0..<interpreter.outputs.count).map { interpreter.output($0) }
        interpreter.invoke()
        let b = (0..<interpreter.outputs.count).map { interpreter.output($0) }
        XCTAssertEqual(a, b)
    }
}
