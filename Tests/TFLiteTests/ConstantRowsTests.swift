import TFLite
import XCTest

/// `Model.constantRows` (what the interpreter packs conv weights from, without widening a whole
/// tensor first) against `Model.constantValues`: the same floats, bit for bit, for any split into
/// row ranges, and the same errors for bad sparse metadata.
final class ConstantRowsTests: XCTestCase {
    /// Reads every constant of `model` by rows of its first dimension, in chunks of 1, 3, 5, … rows,
    /// and compares with `constantValues`.
    private func checkRows(_ model: Model, _ name: String) throws {
        let table = try model.constantTable()
        var checked = 0
        for (t, source) in table.sources.sorted(by: { $0.key < $1.key }) {
            let shape = model.subgraphs[0].tensors[t].shape
            let rowCount = shape.first ?? 1
            guard rowCount > 0, source.count > 0, source.count % rowCount == 0 else { continue }
            let expected = try model.constantValues(t, in: table)
            let rows = try model.constantRows(t, in: table, rowCount: rowCount)
            XCTAssertEqual(rows.count, rowCount, "\(name) tensor \(t)")
            XCTAssertEqual(rows.count * rows.length, expected.count, "\(name) tensor \(t)")
            var got = [Float](repeating: .nan, count: expected.count)
            var first = 0, step = 1
            got.withUnsafeMutableBufferPointer { out in
                while first < rowCount {
                    let count = min(step, rowCount - first)
                    rows.read(first: first, count: count, into: out.baseAddress! + first * rows.length)
                    first += count
                    step += 2
                }
            }
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "\(name) tensor \(t)")
            if let values = rows.values {
                XCTAssertEqual(Array(UnsafeBufferPointer(start: values, count: expected.count)).map(\.bitPattern),
                               expected.map(\.bitPattern), "\(name) tensor \(t) in place")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0, name)
    }

