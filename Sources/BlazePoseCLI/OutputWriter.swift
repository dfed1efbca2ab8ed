import BlazeSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The one way the command line writes bytes: to standard output, standard error or a file.
///
/// Every write is a `write(2)` loop on a file descriptor (retrying `EINTR` and partial writes, no
/// user-space buffering, nothing lost on exit) whose failure is an ``OutputError`` that reads
/// `cannot write <where>: <reason>`, e.g. `cannot write standard output: No space left on device`.
/// Foundation's `FileHandle.write(_:)` traps on such errors and `Swift.print` ignores them; neither
/// is used by the command line (this module's ``print(_:separator:terminator:)`` shadows the standard one).
///
/// A closed pipe on standard output ends the process quietly with status 141 (128 + SIGPIPE), as
/// `cat` or `head` do: `main.swift` restores the default SIGPIPE action, and if SIGPIPE is
/// blocked or ignored anyway, `EPIPE` on standard output or error exits with 141 without a message.
struct OutputWriter {
    /// The file descriptor written to.
    let descriptor: Int32
    /// Where the bytes go, for messages: "standard output", "standard error" or a path.
    let destination: String

    static let standardOutput = OutputWriter(descriptor: STDOUT_FILENO, destination: "standard output")
    static let standardError = OutputWriter(descriptor: STDERR_FILENO, destination: "standard error")

    /// Status of a process ended by a broken pipe on standard output (128 + SIGPIPE).
    static let brokenPipeStatus: Int32 = 141

    /// Writes all of `text` (UTF-8).
    /// - Throws: ``OutputError`` naming ``destination`` and the `errno` text.
    func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = systemWrite(descriptor, next, min(left, 1 << 30))
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {   // a non-blocking descriptor inherited from the parent
                    var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&poller, 1, -1)
                    continue
                }
                if code == EPIPE, descriptor == STDOUT_FILENO || descriptor == STDERR_FILENO {
                    exit(Self.brokenPipeStatus)   // the reader went away: end quietly, like SIGPIPE would
                }
                throw OutputError(destination: destination, reason: String(cString: strerror(code)))
            }
            if n == 0 { throw OutputError(destination: destination, reason: "write returned 0 bytes") }
            next += n
            left -= n
        }
    }

    /// Creates or truncates the file at `path` in place (not a temporary file renamed over it, which
    /// would replace a device such as `/dev/null`), writes `bytes` and closes it, checking `close`.
    /// - Throws: ``OutputError`` naming `path`.
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        do {
            try bytes.withUnsafeBytes { try writeFileInPlace(path, $0) }
        } catch let error as FileWriteError {
            throw OutputError(destination: path, reason: error.reason)
        }
    }

    /// ``writeFile(_:_:)`` for text (UTF-8).
    static func writeFile(_ path: String, _ text: String) throws {
        try writeFile(path, Array(text.utf8))
    }
}

/// `write(2)` (the struct's own `write` methods hide the C function inside it).
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}

/// A failed write: `cannot write <destination>: <reason>`.
struct OutputError: Error, CustomStringConvertible {
    var destination: String
    var reason: String
    var description: String { "cannot write \(destination): \(reason)" }
}

/// Ends the process after an output failure: prints `error: cannot write …` on standard error (if
/// that still works) and exits with status 1.
func exitAfterOutputFailure(_ error: Error) -> Never {
    try? OutputWriter.standardError.write("error: \(error)\n")
    exit(1)
}

/// `Swift.print` through ``OutputWriter/standardOutput``. This shadows the standard `print` in the
/// whole command-line module, so no output can fail silently: a failed write prints
/// `error: cannot write standard output: <reason>` on standard error and exits with status 1.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator) + terminator
    do { try OutputWriter.standardOutput.write(text) } catch { exitAfterOutputFailure(error) }
}

/// Writes `text` to standard error through ``OutputWriter/standardError``; if standard error itself
/// fails, the process exits with status 1 (there is nowhere left to report it).
func printError(_ text: String) {
    do { try OutputWriter.standardError.write(text) } catch { exit(1) }
}
