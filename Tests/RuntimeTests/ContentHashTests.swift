import BlazeSupport
import XCTest

/// `ContentHash`, which keys the packed-weight cache by a model's bytes and checks the cache's
/// payload: every length (the 128-byte steps and the zero-padded tail), every single-bit change,
/// a zero appended, the seed, and any alignment of the same bytes must give what they should.
final class ContentHashTests: XCTestCase {
    func bytes(_ count: Int, salt: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ salt) &* 2_654_435_761 >> 13) }
    }

    func digest(_ b: [UInt8], seed: UInt64 = 0) -> (UInt64, UInt64) {
        b.withUnsafeBytes { ContentHash.digest($0, seed: seed) }
    }

    func testEveryBitOfEveryLengthCounts() {
        var seen = Set<String>()
        for count in [0, 1, 2, 31, 32, 127, 128, 129, 255, 256, 300, 1000] {
            let data = bytes(count)
            let base = digest(data)
            XCTAssertTrue(seen.insert("\(base)").inserted, "length \(count) collides with a shorter one")
            XCTAssertTrue(base == digest(data), "not deterministic at length \(count)")
            for byte in 0..<count {
                for bit in 0..<8 {
                    var changed = data
                    changed[byte] ^= UInt8(1) << UInt8(bit)
                    let d = digest(changed)
                    XCTAssertFalse(d.0 == base.0 || d.1 == base.1, "length \(count): bit \(bit) of byte \(byte) left a word unchanged")
                }
            }
            // A zero appended is another buffer (the tail is zero-padded, the length tells them apart).
            XCTAssertFalse(digest(data + [0]) == base, "length \(count) + a zero")
            XCTAssertFalse(digest(data, seed: 1) == base, "seed at length \(count)")
        }
    }

    func testAlignmentDoesNotMatter() {
        let data = bytes(777, salt: 5)
        let expected = digest(data)
        for shift in 1..<8 {
            let padded = [UInt8](repeating: 0xAB, count: shift) + data
            let got = padded.withUnsafeBytes { ContentHash.digest(UnsafeRawBufferPointer(rebasing: $0[shift...])) }
            XCTAssertTrue(got == expected, "shift \(shift)")
        }
        XCTAssertEqual(data.withUnsafeBytes { ContentHash.hex($0) }.count, 32)
        XCTAssertEqual(ContentHash.hex64(0x1F), "000000000000001f")
    }
}
