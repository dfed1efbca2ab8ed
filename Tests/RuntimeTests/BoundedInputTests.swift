import BlazeRuntime
import Foundation
import XCTest

/// `.npy` files and reference manifests are read boundedly and checked (issue 13, items 3 and 5):
/// a FIFO, a device or a huge sparse file gives a clear error at once, and `compare` never traps
/// on a manifest shape nor succeeds when it compared nothing.
final class BoundedInputTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-bounded-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// A v1 `.npy` header for float32 `shape` (data not included).
    private func npyHeader(shape: String) -> [UInt8] {
        var dict = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + dict.count + 1) % 64 != 0 { dict.append(0x20) }
        dict.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + dict
    }

    /// Writes `bytes`, then extends the file (sparse, no disk used) to `size`.
    private func sparseFile(_ url: URL, _ bytes: [UInt8], size: Int) throws {
        try Data(bytes).write(to: url)
        XCTAssertEqual(truncate(url.path, off_t(size)), 0)
    }

    /// Before: `Data(contentsOf:)` blocked in open(2) on a FIFO and read /dev/zero until memory ran out.
    func testFIFOAndDevicesAreRejectedAtOnce() throws {
        let fifo = try temporaryDirectory().appendingPathComponent("input.npy")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let start = Date()
        for url in [fifo, URL(fileURLWithPath: "/dev/zero")] {
            XCTAssertThrowsError(try NPYArray(contentsOf: url)) { error in
                guard case let NPYError.io(path, reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, url.path)
                XCTAssertTrue(reason.contains("not a regular file"), reason)
            }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    /// Before: a 2 GiB sparse file was read whole (2–3 copies, 4.2 GB RSS, 16 s) before its magic
    /// was checked. Now the header comes first and the data is capped by the header's shape and a budget.
    func testHugeSparseFilesAreRejectedFromTheHeader() throws {
        let dir = try temporaryDirectory()
        let twoGiB = 2 << 30
        let zeros = dir.appendingPathComponent("zeros.npy")
        try sparseFile(zeros, [], size: twoGiB)
        let claims = dir.appendingPathComponent("claims2GiB.npy")
        try sparseFile(claims, npyHeader(shape: "(536870912,)"), size: 64 + twoGiB)
        let trailing = dir.appendingPathComponent("trailing.npy")
        let header = npyHeader(shape: "(2, 3)")
        try sparseFile(trailing, header, size: twoGiB)
        let start = Date()
        XCTAssertThrowsError(try NPYArray(contentsOf: zeros)) { XCTAssertEqual($0 as? NPYError, .badMagic(source: zeros.path)) }
        XCTAssertThrowsError(try NPYArray(contentsOf: claims)) { error in
            guard case let NPYError.invalidShape(_, shape, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(shape, [536870912])
            XCTAssertTrue(reason.contains("2147483648 bytes of data exceed the budget of 1073741824 bytes"), reason)
        }
        XCTAssertThrowsError(try NPYArray(contentsOf: trailing)) { error in
            XCTAssertEqual(error as? NPYError, .trailingBytes(source: trailing.path, offset: header.count + 24, count: twoGiB - header.count - 24))
        }
        // A caller's smaller budget applies too.
        let small = dir.appendingPathComponent("small.npy")
        try NPYArray.write(floats: [1, 2, 3, 4], shape: [4], to: small)
        XCTAssertEqual(try NPYArray(contentsOf: small, maxDataBytes: 16).count, 4)
        XCTAssertThrowsError(try NPYArray(contentsOf: small, maxDataBytes: 15))
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    /// A copy of the pose_landmark_lite reference dump whose manifest `edit` changes.
    private func editedDump(_ edit: (inout [[String: Any]]) -> Void) throws -> URL {
        let source = Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/pose_landmark_lite/astronaut")
        let dir = try temporaryDirectory().appendingPathComponent("dump")
        try FileManager.default.copyItem(at: source, to: dir)
        let url = dir.appendingPathComponent("manifest.json")
        var manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var tensors = try XCTUnwrap(manifest["tensors"] as? [[String: Any]])
        edit(&tensors)
        manifest["tensors"] = tensors
        try JSONSerialization.data(withJSONObject: manifest).write(to: url)
        return dir
    }

    private func liteInterpreter() throws -> Interpreter {
        let weights = Self.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        guard FileManager.default.fileExists(atPath: weights.path) else {
            XCTFail("missing \(weights.path): run bash Tools/setup.sh")
            throw CocoaError(.fileNoSuchFile)
        }
        return try Interpreter(contentsOf: weights, options: .init(threads: 1))
    }

    /// Before: `shape.reduce(1, *)` trapped on [2^32, 2^32].
    func testOverflowingManifestShapeIsAnError() throws {
        let dir = try editedDump { tensors in tensors[1]["shape"] = [4294967296, 4294967296] }
        XCTAssertThrowsError(try ReferenceDump(directory: dir)) { error in
            guard case let ReferenceDumpError.badManifest(_, reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("tensors[1]") && reason.contains("overflows"), reason)
        }
    }

    /// Before: an unknown tensor index was silently skipped, and the run reported success.
    func testUnknownTensorIsAnError() throws {
        let interpreter = try liteInterpreter()
        let outOfRange = try ReferenceDump(directory: try editedDump { tensors in tensors[1]["index"] = 99_999 })
        XCTAssertThrowsError(try interpreter.compare(with: outOfRange)) { error in
            guard case let ReferenceDumpError.unknownTensor(file, index, detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "ld_3d.npy")
            XCTAssertEqual(index, 99_999)
            XCTAssertTrue(detail.contains("the model has tensors 0..<"), detail)
        }
        let renamed = try ReferenceDump(directory: try editedDump { tensors in tensors[1]["name"] = "not_ld_3d" })
        XCTAssertThrowsError(try interpreter.compare(with: renamed)) { error in
            XCTAssertTrue("\(error)".contains("the manifest names it 'not_ld_3d', the model 'ld_3d'"), "\(error)")
        }
    }

    /// Before: a manifest with no tensors exited 0, "all tensors within tolerance".
    func testNothingComparedIsAnError() throws {
        let interpreter = try liteInterpreter()
        let empty = try ReferenceDump(directory: try editedDump { tensors in tensors = [] })
        XCTAssertThrowsError(try interpreter.compare(with: empty)) { error in
            // The model's input has no value first of all.
            XCTAssertEqual(error as? ReferenceDumpError, .missingInput(index: interpreter.inputs[0].index, name: interpreter.inputs[0].name))
        }
        let inputOnly = try ReferenceDump(directory: try editedDump { tensors in tensors = tensors.filter { $0["role"] as? String == "input" } })
        XCTAssertThrowsError(try interpreter.compare(with: inputOnly)) { error in
            XCTAssertEqual(error as? ReferenceDumpError, .nothingCompared(entries: 1))
        }
    }

    func testManifestIsReadBoundedly() throws {
        let dir = try temporaryDirectory()
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("manifest.json").path, 0o600), 0)
        XCTAssertThrowsError(try ReferenceDump(directory: dir)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }
}
