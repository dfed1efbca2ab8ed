import BlazeKernels
import BlazeSupport
import Foundation
import TFLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory of packed-weight cache files: an interpreter that loads a model it has loaded
/// before (the same file contents, the same engine binary, the same packing options) maps the
/// packed weights from there instead of packing them again.
///
/// Why: packing itself is quick, but its memory is not. Each MiB of fresh memory a load faults in
/// costs ~0.5–1 ms on the virtual machines this engine is measured on, and a mapped cache file
/// that sits in the page cache costs ~0.1 ms per MiB. For pose_landmark_full that is 12.5 MB of
/// panels; for the detector, whose 1×1 weights are sparse, the sparse kernel's entries and the
/// passes over the file's index vectors that build them are skipped too.
///
/// What a file is trusted for, and how that is checked:
/// - Its name and header carry two digests (``ContentHash``-based): one of the model file's
///   bytes (the whole file, as read at load) and one of the configuration, which holds the engine binary's
///   identity (device, inode, size and modification time of the executable or library that
///   holds the packers), the cache format version and every option that changes what is packed
///   (not the thread count: packing does not depend on it). A rebuilt engine, an edited model or
///   other options give another key, so a file is never used for anything but the load that wrote it.
/// - The header (magic, version, both digests, the piece table) is read with bounded reads and
///   checked before anything is mapped: pieces 64-byte aligned, in order, inside the payload,
///   the payload within ``InterpreterOptions/memoryBudget``, and the file exactly as long as the
///   header says.
/// - The payload's own digest is checked over the mapped pages before use, so a damaged or
///   edited file is a miss, never wrong weights.
/// - The packers replay the pieces in the order they were recorded, and each piece's kind and
///   size must match what the packer asks for; a file that disagrees anywhere is dropped and the
///   model packed afresh (and the file rewritten).
///
/// Files are written to a temporary name and renamed into place, so a reader sees a whole file
/// or none (after a crash, possibly one whose blocks did not reach the disk: its digests fail),
/// and they are never modified in place. A cache file is mapped read-only,
/// like a model file above `ModelStorage.privateReadLimit`: truncating one in place while a
/// process has it mapped would make that process fail with SIGBUS, so leave the directory to the
/// engine (deleting files is safe: a mapped file lives on until unmapped). Any failure to read or
/// write the cache only costs speed: the load packs as it would without one, and
/// ``Interpreter/weightCacheOutcome`` says what happened.
///
/// The directory keeps at most ``maximumFiles`` files; when a new one would exceed that, the
/// least recently used are deleted (a hit refreshes a file's modification time).
public struct WeightCache: Sendable, Equatable {
    /// The directory the cache files live in (created, mode 0700, when a file is first written).
    public var directory: String

    /// Files kept in the directory (the least recently used beyond this are deleted when a file
    /// is written): room for the BlazePose models under a few engine builds and option sets.
    public static let maximumFiles = 24

    public init(directory: String) {
        self.directory = directory
    }

    /// The user's cache (the CLI's and the pose pipeline's default): `$BLAZEPOSE_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/blazepose`, else `$HOME/.cache/blazepose`; nil when
    /// `BLAZEPOSE_WEIGHT_CACHE` is `off` (or `0`) or no such directory can be named.
    public static var user: WeightCache? {
        let environment = ProcessInfo.processInfo.environment
        if let flag = environment["BLAZEPOSE_WEIGHT_CACHE"]?.lowercased(), flag == "off" || flag == "0" { return nil }
        if let dir = environment["BLAZEPOSE_CACHE_DIR"], !dir.isEmpty { return WeightCache(directory: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return WeightCache(directory: xdg + "/blazepose") }
        if let home = environment["HOME"], home.hasPrefix("/") { return WeightCache(directory: home + "/.cache/blazepose") }
        return nil
    }
}

/// What a load did with its ``WeightCache`` (``Interpreter/weightCacheOutcome``).
public enum WeightCacheOutcome: Sendable, Equatable, CustomStringConvertible {
    /// No cache was asked for.
    case off
    /// The packed weights were mapped from the cache file at `path`.
    case hit(path: String)
    /// The weights were packed and written to the cache file at `path`.
    case stored(path: String)
    /// The weights were packed and not cached, for `reason` (e.g. the directory is not writable,
    /// or the model has no packed weights).
    case notStored(reason: String)

