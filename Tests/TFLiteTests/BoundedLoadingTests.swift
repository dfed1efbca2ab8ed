import BlazeSupport
import Foundation
import TFLite
import XCTest

/// Model files are read boundedly: non-regular files are rejected before a byte is read (no hang
/// on a FIFO, no endless read of /dev/zero), the header is checked before the rest is read, and a
/// file that changes while it loads gives an error, not SIGBUS (issue 13, items 5–7).
final class BoundedLoadingTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tflite-bounded-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Before: `open(2)` blocked forever on a FIFO with no writer.
    func testFIFOIsRejectedWithoutBlocking() throws {
        let fifo = try temporaryDirectory().appendingPathComponent("model.tflite")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let start = Date()
        XCTAssertThrowsError(try Model(contentsOf: fifo)) { error in
            guard case let TFLiteError.fileUnreadable(path, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, fifo.path)
            XCTAssertTrue(reason.contains("FIFO") && reason.contains("not a regular file"), reason)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testDevicesAndDirectoriesAreRejected() throws {
        for (path, kind) in [("/dev/zero", "character device"), ("/dev/null", "character device"), ("/tmp", "directory")] {
            XCTAssertThrowsError(try Model(contentsOf: URL(fileURLWithPath: path)), path) { error in
                XCTAssertTrue("\(error)".contains(kind) && "\(error)".contains(path), "\(error)")
            }
        }
    }

    /// Before: a 2 GiB sparse file of zeros was mapped; now its 8-byte header is read and rejected
    /// (identifier at byte 4) before anything else — fast, and without reading the file.
    func testHugeSparseFileIsRejectedFromItsHeader() throws {
        let url = try temporaryDirectory().appendingPathComponent("sparse.tflite")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
        XCTAssertEqual(truncate(url.path, 2 << 30), 0)
        let start = Date()
        XCTAssertThrowsError(try Model(contentsOf: url)) { error in
            XCTAssertEqual(error as? TFLiteError, .malformed(what: "file identifier is '\\x0\\x0\\x0\\x0', expected 'TFL3'", offset: 4, location: ""))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        // A valid identifier but a root offset past the end of a short file is caught from the header too.
        let short = url.deletingLastPathComponent().appendingPathComponent("short.tflite")
        try Data([0xFF, 0xFF, 0, 0] + Array("TFL3".utf8) + [0, 0, 0, 0]).write(to: short)
        XCTAssertThrowsError(try Model(contentsOf: short)) { error in
            XCTAssertTrue("\(error)".contains("root table offset 65535 is outside the file (12 bytes)"), "\(error)")
        }
    }

    func testRegularFileReadsAreBoundedByTheSizeAtOpen() throws {
        let url = try temporaryDirectory().appendingPathComponent("bytes.bin")
        try Data([1, 2, 3, 4, 5]).write(to: url)
        let file = try RegularFile(path: url.path)
        XCTAssertEqual(file.size, 5)
        XCTAssertEqual(try file.read(at: 1, count: 3), [2, 3, 4])
        XCTAssertThrowsError(try file.read(at: 3, count: 3)) { XCTAssertTrue("\($0)".contains("outside the file (5 bytes)"), "\($0)") }
        XCTAssertEqual(truncate(url.path, 2), 0)
        XCTAssertThrowsError(try file.read(at: 0, count: 5)) { error in
            XCTAssertTrue("\(error)".contains("file changed while reading: it ends at byte 2, but was 5 bytes when opened"), "\(error)")
        }
        XCTAssertThrowsError(try RegularFile.contents(ofFile: url.path, limit: 1, what: "manifest")) { error in
            XCTAssertTrue("\(error)".contains("manifest is 2 bytes, more than the limit of 1 bytes"), "\(error)")
        }
    }

    /// Before: 13 of 60 racing runs died of SIGBUS (the model was mapped, and pages past the new
    /// end of a truncated file fault). Now the file is read into private memory: every load either
    /// succeeds with the complete model or throws, and the process survives.
    func testTruncatingWhileLoadingNeverCrashes() throws {
        try raceTruncation("pose_detection", loads: 60)
    }

    /// The same race on a file of 4 MiB or more, which is read as two halves on two threads.
    func testTruncatingWhileReadingInTwoHalvesNeverCrashes() throws {
        try raceTruncation("pose_landmark_full", loads: 30)
    }

    private func raceTruncation(_ name: String, loads: Int) throws {
        let source = try Data(contentsOf: try weightsURL(name))
        let url = try temporaryDirectory().appendingPathComponent("racing.tflite")
        try source.write(to: url)
        let stop = Atomic(false)
        let writer = Thread {
            var k = 0
            while !stop.value {
                // Truncate to a varying length, then restore the whole file, in place.
                truncate(url.path, off_t([0, 100, 4096, source.count / 2][k % 4]))
                if let handle = try? FileHandle(forWritingTo: url) {
                    try? handle.write(contentsOf: source)
                    try? handle.close()
                }
                k += 1
            }
        }
        writer.start()
        var loaded = 0, failed = 0
        for _ in 0..<loads {
            do {
                let model = try Model(contentsOf: url)
                // Touch every buffer, as the interpreter does when it resolves constants.
                var sum = 0
                for i in model.buffers.indices { sum &+= (try model.bufferData(i)).reduce(0) { $0 &+ Int($1) } }
                XCTAssertNotEqual(sum, -1)
                loaded += 1
            } catch {
                failed += 1
            }
        }
        stop.value = true
        while !writer.isFinished { usleep(1000) }
        XCTAssertEqual(loaded + failed, loads)
        // A model that loaded is the complete, unchanged file even though the file kept changing.
        try source.write(to: url)
        XCTAssertEqual(try Model(contentsOf: url).buffers.count, try Model(data: source).buffers.count)
    }
}

/// A flag shared between the test thread and the writer thread.
private final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
