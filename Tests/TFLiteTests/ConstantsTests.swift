import Foundation
import TFLite
import XCTest

/// Our resolved constants must equal LiteRT's DEQUANTIZE / DENSIFY outputs bit for bit
/// (fixtures written by Tools/litert/dump_constants.py).
final class ConstantsTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Sample: Decodable { var i: Int; var bits: UInt32 }
        struct Record: Decodable { var op: String; var tensor: Int; var name: String; var shape: [Int]; var sha256: String; var samples: [Sample] }
        var tensors: [Record]
    }

    private func check(_ name: String) throws {
        let url = packageRoot.appendingPathComponent("Tests/TFLiteTests/Fixtures/\(name).constants.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: try Data(contentsOf: url))
        let model = try loadModel(name)
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
            XCTAssertEqual(sha256Hex(float32Bytes(values)), record.sha256, "\(name) tensor \(record.tensor) \(record.name)")
        }
    }

    func testSHA256KnownAnswer() {
        XCTAssertEqual(sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(sha256Hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testDetectorConstantsMatchLiteRT() throws { try check("pose_detection") }
    func testLandmarkLiteConstantsMatchLiteRT() throws { try check("pose_landmark_lite") }
    func testLandmarkFullConstantsMatchLiteRT() throws { try check("pose_landmark_full") }

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
}
