import Foundation

/// Where SwiftPM put the products of this test run: the folder holding the test bundle
/// (`<scratch>/<triple>/release/BlazePosePackageTests.xctest`), which also holds the `blazepose`
/// executable built by the same `swift test`, whatever `--scratch-path` or configuration was used.
public enum BuiltProducts {
    /// The folder of the test bundle (macOS: the `.xctest` bundle's parent; Linux: the folder of
    /// the running `.xctest` executable).
    public static var directory: URL {
        #if os(macOS)
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        #endif
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if executable.path != "/proc/self/exe" { return executable.deletingLastPathComponent() }
        return (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The `blazepose` command-line tool of this build, or an error saying where it was looked for.
    public static func blazepose() throws -> URL {
        let url = directory.appendingPathComponent("blazepose")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw BuiltProductsError(message: "no blazepose executable next to the test bundle in \(directory.path); "
                                     + "`swift test` builds it with the tests (or run `swift build` with the same --scratch-path)")
        }
        return url
    }
}

/// A product the tests need was not built.
public struct BuiltProductsError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The result of running a command-line tool to completion.
public struct ProcessOutcome {
    public var status: Int32
    /// `.exit` or `.uncaughtSignal` (a crash or a trap).
    public var reason: Process.TerminationReason
    public var stdout: String
    public var stderr: String
    /// Wall time, seconds.
    public var seconds: Double
}

/// Runs `executable` with `arguments`; stdout and stderr are captured unless `stdout`/`stderr`
/// name a file to use instead (e.g. `/dev/full`). Stdin is `/dev/null` unless given.
public func runProcess(_ executable: URL, _ arguments: [String], stdin: String? = nil,
                       stdout stdoutPath: String? = nil, stderr stderrPath: String? = nil) throws -> ProcessOutcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdin ?? "/dev/null"))
    let outPipe = Pipe(), errPipe = Pipe()
    process.standardOutput = try stdoutPath.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? outPipe
    process.standardError = try stderrPath.map { try FileHandle(forWritingTo: URL(fileURLWithPath: $0)) } ?? errPipe
    let start = Date()
    try process.run()
    // Read both pipes concurrently so neither can fill up and block the child.
    final class Box: @unchecked Sendable { var data = Data() }   // written by one thread, read after wait()
    let outBox = Box()
    var errData = Data()
    let group = DispatchGroup()
    if stdoutPath == nil {
        group.enter()
        DispatchQueue.global().async { outBox.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    }
    if stderrPath == nil { errData = errPipe.fileHandleForReading.readDataToEndOfFile() }
    group.wait()
    let outData = outBox.data
    process.waitUntilExit()
    return ProcessOutcome(status: process.terminationStatus, reason: process.terminationReason,
                          stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
                          seconds: Date().timeIntervalSince(start))
}
