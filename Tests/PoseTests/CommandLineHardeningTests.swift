import BlazePose
import BlazeTestSupport
import BlazeSupport
import Foundation
import XCTest

/// The `blazepose` tool under hostile input and failing output (issue 13, items 2–4, 6, 8–10):
/// every case ends with a clear message and a chosen exit status, never a trap, a hang or a
/// silent success. The tool is the one built next to this test bundle (``BuiltProducts``).
final class CommandLineHardeningTests: XCTestCase {
    private var detector: String { weightsDirectory.appendingPathComponent("pose_detection.tflite").path }
    private var image: String { fixturesDirectory.appendingPathComponent("images/astronaut.png").path }

    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-hardening-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    @discardableResult
    private func blazepose(_ arguments: [String], stdout: String? = nil, stderr: String? = nil,
                           file: StaticString = #filePath, line: UInt = #line) throws -> ProcessOutcome {
        let outcome = try runProcess(try BuiltProducts.blazepose(), arguments, stdout: stdout, stderr: stderr)
        XCTAssertEqual(outcome.reason, .exit, "\(arguments) must exit, not crash: \(outcome.stderr)", file: file, line: line)
        return outcome
    }

    private func assertFails(_ arguments: [String], status: Int32 = 1, message: String, stdout: String? = nil,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try blazepose(arguments, stdout: stdout, file: file, line: line)
        XCTAssertEqual(outcome.status, status, "\(arguments): \(outcome.stderr)", file: file, line: line)
        XCTAssertTrue(outcome.stderr.contains(message), "\(arguments): stderr \"\(outcome.stderr)\" should contain \"\(message)\"",
                      file: file, line: line)
    }

    // MARK: Output failures (item 4, 10)

    /// Before: `detect --json - > /dev/full` died in FileHandle's `try!` (status 132); inspect,
    /// bench, run and detect's summary exited 0 having written nothing.
    func testFullStandardOutputIsAnError() throws {
        let full = "error: cannot write standard output: No space left on device"
        let outDir = try temporaryDirectory().path
        try assertFails(["detect", image, "--model", "lite", "--weights", weightsDirectory.path, "--json", "-"], message: full, stdout: "/dev/full")
        try assertFails(["detect", image, "--model", "lite", "--weights", weightsDirectory.path], message: full, stdout: "/dev/full")
        try assertFails(["inspect", detector], message: full, stdout: "/dev/full")
        try assertFails(["bench", detector, "--iterations", "1", "--warmup", "0", "--threads", "1"], message: full, stdout: "/dev/full")
        try assertFails(["profile", detector, "--iterations", "1", "--threads", "1"], message: full, stdout: "/dev/full")
        try assertFails(["--help"], message: full, stdout: "/dev/full")
        let input = try writeInput([1, 224, 224, 3])
        try assertFails(["run", detector, "--input", input, "--output-dir", outDir, "--threads", "1"], message: full, stdout: "/dev/full")
    }

    func testFullOutputFilesAreErrors() throws {
        try assertFails(["inspect", detector, "--dot", "/dev/full"], message: "error: cannot write /dev/full: No space left on device")
        try assertFails(["detect", image, "--model", "lite", "--weights", weightsDirectory.path, "--json", "/dev/full"],
                        message: "error: cannot write /dev/full: No space left on device")
        try assertFails(["profile", detector, "--iterations", "1", "--threads", "1", "--trace", "/dev/full"],
                        message: "error: cannot write /dev/full: No space left on device")
    }

    /// Before: an error message to a full stderr trapped too. Now the status is still 1.
    func testFullStandardErrorStillExitsWithOne() throws {
        let outcome = try blazepose(["detect", "/nonexistent/x.png", "--weights", weightsDirectory.path], stderr: "/dev/full")
        XCTAssertEqual(outcome.status, 1)
        let usage = try blazepose(["bench", detector, "--iterations", "0"], stderr: "/dev/full")
        XCTAssertNotEqual(usage.status, 0)
    }

    /// A reader that has gone away ends the tool by SIGPIPE (status 141 in a shell), quietly,
    /// even when the parent ignores SIGPIPE (Foundation's Process does).
    func testClosedPipeEndsQuietlyBySIGPIPE() throws {
        let process = Process()
        process.executableURL = try BuiltProducts.blazepose()
        process.arguments = ["inspect", detector]
        let pipe = Pipe(), errors = Pipe()
        try pipe.fileHandleForReading.close()   // nobody will ever read
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        try pipe.fileHandleForWriting.close()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(process.terminationStatus, SIGPIPE)
        XCTAssertEqual(message, "", "a broken pipe is not reported")
    }

