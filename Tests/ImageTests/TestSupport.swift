import Foundation
import XCTest

/// `Tests/ImageTests/Fixtures`, located from this file's path so tests run from any directory.
let fixturesDirectory: String = {
    let thisFile = URL(fileURLWithPath: #filePath)
    return thisFile.deletingLastPathComponent().appendingPathComponent("Fixtures").path
}()

/// `Tests/Fixtures` (images shared with the pose tests, e.g. the JPEG person fixtures).
let sharedFixturesDirectory: String = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path
}()

/// Reads a fixture file; fails the test (not skips) with the path if it is missing.
func fixtureBytes(_ relativePath: String, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
    let path = fixturesDirectory + "/" + relativePath
    guard let data = FileManager.default.contents(atPath: path) else {
        XCTFail("missing fixture \(path) (regenerate with Tools/opencv/make_*.py)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }
    return [UInt8](data)
}
