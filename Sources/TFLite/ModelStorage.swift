#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlazeSupport
import Foundation

/// Owns the bytes of a model file: either a private heap copy or a read-only memory mapping.
///
/// The memory stays valid (and unchanged) for the life of this object; `Model` keeps it alive, so
/// pointers handed out by `Model.bufferData(_:)` are valid as long as the `Model` value (or a copy) exists.
/// The base address is at least 16-byte aligned (page-aligned for mappings), so alignment checks made
/// on file offsets are also alignment checks on addresses.
public final class ModelStorage: @unchecked Sendable {
    /// The whole file, read-only.
    public let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Files up to this size (256 MiB) are read into private memory; larger files are mapped.
    ///
    /// Why a private read and not a mapping: a mapping of a file that another process truncates
    /// (or rewrites in place) while we load or run the model delivers SIGBUS on the next access to a
    /// page past the new end, and there is no safe way to recover from that signal in Swift (the
    /// handler would have to unwind out of the verifier or a kernel). A private copy cannot change
    /// underneath: a file that shrinks while it is read gives a clean ``TFLiteError/fileUnreadable(path:reason:)``
    /// ("file changed while reading"), and one that changes after loading does not affect us.
    /// The BlazePose models are 3–27 MB; reading 27 MB costs a few milliseconds, which the load-time
    /// goal absorbs, and the memory is the same as a mapping once every weight page was touched.
    /// Above the threshold the file is mapped (`MAP_PRIVATE`, read-only) to avoid a second copy of a
    /// very large model: such files must not be modified while in use.
    public static let privateReadLimit = 256 << 20

    /// Opens `path` without blocking (a FIFO or device is rejected by `fstat` before any read),
    /// checks the 8-byte FlatBuffers header (root offset inside the file, identifier `TFL3`) and only
    /// then reads the file into private memory (≤ ``privateReadLimit`` bytes) or maps it.
    /// - Throws: ``TFLiteError/fileUnreadable(path:reason:)`` for a missing, non-regular, empty or
    ///   changing file; ``TFLiteError/malformed(what:offset:location:)`` for a bad header.
    init(contentsOfFile path: String) throws {
        let file: RegularFile
        do { file = try RegularFile(path: path) } catch let error as RegularFileError {
            throw TFLiteError.fileUnreadable(path: path, reason: error.reason)
        }
        let size = file.size
        guard size > 0 else { throw TFLiteError.fileUnreadable(path: path, reason: "file is empty") }
        guard size >= 8 else {
            throw TFLiteError.malformed(what: "file is only \(size) bytes; a FlatBuffer needs at least 8", offset: 0, location: "")
        }
        let head: [UInt8]
        do { head = try file.read(at: 0, count: 8) } catch let error as RegularFileError {
            throw TFLiteError.fileUnreadable(path: path, reason: error.reason)
        }
        let ident = Array(head[4..<8])
        guard ident == Array("TFL3".utf8) else {
            let shown = ident.map { ($0 >= 32 && $0 < 127) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            throw TFLiteError.malformed(what: "file identifier is '\(shown)', expected 'TFL3'", offset: 4, location: "")
        }
        let root = Int(head[0]) | Int(head[1]) << 8 | Int(head[2]) << 16 | Int(head[3]) << 24
        guard root >= 8, root < size else {
            throw TFLiteError.malformed(what: "root table offset \(root) is outside the file (\(size) bytes)", offset: 0, location: "")
        }
        if size <= Self.privateReadLimit {
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            do { try file.read(at: 0, into: raw) } catch let error as RegularFileError {
                raw.deallocate()
                throw TFLiteError.fileUnreadable(path: path, reason: error.reason)
            } catch {
                raw.deallocate()
                throw error
            }
            bytes = UnsafeRawBufferPointer(raw)
            isMapped = false
        } else {
            // The descriptor checked above (a regular file of `size` bytes), not the path again.
            guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, file.fd, 0), base != MAP_FAILED else {
                throw TFLiteError.fileUnreadable(path: path, reason: "mmap: " + String(cString: strerror(errno)))
            }
            bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: size)
            isMapped = true
        }
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