    public var description: String {
        switch self {
        case .off: return "off"
        case let .hit(path): return "hit (\(path))"
        case let .stored(path): return "stored (\(path))"
        case let .notStored(reason): return "not stored: \(reason)"
        }
    }

    /// A one-word summary: `off`, `hit`, `stored` or `not-stored`.
    public var word: String {
        switch self {
        case .off: return "off"
        case .hit: return "hit"
        case .stored: return "stored"
        case .notStored: return "not-stored"
        }
    }
}

/// One load's cache key and the file it names.
struct WeightCacheKey {
    /// ``WeightCacheFile/blockDigest(_:pool:)`` of the model file's bytes.
    let model: (UInt64, UInt64)
    /// ``ContentHash`` of the engine binary's identity, the format version and the packing
    /// options, as text.
    let config: (UInt64, UInt64)
    let cache: WeightCache

    /// The cache file's path: both digests in the name.
    var path: String {
        cache.directory + "/" + ContentHash.hex64(model.0) + ContentHash.hex64(model.1) + "-"
            + ContentHash.hex64(config.0) + ContentHash.hex64(config.1) + ".bpw"
    }

    /// Nil when the cache cannot be keyed: the model's bytes are not all in memory as read from
    /// its file (some were released), or the engine binary cannot be identified.
    init?(cache: WeightCache, model: Model, options: InterpreterOptions, pool: ThreadPool?) {
        guard !model.storage.hasReleasedPages, let binary = Self.binary else { return nil }
        self.cache = cache
        self.model = WeightCacheFile.blockDigest(model.storage.bytes, pool: pool)
        // (Codes spelled out: interpolating an enum's case name looks up its conformances at run
        // time, ~1 ms the first time in a process.)
        let backend = options.gemmBackend == .native ? "native" : "openblas"
        let sparse: String, half: String
        switch options.sparseConvolutions {
        case .off: sparse = "off"
        case .auto: sparse = "auto"
        case .always: sparse = "always"
        }
        switch options.halfPanels {
        case .off: half = "off"
        case .auto: half = "auto"
        case .always: half = "always"
        }
        // (Concatenated, not an array `joined`: that makes the runtime look up [String]'s
        // conformances, ~0.03 ms the first time in a process.)
        var configuration = "format=" + String(WeightCacheFile.version) + ";binary=" + binary
        configuration += ";simd=" + String(BuildTarget.simdBits) + ";lanes=" + String(options.gemmLanes.rawValue)
        configuration += ";backend=" + backend + ";fuse=" + (options.fuseOperators ? "1" : "0")
        configuration += ";preserve=" + (options.preserveIntermediates ? "1" : "0") + ";sparse=" + sparse + ";half=" + half
        configuration += ";inPlaceResidual=" + (options.inPlaceResidual ? "1" : "0")
        configuration += ";convolveBeforeResize=" + (options.convolveBeforeResize ? "1" : "0")
        config = configuration.utf8CString.withUnsafeBytes { ContentHash.digest($0) }
    }

    /// ``binaryIdentity()``, found once per process (the code that runs does not change while it
    /// runs, even if its file is replaced).
    static let binary: String? = binaryIdentity()

