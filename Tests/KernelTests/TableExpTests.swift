import BlazeKernels
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `TableExp` (LOGISTIC's vector `expf`) against the C library's `expf`, bit for bit, and the
/// LOGISTIC kernel's vector path against its scalar reference on the inputs that pick either path.
final class TableExpTests: XCTestCase {
    /// On glibc for x86-64 (every CI machine has FMA, so glibc runs its FMA build of `expf`) the
    /// probe must pass; elsewhere the C library may compute `expf` another way, and the kernel then
    /// keeps `expf` (checked by `testLogisticMatchesReference` either way).
    func testMatchesLibmOnGlibcX86() throws {
        #if os(Linux) && arch(x86_64)
        XCTAssertTrue(TableExp.matchesLibm, "glibc's expf and TableExp disagree on a probe input")
        #else
        throw XCTSkip("the C library is not glibc on x86-64: TableExp.matchesLibm = \(TableExp.matchesLibm)")
        #endif
    }

    /// Every `stride`-th float bit pattern with |x| < 88 (both signs, both forms), and the two
    /// inputs where an unfused argument reduction rounds differently. With
    /// `BLAZE_EXHAUSTIVE_EXP=1` the stride is 1: all 2,237,661,184 such floats (35 s on the Zen 4 VM).
    func testEqualsExpfBitForBit() throws {
        guard TableExp.matchesLibm else { throw XCTSkip("this C library's expf is not the table method TableExp reproduces") }
        let exhaustive = ProcessInfo.processInfo.environment["BLAZE_EXHAUSTIVE_EXP"] == "1"
        let stride: UInt32 = exhaustive ? 1 : 97
        let top = Float(88).bitPattern
        var checked = 0, mismatches: [UInt32] = []
        func check(_ bits: [UInt32]) {
            var lanes = SIMD8<Float>()
            for (l, b) in bits.enumerated() { lanes[l] = Float(bitPattern: b) }
            let vector = TableExp.exp(lanes)
            for (l, b) in bits.enumerated() {
                let x = Float(bitPattern: b), expected = expf(x).bitPattern
                if TableExp.exp(x).bitPattern != expected || vector[l].bitPattern != expected {
                    if mismatches.count < 8 { mismatches.append(b) }
                }
                checked += 1
            }
        }
        check([0x4202_422f, 0xc27c_65d9, 0, 0x8000_0000, 1, 0x8000_0001, top - 1, top - 1 | 0x8000_0000])
        for sign: UInt32 in [0, 0x8000_0000] {
            var bits: UInt32 = 0, batch: [UInt32] = []
            batch.reserveCapacity(8)
            while bits < top {
                batch.append(bits | sign)
                if batch.count == 8 { check(batch); batch.removeAll(keepingCapacity: true) }
                let (next, overflow) = bits.addingReportingOverflow(stride)
                if overflow { break }
                bits = next
            }
            if !batch.isEmpty { check(batch) }
        }
        XCTAssertEqual(mismatches, [], "TableExp differs from expf at these bit patterns (\(checked) inputs checked)")
        XCTAssertGreaterThan(checked, exhaustive ? 2_237_661_184 : 23_000_000)
    }

    /// LOGISTIC over values that take each of its paths (|x| < 88; saturated to 1 or 0; `expf`
    /// for 88 ≤ −x ≤ its overflow bound and NaN) next to ordinary ones, at every offset inside a
    /// group of 8 and with a tail, alone and with a whole group saturated: bitwise equal to
    /// `Reference.unary` (`1 / (1 + expf(-x))`).
    func testLogisticMatchesReference() throws {
        let specials: [Float] = [0, -0, 88, -88, 87.99999, -87.99999, 88.5, -103.9, -104, 120, -120,
                                 .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNormalMagnitude,
                                 .greatestFiniteMagnitude, 1e-30, 15.9424, -16.6355,
                                 // Around glibc's overflow bound of expf(-x): the last finite and first infinite.
                                 -0x1.62e42ep6, -0x1.62e430p6, -0x1.62e42cp6, 0x1.62e42ep6]
        var rng = SeededGenerator(seed: 7)
        for special in specials {
            for offset in 0..<9 {
                var x = randomFloats(8 * 3 + 5, &rng, range: -20...20)
                x[offset] = special
                let count = x.count
                let op = try UnaryOperator(kind: .logistic, shape: [count])
                var ref = [Float](repeating: 0, count: count), out = [Float](repeating: 0, count: count)
                ref.withUnsafeMutableBufferPointer { Reference.unary(.logistic, input: x, count: count, output: $0.baseAddress!) }
                out.withUnsafeMutableBufferPointer { op.run(input: x, output: $0.baseAddress!, pool: Pools.one) }
                assertBitIdentical(out, ref, "logistic with \(special) at \(offset)")
                // In place (the interpreter may give LOGISTIC its input's memory).
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { op.run(input: $0.baseAddress!, output: $0.baseAddress!, pool: Pools.one) }
                assertBitIdentical(inPlace, ref, "logistic in place with \(special) at \(offset)")
            }
        }
        // Groups of 8 mixing saturated lanes (both ways) with ordinary ones, and all saturated.
        var x = randomFloats(8 * 64 + 3, &rng, range: -200...200)
        for g in 0..<16 { for l in 0..<8 { x[8 * g + l] = l % 3 == 0 ? -150 : (l % 3 == 1 ? 150 : Float(l)) } }
        for g in 16..<20 { for l in 0..<8 { x[8 * g + l] = g % 2 == 0 ? -95 - Float(l) : 95 + Float(l) } }
        let op = try UnaryOperator(kind: .logistic, shape: [x.count])
        var ref = [Float](repeating: 0, count: x.count), out = [Float](repeating: 0, count: x.count)
        ref.withUnsafeMutableBufferPointer { Reference.unary(.logistic, input: x, count: x.count, output: $0.baseAddress!) }
        for pool in Pools.all {
            out.withUnsafeMutableBufferPointer { op.run(input: x, output: $0.baseAddress!, pool: pool) }
            assertBitIdentical(out, ref, "logistic over saturated groups, threads=\(pool.threadCount)")
        }
        // The same kernel over a buffer on the calling thread (the pose pipeline's mask sigmoid),
        // and each path by name: the 8-lane one too where the build would not take it (no FMA).
        var direct = [Float](repeating: 0, count: x.count)
        direct.withUnsafeMutableBufferPointer { UnaryOperator.logistic(x, $0.baseAddress!, count: x.count) }
        assertBitIdentical(direct, ref, "UnaryOperator.logistic over a buffer")
        guard TableExp.matchesLibm else { return }
        for path in [UnaryOperator.LogisticPath.lanes, .scalar] {
            let cases = [x] + specials.map { s in (0..<19).map { $0 % 3 == 1 ? s : Float($0) - 9 } }
            for (n, values) in cases.enumerated() {
                var expected = [Float](repeating: 0, count: values.count), got = expected
                expected.withUnsafeMutableBufferPointer { Reference.unary(.logistic, input: values, count: values.count, output: $0.baseAddress!) }
                got.withUnsafeMutableBufferPointer { UnaryOperator.logistic(values, $0.baseAddress!, count: values.count, path: path) }
                assertBitIdentical(got, expected, "logistic path \(path), case \(n)")
            }
        }
    }
}