    /// Before: "invalid input: cannot write to /dev/full … all written to /dev/full".
    func testTrackOutputFailureSaysOutput() throws {
        let dir = try temporaryDirectory()
        try FileManager.default.copyItem(atPath: image, toPath: dir.appendingPathComponent("f0.png").path)
        let outcome = try blazepose(["track", dir.path, "--model", "lite", "--weights", weightsDirectory.path, "--jsonl", "/dev/full"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stderr.contains("error: cannot write /dev/full: No space left on device"), outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("invalid input") || outcome.stderr.contains("all written"), outcome.stderr)
    }

    // MARK: Bounded reads (items 5, 6)

    /// /dev/zero, a FIFO and 2 GiB sparse files as the model or the input: a clear error, fast.
    func testNonRegularAndHugeInputsFailFast() throws {
        let dir = try temporaryDirectory()
        let fifo = dir.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let sparseModel = dir.appendingPathComponent("sparse.tflite").path
        let sparseNPY = dir.appendingPathComponent("sparse.npy").path
        for path in [sparseModel, sparseNPY] {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
            XCTAssertEqual(truncate(path, 2 << 30), 0)
        }
        let input = try writeInput([1, 224, 224, 3])
        let out = dir.path
        let cases: [([String], String)] = [
            (["run", "/dev/zero", "--input", input, "--output-dir", out], "a character device, not a regular file"),
            (["run", fifo, "--input", input, "--output-dir", out], "a FIFO (named pipe), not a regular file"),
            (["run", sparseModel, "--input", input, "--output-dir", out], "expected 'TFL3'"),
            (["run", detector, "--input", "/dev/zero", "--output-dir", out], "a character device, not a regular file"),
            (["run", detector, "--input", fifo, "--output-dir", out], "a FIFO (named pipe), not a regular file"),
            (["run", detector, "--input", sparseNPY, "--output-dir", out], "not a .npy file"),
            (["inspect", fifo], "not a regular file"),
            (["bench", fifo], "not a regular file"),
            (["compare", detector, "--reference", dir.path], "manifest.json"),
        ]
        for (arguments, message) in cases {
            let outcome = try blazepose(arguments)
            XCTAssertEqual(outcome.status, 1, "\(arguments)")
            XCTAssertTrue(outcome.stderr.contains("error:") && outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
            XCTAssertLessThan(outcome.seconds, 5, "\(arguments) must fail at once")
        }
    }

    // MARK: Options (item 8)

    func testOptionRangesAreCheckedWithTheRangeInTheMessage() throws {
        let usage: Int32 = 64   // ArgumentParser's status for a validation error (EX_USAGE)
        let cases: [([String], String)] = [
            (["profile", detector, "--iterations=0"], "--iterations must be in 1...1000000, got 0"),
            (["profile", detector, "--iterations=-1"], "--iterations must be in 1...1000000, got -1"),
            (["profile", detector, "--top=-3"], "--top must be in 1...1000000, got -3"),
            (["profile", detector, "--top", "-3"], "--top must be in 1...1000000, got -3"),
            (["bench", detector, "--threads", "-1"], "--threads must be in 1...1024, got -1"),
            (["bench", detector, "--threads", "1025"], "--threads must be in 1...1024, got 1025"),
            (["bench", detector, "--warmup", "-1"], "--warmup must be in 0...1000000, got -1"),
            (["compare", detector, "--reference", "x", "--tolerance=-1"], "--tolerance must be a finite number ≥ 0, got -1.0"),
            (["compare", detector, "--reference", "x", "--tolerance", "nan"], "--tolerance must be a finite number ≥ 0, got nan"),
            (["run", detector, "--output-dir", "x", "--scale", "inf"], "--scale must be a finite number, got inf"),
            (["track", ".", "--fps", "1e-300"], "--fps must be in [0.001, 1000] frames per second, got 1e-300"),
            (["track", ".", "--fps", "1.1e-13"], "--fps must be in [0.001, 1000] frames per second, got 1.1e-13"),
            (["track", ".", "--fps", "-30"], "--fps must be in [0.001, 1000] frames per second, got -30.0"),
            (["track", ".", "--threads", "-2"], "--threads -2: must be in 1...256"),
        ]
        for (arguments, message) in cases {
            try assertFails(arguments, status: usage, message: message)
        }
    }

    /// Y4M header rates that trapped after frame 0's line was written.
    func testTrackRejectsHeaderFrameRatesOutOfRange() throws {
        for rate in ["1:9223372036854775807", "1:9000000000000"] {
            let url = try temporaryDirectory().appendingPathComponent("clip.y4m")
            var bytes = Array("YUV4MPEG2 W2 H2 F\(rate) C444\n".utf8)
            for _ in 0..<2 { bytes += Array("FRAME\n".utf8) + [UInt8](repeating: 128, count: 12) }
            try Data(bytes).write(to: url)
            try assertFails(["track", url.path, "--model", "lite", "--weights", weightsDirectory.path, "--jsonl", "-"],
                            message: "[0.001, 1000] frames/s")
        }
    }

    /// Before: `"x_center": true` was taken as 1.
    func testROIJSONIsTypeChecked() throws {
        let dir = try temporaryDirectory()
        let cases: [(String, String)] = [
            (#"{"x_center": true, "y_center": 0.5, "width": 0.5, "height": 0.5, "rotation": 0}"#, "\"x_center\" must be a number"),
            (#"{"x_center": 0.5, "y_center": 0.5, "width": 0.5, "height": false, "rotation": 0}"#, "\"height\" must be a number"),
            (#"{"x_center": "0.5", "y_center": 0.5, "width": 0.5, "height": 0.5, "rotation": 0}"#, "\"x_center\" must be a number"),
            (#"{"x_center": null, "y_center": 0.5, "width": 0.5, "height": 0.5, "rotation": 0}"#, "\"x_center\" must be a number, got null"),
            (#"{"x_center": 0.5, "y_center": 0.5, "width": 1e300, "height": 0.5, "rotation": 0}"#, "\"width\" must be a finite number"),
            (#"{"y_center": 0.5, "width": 0.5, "height": 0.5, "rotation": 0}"#, "missing \"x_center\""),
            ("[1, 2]", "not a JSON object"),
            ("{", "not valid JSON"),
        ]
        for (k, (text, message)) in cases.enumerated() {
            let path = dir.appendingPathComponent("roi\(k).json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try assertFails(["detect", image, "--model", "lite", "--weights", weightsDirectory.path, "--roi-json", path], message: message)
        }
        let fifo = dir.appendingPathComponent("roi.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try assertFails(["detect", image, "--model", "lite", "--weights", weightsDirectory.path, "--roi-json", fifo], message: "not a regular file")
    }

    // MARK: run --input (item 9)

    private func writeInput(_ shape: [Int], dtype: String = "f4") throws -> String {
        let url = try temporaryDirectory().appendingPathComponent("input-\(shape.map(String.init).joined(separator: "x")).npy")
        var dict = Array("{'descr': '\(dtype == "f4" ? "<f4" : "|u1")', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")), }".utf8)
        while (10 + dict.count + 1) % 64 != 0 { dict.append(0x20) }
        dict.append(0x0A)
        let count = shape.reduce(1, *) * (dtype == "f4" ? 4 : 1)
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + dict + [UInt8](repeating: 0, count: count)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Before: only the element count was checked, so NCHW or flat arrays were fed as NHWC.
    func testRunChecksTheFullInputShape() throws {
        let out = try temporaryDirectory().path
        for shape in [[1, 3, 224, 224], [150_528], [224, 224, 3]] {
            try assertFails(["run", detector, "--input", try writeInput(shape), "--output-dir", out, "--threads", "1"],
                            message: "shape [\(shape.map(String.init).joined(separator: ","))] does not match input 'input_1' [1,224,224,3]")
        }
        let ok = try blazepose(["run", detector, "--input", try writeInput([1, 224, 224, 3]), "--output-dir", out, "--threads", "1"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stderr, "")
        // uint8 pixels without a transform: a warning (they run as 0...255), none with --scale/--offset.
        let pixels = try writeInput([1, 224, 224, 3], dtype: "u1")
        let raw = try blazepose(["run", detector, "--input", pixels, "--output-dir", out, "--threads", "1"])
        XCTAssertEqual(raw.status, 0)
        XCTAssertTrue(raw.stderr.contains("warning:") && raw.stderr.contains("uint8"), raw.stderr)
        let scaled = try blazepose(["run", detector, "--input", pixels, "--output-dir", out, "--threads", "1", "--scale", "0.0078125", "--offset", "-1"])
        XCTAssertEqual(scaled.status, 0)
        XCTAssertEqual(scaled.stderr, "")
    }

    /// The reference manifest's input_transform is applied by `run --reference`, so run's output
    /// matches the reference within the compare tolerance.
    func testRunAppliesTheReferenceInputTransform() throws {
        let reference = packageRoot.appendingPathComponent("Tests/RuntimeTests/Fixtures/pose_landmark_lite/astronaut")
        let out = try temporaryDirectory()
        let outcome = try blazepose(["run", weightsDirectory.appendingPathComponent("pose_landmark_lite.tflite").path,
                                     "--input", reference.appendingPathComponent("input.npy").path, "--reference", reference.path,
                                     "--output-dir", out.path, "--threads", "1"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stderr, "", "no uint8 warning: the transform came from the manifest")
        let ours = try NPYArray(contentsOf: out.appendingPathComponent("output_poseflag.npy")).floats()
        let theirs = try NPYArray(contentsOf: reference.appendingPathComponent("output_poseflag.npy")).floats()
        XCTAssertEqual(ours.count, 1)
        XCTAssertEqual(ours[0], theirs[0], accuracy: 1e-4)
    }

    func testCompareFailsLoudly() throws {
        let reference = packageRoot.appendingPathComponent("Tests/RuntimeTests/Fixtures/pose_landmark_lite/astronaut")
        let lite = weightsDirectory.appendingPathComponent("pose_landmark_lite.tflite").path
        let good = try blazepose(["compare", lite, "--reference", reference.path, "--threads", "1"])
        XCTAssertEqual(good.status, 0, good.stderr)
        let strict = try blazepose(["compare", lite, "--reference", reference.path, "--threads", "1", "--tolerance", "0"])
        XCTAssertEqual(strict.status, 1)
        XCTAssertTrue(strict.stderr.contains("out of tolerance 0.0"), strict.stderr)
        // A manifest listing no tensors, or an unknown one.
        for (tensors, message) in [("[]", "no value for model input"),
                                   (#"[{"file": "x.npy", "name": "x", "index": 99999, "shape": [1], "role": "output"}]"#, "tensor #99999")] {
            let dir = try temporaryDirectory()
            try Data(#"{"tensors": \#(tensors)}"#.utf8).write(to: dir.appendingPathComponent("manifest.json"))
            try assertFails(["compare", lite, "--reference", dir.path], message: message)
        }
    }

    // MARK: inspect (item 9)

    /// Before: tensor names were printed raw, escape sequences included.
    func testInspectEscapesNamesFromTheFile() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: detector)))
        let name = Array("input_1".utf8), hostile: [UInt8] = [0x1B, 0x5B, 0x32, 0x4A, 0x0A, 0x5F, 0x31]   // ESC [ 2 J \n _ 1
        var replaced = 0
        var i = 0
        while i + name.count <= bytes.count {
            if Array(bytes[i..<(i + name.count)]) == name { bytes.replaceSubrange(i..<(i + name.count), with: hostile); replaced += 1 }
            i += 1
        }
        XCTAssertGreaterThan(replaced, 0)
        let model = try temporaryDirectory().appendingPathComponent("hostile.tflite")
        try Data(bytes).write(to: model)
        let outcome = try blazepose(["inspect", model.path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertFalse(outcome.stdout.unicodeScalars.contains { $0.value == 0x1B }, "no raw ESC in the text report")
        XCTAssertTrue(outcome.stdout.contains(#"input  #0 \x1b[2J\n_1 [1,224,224,3]"#), outcome.stdout.prefix(400).description)
        let json = try blazepose(["inspect", model.path, "--json"])
        XCTAssertFalse(json.stdout.unicodeScalars.contains { $0.value == 0x1B }, "JSON escapes it too")
    }

    /// Before: `inspect` exited 0 on models the interpreter cannot load (sizes that overflow,
    /// over the budget). Now the report is printed, then the interpreter's own error, exit 1.
    func testInspectReportsWhatTheRuntimeWouldReject() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: detector)))
        // The input's shape vector: length 4, then [1, 224, 224, 3] as little-endian int32.
        func le(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        let shape = [4, 1, 224, 224, 3].flatMap { le(UInt32($0)) }
        guard let at = (0...(bytes.count - shape.count)).first(where: { bytes[$0..<($0 + shape.count)].elementsEqual(shape) }) else {
            return XCTFail("no [1,224,224,3] shape vector in the detector")
        }
        // [1, 2^31 − 1, 2^31 − 1, 3]: an element count that overflows Int64.
        bytes.replaceSubrange((at + 8)..<(at + 16), with: le(0x7FFF_FFFF) + le(0x7FFF_FFFF))
        let model = try temporaryDirectory().appendingPathComponent("overflow.tflite")
        try Data(bytes).write(to: model)
        let outcome = try blazepose(["inspect", model.path])
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("[1,2147483647,2147483647,3]"), "the report is printed first")
        XCTAssertTrue(outcome.stderr.contains("error: the runtime would reject this model: tensor "), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("overflows"), outcome.stderr)
        // The unmodified model passes the same checks.
        XCTAssertEqual(try blazepose(["inspect", detector]).status, 0)
    }
}
