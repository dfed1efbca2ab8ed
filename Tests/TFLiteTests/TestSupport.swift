import Foundation
import TFLite
import BlazeTestSupport
import XCTest

/// Package root, found from this file's path (Tests/TFLiteTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct MissingWeights: Error, CustomStringConvertible {
    var path: String
    var description: String { "missing \(path): run bash Tools/setup.sh" }
}

/// URL of `weights/<name>.tflite`; fails the test (not skips) when it is missing.
func weightsURL(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
    let url = packageRoot.appendingPathComponent("weights/\(name).tflite")
    guard FileManager.default.fileExists(atPath: url.path) else {
        XCTFail("missing \(url.path): run bash Tools/setup.sh", file: file, line: line)
        throw MissingWeights(path: url.path)   // an ordinary error: the test fails, it is never skipped
    }
    return url
}

func loadModel(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Model {
    try Model(contentsOf: try weightsURL(name, file: file, line: line))
}



/// Little-endian bytes of float32 values (the fixture's hashing convention).
func float32Bytes(_ values: [Float]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(values.count * 4)
    for v in values {
        let bits = v.bitPattern.littleEndian
        bytes.append(UInt8(truncatingIfNeeded: bits)); bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 16)); bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
    }
    return bytes
}