    /// `device:inode:size:mtime` of the executable or shared library that holds the packers
    /// (BlazeKernels): on Linux `/proc/self/exe` when that is the main program, else the file
    /// `/proc/self/maps` shows mapped at the address of `WeightStore`'s class metadata, when the
    /// file at that path is still the one mapped (same inode: a library rebuilt under a running
    /// process is not taken for it); elsewhere the file `dladdr` names. Nil when it cannot be found.
    static func binaryIdentity() -> String? {
        let anchor = unsafeBitCast(WeightStore.self as AnyClass, to: UnsafeRawPointer.self)
        #if os(Linux)
        // The common case first: the packers are in the main program (SwiftPM links library
        // products into the executable), which `dladdr` names by the very `argv[0]` pointer, and
        // `/proc/self/exe` is the file it runs from (even if that path was replaced since).
        // (`dladdr` through `dlsym`: Glibc's module leaves it out. `Dl_info` starts with the name.)
        typealias Dladdr = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Int32
        if let main = dlopen(nil, RTLD_NOW) {
            defer { dlclose(main) }
            if let symbol = dlsym(main, "dladdr") {
                var info: (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeRawPointer?) = (nil, nil, nil, nil)
                let found = withUnsafeMutableBytes(of: &info) { unsafeBitCast(symbol, to: Dladdr.self)(anchor, $0.baseAddress) }
                if found != 0, let name = info.0, let program = CommandLine.unsafeArgv[0], name == UnsafeRawPointer(program) {
                    return identity(of: "/proc/self/exe")
                }
            }
        }
        // A shared library: the file mapped at the anchor, if its path still names it.
        let address = UInt(bitPattern: anchor)
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            // "start-end perms offset dev inode path": the range parsed in place (most lines are
            // not the one), the fields only for the line that holds `address`.
            var rest: UnsafeMutablePointer<CChar>?
            let start = UInt(strtoul(line, &rest, 16))
            guard let dash = rest, dash.pointee == 0x2D, start <= address else { continue }
            let end = UInt(strtoul(dash + 1, nil, 16))
            guard address < end else { continue }
            let fields = String(cString: line).split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { return nil }
            let path = fields[5].trimmingCharacters(in: .whitespacesAndNewlines)
            guard path.hasPrefix("/"), let inode = UInt64(fields[4]), inode != 0 else { return nil }
            return identity(of: path, inode: inode)
        }
        return nil
        #else
        var info = Dl_info()
        guard dladdr(anchor, &info) != 0, let name = info.dli_fname else { return nil }
        let path = String(cString: name)
        return path.hasPrefix("/") ? identity(of: path) : nil
        #endif
    }

    /// `device:inode:size:mtime` of the file at `path` (nil when it cannot be read, or its inode
    /// is not `inode` when one is given).
    static func identity(of path: String, inode: UInt64? = nil) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, inode.map({ UInt64(st.st_ino) == $0 }) ?? true else { return nil }
        return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(WeightCacheFile.modified(st))"
    }
}

/// The cache file format (little-endian, the host's order):
///
/// | bytes | field |
/// |---|---|
/// | 0..<8 | magic `BPWCACHE` |
/// | 8..<12 | format version (UInt32) |
/// | 12..<16 | piece count P (UInt32) |
/// | 16..<24 | payload offset (UInt64; a multiple of 4096) |
/// | 24..<32 | payload bytes (UInt64) |
/// | 32..<48 | model digest |
/// | 48..<64 | configuration digest |
/// | 64..<80 | payload digest |
/// | 80..<96 | header digest (of bytes 0..<80 and the piece table) |
/// | 96..<96 + 24·P | pieces: kind (UInt32), 0 (UInt32), offset in the payload (UInt64), bytes (UInt64) |
/// | payload offset… | the pieces, each at its offset (64-byte aligned) |
///
/// The model and payload digests are ``blockDigest(_:pool:)``s, the configuration's and the
/// header's plain ``ContentHash`` digests.
enum WeightCacheFile {
    static let version: UInt32 = 1
    static let magic: [UInt8] = Array("BPWCACHE".utf8)
    static let headerBytes = 96
    static let pieceBytes = 24
    /// Pieces a file may list (the BlazePose models have < 300).
    static let maximumPieces = 1 << 16
    static let pageAlignment = 4096

