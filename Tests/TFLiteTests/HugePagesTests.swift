#if canImport(Glibc)
import Glibc
#endif
import BlazeSupport
import XCTest

/// `HugePages.populate` maps pages without changing what they hold, over ranges that start and end
/// off 2 MiB boundaries, whichever page size the process has settled on.
final class HugePagesTests: XCTestCase {
    func testPopulateKeepsContentsAndFaultsInFreshZeros() throws {
        #if os(Linux)
        let huge = 2 << 20, size = 3 * huge
        guard let raw = mmap(nil, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
            throw XCTSkip("mmap failed")
        }
        defer { munmap(raw, size + huge) }
        let base = raw.advanced(by: (huge - Int(bitPattern: raw) % huge) % huge)
        HugePages.advise(base, size)
        // Written: the first 1.5 MiB (a pattern); fresh: the rest.
        let written = huge * 3 / 4
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        for i in 0..<written { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        // An unaligned start inside the written part, an unaligned end in the last 2 MiB.
        let start = 4096 + 12, end = size - huge / 2 + 100
        guard HugePages.populate(base + start, end - start) else { throw XCTSkip("no MADV_POPULATE_WRITE on this kernel") }
        for i in 0..<written where bytes[i] != UInt8(truncatingIfNeeded: i &* 31 &+ 7) {
            XCTFail("byte \(i) changed to \(bytes[i])"); return
        }
        for i in stride(from: written, to: size, by: 997) where bytes[i] != 0 {
            XCTFail("fresh byte \(i) is \(bytes[i])"); return
        }
        // The range is mapped now: writes land and read back.
        bytes[end - 1] = 0xA5
        XCTAssertEqual(bytes[end - 1], 0xA5)
        #else
        throw XCTSkip("Linux only")
        #endif
    }
}
