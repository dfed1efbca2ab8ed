#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounded, incremental reading of one image file.
///
/// * `open(O_RDONLY | O_NONBLOCK)`, so a FIFO without a writer cannot block the open, then
///   `fstat`: anything but a regular file (FIFO, character device such as `/dev/zero`, directory,
///   socket) is rejected before a byte is read, and so is a file larger than
///   ``ImageFileLimits/maxFileBytes`` or an empty one.
/// * Bytes are read on demand: the caller reads the signature and header first, checks them, and
///   only then asks for the rest (``readAll(limit:what:)``), which never reads past the size
///   `fstat` reported, so a file that grows while being read cannot make the read unbounded.
final class ImageFileReader {
    let path: String
    /// The size `fstat` reported.
    let fileSize: Int
    /// The file's first `bytes.count` bytes (fewer than `fileSize` until ``readAll(limit:what:)``).
    private(set) var bytes: [UInt8] = []
    /// True once a read returned end of file before `fileSize` bytes (the file shrank).
    private(set) var endedEarly = false
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw PoseImageError.fileIO(path: path, message: "cannot open for reading: \(errnoText())")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let text = errnoText()
            close(fd)
            throw PoseImageError.fileIO(path: path, message: "cannot stat: \(text)")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(fd)
            throw PoseImageError.fileIO(path: path, message: "not a regular file (\(Self.describe(type))); an image must be a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            close(fd)
            throw PoseImageError.fileIO(path: path, message: "empty file (0 bytes): not a PNG, JPEG or YUV4MPEG2 image")
        }
        guard size <= ImageFileLimits.maxFileBytes else {
            close(fd)
            throw PoseImageError.fileIO(
                path: path,
                message: "file is \(size) bytes, more than any image within the pixel limits can need (\(ImageFileLimits.maxFileBytes) bytes)")
        }
        descriptor = fd
        fileSize = size
    }

    deinit { close(descriptor) }

    /// Makes the first `min(count, fileSize)` bytes available in ``bytes``; returns them.
    @discardableResult
    func prefix(_ count: Int) throws -> [UInt8] {
        try fill(min(count, fileSize))
        return bytes
    }

    /// Reads the whole file, after checking its size against `limit` (what the header allows).
    /// - Parameter what: the header's description for the error, e.g. "a 640x480 JPEG".
    func readAll(limit: Int, what: String) throws -> [UInt8] {
        guard fileSize <= limit else {
            throw PoseImageError.fileIO(
                path: path,
                message: "file is \(fileSize) bytes, more than \(what) can need (\(limit) bytes: "
                    + "\(ImageFileLimits.bytesPerPixel) bytes per pixel + \(ImageFileLimits.metadataBytes >> 20) MiB)")
        }
        try fill(fileSize)
        return bytes
    }

    private func fill(_ count: Int) throws {
        guard bytes.count < count, !endedEarly else { return }
        bytes.reserveCapacity(count)
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: min(chunkSize, count - bytes.count))
        while bytes.count < count {
            let want = min(chunk.count, count - bytes.count)
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, want) }
            if got < 0 {
                if errno == EINTR { continue }
                throw PoseImageError.fileIO(path: path, message: "read failed at byte \(bytes.count): \(errnoText())")
            }
            if got == 0 {
                endedEarly = true
                return
            }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }

    private static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        default: return "file type \(type)"
        }
    }
}

/// `strerror(errno)`.
private func errnoText() -> String {
    guard let text = strerror(errno) else { return "errno \(errno)" }
    return String(cString: text)
}
