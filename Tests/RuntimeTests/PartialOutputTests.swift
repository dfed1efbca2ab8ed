import BlazeRuntime
import Foundation
import XCTest

/// `InterpreterOptions.partialOutputs` and `Interpreter.withOutput(_:computingRegions:_:)`: the
/// pose landmark models' heatmap computed only in regions is bit-identical there to a full
/// `invoke()` (native GEMM: the heatmap convs compute just those pixels, the rest of the memory stays as it was),
/// after `invoke(computing:)` without it, with the memory overwritten by a run on another input
/// first; every 4-D output of every fixture model as a partial output (whole steps where a kernel
/// computes only whole outputs); and clear errors for what cannot be a partial output or region.
final class PartialOutputTests: XCTestCase {
    static let root = OutputSelectionTests.root

    /// Regions like the refinement's: 7×7 windows around spread-out centres, clipped at the borders,
    /// overlapping, and one empty.
    static func windows(height: Int, width: Int) -> [OutputRegion] {
        var regions = [(0, 0), (3, 5), (height - 1, width - 1), (height / 2, width / 3), (height / 2 + 2, width / 3 + 1)]
            .map { (min($0.0, height - 1), min($0.1, width - 1)) }
            .map { c in OutputRegion(rows: max(0, c.0 - 3) ..< min(height, c.0 + 4), columns: max(0, c.1 - 3) ..< min(width, c.1 + 4)) }
        regions.append(OutputRegion(rows: 0..<0, columns: 0..<width))
        return regions
    }

    func testHeatmapRegionsAreBitIdenticalToAFullRun() throws {
        for model in ["pose_landmark_lite", "pose_landmark_full"] {
            let weights = Self.root.appendingPathComponent("weights/\(model).tflite")
            let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(model)/astronaut"))
            let full = try Interpreter(contentsOf: weights, options: .init(threads: 1, gemmBackend: .native))
            try OutputSelectionTests.setInputs(full, dump, noise: false)
            full.invoke()
            guard let heatmap = full.outputs.firstIndex(where: { $0.shape == [1, 64, 64, 39] }) else {
                return XCTFail("\(model): no heatmap output in \(full.outputs.map(\.shape))")
            }
            let expected = full.output(heatmap)
            let arena = ActivationArena()
            let partial = try Interpreter(contentsOf: weights, options: .init(threads: 2, gemmBackend: .native, sharedArena: arena,
                                                                              partialOutputs: [heatmap]))
            XCTAssertTrue(partial.computesInParts(output: heatmap), "\(model): the heatmap conv computes regions")
            let others = partial.outputs.indices.filter { $0 != heatmap }
            // The heatmap conv alone is left out.
            XCTAssertEqual(try partial.stepCount(computing: others), partial.steps.count - 1, model)
            try OutputSelectionTests.setInputs(partial, dump, noise: true)
            partial.invoke()
            arena.fill(.nan)
            try OutputSelectionTests.setInputs(partial, dump, noise: false)
            try partial.invoke(computing: others)
            XCTAssertFalse(partial.isComputed(output: heatmap))
            let regions = Self.windows(height: 64, width: 64)
            var inside = Set<Int>()
            for r in regions { for y in r.rows { for x in r.columns { inside.insert(y * 64 + x) } } }
            // The heatmap's memory before: NaN, or what earlier intermediates sharing it left there.
            guard let before = partial.tensorValues(partial.outputs[heatmap].index) else { return XCTFail("\(model): no heatmap memory") }
            try partial.withOutput(heatmap, computingRegions: regions) { values in
                XCTAssertEqual(values.count, expected.count)
                var wrong = 0, written = 0, stale = 0
                for p in 0..<(64 * 64) {
                    for c in 0..<39 {
                        let (got, at) = (values[p * 39 + c], p * 39 + c)
                        if inside.contains(p) {
                            if got.bitPattern != expected[at].bitPattern { wrong += 1 }
                        } else {
                            if got.bitPattern != before[at].bitPattern { written += 1 }
                            if got.bitPattern != expected[at].bitPattern { stale += 1 }
                        }
                    }
                }
                XCTAssertEqual(wrong, 0, "\(model): heatmap values in the regions differ from a full run")
                XCTAssertEqual(written, 0, "\(model): values outside the regions were written")
                XCTAssertGreaterThan(stale, (64 * 64 - inside.count) * 39 / 2, "\(model): most values outside are not the heatmap's")
            }
            for k in others { OutputSelectionTests.assertSameBits(partial.output(k), full.output(k), "\(model) output \(k)") }
            // After a full invoke the output is whole; regions change nothing.
            partial.invoke()
            try partial.withOutput(heatmap, computingRegions: []) { OutputSelectionTests.assertSameBits(Array($0), expected, model) }
        }
    }

