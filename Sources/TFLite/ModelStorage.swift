#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Owns the bytes of a model file: either a read-only memory mapping or a private heap copy.
///
/// The memory stays valid (and unchanged) for the life of this object; `Model` keeps it alive, so
/// pointers handed out by `Model.bufferData(_:)` are valid as long as the `Model` value (or a copy) exists.
/// The base address is at least 16-byte aligned (page-aligned for mappings), so alignment checks made
/// on file offsets are also alignment checks on addresses.
public final class ModelStorage: @unchecked Sendable {
    /// The whole file, read-only.
    public let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Maps `path` read-only (`mmap(PROT_READ, MAP_PRIVATE)`).
    init(mapping path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TFLiteError.fileUnreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TFLiteError.fileUnreadable(path: path, reason: "fstat: " + String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TFLiteError.fileUnreadable(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw TFLiteError.fileUnreadable(path: path, reason: "file is empty") }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw TFLiteError.fileUnreadable(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: size)
        isMapped = true
    }

    /// Copies `source` into a fresh 16-byte-aligned allocation.
    init(copying source: UnsafeRawBufferPointer) {
        let count = source.count
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        if count > 0 { raw.copyMemory(from: source) }
        bytes = UnsafeRawBufferPointer(start: raw.baseAddress, count: count)
        isMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}
