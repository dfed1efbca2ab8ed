import BlazePose
import Foundation
import XCTest

/// The library's weights search order and model loading from a directory, files or `Data`.
final class WeightsSearchTests: XCTestCase {
    func testSearchOrderAndFirstCompleteDirectoryWins() throws {
        let root = try temporaryDirectory("order", self)
        func dir(_ path: String) -> URL { root.appendingPathComponent(path, isDirectory: true) }
        let locator = WeightsLocator(
            environment: ["BLAZEPOSE_WEIGHTS": dir("env").path, "XDG_DATA_HOME": dir("xdg").path, "HOME": dir("home").path],
            currentDirectory: dir("cwd"), executable: dir("prefix/bin").appendingPathComponent("blazepose"))
        XCTAssertEqual(locator.candidates().map(\.directory.path),
                       [dir("env").path, dir("cwd/weights").path, dir("prefix/share/blazepose/weights").path,
                        dir("xdg/blazepose/weights").path, "/usr/local/share/blazepose/weights"])
        XCTAssertEqual(locator.candidates().map(\.place), [.environment, .workingDirectory, .executable, .userData, .system])
        XCTAssertEqual(locator.candidates(explicit: dir("x")).map(\.directory.path), [dir("x").path], "explicit: only that")
        var noXDG = locator
        noXDG.environment = ["HOME": dir("home").path]
        XCTAssertEqual(noXDG.userDataDirectory.path, dir("home/.local/share/blazepose/weights").path)

        // A directory counts only when it holds every requested file; the earliest such wins.
        let files = ["a.tflite", "b.tflite"]
        for (path, names) in [("prefix/share/blazepose/weights", files), ("xdg/blazepose/weights", files),
                              ("cwd/weights", ["a.tflite"])] {
            try FileManager.default.createDirectory(at: dir(path), withIntermediateDirectories: true)
            for name in names { try Data([1]).write(to: dir(path).appendingPathComponent(name)) }
        }
        XCTAssertEqual(try locator.locate(files: files).path, dir("prefix/share/blazepose/weights").path)
        XCTAssertEqual(try locator.locate(files: ["a.tflite"]).path, dir("cwd/weights").path)

        // A binary inside a package's build folder finds that package's weights/.
        let package = dir("pkg")
        try FileManager.default.createDirectory(at: package.appendingPathComponent(".build/x86_64/release"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: package.appendingPathComponent("weights"), withIntermediateDirectories: true)
        try Data().write(to: package.appendingPathComponent("Package.swift"))
        let built = WeightsLocator(environment: [:], currentDirectory: dir("cwd"),
                                   executable: package.appendingPathComponent(".build/x86_64/release/blazepose"))
        XCTAssertTrue(built.candidates().contains { $0.place == .executable && $0.directory.path == package.appendingPathComponent("weights").path },
                      "\(built.candidates())")
    }

    func testMissingWeightsErrorListsEveryPlaceAndTheInstallCommand() throws {
        let root = try temporaryDirectory("missing", self)
        let locator = WeightsLocator(environment: ["HOME": root.path], currentDirectory: root, executable: nil)
        XCTAssertThrowsError(try locator.locate(files: ["pose_detection.tflite", "no_such_model.tflite"])) { error in
            let text = "\(error)"
            for candidate in locator.candidates() {
                XCTAssertTrue(text.contains(candidate.directory.path), "lists \(candidate.directory.path): \(text)")
            }
            XCTAssertTrue(text.contains("no_such_model.tflite"), text)
            XCTAssertTrue(text.contains("Tools/setup.sh"), text)
            if let root = WeightsLocator.sourcePackageRoot {
                XCTAssertTrue(text.contains("bash \(root.path)/Tools/setup.sh"), "an absolute, runnable command: \(text)")
            }
        }
        // Through the landmarker, with an explicit directory: only that one is searched.
        let options = PoseLandmarkerOptions(modelComplexity: .lite, weightsDirectory: root.appendingPathComponent("none"))
        XCTAssertThrowsError(try PoseLandmarker(options: options)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(root.appendingPathComponent("none").path) && text.contains("pose_landmark_lite.tflite"), text)
            XCTAssertFalse(text.contains("/usr/local/share"), text)
        }
    }

    func testModelsLoadFromDataAndFileURLsWithIdenticalResults() throws {
        let detector = packageWeights.appendingPathComponent("pose_detection.tflite")
        let landmark = packageWeights.appendingPathComponent("pose_landmark_lite.tflite")
        let image = try RGBImage(pngFile: fixtureImages.appendingPathComponent("astronaut.png").path)
        let fromDirectory = try PoseLandmarker(options: .init(modelComplexity: .lite, threads: 1, weightsDirectory: packageWeights))
        XCTAssertEqual(fromDirectory.weightsDirectory?.path, packageWeights.path)
        let expected = try fromDirectory.detect(image: image)
        XCTAssertEqual(expected.poses.count, 1)
        let fromData = try PoseLandmarker(options: .init(
            modelComplexity: .lite, threads: 1,
            models: .data(detector: try Data(contentsOf: detector), landmark: try Data(contentsOf: landmark))))
        let fromFiles = try PoseLandmarker(options: .init(modelComplexity: .lite, threads: 1,
                                                          models: .files(detector: detector, landmark: landmark)))
        for (name, landmarker) in [("data", fromData), ("files", fromFiles)] {
            XCTAssertNil(landmarker.weightsDirectory)
            let result = try landmarker.detect(image: image)
            XCTAssertEqual(result.poses.count, expected.poses.count, name)
            for (a, b) in zip(result.poses, expected.poses) {
                XCTAssertEqual(a.landmarks, b.landmarks, name)
                XCTAssertEqual(a.worldLandmarks, b.worldLandmarks, name)
                XCTAssertEqual(a.roi, b.roi, name)
            }
        }
        // Bad bytes and missing files: clear errors naming what failed.
        XCTAssertThrowsError(try PoseLandmarker(options: .init(models: .data(detector: Data([1, 2, 3]), landmark: Data())))) {
            XCTAssertTrue("\($0)".contains("pose_detection.tflite") && "\($0)".contains("Data"), "\($0)")
        }
        let missing = URL(fileURLWithPath: "/nonexistent/pose_landmark_full.tflite")
        XCTAssertThrowsError(try PoseLandmarker(options: .init(models: .files(detector: detector, landmark: missing)))) {
            XCTAssertTrue("\($0)".contains(missing.path), "\($0)")
        }
    }
}
