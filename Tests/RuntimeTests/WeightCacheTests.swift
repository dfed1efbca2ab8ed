import BlazeRuntime
import BlazeSupport
import Foundation
import TFLite
import XCTest

/// The packed-weight cache (`WeightCache`): a load that replays a cache file must give the same
/// bits as one that packs, on every model with a fixture and at any thread count; a file that is
/// damaged, foreign or unreadable must be a miss (and be rewritten), never wrong weights; and a
/// cache that cannot be written must cost nothing but the writing.
final class WeightCacheTests: XCTestCase {
    typealias selection = OutputSelectionTests
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "blazepose-weight-cache-\(getpid())-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func options(threads: Int = 1, cache: Bool = true) -> InterpreterOptions {
        InterpreterOptions(threads: threads, weightCache: cache ? WeightCache(directory: directory) : nil)
    }

    /// Every output of `interpreter` on the fixture's input (a noise input first fills the memory
    /// with other values).
    func outputs(_ interpreter: Interpreter, _ dump: ReferenceDump) throws -> [[Float]] {
        try selection.setInputs(interpreter, dump, noise: true)
        interpreter.invoke()
        try selection.setInputs(interpreter, dump, noise: false)
        interpreter.invoke()
        return interpreter.outputs.indices.map { interpreter.output($0) }
    }

    func dump(_ name: String) throws -> ReferenceDump {
        try ReferenceDump(directory: OutputSelectionTests.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(name)/astronaut"))
    }

    func cacheFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".bpw") }.sorted()
    }

    func testEveryModelReplaysToTheSameBits() throws {
        let models = try selection.fixtureModels()
        XCTAssertEqual(models.count, 15)
        for (name, weights) in models {
            guard FileManager.default.fileExists(atPath: weights.path) else {
                return XCTFail("missing \(weights.path): run bash Tools/setup.sh")
            }
            let dump = try dump(name)
            let plain = try Interpreter(contentsOf: weights, options: options(threads: 2, cache: false))
            XCTAssertEqual(plain.weightCacheOutcome, WeightCacheOutcome.off)
            let expected = try outputs(plain, dump)
            let writer = try Interpreter(contentsOf: weights, options: options(threads: 1))
            guard case let .stored(path) = writer.weightCacheOutcome else {
                return XCTFail("\(name): \(writer.weightCacheOutcome), expected stored")
            }
            XCTAssertTrue(path.hasPrefix(directory + "/"), path)
            for (k, values) in try outputs(writer, dump).enumerated() {
                selection.assertSameBits(values, expected[k], "\(name) output \(k), packed and stored")
            }
            for threads in [1, 2] {
                let reader = try Interpreter(contentsOf: weights, options: options(threads: threads))
                XCTAssertEqual(reader.weightCacheOutcome, WeightCacheOutcome.hit(path: path), name)
                XCTAssertEqual(reader.packedWeightBytes, writer.packedWeightBytes, name)
                for (k, values) in try outputs(reader, dump).enumerated() {
                    selection.assertSameBits(values, expected[k], "\(name) output \(k), replayed at \(threads) thread(s)")
                }
            }
        }
        XCTAssertEqual(cacheFiles().count, 15)
    }

    /// `model`'s weights and fixture, options with binary16 weights everywhere (`halfPanels`
    /// `.always`) and nowhere (`.off`), both with the cache, and the outputs with default options
    /// and no cache; all on the native GEMM when `native` (the sparse kernel's condition; a plain
    /// build's default backend is OpenBLAS).
    func halfAndFloat(_ model: String, native: Bool = false) throws
        -> (weights: URL, dump: ReferenceDump, half: InterpreterOptions, float: InterpreterOptions, expected: [[Float]]) {
        let weights = OutputSelectionTests.root.appendingPathComponent("weights/\(model).tflite")
        let dump = try dump(model)
        var plain = options(cache: false), half = options(), float = options()
        if native {
            plain.gemmBackend = .native
            half.gemmBackend = .native
            float.gemmBackend = .native
        }
        half.halfPanels = .always
        float.halfPanels = .off
        return (weights, dump, half, float, try outputs(try Interpreter(contentsOf: weights, options: plain), dump))
    }

    /// Other packing options are another key (another file); both replay to the same bits.
    func testOptionsThatChangeThePackingUseTheirOwnFiles() throws {
        let (weights, dump, half, float, expected) = try halfAndFloat("pose_landmark_lite")
        for variant in [half, float] {
            XCTAssertEqual(try Interpreter(contentsOf: weights, options: variant).weightCacheOutcome.word, "stored")
        }
        XCTAssertEqual(cacheFiles().count, 2)
        for variant in [half, float] {
            let reader = try Interpreter(contentsOf: weights, options: variant)
            XCTAssertEqual(reader.weightCacheOutcome.word, "hit")
            for (k, values) in try outputs(reader, dump).enumerated() {
                selection.assertSameBits(values, expected[k], "output \(k), half panels \(variant.halfPanels)")
            }
        }
        // The thread count is not part of the key: packing does not depend on it.
        XCTAssertEqual(try Interpreter(contentsOf: weights, options: { var o = half; o.threads = 2; return o }()).weightCacheOutcome.word, "hit")
    }

    /// The detector's sparse values as binary16 (`halfPanels` `.always`, the default's choice in
    /// builds that widen halves in one instruction) and as floats (`.off`), on the native GEMM
    /// (the sparse kernel's condition): each stored and replayed, the same bits, and the binary16
    /// entries smaller by 2 bytes per value.
    func testSparseHalfValuesReplayToTheSameBits() throws {
        let (weights, dump, half, float, expected) = try halfAndFloat("pose_detection", native: true)
        var bytes: [Int] = []
        for variant in [half, float] {
            let writer = try Interpreter(contentsOf: weights, options: variant)
            XCTAssertEqual(writer.weightCacheOutcome.word, "stored")
            let reader = try Interpreter(contentsOf: weights, options: variant)
            XCTAssertEqual(reader.weightCacheOutcome.word, "hit")
            XCTAssertEqual(reader.packedWeightBytes, writer.packedWeightBytes)
            bytes.append(reader.packedWeightBytes)
            for interpreter in [writer, reader] {
                for (k, values) in try outputs(interpreter, dump).enumerated() {
                    selection.assertSameBits(values, expected[k], "output \(k), half panels \(variant.halfPanels)")
                }
            }
        }
        // The detector's ~680 K nonzeros take ~1.3 MB more as floats (`.always` also packs its
        // few dense convs' panels as binary16, a smaller part of the difference).
        XCTAssertGreaterThan(bytes[1] - bytes[0], 1_000_000, "\(bytes)")
    }

    /// A damaged, truncated, extended, foreign or replaced file is a miss: the load packs afresh
    /// (same bits) and rewrites the file, which the next load replays.
    func testDamagedFilesAreMissesAndRewritten() throws {
        let weights = OutputSelectionTests.root.appendingPathComponent("weights/pose_detection.tflite")
        let dump = try dump("pose_detection")
        let expected = try outputs(try Interpreter(contentsOf: weights, options: options(cache: false)), dump)
        guard case let .stored(path) = try Interpreter(contentsOf: weights, options: options()).weightCacheOutcome else {
            return XCTFail("not stored")
        }
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let payloadOffset = Int(good.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) })
        XCTAssertEqual(payloadOffset % 4096, 0)
        XCTAssertGreaterThan(good.count, payloadOffset)
        func flipped(_ at: Int) -> Data { var d = good; d[at] ^= 0x10; return d }
        let damages: [(String, () throws -> Void)] = [
            ("a payload byte flipped", { try flipped(payloadOffset + (good.count - payloadOffset) / 2).write(to: URL(fileURLWithPath: path)) }),
            ("the last byte flipped", { try flipped(good.count - 1).write(to: URL(fileURLWithPath: path)) }),
            ("the magic changed", { try flipped(0).write(to: URL(fileURLWithPath: path)) }),
            ("the version changed", { try flipped(8).write(to: URL(fileURLWithPath: path)) }),
            ("the model digest changed", { try flipped(33).write(to: URL(fileURLWithPath: path)) }),
            ("a piece size changed", { try flipped(96 + 16 + 1).write(to: URL(fileURLWithPath: path)) }),
            ("the header digest changed", { try flipped(90).write(to: URL(fileURLWithPath: path)) }),
            ("truncated by one byte", { try good.prefix(good.count - 1).write(to: URL(fileURLWithPath: path)) }),
            ("truncated to the header", { try good.prefix(96).write(to: URL(fileURLWithPath: path)) }),
            ("one byte appended", { try (good + [0]).write(to: URL(fileURLWithPath: path)) }),
            ("empty", { try Data().write(to: URL(fileURLWithPath: path)) }),
            ("garbage", { try Data((0..<good.count).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: path)) }),
            ("a directory", {
                try FileManager.default.removeItem(atPath: path)
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            }),
            ("a symbolic link to the good file", {
                try good.write(to: URL(fileURLWithPath: path + ".elsewhere"))
                try FileManager.default.removeItem(atPath: path)
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: path + ".elsewhere")
            }),
        ]
        for (what, damage) in damages {
            try damage()
            let reload = try Interpreter(contentsOf: weights, options: options(threads: 2))
            if what == "a directory" {
                // Not a file: a miss, and the directory is left as it is (rename cannot replace it).
                XCTAssertEqual(reload.weightCacheOutcome.word, "not-stored", what)
                try FileManager.default.removeItem(atPath: path)
                try good.write(to: URL(fileURLWithPath: path))
                continue
            }
            XCTAssertEqual(reload.weightCacheOutcome, WeightCacheOutcome.stored(path: path), what)
            for (k, values) in try outputs(reload, dump).enumerated() {
                selection.assertSameBits(values, expected[k], "output \(k) after the file was \(what)")
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), good, "\(what): rewritten as it was")
            XCTAssertEqual(try Interpreter(contentsOf: weights, options: options()).weightCacheOutcome, WeightCacheOutcome.hit(path: path), what)
        }
    }

    /// `WeightCacheFile`'s block digest, restated from its documentation: ContentHash of each
    /// 1 MiB block, then of the blocks' digests, seeded with the length.
    func blockDigest(_ bytes: [UInt8]) -> (UInt64, UInt64) {
        var digests: [UInt64] = []
        for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
            let (h0, h1) = bytes[start..<min(bytes.count, start + (1 << 20))].withUnsafeBytes { ContentHash.digest($0) }
            digests += [h0, h1]
        }
        return digests.withUnsafeBytes { ContentHash.digest($0, seed: UInt64(bytes.count)) }
    }

    /// A file whose checks all pass (digests recomputed) but whose pieces disagree with the
    /// packers' requests: its last piece is missing and its first holds other weights. The
    /// pieces replayed before the disagreement must not be used: the load packs everything afresh
    /// (same bits) and rewrites the file.
    func testAFileThatPassesTheChecksButDisagreesIsNotUsed() throws {
        let lite = OutputSelectionTests.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        guard case let .stored(path) = try Interpreter(contentsOf: lite, options: options()).weightCacheOutcome else {
            return XCTFail("not stored")
        }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        func u64(_ at: Int) -> Int { Int(good.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) }) }
        let count = Int(good.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) })
        let payloadOffset = u64(16)
        let lastOffset = u64(96 + 24 * (count - 1) + 8)
        var payload = Array(good[payloadOffset..<(payloadOffset + lastOffset)])
        payload[4] ^= 0x40   // the first piece's second weight
        var header = Array(good[0..<96])
        withUnsafeBytes(of: UInt32(count - 1)) { header.replaceSubrange(12..<16, with: $0) }
        withUnsafeBytes(of: UInt64(payload.count)) { header.replaceSubrange(24..<32, with: $0) }
        let (p0, p1) = blockDigest(payload)
        withUnsafeBytes(of: p0) { header.replaceSubrange(64..<72, with: $0) }
        withUnsafeBytes(of: p1) { header.replaceSubrange(72..<80, with: $0) }
        let table = Array(good[96..<(96 + 24 * (count - 1))])
        let (h0, h1) = (Array(header[0..<80]) + table).withUnsafeBytes { ContentHash.digest($0) }
        withUnsafeBytes(of: h0) { header.replaceSubrange(80..<88, with: $0) }
        withUnsafeBytes(of: h1) { header.replaceSubrange(88..<96, with: $0) }
        var forged = header + table
        XCTAssertLessThanOrEqual(forged.count, payloadOffset)
        forged += [UInt8](repeating: 0, count: payloadOffset - forged.count) + payload
        try Data(forged).write(to: URL(fileURLWithPath: path))

        let dump = try dump("pose_landmark_lite")
        let expected = try outputs(try Interpreter(contentsOf: lite, options: options(cache: false)), dump)
        let reload = try Interpreter(contentsOf: lite, options: options(threads: 2))
        XCTAssertEqual(reload.weightCacheOutcome, WeightCacheOutcome.stored(path: path))
        for (k, values) in try outputs(reload, dump).enumerated() {
            selection.assertSameBits(values, expected[k], "output \(k) after a file that disagrees")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data(good), "rewritten")
    }

    /// A cache that cannot be written costs the writing only: the load packs, says why, and works.
    func testAnUnwritableCacheIsReportedAndHarmless() throws {
        let weights = OutputSelectionTests.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let blocker = directory + "/file"
        try Data([1]).write(to: URL(fileURLWithPath: blocker))
        var blocked = options()
        blocked.weightCache = WeightCache(directory: blocker + "/cache")
        let interpreter = try Interpreter(contentsOf: weights, options: blocked)
        guard case let .notStored(reason) = interpreter.weightCacheOutcome else {
            return XCTFail("\(interpreter.weightCacheOutcome)")
        }
        XCTAssertTrue(reason.contains(blocker), reason)
        let dump = try dump("pose_landmark_lite")
        let expected = try outputs(try Interpreter(contentsOf: weights, options: options(cache: false)), dump)
        for (k, values) in try outputs(interpreter, dump).enumerated() {
            selection.assertSameBits(values, expected[k], "output \(k) with an unwritable cache")
        }
    }

    /// A model whose file pages were released is not keyed by its bytes (they read as zeros).
    func testAModelWithReleasedPagesIsNotCached() throws {
        let weights = OutputSelectionTests.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        let model = try Model(contentsOf: weights)
        model.releaseBufferData()
        let interpreter = try Interpreter(model: model, options: options())
        XCTAssertEqual(interpreter.weightCacheOutcome.word, "not-stored")
        XCTAssertEqual(cacheFiles(), [])
    }

    /// The directory keeps at most `maximumFiles` cache files: writing one deletes the least
    /// recently used beyond that, and stale temporary files.
    func testTheDirectoryKeepsTheMostRecentFiles() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let old = Date(timeIntervalSinceNow: -7200)
        for i in 0..<(WeightCache.maximumFiles + 5) {
            let path = directory + "/old\(String(format: "%02d", i)).bpw"
            try Data([UInt8(i)]).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.modificationDate: old.addingTimeInterval(Double(i))], ofItemAtPath: path)
        }
        let temporary = directory + "/dead.bpw.tmp.1.2"
        try Data([0]).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: temporary)
        let weights = OutputSelectionTests.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        guard case let .stored(path) = try Interpreter(contentsOf: weights, options: options()).weightCacheOutcome else {
            return XCTFail("not stored")
        }
        let files = cacheFiles()
        XCTAssertEqual(files.count, WeightCache.maximumFiles)
        XCTAssertTrue(files.contains((path as NSString).lastPathComponent))
        // The oldest went first: old00…old05 are gone, old06 onwards kept.
        XCTAssertFalse(files.contains("old05.bpw"))
        XCTAssertTrue(files.contains("old06.bpw"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
    }
}