    /// The mapped payload of an open cache file, unmapped when the last piece's user is gone.
    final class Mapping {
        let base: UnsafeMutableRawPointer
        let bytes: Int
        init(base: UnsafeMutableRawPointer, bytes: Int) { self.base = base; self.bytes = bytes }
        deinit { munmap(base, bytes) }
    }

    /// The pieces of the file `key` names and the mapping that holds them, or nil when there is no
    /// such file or it is not exactly what the key and its own digests say.
    /// `budget` caps the payload (``InterpreterOptions/memoryBudget``): a larger file is a miss,
    /// not a long read.
    static func open(_ key: WeightCacheKey, pool: ThreadPool?, budget: Int) -> (pieces: [WeightStore.Piece], mapping: Mapping)? {
        // A regular file, not a symbolic link; bounded reads of the header and the table.
        guard let file = try? RegularFile(path: key.path, followingSymlinks: false) else { return nil }
        let size = file.size
        guard size >= headerBytes, let header = try? file.read(at: 0, count: headerBytes) else { return nil }
        func u32(_ at: Int) -> UInt32 { header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) } }
        func u64(_ at: Int) -> UInt64 { header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
        guard Array(header[0..<8]) == magic, u32(8) == version,
              u64(32) == key.model.0, u64(40) == key.model.1, u64(48) == key.config.0, u64(56) == key.config.1 else { return nil }
        let count = Int(u32(12))
        guard count > 0, count <= maximumPieces, u64(16) <= UInt64(size), u64(24) <= UInt64(size) else { return nil }
        let payloadOffset = Int(u64(16)), payloadBytes = Int(u64(24))
        let tableEnd = headerBytes + count * pieceBytes
        guard payloadOffset == alignUp(tableEnd, pageAlignment), payloadBytes > 0, payloadBytes <= budget,
              size - payloadOffset == payloadBytes else { return nil }
        guard let table = try? file.read(at: headerBytes, count: count * pieceBytes) else { return nil }
        let headerDigest = digest(Array(header[0..<80]) + table)
        guard u64(80) == headerDigest.0, u64(88) == headerDigest.1 else { return nil }
        // The table: known kinds, pieces in order and inside the payload, 64-byte multiples.
        var entries: [(kind: WeightPieceKind, offset: Int, bytes: Int)] = []
        entries.reserveCapacity(count)
        var end = 0
        let valid = table.withUnsafeBytes { t -> Bool in
            for i in 0..<count {
                let at = i * pieceBytes
                let raw = t.loadUnaligned(fromByteOffset: at, as: UInt32.self)
                let offset = t.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)
                let bytes = t.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)
                guard let kind = WeightPieceKind(rawValue: raw), t.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self) == 0,
                      offset % 64 == 0, bytes % 64 == 0, bytes > 0, offset >= UInt64(end),
                      offset <= UInt64(payloadBytes), bytes <= UInt64(payloadBytes) - offset else { return false }
                entries.append((kind, Int(offset), Int(bytes)))
                end = Int(offset + bytes)
            }
            return true
        }
        guard valid else { return nil }
        #if os(Linux)
        let flags = MAP_PRIVATE | MAP_POPULATE
        #else
        let flags = MAP_PRIVATE
        #endif
        guard let raw = mmap(nil, payloadBytes, PROT_READ, flags, file.fd, off_t(payloadOffset)), raw != MAP_FAILED else { return nil }
        let mapping = Mapping(base: raw, bytes: payloadBytes)
        let payloadDigest = blockDigest(UnsafeRawBufferPointer(start: raw, count: payloadBytes), pool: pool)
        guard u64(64) == payloadDigest.0, u64(72) == payloadDigest.1 else { return nil }
        // A hit: this file is the most recently used.
        _ = futimens(file.fd, nil)
        let pieces = entries.map { WeightStore.Piece(kind: $0.kind, pointer: UnsafeRawPointer(raw + $0.offset), bytes: $0.bytes) }
        return (pieces, mapping)
    }

    /// Writes `pieces` as the file `key` names (a temporary file renamed into place), then trims
    /// the directory to ``WeightCache/maximumFiles``. Returns why not, or nil when written. No
    /// `fsync` (it took ~0.2 s for full's 13 MB on the test VM, on every first load): a file that
    /// a crash leaves short or with stale blocks fails its checks and is rewritten.
    static func store(_ pieces: [WeightStore.Piece], key: WeightCacheKey) -> String? {
        guard !pieces.isEmpty else { return "the model has no packed weights" }
        guard pieces.count <= maximumPieces else { return "\(pieces.count) pieces, more than \(maximumPieces)" }
        let directory = key.cache.directory
        do {
            // Missing parents (e.g. ~/.cache on a fresh account) are created too.
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            return "cannot create \(directory): \(error.localizedDescription)"
        }
        // Layout: pieces back to back (each is a 64-byte multiple, so each stays 64-byte aligned).
        var table = [UInt8]()
        table.reserveCapacity(pieces.count * pieceBytes)
        var payloadBytes = 0
        for piece in pieces {
            append(&table, UInt32(piece.kind.rawValue)); append(&table, UInt32(0))
            append(&table, UInt64(payloadBytes)); append(&table, UInt64(piece.bytes))
            payloadBytes += piece.bytes
        }
        let payloadOffset = alignUp(headerBytes + table.count, pageAlignment)
        // The payload digest, over the pieces as they will lie in the file: ``blockDigest`` of
        // their concatenation, each block gathered into one reused buffer (no copy of the whole).
        var blockDigests: [UInt64] = []
        let block = UnsafeMutableRawPointer.allocate(byteCount: digestBlock, alignment: 64)
        defer { block.deallocate() }
        var filled = 0
        func finishBlock(_ count: Int) {
            let (h0, h1) = ContentHash.digest(UnsafeRawBufferPointer(start: block, count: count))
            blockDigests += [h0, h1]
        }
        for piece in pieces {
            var at = 0
            while at < piece.bytes {
                let n = Swift.min(piece.bytes - at, Self.digestBlock - filled)
                (block + filled).copyMemory(from: piece.pointer + at, byteCount: n)
                filled += n
                at += n
                if filled == Self.digestBlock { finishBlock(filled); filled = 0 }
            }
        }
        if filled > 0 { finishBlock(filled) }
        let payloadDigest = combine(blockDigests, count: payloadBytes)
        var header = magic
        append(&header, version); append(&header, UInt32(pieces.count))
        append(&header, UInt64(payloadOffset)); append(&header, UInt64(payloadBytes))
        append(&header, key.model.0); append(&header, key.model.1)
        append(&header, key.config.0); append(&header, key.config.1)
        append(&header, payloadDigest.0); append(&header, payloadDigest.1)
        let headerDigest = digest(header + table)
        append(&header, headerDigest.0); append(&header, headerDigest.1)
        var head = header + table
        head += [UInt8](repeating: 0, count: payloadOffset - head.count)

        let temporary = key.path + ".tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = openFile(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot create \(temporary): \(String(cString: strerror(errno)))" }
        var failure: String?
        if let f = head.withUnsafeBytes({ writeAll(fd, $0) }) {
            failure = "writing \(temporary): \(f.reason)"
        } else {
            for piece in pieces {
                if let f = writeAll(fd, UnsafeRawBufferPointer(start: piece.pointer, count: piece.bytes)) {
                    failure = "writing \(temporary): \(f.reason)"
                    break
                }
            }
        }
        if close(fd) != 0 && failure == nil { failure = "closing \(temporary): \(String(cString: strerror(errno)))" }
        if failure == nil && rename(temporary, key.path) != 0 {
            failure = "renaming to \(key.path): \(String(cString: strerror(errno)))"
        }
        if let failure {
            unlink(temporary)
            return failure
        }
        trim(directory, keeping: key.path)
        return nil
    }

    /// Deletes the least recently modified cache files beyond ``WeightCache/maximumFiles``, and
    /// temporary files of writers that died more than an hour ago (never `keeping`).
    static func trim(_ directory: String, keeping: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var files: [(path: String, modified: Double)] = []
        let now = Date().timeIntervalSince1970
        for name in names where name.hasSuffix(".bpw") || name.contains(".bpw.tmp.") {
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            let time = Double(modified(st)) ?? 0
            if name.contains(".bpw.tmp.") {
                if now - time > 3600 { unlink(path) }
                continue
            }
            if path != keeping { files.append((path, time)) }
        }
        let excess = files.count + 1 - WeightCache.maximumFiles
        guard excess > 0 else { return }
        for file in files.sorted(by: { $0.modified < $1.modified }).prefix(excess) { unlink(file.path) }
    }

    /// A file's modification time as `seconds.nanoseconds` (nanoseconds zero-padded to 9 digits,
    /// so the text also reads as a number).
    static func modified(_ st: stat) -> String {
        #if os(Linux)
        let time = st.st_mtim
        #else
        let time = st.st_mtimespec
        #endif
        let nanoseconds = String(time.tv_nsec)
        return "\(time.tv_sec)." + String(repeating: "0", count: max(0, 9 - nanoseconds.count)) + nanoseconds
    }

    /// `open(2)` under a name the enum's own `open` does not hide.
    private static func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        #if canImport(Glibc)
        return Glibc.open(path, flags, mode)
        #else
        return Darwin.open(path, flags, mode)
        #endif
    }

    /// Bytes per block of ``blockDigest(_:pool:)``.
    static let digestBlock = 1 << 20

    /// The digest of `bytes` as the cache defines it: ``ContentHash`` of each 1 MiB block (the
    /// blocks spread over `pool`'s threads), then of the blocks' digests in order, seeded with
    /// the length. The same value for any thread count. Without a pool of several threads, 4 MiB
    /// and more are still digested in two halves on two threads when the machine has more than
    /// one core, as `ModelStorage` reads a model file: a load is mostly single-threaded, and
    /// reading these pages is bound by memory, not by the interpreter's thread budget (full's
    /// 18.6 MB at 1 thread took ~3.8 ms on the Zen 1 VM).
    static func blockDigest(_ bytes: UnsafeRawBufferPointer, pool: ThreadPool?) -> (UInt64, UInt64) {
        let blocks = (bytes.count + digestBlock - 1) / digestBlock
        var digests = [UInt64](repeating: 0, count: 2 * blocks)   // [blocks][2]
        digests.withUnsafeMutableBufferPointer { out in
            guard let d = out.baseAddress else { return }
            func block(_ b: Int) {
                let start = b * digestBlock, end = Swift.min(bytes.count, start + digestBlock)
                let (h0, h1) = ContentHash.digest(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                d[2 * b] = h0
                d[2 * b + 1] = h1
            }
            if let pool, pool.threadCount > 1, blocks > 1 {
                pool.parallelFor(blocks) { b, _ in block(b) }
            } else if blocks >= 4, ProcessInfo.processInfo.activeProcessorCount > 1 {
                DispatchQueue.concurrentPerform(iterations: 2) { half in
                    for b in (half == 0 ? 0..<(blocks / 2) : (blocks / 2)..<blocks) { block(b) }
                }
            } else {
                for b in 0..<blocks { block(b) }
            }
        }
        return combine(digests, count: bytes.count)
    }

    /// ``blockDigest(_:pool:)``'s last step: the digest of the blocks' digests (`[blocks][2]`),
    /// seeded with the byte count.
    static func combine(_ blockDigests: [UInt64], count: Int) -> (UInt64, UInt64) {
        blockDigests.withUnsafeBytes { ContentHash.digest($0, seed: UInt64(count)) }
    }

    private static func digest(_ bytes: [UInt8]) -> (UInt64, UInt64) {
        bytes.withUnsafeBytes { ContentHash.digest($0) }
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func alignUp(_ value: Int, _ alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }
}
