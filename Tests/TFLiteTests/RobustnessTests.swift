import Foundation
import TFLite
import BlazeTestSupport
import XCTest

/// Mutates a real model file in many seeded, deterministic ways; every case must either load (and
/// resolve its constants and read its operators' options) or throw a descriptive `TFLiteError` — never crash.
final class RobustnessTests: XCTestCase {
    private enum Outcome { case loaded, rejected }

    /// Loads `bytes` fully; returns whether it loaded. Fails the test on a non-TFLiteError or an empty message.
    private func attempt(_ bytes: [UInt8], _ label: @autoclosure () -> String) -> Outcome {
        do {
            let model = try Model(bytes: bytes)
            _ = try model.resolveConstants()
            // Every operator's options table: the first fields, read through the checked accessors
            // the runtime's operator units use.
            for op in model.subgraphs.flatMap(\.operators) where op.options.hasTable {
                for id in 0..<8 { _ = try op.options.scalar(id, "field \(id)", default: Int8(0)) }
            }
            return .loaded
        } catch let error as TFLiteError {
            let message = error.description
            if message.count < 20 { XCTFail("\(label()): error message too terse: \(message)") }
            return .rejected
        } catch {
            XCTFail("\(label()): untyped error \(error)")
            return .rejected
        }
    }

    private func u32(_ b: [UInt8], _ at: Int) -> Int {
        Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24
    }

    private func put(_ b: inout [UInt8], _ at: Int, _ value: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    func testTenThousandSeededMutationsNeverCrash() throws {
        // The landmark-lite model: the smallest dense one (2.9 MB); its tables sit at the front and back.
        let original = [UInt8](try Data(contentsOf: try weightsURL("pose_landmark_lite")))
        let size = original.count
        var rng = SplitMix64(seed: 0x7F1E_5EED)
        var loaded = 0, rejected = 0, cases = 0
        let rootTable = u32(original, 0)
        // Mutate the FlatBuffers structure, not the bulk weight bytes (flipping a weight only changes a
        // value): the structure is every byte outside the buffers' data ranges.
        let model = try Model(bytes: original)
        var structure: [Range<Int>] = []
        var cursor = 0
        for buffer in model.buffers.filter({ $0.count > 0 }).sorted(by: { $0.offset < $1.offset }) {
            if buffer.offset > cursor { structure.append(cursor..<buffer.offset) }
            cursor = max(cursor, buffer.offset + buffer.count)
        }
        if cursor < size { structure.append(cursor..<size) }
        let structureBytes = structure.reduce(0) { $0 + $1.count }
        func structurePosition(aligned: Bool) -> Int {
            var k = rng.below(structureBytes)
            var p = 0
            for range in structure { if k < range.count { p = range.lowerBound + k; break }; k -= range.count }
            if aligned { p &= ~3; p = min(p, size - 4) }
            return p
        }
        func run(_ bytes: [UInt8], _ label: @autoclosure () -> String) {
            cases += 1
            switch attempt(bytes, label()) { case .loaded: loaded += 1; case .rejected: rejected += 1 }
        }

        // 1. Truncations: every length below 256, then 1,500 seeded lengths across the file, and near the end.
        for length in 0..<256 { run(Array(original.prefix(length)), "truncate to \(length)") }
        for _ in 0..<1_500 { let length = rng.below(size); run(Array(original.prefix(length)), "truncate to \(length)") }
        for cut in 1...100 { run(Array(original.prefix(size - cut)), "truncate by \(cut)") }

        var bytes = original
        // 2. Random byte flips (1-8 bytes) in the structure regions, restored after each case.
        for i in 0..<3_500 {
            let n = 1 + rng.below(8)
            let positions = (0..<n).map { _ in structurePosition(aligned: false) }
            for p in positions { bytes[p] ^= UInt8(truncatingIfNeeded: 1 + rng.below(255)) }
            run(bytes, "flip case \(i) at \(positions)")
            for p in positions { bytes[p] = original[p] }
        }
        // 3. Offsets and lengths pointed outside the file or made huge.
        let hostile: [UInt32] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFC, UInt32(size), UInt32(size - 4), 0x4000_0000]
        for i in 0..<2_500 {
            let p = structurePosition(aligned: true)
            let value = rng.below(4) == 0 ? UInt32(truncatingIfNeeded: rng.next()) : hostile[rng.below(hostile.count)]
            put(&bytes, p, value)
            run(bytes, "word case \(i): \(value) at \(p)")
            for k in 0..<4 { bytes[p + k] = original[p + k] }
        }
        // 4. Cycles and overlaps: uoffsets whose 32-bit wrap-around would land on the root (an enclosing)
        //    table, other uoffsets re-aimed at an existing table (many parents sharing one child),
        //    and vtable soffsets re-aimed at arbitrary places.
        for i in 0..<2_500 {
            let p = structurePosition(aligned: true)
            let value: UInt32
            switch rng.below(3) {
            case 0:  // wraps to an earlier table in 32-bit arithmetic: must not be followed as a back-edge
                value = UInt32(truncatingIfNeeded: rootTable - p)
            case 1:  // alias: point at the target of another (aligned) offset slot
                let q = structurePosition(aligned: true)
                let target = q + u32(original, q)
                value = target > p ? UInt32(truncatingIfNeeded: target - p) : UInt32(truncatingIfNeeded: rootTable &- p)
            default: // soffset to a vtable anywhere nearby (signed)
                value = UInt32(bitPattern: Int32(truncatingIfNeeded: rng.below(1 << 16) - (1 << 15)) & ~1)
            }
            put(&bytes, p, value)
            run(bytes, "cycle case \(i): \(value) at \(p)")
            for k in 0..<4 { bytes[p + k] = original[p + k] }
        }
        // The unmodified file still loads (the harness itself is sound).
        XCTAssertEqual(attempt(original, "original"), .loaded)
        print("robustness: \(structureBytes) structure bytes of \(size); \(cases) mutated cases, \(loaded) loaded, \(rejected) rejected with a typed error")
        XCTAssertGreaterThanOrEqual(cases, 10_000)
        XCTAssertGreaterThan(rejected, cases / 4, "mutations should mostly be caught")
    }

    func testHandCraftedMalformedHeaders() {
        func expectMalformed(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try Model(bytes: bytes), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)", line: line)
            }
        }
        expectMalformed([], "at least 8")
        expectMalformed([8, 0, 0, 0, 0x54, 0x46, 0x4C, 0x32], "expected 'TFL3'")
        // Root offset past the end.
        expectMalformed([0xF0, 0, 0, 0] + Array("TFL3".utf8), "past the end")
        // Root table at 8 whose soffset points its vtable before the file start.
        expectMalformed([8, 0, 0, 0] + Array("TFL3".utf8) + [0x40, 0, 0, 0], "vtable of Model")
        // A table whose vtable claims a field far outside its 4-byte object.
        // Layout: root offset 16 | "TFL3" | vtable at 8: size 6, object 4, field 0 at +0x40 | pad | table at 16: soffset 8.
        let vtableFirst: [UInt8] = [16, 0, 0, 0] + Array("TFL3".utf8) + [6, 0, 4, 0, 0x40, 0] + [0, 0] + [8, 0, 0, 0]
        expectMalformed(vtableFirst, "outside its table object")
    }
}
