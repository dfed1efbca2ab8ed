#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file opened for bounded reading.
///
/// The file is opened with `O_RDONLY | O_NONBLOCK | O_CLOEXEC` and checked with `fstat` before a
/// single byte is read, so a FIFO, a device (`/dev/zero`), a socket or a directory is rejected at
/// once instead of blocking in `open(2)` or being read until memory runs out. Reads are `pread(2)`
/// at explicit offsets and never go past ``size`` as it was when the file was opened; a file that
/// shrinks meanwhile gives a ``RegularFileError`` ("file changed while reading"), never a crash.
///
/// Callers check a format's signature and header with ``read(at:count:)`` first and only then read
/// the rest, capped by what the header announces.
public final class RegularFile {
    /// The path as given, for messages.
    public let path: String
    /// Size in bytes at open time (`st_size`).
    public let size: Int
    /// The open descriptor (closed with this object); `ModelStorage` maps it for very large models.
    public let fd: Int32

    /// Opens `path`; throws unless it is a regular file. With `followingSymlinks` false, a
    /// symbolic link at `path` is refused too (`O_NOFOLLOW`: the open fails).
    /// - Throws: ``RegularFileError`` naming the path and the reason (`open`/`fstat` errno text, or
    ///   the kind of file found, e.g. "a FIFO (named pipe), not a regular file").
    public init(path: String, followingSymlinks: Bool = true) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followingSymlinks ? 0 : O_NOFOLLOW))
        guard fd >= 0 else { throw RegularFileError(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = "fstat: " + String(cString: strerror(errno))
            close(fd)
            throw RegularFileError(path: path, reason: reason)
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(fd)
            throw RegularFileError(path: path, reason: Self.describe(kind) + ", not a regular file")
        }
        self.fd = fd
        self.size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `buffer.count` bytes starting at file offset `offset` into `buffer`.
    /// - Throws: ``RegularFileError`` when the range lies outside the file as opened, on a read
    ///   error, or when the file ends early (it was truncated after it was opened).
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        let count = buffer.count
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw RegularFileError(path: path, reason: "bytes \(offset)..<\(offset + count) are outside the file (\(size) bytes)")
        }
        var done = 0
        while done < count {
            guard let base = buffer.baseAddress else { return }
            // At most 1 GiB per call: Linux caps a single read at about 2 GiB.
            let chunk = min(count - done, 1 << 30)
            let n = pread(fd, base + done, chunk, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw RegularFileError(path: path, reason: "read at byte \(offset + done): " + String(cString: strerror(errno)))
            }
            if n == 0 {
                throw RegularFileError(path: path, reason: "file changed while reading: it ends at byte \(offset + done), "
                                       + "but was \(size) bytes when opened")
            }
            done += n
        }
    }

    /// `count` bytes from file offset `offset`.
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard count >= 0 else { throw RegularFileError(path: path, reason: "negative read size \(count)") }
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        return bytes
    }

    /// The whole file, if it holds at most `limit` bytes.
    /// - Parameter what: names the content in the error, e.g. "manifest".
    /// - Throws: ``RegularFileError`` for a non-regular file, a file over `limit`, or a read error.
    public static func contents(ofFile path: String, limit: Int, what: String = "file") throws -> [UInt8] {
        let file = try RegularFile(path: path)
        guard file.size <= limit else {
            throw RegularFileError(path: path, reason: "\(what) is \(file.size) bytes, more than the limit of \(limit) bytes")
        }
        return try file.read(at: 0, count: file.size)
    }

    private static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "a special file"
        }
    }
}

/// Why a ``RegularFile`` could not be opened or read.
public struct RegularFileError: Error, Equatable, CustomStringConvertible {
    /// The path as given.
    public var path: String
    /// What went wrong (an `errno` text, the kind of file, or the byte range).
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
