import BlazeRuntime
import Foundation
import XCTest

/// Tests of the `.npy` reader/writer against files NumPy wrote
/// (`Tests/RuntimeTests/Fixtures/npy`, made by `Tools/litert/make_npy_samples.py`),
/// round trips, and malformed input that must throw, never crash.
final class NPYTests: XCTestCase {
    /// `Tests/RuntimeTests/Fixtures`, located from this file so it works in any checkout.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    private func sample(_ name: String) -> URL {
        Self.fixtures.appendingPathComponent("npy").appendingPathComponent(name)
    }

    private func sampleBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: sample(name)))
    }

    /// Asserts that `body` throws an `NPYError` matching `check`.
    private func assertNPYError(
        _ body: @autoclosure () throws -> Any, file: StaticString = #filePath, line: UInt = #line,
        _ check: (NPYError) -> Bool
    ) {
        do {
            _ = try body()
            XCTFail("expected an NPYError, got a value", file: file, line: line)
        } catch let error as NPYError {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.isEmpty, file: file, line: line)
        } catch {
            XCTFail("expected an NPYError, got \(error)", file: file, line: line)
        }
    }

    // MARK: - Reading files NumPy wrote

    func testReadsFloat32AllVersions() throws {
        let expected: [Float] = (0..<6).map { Float($0) * 0.5 - 1 }
        for name in ["f4_2x3.npy", "f4_2x3_v2.npy", "f4_2x3_v3.npy"] {
            let a = try NPYArray(contentsOf: sample(name))
            XCTAssertEqual(a.shape, [2, 3], name)
            XCTAssertEqual(a.dtype, .float32, name)
            XCTAssertEqual(a.count, 6, name)
            XCTAssertEqual(try a.floats(), expected, name)
            XCTAssertEqual(try a.doubles(), expected.map(Double.init), name)
        }
    }

    func testReadsFloat32SpecialValuesBitExactly() throws {
        let a = try NPYArray(contentsOf: sample("f4_specials.npy"))
        let expected: [Float] = [0, -0.0, .infinity, -.infinity, Float(bitPattern: 1), 3.4028235e38, 0.1]
        XCTAssertEqual(a.shape, [7])
        XCTAssertEqual(try a.floats().map(\.bitPattern), expected.map(\.bitPattern))
    }

    func testReadsScalarAndEmpty() throws {
        let s = try NPYArray(contentsOf: sample("f4_scalar.npy"))
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(try s.floats(), [2.5])
        let e = try NPYArray(contentsOf: sample("f4_empty_0x3.npy"))
        XCTAssertEqual(e.shape, [0, 3])
        XCTAssertEqual(e.count, 0)
        XCTAssertEqual(try e.floats(), [])
    }

    func testReadsUInt8Int32Float64() throws {
        let u = try NPYArray(contentsOf: sample("u1_1x2x2x3.npy"))
        XCTAssertEqual(u.shape, [1, 2, 2, 3])
        XCTAssertEqual(u.dtype, .uint8)
        let bytes: [UInt8] = (0..<12).map { UInt8(($0 * 37) % 256) }
        XCTAssertEqual(try u.uint8s(), bytes)
        XCTAssertEqual(try u.floats(), bytes.map(Float.init))
        XCTAssertEqual(try u.int32s(), bytes.map(Int32.init))

        let i = try NPYArray(contentsOf: sample("i4_4.npy"))
        XCTAssertEqual(i.dtype, .int32)
        XCTAssertEqual(try i.int32s(), [-2, -1, .max, .min])
        assertNPYError(try i.uint8s()) { $0 == .typeMismatch(dtype: .int32, requested: "UInt8") }

        let d = try NPYArray(contentsOf: sample("f8_3.npy"))
        XCTAssertEqual(d.dtype, .float64)
        XCTAssertEqual(try d.doubles(), [1.0 / 3.0, -2.5, 1e300])
        XCTAssertEqual(try d.floats(), [Float(1.0 / 3.0), -2.5, .infinity])
        assertNPYError(try d.int32s()) { $0 == .typeMismatch(dtype: .float64, requested: "Int32") }
    }

    /// The fixtures' input transform, for all 256 uint8 values, bit-exact against NumPy.
    func testScaleOffsetTransformMatchesNumPyForEveryByte() throws {
        let p = try NPYArray(contentsOf: sample("u1_all_256.npy"))
        XCTAssertEqual(try p.uint8s(), (0...255).map { UInt8($0) })
        for (name, scaleBits, offset) in [("detector", UInt32(0x3C00_8081), Float(-1)), ("landmark", 0x3B80_8081, 0)] {
            let scale = Float(bitPattern: scaleBits)
            let expected = try NPYArray(contentsOf: sample("f4_all_256_\(name).npy")).floats()
            let got = try p.floats(scale: scale, offset: offset)
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), name)
            XCTAssertEqual(got.first, name == "detector" ? -1 : 0, name)
            XCTAssertEqual(got.last, 1, name)
        }
        let f = try NPYArray(contentsOf: sample("f4_2x3.npy"))
        assertNPYError(try f.floats(scale: 1, offset: 0)) {
            if case .typeMismatch(.float32, _) = $0 { return true } else { return false }
        }
    }

    func testRejectsFortranOrderBigEndianAndStructured() {
        let f = sample("f4_2x3_fortran.npy")
        assertNPYError(try NPYArray(contentsOf: f)) { $0 == .fortranOrder(source: f.path) }
        let b = sample("f4_big_endian.npy")
        assertNPYError(try NPYArray(contentsOf: b)) { $0 == .bigEndian(source: b.path, descr: ">f4") }
        let s = sample("structured.npy")
        assertNPYError(try NPYArray(contentsOf: s)) {
            if case .unsupportedDType = $0 { return true } else { return false }
        }
    }

    func testMissingFileIsAnIOError() {
        let url = Self.fixtures.appendingPathComponent("npy/does_not_exist.npy")
        assertNPYError(try NPYArray(contentsOf: url)) {
            if case let .io(path, _) = $0 { return path == url.path } else { return false }
        }
    }

    // MARK: - Writing

    /// Our writer must produce the very bytes `numpy.save` produced.
    func testWriterMatchesNumPyByteForByte() throws {
        for name in ["f4_2x3.npy", "f4_specials.npy", "f4_scalar.npy", "f4_empty_0x3.npy",
                     "u1_1x2x2x3.npy", "i4_4.npy", "f8_3.npy"] {
            let numpyBytes = try sampleBytes(name)
            let a = try NPYArray(npyBytes: numpyBytes, source: name)
            XCTAssertEqual(a.npyBytes(), numpyBytes, name)
        }
        let built = try NPYArray(floats: (0..<6).map { Float($0) * 0.5 - 1 }, shape: [2, 3])
        XCTAssertEqual(built.npyBytes(), try sampleBytes("f4_2x3.npy"))
    }

    func testRoundTripThroughFiles() throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("npytests-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        // A deterministic pseudo-random tensor, NHWC [1, 5, 7, 3].
        var state: UInt32 = 12345
        let values: [Float] = (0..<105).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(bitPattern: 0x3F80_0000 | (state >> 9)) - 1.5
        }
        let url = dir.appendingPathComponent("t.npy")
        try NPYArray.write(floats: values, shape: [1, 5, 7, 3], to: url)
        let back = try NPYArray(contentsOf: url)
        XCTAssertEqual(back.shape, [1, 5, 7, 3])
        XCTAssertEqual(try back.floats().map(\.bitPattern), values.map(\.bitPattern))

        for a in [try NPYArray(uint8s: [0, 1, 254, 255], shape: [2, 2]),
                  try NPYArray(int32s: [.min, 0, .max], shape: [3]),
                  try NPYArray(doubles: [.pi, -0.0], shape: [1, 2])] {
            try a.write(to: url)
            XCTAssertEqual(try NPYArray(contentsOf: url), a)
        }
    }

    func testLargeHeaderSwitchesToVersion2() throws {
        // 25000 dimensions of 1 ("1, " each) make a header longer than 65535 bytes, the
        // UInt16 limit of version 1. (NumPy itself caps ndim at 64; this checks our writer.)
        let shape = [Int](repeating: 1, count: 25000)
        let a = try NPYArray(floats: [42], shape: shape)
        let bytes = a.npyBytes()
        XCTAssertEqual(bytes[6], 2)
        let dataStart = bytes.count - 4
        XCTAssertEqual(dataStart % 64, 0)
        XCTAssertEqual(try NPYArray(npyBytes: bytes), a)
    }

    func testBuildingWithWrongCountThrows() {
        assertNPYError(try NPYArray(floats: [1, 2, 3], shape: [2, 2])) {
            $0 == .countMismatch(shape: [2, 2], expected: 4, actual: 3)
        }
        assertNPYError(try NPYArray(uint8s: [1], shape: [-1])) {
            if case .invalidShape = $0 { return true } else { return false }
        }
        assertNPYError(try NPYArray(shape: [2], dtype: .float32, bytes: [0, 0, 0])) {
            $0 == .countMismatch(shape: [2], expected: 8, actual: 3)
        }
    }

    // MARK: - Malformed input

    /// Builds a version-1 file with `header` (padded by the caller or not) and `data`.
    private func v1File(_ header: String, data: [UInt8] = []) -> [UInt8] {
        let h = Array(header.utf8)
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
    }

    private func isMalformed(_ e: NPYError, at offset: Int? = nil) -> Bool {
        guard case let .malformedHeader(_, o, _) = e else { return false }
        return offset == nil || o == offset
    }

    func testBadMagicAndVersion() throws {
        assertNPYError(try NPYArray(npyBytes: Array("PK\u{3}\u{4}hello".utf8))) { $0 == .badMagic(source: "<memory>") }
        assertNPYError(try NPYArray(npyBytes: [])) { if case .truncated = $0 { return true } else { return false } }
        assertNPYError(try NPYArray(npyBytes: [0x93, 0x4E, 0x00])) { $0 == .badMagic(source: "<memory>") }
        var bytes = try sampleBytes("f4_2x3.npy")
        bytes[6] = 4
        assertNPYError(try NPYArray(npyBytes: bytes)) { $0 == .unsupportedVersion(source: "<memory>", major: 4, minor: 0) }
        bytes[6] = 1
        bytes[7] = 1
        assertNPYError(try NPYArray(npyBytes: bytes)) { $0 == .unsupportedVersion(source: "<memory>", major: 1, minor: 1) }
    }

    /// Every strict prefix of a valid file must throw a typed error, never crash or succeed.
    func testEveryTruncationThrows() throws {
        for name in ["f4_2x3.npy", "f4_2x3_v2.npy", "u1_1x2x2x3.npy"] {
            let bytes = try sampleBytes(name)
            for n in 0..<bytes.count {
                assertNPYError(try NPYArray(npyBytes: Array(bytes.prefix(n)))) {
                    if case .truncated = $0 { return true } else { return false }
                }
            }
        }
        // The data part specifically: needs 24 bytes of <f4 [2, 3].
        let bytes = try sampleBytes("f4_2x3.npy")
        assertNPYError(try NPYArray(npyBytes: Array(bytes.dropLast(5)))) {
            $0 == .truncated(source: "<memory>", what: "data (6 × <f4)", offset: 128, needed: 24, available: 19)
        }
    }

    func testTrailingBytesAreRejected() throws {
        let bytes = try sampleBytes("f4_2x3.npy") + [0, 0, 0, 0]
        assertNPYError(try NPYArray(npyBytes: bytes)) { $0 == .trailingBytes(source: "<memory>", offset: 152, count: 4) }
    }

    func testMalformedHeadersNameTheOffset() {
        let data = [UInt8](repeating: 0, count: 8)
        // Offsets are file offsets: the header starts at byte 10 in version 1.
        assertNPYError(try NPYArray(npyBytes: v1File("['descr']\n", data: data))) { self.isMalformed($0, at: 10) }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'shape': (2,), }\n", data: data))) {
            if case let .malformedHeader(_, _, reason) = $0 { return reason.contains("fortran_order") } else { return false }
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}\n", data: data))) {
            self.isMalformed($0, at: 10 + 56)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}\n", data: data))) {
            self.isMalformed($0, at: 10 + 34)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}\n", data: data))) {
            self.isMalformed($0)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'x')}\n", data: data))) {
            self.isMalformed($0)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", data: data))) {
            self.isMalformed($0)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}", data: data))) {
            self.isMalformed($0)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", data: data))) {
            self.isMalformed($0, at: 10 + 17)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", data: data))) {
            self.isMalformed($0, at: 10 + 34)
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"))) {
            self.isMalformed($0)
        }
    }

    func testBadShapesAndDTypes() {
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2)}"))) {
            $0 == .invalidShape(source: "<memory>", shape: [-1, 2], reason: "negative dimension")
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}"))) {
            if case .invalidShape = $0 { return true } else { return false }
        }
        assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '<f4', 'fortran_order': False, 'shape': (2305843009213693952,)}"))) {
            $0 == .invalidShape(source: "<memory>", shape: [2305843009213693952], reason: "byte size overflows Int")
        }
        for descr in ["<f2", "<U3", "|b1", "O", "<c8", "=f4", "|f4", "f4", ""] {
            assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '\(descr)', 'fortran_order': False, 'shape': (0,)}"))) {
                $0 == .unsupportedDType(source: "<memory>", descr: descr)
            }
        }
        for descr in [">f4", ">f8", ">i4", ">i8"] {
            assertNPYError(try NPYArray(npyBytes: v1File("{'descr': '\(descr)', 'fortran_order': False, 'shape': (0,)}"))) {
                $0 == .bigEndian(source: "<memory>", descr: descr)
            }
        }
        // One-byte types have no byte order: any mark is fine, and double quotes and
        // a Python 2 long suffix are accepted like numpy does.
        XCTAssertEqual(try NPYArray(npyBytes: v1File("{\"descr\": \">u1\", \"fortran_order\": False, \"shape\": (2L,)}", data: [7, 9])).uint8s(), [7, 9])
    }

    /// A hostile header of 200000 nested '(' must be rejected, not overflow the stack.
    func testDeeplyNestedHeaderIsRejected() {
        let header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': ".utf8)
            + [UInt8](repeating: UInt8(ascii: "("), count: 200_000)
        let n = UInt32(header.count)
        let file: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0,
                             UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)] + header
        assertNPYError(try NPYArray(npyBytes: file)) {
            if case let .malformedHeader(_, _, reason) = $0 { return reason.contains("nested") } else { return false }
        }
        // Legitimate nesting (a structured dtype's list) is skipped, then rejected as a dtype.
        assertNPYError(try NPYArray(npyBytes: self.v1File("{'descr': [('a', '<f4', (2, 2))], 'fortran_order': False, 'shape': (1,)}"))) {
            $0 == .unsupportedDType(source: "<memory>", descr: "<structured dtype>")
        }
    }

    /// Overwrites each header byte of a valid file with a few hostile values: the
    /// reader must return an array or throw an NPYError, and never trap.
    func testHeaderByteCorruptionNeverCrashes() throws {
        let bytes = try sampleBytes("f4_2x3.npy")
        var parsed = 0, rejected = 0
        for i in 0..<128 {
            for v: UInt8 in [0x00, 0x0A, 0x20, 0x27, 0x28, 0x29, 0x2C, 0x2D, 0x31, 0x39, 0x3E, 0x5B, 0x7D, 0xFF] {
                var b = bytes
                b[i] = v
                do {
                    let a = try NPYArray(npyBytes: b)
                    parsed += 1
                    XCTAssertEqual(a.count * a.dtype.byteWidth, a.bytes.count)
                } catch is NPYError {
                    rejected += 1
                }
            }
        }
        XCTAssertGreaterThan(rejected, 0)
        XCTAssertGreaterThan(parsed, 0)  // e.g. padding spaces replaced by other spaces
    }

    // MARK: - The LiteRT fixtures

    /// Every fixture's manifest and .npy files agree (shapes, dtypes), and the
    /// Swift reader handles all of them. Guards the fixtures the runtime tests use.
    func testLiteRTFixturesAreConsistent() throws {
        let fm = FileManager.default
        var checked = 0
        for model in ["pose_detection", "pose_landmark_lite", "pose_landmark_full"] {
            let modelDir = Self.fixtures.appendingPathComponent(model)
            let images = try fm.contentsOfDirectory(atPath: modelDir.path).sorted()
            XCTAssertFalse(images.isEmpty, "no fixtures for \(model) (run bash Tools/litert/make_fixtures.sh)")
            for image in images {
                let dir = modelDir.appendingPathComponent(image)
                let manifestData = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
                let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
                let tensors = try XCTUnwrap(manifest["tensors"] as? [[String: Any]])
                let transform = try XCTUnwrap(manifest["input_transform"] as? [String: Any])
                let scaleBits = try XCTUnwrap(UInt32((transform["scale_bits"] as? String ?? "").dropFirst(2), radix: 16))
                let scale = try XCTUnwrap(transform["scale"] as? Double)
                XCTAssertEqual(Float(scale).bitPattern, scaleBits, "\(model)/\(image): scale and scale_bits disagree")
                for t in tensors {
                    let file = try XCTUnwrap(t["file"] as? String)
                    let shape = try XCTUnwrap(t["shape"] as? [Int])
                    let a = try NPYArray(contentsOf: dir.appendingPathComponent(file))
                    XCTAssertEqual(a.shape, shape, "\(model)/\(image)/\(file)")
                    let role = t["role"] as? String
                    XCTAssertEqual(a.dtype, role == "input" ? .uint8 : .float32, "\(model)/\(image)/\(file)")
                    XCTAssertTrue(try a.floats().allSatisfy(\.isFinite), "\(model)/\(image)/\(file) has non-finite values")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 5 * 3)
    }
}
