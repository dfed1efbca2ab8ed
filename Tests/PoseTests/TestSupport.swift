import BlazePose
import Foundation
import XCTest

/// The package root, from this file's location (Tests/PoseTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let weightsDirectory = packageRoot.appendingPathComponent("weights", isDirectory: true)
let fixturesDirectory = packageRoot.appendingPathComponent("Tests/Fixtures", isDirectory: true)

/// The 13 fixture image names (without `.png`).
func fixtureImageNames() throws -> [String] {
    let dir = fixturesDirectory.appendingPathComponent("images")
    return try FileManager.default.contentsOfDirectory(atPath: dir.path)
        .filter { $0.hasSuffix(".png") }.map { String($0.dropLast(4)) }.sorted()
}

func fixtureImage(_ name: String) throws -> RGBImage {
    try RGBImage(pngFile: fixturesDirectory.appendingPathComponent("images/\(name).png").path)
}

/// Loads a landmarker from the package's weights, failing (not skipping) with a clear message
/// when a weights file is missing.
func makeLandmarker(_ model: ModelComplexity, kernel: Int = 7, maxPoses: Int = 1, threads: Int = 2) throws -> PoseLandmarker {
    for file in ["pose_detection.tflite", model.landmarkModelFileName] {
        let path = weightsDirectory.appendingPathComponent(file).path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("missing weights file \(path): run bash Tools/setup.sh")
            throw BlazePoseError.missingWeights(path: path, hint: "run bash Tools/setup.sh")
        }
    }
    return try PoseLandmarker(options: PoseLandmarkerOptions(
        modelComplexity: model, enableSegmentation: true, maxPoses: maxPoses, threads: threads,
        heatmapKernelSize: kernel, weightsDirectory: weightsDirectory))
}

/// `Tests/Fixtures/mediapipe*/<model>/<image>.json` written by Tools/mediapipe/reference_static.py.
struct MediaPipeReference: Decodable {
    var image: String
    var image_size: [Int]
    var pose_found: Bool
    var landmarks: [[Double]]?        // 33 × [x, y, z, visibility]
    var world_landmarks: [[Double]]?  // 33 × [x, y, z, visibility]
}

func loadReference(_ folder: String, _ model: ModelComplexity, _ image: String) throws -> MediaPipeReference {
    let url = fixturesDirectory.appendingPathComponent("\(folder)/\(model.rawValue)/\(image).json")
    return try JSONDecoder().decode(MediaPipeReference.self, from: Data(contentsOf: url))
}

/// A STAGES.md "rect" JSON.
struct RectJSON: Decodable {
    var x_center: Double, y_center: Double, width: Double, height: Double, rotation: Double
    var rect: NormalizedRect {
        NormalizedRect(xCenter: Float(x_center), yCenter: Float(y_center), width: Float(width),
                       height: Float(height), rotation: Float(rotation))
    }
}
