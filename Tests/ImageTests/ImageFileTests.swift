import Foundation
import PoseImage
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `RGBImage(contentsOfFile:)`: format by magic bytes, bounded reads, clear errors for files that
/// are not images (FIFO, device, directory, huge sparse files).
final class ImageFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("imagefiletests-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A sparse file of `size` bytes whose first bytes are `head`.
    private func sparseFile(_ name: String, size: Int, head: [UInt8]) throws -> String {
        let path = try file(name, head)
        XCTAssertEqual(truncate(path, off_t(size)), 0, "truncate \(path)")
        return path
    }

    /// Runs `body`, expecting an error that contains every string of `expected`; returns the
    /// seconds it took and the growth of the process's peak RSS (bytes; nil where the peak cannot be reset).
    @discardableResult
    private func expectError(_ path: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) -> (seconds: Double, peakGrowth: Int?) {
        let peakBefore = resetPeakRSS() ? peakRSS() : nil
        let start = DispatchTime.now().uptimeNanoseconds
        XCTAssertThrowsError(try body(), path, file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path), "\"\(text)\" should name \(path)", file: file, line: line)
            for word in expected {
                XCTAssertTrue(text.contains(word), "\"\(text)\" should mention \"\(word)\"", file: file, line: line)
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let growth = peakBefore.flatMap { before in peakRSS().map { $0 - before } }
        return (seconds, growth)
    }

    func testPNGNamedJPGAndJPEGNamedPNGAreDecodedByContent() throws {
        let png = try RGBImage(contentsOfFile: fixturesDirectory + "/jpeg/png_named.jpg")
        let jpeg = try RGBImage(contentsOfFile: fixturesDirectory + "/jpeg/jpeg_named.png")
        XCTAssertEqual(png.width, 37)
        XCTAssertEqual(jpeg.width, 23, "orientation 6 applied")
        // RGBImage(pngFile:) stays PNG-only: a JPEG is "not a PNG" there.
        expectError(fixturesDirectory + "/jpeg/jpeg_named.png", ["not a PNG"]) {
            _ = try RGBImage(pngFile: fixturesDirectory + "/jpeg/jpeg_named.png")
        }
    }

    func testMissingFileAndDirectory() throws {
        let missing = directory.appendingPathComponent("missing.jpg").path
        expectError(missing, ["cannot open", "No such file"]) { _ = try RGBImage(contentsOfFile: missing) }
        expectError(directory.path, ["not a regular file (a directory)"]) { _ = try RGBImage(contentsOfFile: directory.path) }
        let empty = try file("empty.jpg", [])
        expectError(empty, ["empty file"]) { _ = try RGBImage(contentsOfFile: empty) }
    }

    /// A FIFO with no writer: the open must not block, and the error comes at once.
    func testFIFOIsRejectedAtOnce() throws {
        let path = directory.appendingPathComponent("pipe.png").path
        XCTAssertEqual(mkfifo(path, 0o600), 0, "mkfifo")
        let (seconds, _) = expectError(path, ["not a regular file (a FIFO)"]) { _ = try RGBImage(contentsOfFile: path) }
        XCTAssertLessThan(seconds, 1)
        let (pngSeconds, _) = expectError(path, ["not a regular file (a FIFO)"]) { _ = try RGBImage(pngFile: path) }
        XCTAssertLessThan(pngSeconds, 1)
    }

    func testDevZeroIsRejectedAtOnce() throws {
        let (seconds, growth) = expectError("/dev/zero", ["not a regular file (a character device)"]) {
            _ = try RGBImage(contentsOfFile: "/dev/zero")
        }
        XCTAssertLessThan(seconds, 1)
        if let growth { XCTAssertLessThan(growth, 100 << 20) }
    }

    /// 2 GiB sparse files: rejected from `fstat` alone, in well under a second, without reading.
    func testHugeSparseFilesFailFastWithLittleMemory() throws {
        let size = 2 << 30
        let png = try sparseFile("huge.png", size: size, head: [])
        let jpeg = try sparseFile("huge.jpg", size: size, head: [0xFF, 0xD8, 0xFF, 0xE0])
        for path in [png, jpeg] {
            let (seconds, growth) = expectError(path, ["file is \(size) bytes", "more than any image"]) {
                _ = try RGBImage(contentsOfFile: path)
            }
            XCTAssertLessThan(seconds, 1, path)
            // The error comes from fstat's size alone (nothing is read); the peak-RSS check needs
            // a writable /proc/self/clear_refs, which some sandboxes lack.
            if let growth { XCTAssertLessThan(growth, 100 << 20, path) } else { print("note: peak RSS not measured (/proc/self/clear_refs)") }
            expectError(path, ["file is \(size) bytes"]) { _ = try RGBImage(pngFile: path) }
        }
    }

    /// Files under the global cap but larger than their header allows, and zero-filled files:
    /// the signature or header check fails after reading a few bytes.
    func testLargeFilesAreCheckedByHeaderBeforeBeingRead() throws {
        let size = 400 << 20
        // A 1×1 PNG header: 400 MB is far more than a 1×1 PNG needs.
        let pngHead: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
            + [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE]
        let jpeg = try fixtureBytes("jpeg/sub420.jpg")
        let cases: [(String, [UInt8], [String])] = [
            ("padded.png", pngHead, ["file is \(size) bytes", "more than a 1x1 PNG can need"]),
            ("padded.jpg", jpeg, ["file is \(size) bytes", "more than a 37x23 JPEG can need"]),
            ("zeros.png", [], ["not a PNG, JPEG or YUV4MPEG2 image", "00 00 00 00"]),
            ("soi-then-zeros.jpg", [0xFF, 0xD8, 0xFF], ["cannot decode JPEG", "unexpected marker 0x00 at byte 2"]),
        ]
        for (name, head, expected) in cases {
            let path = try sparseFile(name, size: size, head: head)
            let (seconds, growth) = expectError(path, expected) { _ = try RGBImage(contentsOfFile: path) }
            XCTAssertLessThan(seconds, 1, name)
            if let growth { XCTAssertLessThan(growth, 100 << 20, name) }
        }
    }

    /// A single-frame YUV4MPEG2 still decodes like the stream reader's first frame; two frames are refused.
    func testY4MStill() throws {
        let header = Array("YUV4MPEG2 W4 H2 F25:1 C444\n".utf8)
        let frame = Array("FRAME\n".utf8) + (0..<24).map { UInt8(16 + 9 * $0) }
        let path = try file("still.jpg", header + frame)
        let image = try RGBImage(contentsOfFile: path)
        var delivered = false
        let reader = try Y4MReader(chunks: {
            defer { delivered = true }
            return delivered ? [] : header + frame
        })
        XCTAssertEqual(image, try reader.nextFrame())
        let two = try file("two.y4m", header + frame + frame)
        expectError(two, ["more than one frame"]) { _ = try RGBImage(contentsOfFile: two) }
        let truncated = try file("short.y4m", header + Array(frame.prefix(10)))
        expectError(truncated, ["truncated"]) { _ = try RGBImage(contentsOfFile: truncated) }
        let oversized = try file("big.y4m", Array("YUV4MPEG2 W20000 H2\n".utf8))
        expectError(oversized, ["exceeds the limit"]) { _ = try RGBImage(contentsOfFile: oversized) }
    }
}

/// Resets the process's peak RSS (VmHWM) through `/proc/self/clear_refs`; false where not possible.
private func resetPeakRSS() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    return (try? handle.write(contentsOf: Data("5".utf8))) != nil
}

/// Peak RSS (VmHWM) in bytes, from `/proc/self/status`.
private func peakRSS() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kilobytes * 1024
}
