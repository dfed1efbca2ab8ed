#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why ``writeAll(_:_:)`` stopped: the `errno` of the failed `write(2)` (0 when it returned 0
/// bytes) and how many bytes had been written before it.
public struct WriteFailure: Error, Equatable, Sendable {
    /// `errno` of the failed call; 0 when `write(2)` returned 0 bytes.
    public var code: Int32
    /// Bytes written before the failure.
    public var written: Int
    /// `strerror(code)`, or "write returned 0 bytes".
    public var reason: String { code == 0 ? "write returned 0 bytes" : String(cString: strerror(code)) }
}

/// Writes all of `bytes` to `fd` with `write(2)`: chunks of at most 1 GiB, partial writes
/// continued, `EINTR` retried, nothing buffered.
/// - Returns: nil when every byte was written, else the failure (other `errno` values, including
///   `EAGAIN` and `EPIPE`, are the caller's to handle).
public func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> WriteFailure? {
    guard let base = bytes.baseAddress else { return nil }
    var written = 0
    while written < bytes.count {
        let n = systemWrite(fd, base + written, min(bytes.count - written, 1 << 30))
        if n < 0 {
            if errno == EINTR { continue }
            return WriteFailure(code: errno, written: written)
        }
        if n == 0 { return WriteFailure(code: 0, written: written) }
        written += n
    }
    return nil
}

/// A failed ``writeFileInPlace(_:_:)``: which step failed and its `errno` text.
public enum FileWriteError: Error, Equatable, Sendable {
    /// `open(2)` failed: `errno` text.
    case open(reason: String)
    /// A `write(2)` failed after `written` of `total` bytes.
    case write(WriteFailure, total: Int)
    /// `close(2)` failed (e.g. a deferred write error on a network file system): `errno` text.
    case close(reason: String)

    /// The `errno` text of the failed step.
    public var reason: String {
        switch self {
        case .open(let reason), .close(let reason): return reason
        case .write(let failure, _): return failure.reason
        }
    }
}

/// Creates or truncates the file at `path` in place (mode 0644; not a temporary file renamed over
/// it, which would replace a device such as `/dev/null` or a FIFO), writes all of `bytes` with
/// ``writeAll(_:_:)`` and closes it, checking `close`. No `fsync`: writing many files (one PNG per
/// video frame) must not wait for the disk each time.
/// - Throws: ``FileWriteError`` for the step that failed (the file may then hold a prefix).
public func writeFileInPlace(_ path: String, _ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .open(reason: String(cString: strerror(errno))) }
    if let failure = writeAll(fd, bytes) {
        close(fd)
        throw .write(failure, total: bytes.count)
    }
    guard close(fd) == 0 else { throw .close(reason: String(cString: strerror(errno))) }
}

/// `write(2)` under a name no caller's own `write` method hides.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
