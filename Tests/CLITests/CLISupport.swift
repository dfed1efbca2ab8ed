import BlazePose
import Foundation
import XCTest

/// The package root, from this file's location (Tests/CLITests/CLISupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let packageWeights = packageRoot.appendingPathComponent("weights", isDirectory: true)
let fixtureImages = packageRoot.appendingPathComponent("Tests/Fixtures/images", isDirectory: true)

/// The `blazepose` binary of this build: next to the test bundle (`.build/<config>/`).
func blazeposeBinary() throws -> URL {
    let testBinary = WeightsLocator.currentExecutable() ?? URL(fileURLWithPath: CommandLine.arguments[0])
    var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("blazepose")]
    // On macOS the runner is xctest inside Xcode; the bundle sits next to the binary.
    candidates += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent("blazepose") }
    candidates.append(packageRoot.appendingPathComponent(".build/release/blazepose"))
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        XCTFail("blazepose binary not found (looked at \(candidates.map(\.path))): run swift build -c release")
        throw CocoaError(.fileNoSuchFile)
    }
    return found
}

/// A fresh temporary directory, removed after the test.
func temporaryDirectory(_ name: String, _ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("clitests-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

struct ProcessOutput {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `executable` with `arguments` in `directory`, feeding `stdin`, and waits (at most `timeout` s).
func runProcess(_ executable: URL, _ arguments: [String], in directory: URL? = nil,
                environment: [String: String]? = nil, stdin: String? = nil, timeout: TimeInterval = 600) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Drain both pipes while the process runs (a full pipe would block it).
    final class Box: @unchecked Sendable { var data = Data() }   // each written by one reader, read after the group
    let outData = Box(), errData = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        process.terminate()
        XCTFail("\(executable.lastPathComponent) \(arguments) timed out after \(timeout) s")
    }
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .exit, "\(executable.lastPathComponent) must exit, not crash")
    return ProcessOutput(status: process.terminationStatus, stdout: String(decoding: outData.data, as: UTF8.self),
                         stderr: String(decoding: errData.data, as: UTF8.self))
}

/// A detect JSON object or JSONL line without its `"timing_ms":{…}` member (the only part that
/// differs from run to run).
func withoutTiming(_ line: String) -> String {
    guard let range = line.range(of: ",\"timing_ms\":{") else { return line }
    guard let end = line[range.upperBound...].firstIndex(of: "}") else { return line }
    return String(line[..<range.lowerBound]) + String(line[line.index(after: end)...])
}

/// The environment of this process without `$BLAZEPOSE_WEIGHTS` (so the search order is tested).
var environmentWithoutWeightsVariable: [String: String] {
    var env = ProcessInfo.processInfo.environment
    env[WeightsLocator.environmentVariable] = nil
    return env
}
