#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Whether the large mappings of a load (the model file's copy, the packed weights, the activation
/// arena) are faulted in as transparent huge pages (2 MiB) or as 4 KiB pages: huge pages until two
/// are slow, then 4 KiB pages for the rest of the process.
///
/// Why it is measured and not fixed: which is faster depends on the host. On the 2-vCPU Zen 3
/// virtual machine this engine is measured on, memory the guest frees is handed back to the host
/// after about two seconds (virtio-balloon free page reporting, which reports free blocks of
/// 2 MiB and more). A huge page the kernel then gives us is often one the host must fault in
/// again, while 4 KiB pages come from smaller free blocks the host still backs. C probes,
/// `MADV_POPULATE_WRITE` in 2 MiB steps, fresh processes:
///
/// | state of the machine | one 2 MiB page | 4 KiB pages |
/// |---|---|---|
/// | a process freed memory < 2 s before (benchmark loops) | 0.22–0.58 ms, all of them | ~0.6 ms/MiB |
/// | idle for 3 s (a one-shot `detect`) | 0.22–0.58 ms for the first 0–24 MiB, then 2.9–4.7 ms each | 0.57–0.69 ms/MiB |
///
/// 32 MiB after 3 s idle: huge pages 26–58 ms, 4 KiB pages 18–22 ms, huge pages until the first
/// slow one and then 4 KiB pages 12–23 ms (the probe's rule; the engine waits for a second). After ``slowHugePagesToSwitch`` slow pages (each above
/// ``slowHugePageMilliseconds``, what 2 MiB of 4 KiB pages cost) the rest of that mapping and
/// every later one use 4 KiB pages. Only speed depends on this: the memory holds the same bytes
/// either way.
public enum HugePages {
    /// A huge page that takes longer than this to fault in (2 MiB at ~0.6 ms/MiB in 4 KiB pages)
    /// is slow.
    public static let slowHugePageMilliseconds = 1.2
    static let hugePage = 2 << 20

    /// Slow huge pages it takes to switch the process to 4 KiB pages: one alone can be a blip (a
    /// benchmark loop had a single 3–4 ms page among fast ones), but once the host has taken the
    /// memory back every further huge page is slow.
    public static let slowHugePagesToSwitch = 2

    /// False once ``slowHugePagesToSwitch`` huge pages were slow to fault in: later mappings use
    /// 4 KiB pages.
    public static var useHugePages: Bool { state.slowCount < slowHugePagesToSwitch }

    private static let state = SlowCount()
    private final class SlowCount: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        var slowCount: Int { lock.lock(); defer { lock.unlock() }; return value }
        func increment() { lock.lock(); value += 1; lock.unlock() }
    }

    /// Advises fresh private anonymous memory `[base, base + bytes)` for huge pages, or against
    /// them once this process has switched to 4 KiB pages. No effect except on Linux.
    public static func advise(_ base: UnsafeMutableRawPointer, _ bytes: Int) {
        #if os(Linux)
        guard bytes > 0 else { return }
        _ = madvise(base, bytes, Int32(useHugePages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
        #endif
    }

    /// Faults in `[start, start + bytes)` (private anonymous memory advised with ``advise(_:_:)``,
    /// from the first page boundary at or after `start`; contents unchanged) with
    /// `MADV_POPULATE_WRITE` (Linux 5.14), one 2 MiB page at a time while huge pages are fast.
    /// Once ``slowHugePagesToSwitch`` have taken longer than ``slowHugePageMilliseconds``, the rest
    /// of the range is advised against huge pages and faulted in as 4 KiB pages, and so is every
    /// later mapping of the process. Returns false when the system has no `MADV_POPULATE_WRITE`
    /// (the caller then writes to fault in) and on other systems.
    public static func populate(_ start: UnsafeMutableRawPointer, _ bytes: Int) -> Bool {
        #if os(Linux)
        guard bytes > 0 else { return true }
        let populateWrite: Int32 = 23   // MADV_POPULATE_WRITE
        // From the first whole page (`madvise` takes page-aligned starts; a partial first page is
        // faulted in when written).
        let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
        let begin = (Int(bitPattern: start) + page - 1) / page * page, end = Int(bitPattern: start) + bytes
        guard begin < end else { return true }
        var at = begin
        while at < end, let here = UnsafeMutableRawPointer(bitPattern: at) {
            guard useHugePages else {
                // 4 KiB pages from here on: one call for the rest.
                _ = madvise(here, end - at, Int32(MADV_NOHUGEPAGE))
                return madvise(here, end - at, populateWrite) == 0
            }
            let stepEnd = min(end, (at / hugePage + 1) * hugePage)
            let start = DispatchTime.now().uptimeNanoseconds
            guard madvise(here, stepEnd - at, populateWrite) == 0 else { return false }
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            // Only a whole huge page says something about huge pages.
            if stepEnd - at == hugePage, milliseconds > slowHugePageMilliseconds { state.increment() }
            at = stepEnd
        }
        return true
        #else
        return false
        #endif
    }
}
