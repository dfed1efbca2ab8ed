import Foundation
import TFLite
import XCTest

/// `Model.releaseBufferData()`: the weights' pages go back to the system and `bufferData` reads them
/// back from the file, unchanged, or fails with a typed error when the file changed meanwhile.
final class ReleaseBufferDataTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tflite-release-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    private func copyOfDetector() throws -> URL {
        let url = try temporaryDirectory().appendingPathComponent("released.tflite")
        try Data(contentsOf: try weightsURL("pose_detection")).write(to: url)
        return url
    }

    func testReleasedBuffersReadBackUnchanged() throws {
        let url = try copyOfDetector()
        let model = try Model(contentsOf: url)
        let before = try (0..<model.buffers.count).map { [UInt8](try model.bufferData($0)) }
        let options = model.subgraphs[0].operators.map { try? $0.options.scalar(0, "field 0", default: Int8(0)) }
        model.releaseBufferData()
        // The structure (options tables) stays readable without reading anything back.
        XCTAssertEqual(model.subgraphs[0].operators.map { try? $0.options.scalar(0, "field 0", default: Int8(0)) }, options)
        // Most of the file is buffer data: those pages now read as zeros until asked for.
        let zeroPages = stride(from: 0, to: model.storage.bytes.count - 4096, by: 4096).filter { page in
            model.storage.bytes[page..<(page + 4096)].allSatisfy { $0 == 0 }
        }.count
        XCTAssertGreaterThan(zeroPages * 4096, model.storage.bytes.count / 2)
        for index in 0..<model.buffers.count {
            XCTAssertEqual([UInt8](try model.bufferData(index)), before[index], "buffer \(index)")
        }
        let constants = try model.resolveConstants()
        XCTAssertEqual(constants.count, try Model(contentsOf: url).resolveConstants().count)
    }

    func testAChangedFileIsATypedErrorNotStaleData() throws {
        let url = try copyOfDetector()
        let model = try Model(contentsOf: url)
        let largest = try XCTUnwrap(model.buffers.indices.max { model.buffers[$0].count < model.buffers[$1].count })
        model.releaseBufferData()
        // Rewritten in place with other bytes (same size): the modification time changes.
        Thread.sleep(forTimeInterval: 0.01)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 1] ^= 0xFF
        let handle = try FileHandle(forWritingTo: url)
        try handle.write(contentsOf: bytes)
        try handle.close()
        XCTAssertThrowsError(try model.bufferData(largest)) { error in
            guard case .fileUnreadable = error as? TFLiteError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("changed since it was loaded"), "\(error)")
        }
        // Truncated: the size differs.
        XCTAssertEqual(truncate(url.path, 100), 0)
        XCTAssertThrowsError(try model.bufferData(largest)) { error in
            XCTAssertTrue("\(error)".contains("changed since it was loaded"), "\(error)")
        }
    }

    /// Models decoded from bytes in memory have no file to read back from: nothing is released.
    func testModelsFromBytesKeepTheirData() throws {
        let model = try Model(data: try Data(contentsOf: try weightsURL("pose_detection")))
        let before = [UInt8](model.storage.bytes)
        model.releaseBufferData()
        XCTAssertEqual([UInt8](model.storage.bytes), before)
    }
}
