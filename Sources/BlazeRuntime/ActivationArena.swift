#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BlazeSupport
import Foundation

/// The activation memory (arena and scratch) of one or more interpreters that never run at the
/// same time, e.g. a pose detector and the landmark model that runs after it.
///
/// Pass the same instance in ``InterpreterOptions/sharedArena`` to each interpreter: the memory
/// holds the largest of their needs instead of their sum. Layout while an interpreter runs: its
/// planned activations (`MemoryPlan.arenaCount` floats, offsets from its plan), then its scratch.
/// Sharing has one consequence: an interpreter's tensors (inputs included) do not survive an
/// `invoke` of another interpreter on the same arena, so set the inputs before every `invoke` and
/// read the outputs before invoking another. Not for interpreters used from several threads at once
/// (building them on several threads at once is fine).
public final class ActivationArena: @unchecked Sendable {
    /// Start of the memory: 64-byte aligned (2 MiB aligned and huge-page backed from 2 MiB up).
    private(set) var base: UnsafeMutablePointer<Float>
    /// Floats available at `base`.
    public private(set) var capacity: Int
    /// The memory behind `base`.
    private var memory: PrefaultedMemory
    private let lock = NSLock()

    public init() {
        memory = PrefaultedMemory(byteCount: MemoryLayout<Float>.stride)
        base = memory.base.assumingMemoryBound(to: Float.self)
        capacity = 1
    }

    /// Makes `count` floats available with their pages faulted in now (not during the first
    /// `invoke`). Growing frees the old memory before mapping the new, so the two never coexist;
    /// the contents are not kept. Within the capacity nothing happens: every page of the memory
    /// was faulted in when it was mapped, and what it holds is unspecified (an interpreter sharing
    /// the arena may have written it), as at the start of every `invoke`: the kernels write every
    /// activation and scratch float before they read it.
    func reserve(_ count: Int) {
        // Interpreters sharing an arena may be built on several threads at once.
        lock.lock()
        defer { lock.unlock() }
        let count = max(1, count)
        if count > capacity {
            memory.free()
            // Fresh pages read as zero; the kernel faults them all in at once.
            memory = PrefaultedMemory(byteCount: count * MemoryLayout<Float>.stride)
            base = memory.base.assumingMemoryBound(to: Float.self)
            capacity = count
        }
    }

    /// Overwrites every float of the memory with `value`: e.g. a NaN, to check that no kernel reads
    /// an activation or scratch float it has not written in the same `invoke` (outputs must not
    /// change). Not while an interpreter on this arena runs.
    public func fill(_ value: Float) {
        lock.lock()
        defer { lock.unlock() }
        base.update(repeating: value, count: capacity)
    }

    deinit {
        memory.free()
    }

    /// Milliseconds to map and fault in `bytes` (≥ 1) of fresh memory as an arena does (from
    /// 2 MiB up: 2 MiB-aligned, huge pages where the kernel allows, populated in one call), then
    /// unmap it. A probe of what loading a model pays per MiB of new memory on this machine (the
    /// packed weights, the file's copy and the arena are all fresh pages): ~0.2 ms/MiB on a quiet
    /// machine, several times that where the host must first back the pages, e.g. a VM whose freed
    /// memory the host has taken back.
    public static func faultInMilliseconds(bytes: Int) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let memory = PrefaultedMemory(byteCount: max(1, bytes))
        let end = DispatchTime.now().uptimeNanoseconds
        memory.free()
        return Double(end - start) / 1e6
    }
}

/// Zero-filled memory whose pages are all faulted in when it is made: from 2 MiB up, a private
/// anonymous mapping on a 2 MiB boundary marked `MADV_HUGEPAGE` (transparent huge pages where the
/// kernel allows: the detector's ~10 MB arena is walked with large strides by the depthwise and
/// conv kernels, and 4 KiB pages cost a TLB miss every few rows) and populated by the kernel in one
/// call (`MADV_POPULATE_WRITE`, Linux 5.14; else one write per page); smaller, a zeroed heap block.
struct PrefaultedMemory {
    let base: UnsafeMutableRawPointer
    /// Bytes mapped at `base` (0 for a heap block).
    private let mappedBytes: Int

    static let hugePage = 2 << 20

    init(byteCount: Int) {
        let bytes = max(1, byteCount)
        #if os(Linux)
        if bytes >= Self.hugePage {
            let size = (bytes + Self.hugePage - 1) / Self.hugePage * Self.hugePage
            let span = size + Self.hugePage
            if let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED {
                let address = Int(bitPattern: raw)
                let aligned = (address + Self.hugePage - 1) / Self.hugePage * Self.hugePage
                let head = aligned - address, tail = span - head - size
                if head > 0 { munmap(raw, head) }
                if tail > 0, let end = UnsafeMutableRawPointer(bitPattern: aligned + size) { munmap(end, tail) }
                if let start = UnsafeMutableRawPointer(bitPattern: aligned) {
                    // Huge pages for the whole 2 MiB pages the request covers. While huge pages
                    // are fast, a tail of at least half a huge page takes one more: one fault in
                    // place of ≥ 256 (C probe here, 2 MiB pages: 5.22 MiB faulted in 0.52–0.71 ms
                    // against 1.00–1.28 with the tail in 4 KiB pages; 7.46 MiB 0.84–1.05 against
                    // 1.30–1.85), for at most 1 MiB more resident memory. A shorter tail stays in
                    // 4 KiB pages (resident memory the request rounded to 4 KiB). Should huge
                    // pages turn slow while this is faulted in, the rest takes 4 KiB pages, the
                    // rounded tail included (at most 1 MiB more than the request).
                    let whole = bytes / Self.hugePage * Self.hugePage
                    let roundUp = bytes - whole >= Self.hugePage / 2 && HugePages.useHugePages
                    HugePages.advise(start, roundUp ? size : whole)
                    Self.populate(start, roundUp ? size : bytes)
                    base = start
                    mappedBytes = size
                    return
                }
            }
        }
        #endif
        base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        mappedBytes = 0
    }

    /// Faults in `[start, start + bytes)` (fresh pages read as zero): ``HugePages/populate(_:_:)``
    /// (`MADV_POPULATE_WRITE`, Linux 5.14; huge pages while they are fast), from 4 MiB up in two
    /// halves on two threads (the kernel zeroes each page, and the two cores zero twice as fast);
    /// else one write per page.
    private static func populate(_ start: UnsafeMutableRawPointer, _ bytes: Int) {
        #if os(Linux)
        func fault(_ offset: Int, _ count: Int) {
            guard count > 0 else { return }
            if !HugePages.populate(start + offset, count) {
                var page = 0
                while page < count { (start + offset).storeBytes(of: 0, toByteOffset: page, as: UInt8.self); page += 4096 }
            }
        }
        if bytes >= 4 << 20, ProcessInfo.processInfo.activeProcessorCount > 1 {
            let half = bytes / 2 / hugePage * hugePage
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                if i == 0 { fault(0, half) } else { fault(half, bytes - half) }
            }
        } else {
            fault(0, bytes)
        }
        #endif
    }

    /// Frees the memory (once).
    func free() {
        if mappedBytes > 0 {
            #if os(Linux)
            munmap(base, mappedBytes)
            #endif
        } else {
            base.deallocate()
        }
    }
}
