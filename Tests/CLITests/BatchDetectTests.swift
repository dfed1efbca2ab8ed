import Foundation
import XCTest

/// `blazepose detect` with many inputs: one JSON line per input, identical to single-image runs.
final class BatchDetectTests: XCTestCase {
    private let images = ["astronaut.png", "coffee_noperson.png", "hopper.png", "astronaut_rot90cw.png"]

    func testBatchLinesEqualSingleImageRunsAndErrorsDoNotStopTheBatch() throws {
        let binary = try blazeposeBinary()
        let dir = try temporaryDirectory("batch", self)
        let missing = dir.appendingPathComponent("missing.png").path
        let notPNG = dir.appendingPathComponent("fake.png")
        try Data("GIF89a not a png".utf8).write(to: notPNG)
        let paths = [fixtureImages.appendingPathComponent(images[0]).path, missing,
                     fixtureImages.appendingPathComponent(images[1]).path, notPNG.path,
                     fixtureImages.appendingPathComponent(images[2]).path]
        let common = ["--model", "lite", "--weights", packageWeights.path]
        let batch = try runProcess(binary, ["detect"] + paths + ["--jsonl", "-", "--jobs", "2"] + common)
        XCTAssertEqual(batch.status, 1, "a failed input makes the exit status 1: \(batch.stderr)")
        let lines = batch.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, paths.count, batch.stdout)
        XCTAssertTrue(batch.stderr.contains("detect: 5 image(s)") && batch.stderr.contains("2 failed"), batch.stderr)
        for (path, line) in zip(paths, lines) {
            let single = try runProcess(binary, ["detect", path, "--json", "-"] + common)
            if path == missing || path == notPNG.path {
                XCTAssertEqual(single.status, 1)
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                XCTAssertEqual(object["file"] as? String, path)
                let message = try XCTUnwrap(object["error"] as? String, line)
                XCTAssertTrue(message.contains(path), "the error names the file: \(message)")
                XCTAssertTrue(single.stderr.contains(message), "same message as a single run: \(single.stderr) vs \(message)")
            } else {
                XCTAssertEqual(single.status, 0, single.stderr)
                let expected = "{\"file\":\"\(path)\"," + single.stdout.dropFirst().trimmingCharacters(in: .newlines)
                XCTAssertEqual(withoutTiming(line), withoutTiming(expected), "line for \(path)")
            }
        }
    }

    func testJobsDirectoriesAndStdinGiveIdenticalLines() throws {
        let binary = try blazeposeBinary()
        let dir = try temporaryDirectory("batchdir", self)
        for name in images {
            try FileManager.default.copyItem(at: fixtureImages.appendingPathComponent(name),
                                             to: dir.appendingPathComponent(name))
        }
        try Data().write(to: dir.appendingPathComponent("notes.txt"))   // not an image: skipped
        let common = ["--model", "lite", "--weights", packageWeights.path]
        let sorted = images.sorted().map { dir.appendingPathComponent($0).path }
        var outputs: [[String]] = []
        for args in [["detect", dir.path, "--jsonl", "-", "--jobs", "1"],
                     ["detect", dir.path, "--jsonl", "-", "--jobs", "3"],
                     ["detect", "-", "--jsonl", "-"]] {
            let stdin = sorted.joined(separator: "\n") + "\n"
            let run = try runProcess(binary, args + common, stdin: args.contains("-") && args[1] == "-" ? stdin : nil)
            XCTAssertEqual(run.status, 0, "\(args): \(run.stderr)")
            let lines = run.stdout.split(separator: "\n").map { withoutTiming(String($0)) }
            XCTAssertEqual(lines.count, images.count, "\(args)")
            for (line, path) in zip(lines, sorted) {
                XCTAssertTrue(line.hasPrefix("{\"file\":\"\(path.replacingOccurrences(of: "/", with: "\\/"))\"")
                              || line.hasPrefix("{\"file\":\"\(path)\""), "\(args): \(line.prefix(120)) (sorted order)")
            }
            outputs.append(lines)
        }
        XCTAssertEqual(outputs[0], outputs[1], "--jobs 1 and --jobs 3 give identical lines")
        XCTAssertEqual(outputs[0], outputs[2], "a directory and the same paths on stdin give identical lines")
        // A JSONL file gets the same lines.
        let file = dir.appendingPathComponent("out.jsonl").path
        let toFile = try runProcess(binary, ["detect", dir.path, "--jsonl", file, "--jobs", "2"] + common)
        XCTAssertEqual(toFile.status, 0, toFile.stderr)
        let written = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { withoutTiming(String($0)) }
        XCTAssertEqual(written, outputs[0])
    }

    func testNegativeAndOutOfRangeNumbersGetRangeErrors() throws {
        let binary = try blazeposeBinary()
        let image = fixtureImages.appendingPathComponent("astronaut.png").path
        for (args, expected) in [(["--threads", "-1"], "--threads -1: must be in 1...256"),
                                 (["--max-poses", "0"], "--max-poses 0: must be in 1...64"),
                                 (["--min-detection-confidence", "-0.5"], "--min-detection-confidence -0.5: must be in [0, 1]"),
                                 (["--heatmap-kernel", "5"], "--heatmap-kernel 5"),
                                 (["--jobs", "-2"], "--jobs -2: must be in 1...256")] {
            let run = try runProcess(binary, ["detect", image] + args)
            XCTAssertNotEqual(run.status, 0, "\(args)")
            XCTAssertTrue(run.stderr.contains(expected), "\(args): \(run.stderr)")
            XCTAssertFalse(run.stderr.contains("Missing value"), "\(args): \(run.stderr)")
        }
        let track = try runProcess(binary, ["track", fixtureImages.path, "--threads", "-3"])
        XCTAssertTrue(track.stderr.contains("--threads -3: must be in 1...256"), track.stderr)
        let mixed = try runProcess(binary, ["detect", image, image, "--annotate", "/tmp/x.png"])
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertTrue(mixed.stderr.contains("--annotate"), mixed.stderr)
    }
}
