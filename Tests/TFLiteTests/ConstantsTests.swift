import BlazeSupport
import Foundation
import TFLite
import BlazeTestSupport
import XCTest

/// Our resolved constants must equal LiteRT's DEQUANTIZE / DENSIFY outputs bit for bit
/// (fixtures written by Tools/litert/dump_constants.py).
final class ConstantsTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Sample: Decodable { var i: Int; var bits: UInt32 }
        struct Record: Decodable { var op: String; var tensor: Int; var name: String; var shape: [Int]; var sha256: String; var samples: [Sample] }
        var tensors: [Record]
    }

    private func check(_ name: String, model explicitModel: Model? = nil) throws {
        let url = packageRoot.appendingPathComponent("Tests/TFLiteTests/Fixtures/\(name).constants.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: try Data(contentsOf: url))
        let model = try explicitModel ?? loadModel(name)
        let resolved = try model.resolveConstants()
        XCTAssertFalse(fixture.tensors.isEmpty)
        for record in fixture.tensors {
            guard let values = resolved[record.tensor] else {
                XCTFail("\(name): \(record.op) output tensor \(record.tensor) (\(record.name)) not resolved"); continue
            }
            let tensor = model.subgraphs[0].tensors[record.tensor]
            // LiteRT renames DENSIFY outputs to "Densify_output" at run time (the file does not contain
            // that string), so names are compared for DEQUANTIZE outputs only; indices and values for all.
            if record.op == "DEQUANTIZE" { XCTAssertEqual(tensor.name, record.name) }
            XCTAssertEqual(tensor.shape, record.shape, record.name)
            for sample in record.samples {
                XCTAssertEqual(values[sample.i].bitPattern, sample.bits, "\(name) tensor \(record.tensor)[\(sample.i)]")
            }
            XCTAssertEqual(SHA256.hex(float32Bytes(values)), record.sha256, "\(name) tensor \(record.tensor) \(record.name)")
        }
    }

    func testSHA256KnownAnswer() {
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testDetectorConstantsMatchLiteRT() throws { try check("pose_detection") }
    func testLandmarkLiteConstantsMatchLiteRT() throws { try check("pose_landmark_lite") }
    func testLandmarkFullConstantsMatchLiteRT() throws { try check("pose_landmark_full") }
    /// MediaPipe's sparse face detector: 46 DENSIFY → DEQUANTIZE chains, bit-exact like the pose detector's.
    func testSparseFaceDetectorConstantsMatchLiteRT() throws {
        let url = packageRoot.appendingPathComponent("weights/mediapipe/face_detection_full_range_sparse.tflite")
        guard FileManager.default.fileExists(atPath: url.path) else {
            return XCTFail("missing \(url.path): run bash Tools/setup.sh")
        }
        try check("face_detection_full_range_sparse", model: try Model(contentsOf: url))
    }

    /// Hand-written block-sparse model (Tools/fuzz/make_seed_model.py): FLOAT16 OHWI [4,1,1,4] filter,
    /// dim 3 split into blocks of 2, CSR over block columns with Uint8 segments and Uint16 indices.
    func testBlockSparseSeedModelMatchesLiteRTAndHandComputedValues() throws {
        let model = try Model(contentsOf: packageRoot.appendingPathComponent("Tests/TFLiteTests/Fixtures/tiny_block_sparse.model"))
        try check("tiny_block_sparse", model: model)
        // Independent expectation: row o keeps block columns kept[o]; block b of row o holds
        // (0.25·(o+1) + 0.5·b, -1.5 + o - b) at columns 2b, 2b+1 (all exactly representable in FLOAT16).
        let kept: [[Int]] = [[0], [1], [], [0, 1]]
        var expected = [Float](repeating: 0, count: 16)
        for o in 0..<4 {
            for b in kept[o] {
                expected[o * 4 + 2 * b] = 0.25 * Float(o + 1) + 0.5 * Float(b)
                expected[o * 4 + 2 * b + 1] = -1.5 + Float(o - b)
            }
        }
        let resolved = try model.resolveConstants()
        XCTAssertEqual(resolved[2], expected)   // DENSIFY output (FLOAT16 widened)
        XCTAssertEqual(resolved[3], expected)   // DEQUANTIZE output
        XCTAssertEqual(resolved[4], [0.5, -0.25, 0, 1])   // plain FLOAT32 bias
        XCTAssertNil(resolved[5])               // INT32 paddings are not float constants
        XCTAssertEqual(try model.constantInt32(tensor: 5), [0, 0, 1, 1, 1, 1, 0, 0])
        XCTAssertThrowsError(try model.constantInt32(tensor: 6))   // FLOAT32 tensor: wrong type is an error
        XCTAssertThrowsError(try model.constantInt32(tensor: 99))  // out of range
    }

    func testDetectorHasSparseFloat16ChainsAndTheyAreDensified() throws {
        let model = try loadModel("pose_detection")
        let graph = model.subgraphs[0]
        var chains = 0
        for op in graph.operators where model.opcode(of: op) == .densify {
            let input = graph.tensors[op.inputs[0]]
            XCTAssertNotNil(input.sparsity)
            if input.type == .float16,
               graph.operators.contains(where: { model.opcode(of: $0) == .dequantize && $0.inputs == op.outputs }) { chains += 1 }
        }
        XCTAssertEqual(chains, 38)
    }

    /// The interpreter widens one constant at a time through the table; every tensor must get the
    /// same values as resolving them all at once, and a DENSIFY output shares its source with the
    /// DEQUANTIZE that follows it.
    func testConstantTableWidensEachTensorLikeResolveConstants() throws {
        for name in ["pose_detection", "pose_landmark_full"] {
            let model = try loadModel(name)
            let table = try model.constantTable()
            let resolved = try model.resolveConstants()
            XCTAssertEqual(Set(table.sources.keys), Set(resolved.keys), name)
            for (t, source) in table.sources {
                let values = try model.constantValues(t, in: table)
                XCTAssertEqual(values.count, source.count, "\(name) tensor \(t)")
                XCTAssertEqual(values.map(\.bitPattern), resolved[t]?.map(\.bitPattern), "\(name) tensor \(t)")
            }
            let graph = model.subgraphs[0]
            for op in graph.operators where model.opcode(of: op) == .dequantize {
                if let producer = graph.operators.first(where: { model.opcode(of: $0) == .densify && $0.outputs == op.inputs }) {
                    XCTAssertEqual(table.sources[op.outputs[0]], table.sources[producer.outputs[0]], name)
                    XCTAssertEqual(table.sources[op.outputs[0]]?.tensor, producer.inputs[0], name)
                }
            }
        }
        let model = try loadModel("pose_detection")
        XCTAssertThrowsError(try model.constantValues(0, in: try model.constantTable())) { error in
            XCTAssertTrue("\(error)".contains("tensor 0 is not a constant float tensor"), "\(error)")
        }
    }
}

final class HalfConversionTests: XCTestCase {
    func testHalfToFloatMatchesFloat16ForAllBitPatterns() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = halfToFloat(bits)
            if expected.isNaN {
                XCTAssertTrue(got.isNaN, "\(bits)")
                XCTAssertEqual(got.sign, expected.sign, "\(bits)")
            } else {
                XCTAssertEqual(got.bitPattern, expected.bitPattern, "half bits \(bits)")
            }
        }
    }

    /// The branch-free bulk widening gives `halfToFloat`'s exact bits for every pattern (NaN payloads
    /// included), from an odd byte offset and with counts that leave a remainder after any SIMD width.
    func testWidenHalvesMatchesHalfToFloatBitForBit() {
        let all = (0...UInt16.max).map { $0 }
        var bytes = [UInt8](repeating: 0xAB, count: 1 + 2 * all.count)
        for (i, h) in all.enumerated() { bytes[1 + 2 * i] = UInt8(h & 0xFF); bytes[2 + 2 * i] = UInt8(h >> 8) }
        for count in [all.count, 13, 1, 0] {
            var out = [Float](repeating: 7, count: all.count + 1)
            bytes.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { widenHalves(from: raw.baseAddress! + 1, to: $0.baseAddress!, count: count) }
            }
            for i in 0..<count where out[i].bitPattern != halfToFloat(all[i]).bitPattern {
                XCTFail("half bits \(all[i]): \(out[i].bitPattern) != \(halfToFloat(all[i]).bitPattern)"); break
            }
            XCTAssertEqual(out[count], 7, "wrote past count \(count)")
        }
    }
}
