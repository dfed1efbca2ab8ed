import BlazePose
import Foundation
import XCTest

/// An installed binary and a library consumer find the weights the set-up installed
/// (`Tools/setup.sh` puts them in `/usr/local/share/blazepose/weights` as root, else in
/// `~/.local/share/blazepose/weights`), from any working directory.
final class InstallTests: XCTestCase {
    /// The set-up's install location that holds the weights, or a failure saying how to get it.
    private func installedWeights() throws -> URL {
        let locator = WeightsLocator()
        let installed = [locator.userDataDirectory, WeightsLocator.systemDirectory].first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("pose_detection.tflite").path)
                && FileManager.default.fileExists(atPath: $0.appendingPathComponent("pose_landmark_full.tflite").path)
        }
        guard let installed else {
            XCTFail("no installed weights in \(locator.userDataDirectory.path) or \(WeightsLocator.systemDirectory.path): run bash Tools/setup.sh")
            throw CocoaError(.fileNoSuchFile)
        }
        return installed
    }

    func testCopiedBinaryFindsInstalledWeightsThroughPathAndDirectly() throws {
        let installed = try installedWeights()
        let root = try temporaryDirectory("install", self)
        let bin = root.appendingPathComponent("bin", isDirectory: true)
        let work = root.appendingPathComponent("elsewhere", isDirectory: true)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let copy = bin.appendingPathComponent("blazepose")
        try FileManager.default.copyItem(at: try blazeposeBinary(), to: copy)
        let image = fixtureImages.appendingPathComponent("astronaut.png").path
        var env = environmentWithoutWeightsVariable
        env["PATH"] = bin.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")

        let direct = try runProcess(copy, ["detect", image, "--json", "-", "--model", "lite"], in: work, environment: env)
        XCTAssertEqual(direct.status, 0, direct.stderr)
        XCTAssertTrue(direct.stdout.contains("\"poses\":[{"), direct.stdout)
        // Through $PATH: argv[0] is just "blazepose"; the weights are still found.
        let viaPath = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                     ["blazepose", "detect", image, "--json", "-", "--model", "lite"], in: work, environment: env)
        XCTAssertEqual(viaPath.status, 0, viaPath.stderr)
        XCTAssertEqual(withoutTiming(viaPath.stdout), withoutTiming(direct.stdout))
        let doctor = try runProcess(copy, ["doctor"], in: work, environment: env)
        XCTAssertTrue(doctor.stdout.contains(installed.appendingPathComponent("pose_detection.tflite").path + "  sha256 ok"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("build: SIMD") && doctor.stdout.contains("-lane (") && doctor.stdout.contains("OpenBLAS core:"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("memory: faulting in fresh pages took ") && doctor.stdout.contains(" ms/MiB (3 probes of 8 MiB"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("memory pages: 2 MiB huge pages (") || doctor.stdout.contains("memory pages: 4 KiB pages ("), doctor.stdout)
    }

    /// A package that depends on BlazePose (`Tools/consumer`) runs `PoseLandmarker(options: .init())`
    /// from a temporary directory.
    func testLibraryConsumerWithDefaultOptionsFindsInstalledWeights() throws {
        let installed = try installedWeights()
        let scratch = try temporaryDirectory("consumer-build", self)
        let work = try temporaryDirectory("consumer-run", self)
        let swift = URL(fileURLWithPath: "/usr/bin/env")
        let build = try runProcess(swift, ["swift", "build", "-c", "release", "--package-path",
                                           packageRoot.appendingPathComponent("Tools/consumer").path,
                                           "--scratch-path", scratch.path], timeout: 1800)
        XCTAssertEqual(build.status, 0, build.stdout + build.stderr)
        let binary = scratch.appendingPathComponent("release/consumer")
        let run = try runProcess(binary, [fixtureImages.appendingPathComponent("astronaut.png").path], in: work,
                                 environment: environmentWithoutWeightsVariable)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("weights: \(installed.path)"), run.stdout)
        XCTAssertTrue(run.stdout.contains("poses: 1"), run.stdout)
    }
}