    /// `Model.constantSparseRows` (the sparse kernel's source, read from the file's CSR) against
    /// `constantValues`: each row's entries, placed at their columns over zeros, give the dense row
    /// bit for bit; columns strictly increase; the nonzero count is right. Every sparse constant of
    /// the detector and of the sparse face detector has the layout.
    func testSparseRowsMatchConstantValues() throws {
        var models = [("pose_detection", try loadModel("pose_detection"))]
        let face = packageRoot.appendingPathComponent("weights/mediapipe/face_detection_full_range_sparse.tflite")
        if FileManager.default.fileExists(atPath: face.path) { models.append(("face_detection_full_range_sparse", try Model(contentsOf: face))) }
        var storedChecked = 0
        for (name, model) in models {
            let table = try model.constantTable()
            var checked = 0
            for (t, source) in table.sources.sorted(by: { $0.key < $1.key }) where model.subgraphs[0].tensors[source.tensor].sparsity != nil {
                let rowCount = model.subgraphs[0].tensors[t].shape.first ?? 1
                let expected = try model.constantValues(t, in: table)
                guard let rows = try model.constantSparseRows(t, in: table, rowCount: rowCount) else {
                    XCTFail("\(name) tensor \(t): no sparse rows"); continue
                }
                XCTAssertEqual(rows.count * rows.length, expected.count, "\(name) tensor \(t)")
                var columns = [Int32](repeating: -1, count: max(1, rows.maxRowEntries))
                var values = [Float](repeating: .nan, count: max(1, rows.maxRowEntries))
                var dense = [Float](repeating: 0, count: expected.count), nonzeros = 0
                for r in 0..<rows.count {
                    let n = rows.read(row: r, columns: &columns, values: &values)
                    XCTAssertLessThanOrEqual(n, rows.maxRowEntries)
                    for e in 0..<n {
                        if e > 0 { XCTAssertGreaterThan(columns[e], columns[e - 1], "\(name) tensor \(t) row \(r)") }
                        dense[r * rows.length + Int(columns[e])] = values[e]
                        nonzeros += values[e] == 0 ? 0 : 1
                    }
                }
                XCTAssertEqual(dense.map(\.bitPattern), expected.map(\.bitPattern), "\(name) tensor \(t)")
                XCTAssertEqual(rows.nonzeroCount, nonzeros, "\(name) tensor \(t)")
                // The CSR read in place (one segment per row: a conv's [O, 1, 1, I]) holds the same
                // entries: its columns at their width, its values as stored.
                if let stored = rows.stored {
                    XCTAssertEqual(stored.rowStarts.count, rows.count + 1, "\(name) tensor \(t)")
                    var placed = [Float](repeating: 0, count: expected.count)
                    for r in 0..<rows.count {
                        for e in Int(stored.rowStarts[r])..<Int(stored.rowStarts[r + 1]) {
                            let c: Int
                            switch stored.indexWidth {
                            case 1: c = Int(stored.indices.load(fromByteOffset: e, as: UInt8.self))
                            case 2: c = Int(UInt16(littleEndian: stored.indices.load(fromByteOffset: 2 * e, as: UInt16.self)))
                            default: c = Int(Int32(littleEndian: stored.indices.load(fromByteOffset: 4 * e, as: Int32.self)))
                            }
                            placed[r * rows.length + c] = stored.valuesAreHalf
                                ? halfToFloat(UInt16(littleEndian: stored.values.loadUnaligned(fromByteOffset: 2 * e, as: UInt16.self)))
                                : Float(bitPattern: UInt32(littleEndian: stored.values.loadUnaligned(fromByteOffset: 4 * e, as: UInt32.self)))
                        }
                    }
                    XCTAssertEqual(placed.map(\.bitPattern), expected.map(\.bitPattern), "\(name) tensor \(t) stored")
                    storedChecked += 1
                }
                checked += 1
            }
            XCTAssertGreaterThan(checked, 30, name)
        }
        XCTAssertGreaterThan(storedChecked, 30)
        // Dense constants and other layouts (the block-sparse seed) have none.
        let landmark = try loadModel("pose_landmark_lite"), landmarkTable = try landmark.constantTable()
        for t in landmarkTable.sources.keys.sorted().prefix(20) {
            XCTAssertNil(try landmark.constantSparseRows(t, in: landmarkTable, rowCount: landmark.subgraphs[0].tensors[t].shape.first ?? 1))
        }
        let seed = try Model(contentsOf: packageRoot.appendingPathComponent("Tests/TFLiteTests/Fixtures/tiny_block_sparse.model"))
        let seedTable = try seed.constantTable()
        for (t, source) in seedTable.sources where seed.subgraphs[0].tensors[source.tensor].sparsity != nil {
            XCTAssertNil(try seed.constantSparseRows(t, in: seedTable, rowCount: seed.subgraphs[0].tensors[t].shape.first ?? 1))
        }
    }

    func testRowsMatchConstantValuesForThePoseModels() throws {
        for name in ["pose_detection", "pose_landmark_full", "pose_landmark_lite"] {
            try checkRows(try loadModel(name), name)
        }
    }

    /// Sparse layouts other than the pose detector's: MediaPipe's sparse face detector and the
    /// hand-written block-sparse seed model (rows not read directly: densified whole, then copied).
    func testRowsMatchConstantValuesForOtherSparseModels() throws {
        let face = packageRoot.appendingPathComponent("weights/mediapipe/face_detection_full_range_sparse.tflite")
        if FileManager.default.fileExists(atPath: face.path) {
            try checkRows(try Model(contentsOf: face), "face_detection_full_range_sparse")
        }
        let seed = packageRoot.appendingPathComponent("Tests/TFLiteTests/Fixtures/tiny_block_sparse.model")
        try checkRows(try Model(contentsOf: seed), "tiny_block_sparse")
    }

    /// The first sparse tensor of the detector and the constant (DEQUANTIZE output) it resolves to.
    private func firstSparseConstant(_ model: Model) throws -> (sparse: Int, constant: Int) {
        let table = try model.constantTable()
        for (t, source) in table.sources.sorted(by: { $0.key < $1.key })
            where model.subgraphs[0].tensors[source.tensor].sparsity != nil && t != source.tensor {
            return (source.tensor, t)
        }
        throw XCTSkip("no sparse constant")
    }

