import BlazeRuntime
import Foundation
import XCTest

/// `Interpreter.invoke(computing:)` runs only the steps the chosen outputs depend on: each chosen
/// output must be bit-identical to a full `invoke()`, on every model with a fixture, and the
/// pose landmark models without their segmentation output must skip the segmentation head.
/// Before each selective run the interpreter's memory is overwritten by a full run on another
/// input, so a needed step that was skipped would show as stale values.
final class OutputSelectionTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Fixture folder name → model file, for the 15 models of the fixtures.
    static func fixtureModels() throws -> [(name: String, weights: URL)] {
        let fixtures = Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures")
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0 != "npy" }.sorted()
        return names.map { name in
            let top = Self.root.appendingPathComponent("weights/\(name).tflite")
            let wheel = Self.root.appendingPathComponent("weights/mediapipe/\(name).tflite")
            return (name, FileManager.default.fileExists(atPath: top.path) ? top : wheel)
        }
    }

    /// Bit-for-bit equality, reporting the count and the first differing element (not the arrays).
    static func assertSameBits(_ got: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard got.count == expected.count else {
            return XCTFail("\(what): \(got.count) values, expected \(expected.count)", file: file, line: line)
        }
        let differing = got.indices.filter { got[$0].bitPattern != expected[$0].bitPattern }
        if let first = differing.first {
            XCTFail("\(what): \(differing.count) of \(got.count) values differ, first [\(first)] \(got[first]) vs \(expected[first])",
                    file: file, line: line)
        }
    }

    static func setInputs(_ interpreter: Interpreter, _ dump: ReferenceDump, noise: Bool) throws {
        for entry in dump.entries where entry.role == "input" {
            guard let i = interpreter.inputs.firstIndex(where: { $0.index == entry.index }) else {
                return XCTFail("reference input \(entry.name) is not a model input")
            }
            var values = try dump.values(of: entry)
            if noise { for k in values.indices { values[k] = Float((k * 7919) % 211) / 211 - 0.3 } }
            try interpreter.setInput(i, values)
        }
    }

    func testEachOutputAloneIsBitIdenticalToAFullRun() throws {
        let models = try Self.fixtureModels()
        XCTAssertEqual(models.count, 15)
        for (name, weights) in models {
            guard FileManager.default.fileExists(atPath: weights.path) else {
                return XCTFail("missing \(weights.path): run bash Tools/setup.sh")
            }
            let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(name)/astronaut"))
            let full = try Interpreter(contentsOf: weights, options: .init(threads: 1))
            try Self.setInputs(full, dump, noise: false)
            full.invoke()
            let expected = full.outputs.indices.map { full.output($0) }
            let selective = try Interpreter(contentsOf: weights, options: .init(threads: 2))
            for k in selective.outputs.indices {
                try Self.setInputs(selective, dump, noise: true)
                selective.invoke()
                XCTAssertNotEqual(selective.output(k), expected[k], "\(name) output \(k): the noise input must change it")
                try Self.setInputs(selective, dump, noise: false)
                try selective.invoke(computing: [k])
                Self.assertSameBits(selective.output(k), expected[k], "\(name) output \(k) computed alone")
                XCTAssertTrue(selective.isComputed(output: k))
                for j in selective.outputs.indices where j != k {
                    XCTAssertFalse(selective.isComputed(output: j), "\(name) output \(j)")
                    XCTAssertEqual(selective.output(j), [], "\(name) output \(j) was not asked for")
                    selective.withOutput(j) { XCTAssertEqual($0.count, 0) }
                }
            }
            selective.invoke()
            XCTAssertTrue(selective.outputs.indices.allSatisfy { selective.isComputed(output: $0) })
            for k in selective.outputs.indices {
                Self.assertSameBits(selective.output(k), expected[k], "\(name) output \(k): full run after selective ones")
            }
        }
    }

    /// Without the segmentation output, lite skips 8 steps (of its decoder at 64×64 and 128×128)
    /// and full 15 (its 128×128 and 256×256 decoder); the other four outputs are unchanged.
    func testPoseLandmarkModelsSkipTheSegmentationHead() throws {
        for (model, skipped) in [("pose_landmark_lite", 8), ("pose_landmark_full", 15)] {
            let weights = Self.root.appendingPathComponent("weights/\(model).tflite")
            let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(model)/astronaut"))
            let interpreter = try Interpreter(contentsOf: weights, options: .init(threads: 2))
            try Self.setInputs(interpreter, dump, noise: false)
            interpreter.invoke()
            let expected = interpreter.outputs.indices.map { interpreter.output($0) }
            guard let segmentation = interpreter.outputs.firstIndex(where: { $0.shape.count == 4 && $0.shape[3] == 1 }) else {
                return XCTFail("\(model): no segmentation output in \(interpreter.outputs.map(\.shape))")
            }
            let others = interpreter.outputs.indices.filter { $0 != segmentation }
            let profiler = Profiler()
            try interpreter.invoke(computing: others, profiler: profiler)
            XCTAssertEqual(interpreter.steps.count - profiler.events.count, skipped, "\(model): steps skipped")
            for k in others { Self.assertSameBits(interpreter.output(k), expected[k], "\(model) output \(k)") }
            // The selection is cached per set of outputs: a different set is recomputed.
            try interpreter.invoke(computing: [segmentation])
            Self.assertSameBits(interpreter.output(segmentation), expected[segmentation], "\(model) segmentation alone")
            XCTAssertEqual(interpreter.output(others[0]), [])
        }
    }

    func testOutOfRangeIndicesThrowTypedErrors() throws {
        let weights = Self.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        let interpreter = try Interpreter(contentsOf: weights, options: .init(threads: 1))
        XCTAssertThrowsError(try interpreter.invoke(computing: [5])) { error in
            XCTAssertEqual(error as? RuntimeError, .outputIndex(5, count: 5))
            XCTAssertEqual("\(error)", "output index 5 is out of range (the model has 5 outputs)")
        }
        XCTAssertThrowsError(try interpreter.invoke(computing: [-1]))
        XCTAssertFalse(interpreter.isComputed(output: 5))
        XCTAssertEqual(interpreter.output(-1), [])
        XCTAssertThrowsError(try interpreter.withInput(1) { _ in }) { error in
            XCTAssertEqual(error as? RuntimeError, .inputIndex(1, count: 1))
        }
    }

    /// `withInput` writes the input in place: the same outputs as `setInput` with the same values.
    func testWithInputWritesTheInputInPlace() throws {
        let weights = Self.root.appendingPathComponent("weights/pose_detection.tflite")
        let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/pose_detection/astronaut"))
        guard let entry = dump.entries.first(where: { $0.role == "input" }) else { return XCTFail("no input in the dump") }
        let values = try dump.values(of: entry)
        let a = try Interpreter(contentsOf: weights, options: .init(threads: 1))
        try a.setInput(0, values)
        a.invoke()
        let b = try Interpreter(contentsOf: weights, options: .init(threads: 1))
        let count = try b.withInput(0) { input -> Int in
            for k in input.indices { input[k] = values[k] }
            return input.count
        }
        XCTAssertEqual(count, values.count)
        b.invoke()
        for k in a.outputs.indices { Self.assertSameBits(b.output(k), a.output(k), "detector output \(k)") }
    }
}