    /// Every 4-D output of the 15 fixture models as a partial output: whole image as one region
    /// and the windows, equal to a full run's bits (on the build's default GEMM).
    func testEveryNHWCOutputOfEveryModel() throws {
        var checked = 0
        for (name, weights) in try OutputSelectionTests.fixtureModels() {
            let dump = try ReferenceDump(directory: Self.root.appendingPathComponent("Tests/RuntimeTests/Fixtures/\(name)/astronaut"))
            let full = try Interpreter(contentsOf: weights, options: .init(threads: 1))
            try OutputSelectionTests.setInputs(full, dump, noise: false)
            full.invoke()
            for i in full.outputs.indices where full.outputs[i].shape.count == 4 {
                let partial: Interpreter
                do {
                    partial = try Interpreter(contentsOf: weights, options: .init(threads: 2, partialOutputs: [i]))
                } catch let RuntimeError.partialOutput(output, detail) where detail.contains("not written by a step") {
                    XCTAssertEqual(output, i)
                    continue   // a view of another tensor: refused at load, as it should be
                }
                try OutputSelectionTests.setInputs(partial, dump, noise: true)
                partial.invoke()
                try OutputSelectionTests.setInputs(partial, dump, noise: false)
                let others = partial.outputs.indices.filter { $0 != i }
                try partial.invoke(computing: others)
                for k in others { OutputSelectionTests.assertSameBits(partial.output(k), full.output(k), "\(name) output \(k)") }
                let shape = partial.outputs[i].shape
                let expected = full.output(i)
                for regions in [Self.windows(height: shape[1], width: shape[2]),
                                [OutputRegion(batch: shape[0] - 1, rows: 0..<shape[1], columns: 0..<shape[2])]] {
                    try partial.withOutput(i, computingRegions: regions) { values in
                        for r in regions {
                            for y in r.rows {
                                for x in r.columns {
                                    let at = ((r.batch * shape[1] + y) * shape[2] + x) * shape[3]
                                    let got = Array(values[at ..< at + shape[3]]), want = Array(expected[at ..< at + shape[3]])
                                    OutputSelectionTests.assertSameBits(got, want, "\(name) output \(i) pixel (\(y), \(x))")
                                }
                            }
                        }
                    }
                }
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 10, "4-D outputs checked")
    }

    func testBadPartialOutputsAndRegionsThrowTypedErrors() throws {
        let weights = Self.root.appendingPathComponent("weights/pose_landmark_lite.tflite")
        XCTAssertThrowsError(try Interpreter(contentsOf: weights, options: .init(threads: 1, partialOutputs: [7]))) { error in
            XCTAssertEqual(error as? RuntimeError, .outputIndex(7, count: 5))
        }
        // Output 0 is ld_3d [1, 195]: not NHWC.
        XCTAssertThrowsError(try Interpreter(contentsOf: weights, options: .init(threads: 1, partialOutputs: [0]))) { error in
            guard case .partialOutput(output: 0, _)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("[1, 195]"), "\(error)")
        }
        let interpreter = try Interpreter(contentsOf: weights, options: .init(threads: 1, partialOutputs: [3]))
        XCTAssertEqual(interpreter.outputs[3].shape, [1, 64, 64, 39])
        XCTAssertThrowsError(try interpreter.withOutput(3, computingRegions: []) { _ in }) { error in
            guard case .partialOutput(output: 3, let detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("no invoke"), detail)
        }
        try interpreter.invoke(computing: [0])
        XCTAssertThrowsError(try interpreter.withOutput(2, computingRegions: []) { _ in }) { error in
            guard case .partialOutput(output: 2, _)? = error as? RuntimeError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try interpreter.withOutput(9, computingRegions: []) { _ in }) { error in
            XCTAssertEqual(error as? RuntimeError, .outputIndex(9, count: 5))
        }
        for bad in [OutputRegion(rows: 60..<65, columns: 0..<1), OutputRegion(rows: -1..<2, columns: 0..<1),
                    OutputRegion(rows: 0..<1, columns: 63..<65), OutputRegion(batch: 1, rows: 0..<1, columns: 0..<1)] {
            XCTAssertThrowsError(try interpreter.withOutput(3, computingRegions: [OutputRegion(rows: 0..<1, columns: 0..<1), bad]) { _ in
                XCTFail("body must not run")
            }) { error in
                guard case .partialOutput(output: 3, let detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
                XCTAssertTrue(detail.contains("region 1"), detail)
            }
        }
    }
}