    /// Out-of-range indices and segments: `constantRows` throws what `constantValues` throws, before
    /// any row is read; and a valid edit of the metadata is read back the same either way.
    func testBadSparseMetadataFailsLikeConstantValues() throws {
        let original = try loadModel("pose_detection")
        let (s, t) = try firstSparseConstant(original)
        guard let sparsity = original.subgraphs[0].tensors[s].sparsity,
              case let .sparseCSR(segments, indices) = sparsity.dimensionMetadata.last else {
            return XCTFail("the detector's sparse tensors end in a CSR level")
        }
        let bound = original.subgraphs[0].tensors[s].shape.last ?? 0
        func edited(segments newSegments: [Int], indices newIndices: [Int]) -> Model {
            var model = original
            var changed = sparsity
            changed.dimensionMetadata[changed.dimensionMetadata.count - 1] =
                .sparseCSR(segments: SparseIndices(newSegments), indices: SparseIndices(newIndices))
            model.subgraphs[0].tensors[s].sparsity = changed
            return model
        }
        let goodSegments = Array(segments), goodIndices = Array(indices)
        var badIndex = goodIndices
        badIndex[goodIndices.count / 2] = bound
        var negative = goodIndices
        negative[1] = -1
        var badSegment = goodSegments
        badSegment[badSegment.count - 1] = goodIndices.count + 1
        var decreasing = goodSegments
        decreasing[2] = decreasing[1] - 1 < 0 ? 0 : decreasing[1] - 1
        decreasing[1] = decreasing[2] + 1
        for (label, model) in [("index out of range", edited(segments: goodSegments, indices: badIndex)),
                               ("negative index", edited(segments: goodSegments, indices: negative)),
                               ("segment past the indices", edited(segments: badSegment, indices: goodIndices)),
                               ("decreasing segments", edited(segments: decreasing, indices: goodIndices)),
                               ("short segments", edited(segments: Array(goodSegments.dropLast()), indices: goodIndices))] {
            let table = try model.constantTable()
            var expected = ""
            XCTAssertThrowsError(try model.constantValues(t, in: table), label) { expected = "\($0)" }
            XCTAssertThrowsError(try model.constantRows(t, in: table, rowCount: model.subgraphs[0].tensors[t].shape[0]), label) {
                XCTAssertEqual("\($0)", expected, label)
            }
            XCTAssertThrowsError(try model.constantSparseRows(t, in: table, rowCount: model.subgraphs[0].tensors[t].shape[0]), label) {
                XCTAssertEqual("\($0)", expected, label)
            }
        }
        // Valid indices that do not increase within a segment: no sparse rows (densify's last-wins
        // placement is not a row of increasing columns), and the dense paths still read them.
        var swapped = goodIndices
        let first = goodSegments[0]
        if goodSegments[1] - first >= 2 {
            swapped.swapAt(first, first + 1)
            let model = edited(segments: goodSegments, indices: swapped)
            let table = try model.constantTable()
            XCTAssertNil(try model.constantSparseRows(t, in: table, rowCount: model.subgraphs[0].tensors[t].shape[0]))
            try checkRows(model, "detector, unsorted row")
        }
        // Still valid: the last row's entries dropped. Read by rows, it equals the widened tensor.
        var shorter = goodSegments
        let rowCount = shorter.count - 1
        shorter[rowCount] = shorter[rowCount - 1]
        try checkRows(edited(segments: shorter, indices: goodIndices), "detector, last row emptied")
    }

    /// A row count that does not divide the tensor is an error, not a partial read.
    func testRowCountMustDivideTheTensor() throws {
        let model = try loadModel("pose_landmark_full")
        let table = try model.constantTable()
        guard let (t, source) = table.sources.first(where: { $0.value.count > 1 && $0.value.count % 7 != 0 }) else {
            return XCTFail("no constant to test")
        }
        XCTAssertThrowsError(try model.constantRows(t, in: table, rowCount: 7)) {
            XCTAssertTrue("\($0)".contains("does not split into 7 rows"), "\($0) (\(source.count) values)")
        }
        XCTAssertThrowsError(try model.constantRows(t, in: table, rowCount: 0))
    }
}
