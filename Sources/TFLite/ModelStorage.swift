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
    ///
    /// After ``Model/releaseBufferData()`` the pages that hold only buffer data read as zeros until
    /// ``Model/bufferData(_:)`` reads them back: read buffer contents through `bufferData`.
    public let bytes: UnsafeRawBufferPointer
    private enum Kind { case copy, privateRead, mapped }
    private let kind: Kind
    /// The file a private read came from, kept open to read released pages back.
    private let file: RegularFile?
    /// `(st_size, st_mtim, st_ino, st_dev)` of `file` when it was read.
    private let identity: [Int]
    private static let pageSize = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
    private let lock = NSLock()
    /// Per page of `bytes` (`pageCount` flags): it holds FlatBuffers structure (tables, vtables,
    /// vectors other than buffer data, strings), marked while decoding; such pages are never
    /// released. Memory of its own (not an array in a `var`): marking runs for every checked range
    /// while decoding, without an exclusivity check each time.
    private let structurePages: UnsafeMutablePointer<Bool>
    private let pageCount: Int
    /// Per page: released (zero until read back).
    private var releasedPages: [Bool]
    private var releasedAny = false

    /// Whether some pages of ``bytes`` were released (they read as zeros until read back): the
    /// bytes are then not the file's, e.g. for a digest of its contents.
    public var hasReleasedPages: Bool {
        lock.lock(); defer { lock.unlock() }
        return releasedAny
    }

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
        let pages = (size + Self.pageSize - 1) / Self.pageSize
        pageCount = pages
        releasedPages = Array(repeating: false, count: pages)
        if size <= Self.privateReadLimit {
            // Private anonymous pages (not the heap), so released pages can be handed back (MADV_DONTNEED).
            #if canImport(Darwin)
            let anonymous = MAP_ANON
            #else
            let anonymous = MAP_ANONYMOUS
            #endif
            guard let base = Self.mapPrivate(size, anonymous: anonymous) else {
                throw TFLiteError.fileUnreadable(path: path, reason: "cannot allocate \(size) bytes: " + String(cString: strerror(errno)))
            }
            let raw = UnsafeMutableRawBufferPointer(start: base, count: size)
            do { try Self.read(file, into: raw) } catch let error as RegularFileError {
                munmap(base, size)
                throw TFLiteError.fileUnreadable(path: path, reason: error.reason)
            } catch {
                munmap(base, size)
                throw error
            }
            var info = stat()
            guard fstat(file.fd, &info) == 0 else {
                munmap(base, size)
                throw TFLiteError.fileUnreadable(path: path, reason: "fstat: " + String(cString: strerror(errno)))
            }
            bytes = UnsafeRawBufferPointer(raw)
            structurePages = .allocate(capacity: pages)
            structurePages.initialize(repeating: false, count: pages)
            kind = .privateRead
            self.file = file
            identity = Self.identity(info)
        } else {
            // The descriptor checked above (a regular file of `size` bytes), not the path again.
            guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, file.fd, 0), base != MAP_FAILED else {
                throw TFLiteError.fileUnreadable(path: path, reason: "mmap: " + String(cString: strerror(errno)))
            }
            bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: size)
            structurePages = .allocate(capacity: pages)
            structurePages.initialize(repeating: false, count: pages)
            kind = .mapped
            self.file = nil
            identity = []
        }
    }

    /// `size` bytes of private anonymous memory for a file's copy. From 2 MiB up it starts on a
    /// 2 MiB boundary and is marked for transparent huge pages (Linux), so reading a 6 MB model
    /// faults in a few pages instead of ~1,600 (each fault zeroes and maps one page; the faults
    /// cost more than the copy).
    private static func mapPrivate(_ size: Int, anonymous: Int32) -> UnsafeMutableRawPointer? {
        #if os(Linux)
        let hugePage = 2 << 20
        if size >= hugePage {
            let rounded = (size + hugePage - 1) / hugePage * hugePage, span = rounded + hugePage
            guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | anonymous, -1, 0), raw != MAP_FAILED else { return nil }
            let address = Int(bitPattern: raw)
            let aligned = (address + hugePage - 1) / hugePage * hugePage
            if aligned > address { munmap(raw, aligned - address) }
            // Keep `size` bytes rounded up to whole pages: what `deinit` unmaps.
            let end = (aligned + size + pageSize - 1) / pageSize * pageSize
            if address + span > end, let cut = UnsafeMutableRawPointer(bitPattern: end) { munmap(cut, address + span - end) }
            guard let base = UnsafeMutableRawPointer(bitPattern: aligned) else { return nil }
            HugePages.advise(base, size)
            return base
        }
        #endif
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | anonymous, -1, 0), base != MAP_FAILED else { return nil }
        return base
    }

    /// Reads the whole file into `buffer` (`file.size` bytes): from 4 MiB up, the two halves on two
    /// threads (page faults and the copy out of the page cache take turns otherwise). Throws the
    /// error of the first half that fails, as one sequential read would.
    /// Each part is faulted in first (``HugePages/populate(_:_:)``: huge pages while they are fast).
    private static func read(_ file: RegularFile, into buffer: UnsafeMutableRawBufferPointer) throws {
        let size = buffer.count, page = pageSize
        guard size >= 4 << 20, ProcessInfo.processInfo.activeProcessorCount > 1, let base = buffer.baseAddress else {
            if let base = buffer.baseAddress { _ = HugePages.populate(base, size) }
            try file.read(at: 0, into: buffer)
            return
        }
        let split = size / 2 / page * page
        let parts = [(0, split), (split, size - split)]
        let errors = ReadErrors()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let (offset, count) = parts[i]
            _ = HugePages.populate(base + offset, count)
            do { try file.read(at: offset, into: UnsafeMutableRawBufferPointer(start: base + offset, count: count)) } catch {
                errors.set(i, error)
            }
        }
        if let error = errors.first { throw error }
    }

    private final class ReadErrors: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [Int: Error] = [:]
        func set(_ i: Int, _ error: Error) { lock.lock(); errors[i] = error; lock.unlock() }
        var first: Error? { lock.lock(); defer { lock.unlock() }; return errors.keys.min().flatMap { errors[$0] } }
    }

    private static func identity(_ info: stat) -> [Int] {
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        return [Int(info.st_size), Int(modified.tv_sec), Int(modified.tv_nsec), Int(info.st_ino), Int(info.st_dev)]
    }

    /// Copies `source` into a fresh 16-byte-aligned allocation.
    init(copying source: UnsafeRawBufferPointer) {
        let count = source.count
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        if count > 0 { raw.copyMemory(from: source) }
        bytes = UnsafeRawBufferPointer(start: raw.baseAddress, count: count)
        kind = .copy
        file = nil
        identity = []
        structurePages = .allocate(capacity: 1)
        pageCount = 0
        releasedPages = []
    }

    deinit {
        structurePages.deallocate()
        guard let base = bytes.baseAddress else { return }
        switch kind {
        case .mapped, .privateRead: munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        case .copy: UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// Marks `[offset, offset + length)` as FlatBuffers structure (called while decoding, before any
    /// release; the range was checked to lie in the file).
    func markStructure(_ offset: Int, _ length: Int) {
        guard pageCount > 0, offset >= 0, offset < bytes.count else { return }
        let last = min(bytes.count - 1, offset + max(1, length) - 1)
        var page = offset / Self.pageSize
        let lastPage = last / Self.pageSize
        while page <= lastPage { structurePages[page] = true; page += 1 }
    }

    /// Hands back the pages that lie wholly inside one of `ranges` (buffer data) and hold no
    /// structure. Only for a private read of a file, on Linux (where `MADV_DONTNEED` makes private
    /// anonymous pages read as zeros until written); no effect otherwise.
    func release(_ ranges: [(offset: Int, count: Int)]) {
        #if os(Linux)
        guard kind == .privateRead, let base = bytes.baseAddress else { return }
        lock.lock()
        defer { lock.unlock() }
        for (offset, count) in ranges where count > 0 && offset >= 0 && offset + count <= bytes.count {
            let first = (offset + Self.pageSize - 1) / Self.pageSize, end = (offset + count) / Self.pageSize
            var page = first
            while page < end {
                guard !structurePages[page], !releasedPages[page] else { page += 1; continue }
                var runEnd = page + 1
                while runEnd < end, !structurePages[runEnd], !releasedPages[runEnd] { runEnd += 1 }
                if madvise(UnsafeMutableRawPointer(mutating: base + page * Self.pageSize), (runEnd - page) * Self.pageSize,
                           Int32(MADV_DONTNEED)) == 0 {
                    for p in page..<runEnd { releasedPages[p] = true }
                    releasedAny = true
                }
                page = runEnd
            }
        }
        #endif
    }

    /// Reads back the released pages of `[offset, offset + count)` from the file, after checking
    /// that it is the file that was read (same size, modification time, inode and device).
    /// - Throws: ``TFLiteError/fileUnreadable(path:reason:)`` when it changed or cannot be read.
    func ensureResident(_ offset: Int, _ count: Int) throws {
        guard count > 0, kind == .privateRead, let base = bytes.baseAddress else { return }
        lock.lock()
        defer { lock.unlock() }
        guard releasedAny, let file else { return }
        let first = offset / Self.pageSize, last = (offset + count - 1) / Self.pageSize
        var page = first
        while page <= last {
            guard releasedPages[page] else { page += 1; continue }
            var runEnd = page + 1
            while runEnd <= last, releasedPages[runEnd] { runEnd += 1 }
            var info = stat()
            guard fstat(file.fd, &info) == 0, Self.identity(info) == identity else {
                throw TFLiteError.fileUnreadable(path: file.path, reason: "changed since it was loaded (size, modification time or inode differ); its released buffer data cannot be read back")
            }
            let start = page * Self.pageSize, end = min(bytes.count, runEnd * Self.pageSize)
            do {
                try file.read(at: start, into: UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mutating: base + start), count: end - start))
            } catch let error as RegularFileError {
                throw TFLiteError.fileUnreadable(path: file.path, reason: error.reason)
            }
            for p in page..<runEnd { releasedPages[p] = false }
            page = runEnd
        }
    }
}
