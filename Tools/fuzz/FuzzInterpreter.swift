// libFuzzer entry for the interpreter: each input is loaded as a model and, when it loads, handed to
// `Interpreter.init` (every operator unit decodes its options, validates shapes, prepacks weights;
// fusion and memory planning; the memory budget) and, when that succeeds, run once on a constant
// input, and again with its 4-D outputs computed in regions (`checkPartialOutputs`), and on the
// native GEMM with float32 and with binary16 weights, which must agree bit for bit
// (`checkHalfWeights`). Built by
// Tools/fuzz/run-interpreter.sh against the TFLite, BlazeKernels and BlazeRuntime modules; never
// part of the SwiftPM build. Errors are the expected outcome; a crash, trap or ASan report is a bug.
import BlazeRuntime
import TFLite

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInterpreterOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? Model(bytes: bytes) else { return 0 }
    // A low budget keeps every accepted model small enough to run many per second.
    guard let interpreter = try? Interpreter(model: model, options: .init(threads: 1, memoryBudget: 16 << 20)) else { return 0 }
    precondition(interpreter.memoryBytes <= 16 << 20, "interpreter allocated over its memory budget")
    setConstantInputs(interpreter)
    interpreter.invoke()
    _ = try? ModelReport(model: model).text()
    checkPartialOutputs(model, bytes, full: interpreter)
    checkHalfWeights(model)
    return 0
}

/// The model on the native GEMM with every eligible 1×1 conv sparse, once with float32 weights
/// (`halfPanels: .off`) and once with binary16 ones wherever they are exact (`.always`: dense
/// panels and sparse values): every output must be the same bits (the widening is exact).
/// Unfused, so that a 1×1 conv after a PAD (the seed model's) stays unpadded, hence sparse.
func checkHalfWeights(_ model: Model) {
    func run(_ half: HalfPanelPolicy) -> [[Float]]? {
        let options = InterpreterOptions(threads: 1, gemmBackend: .native, fuseOperators: false, memoryBudget: 16 << 20,
                                         sparseConvolutions: .always, halfPanels: half)
        guard let interpreter = try? Interpreter(model: model, options: options) else { return nil }
        setConstantInputs(interpreter)
        interpreter.invoke()
        return interpreter.outputs.indices.map { interpreter.output($0) }
    }
    guard let float = run(.off) else { return }
    guard let half = run(.always) else { preconditionFailure("the model loads with float32 weights but not with binary16 ones") }
    precondition(float.count == half.count, "output counts differ")
    for (a, b) in zip(float, half) {
        precondition(a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern },
                     "binary16 weights changed an output")
    }
}

/// Every input of `interpreter` filled with 0.25 (the value every check runs on).
func setConstantInputs(_ interpreter: Interpreter) {
    for (i, info) in interpreter.inputs.enumerated() {
        try? interpreter.setInput(i, [Float](repeating: 0.25, count: info.elementCount))
    }
}

/// The model's 4-D outputs as partial outputs (`InterpreterOptions.partialOutputs`): left out of
/// `invoke(computing:)`, then computed in regions taken from the input's last bytes (some of them
/// outside the output: those must throw). Every value computed must equal the full run's, bit for bit.
func checkPartialOutputs(_ model: Model, _ bytes: [UInt8], full: Interpreter) {
    let positions = full.outputs.indices.filter { full.outputs[$0].shape.count == 4 }
    guard !positions.isEmpty,
          let partial = try? Interpreter(model: model, options: .init(threads: 1, memoryBudget: 16 << 20, partialOutputs: positions))
    else { return }
    setConstantInputs(partial)
    let others = partial.outputs.indices.filter { !positions.contains($0) }
    guard (try? partial.invoke(computing: others)) != nil else { return }
    let tail = Array(bytes.suffix(8)).map(Int.init) + [Int](repeating: 0, count: 8)
    for i in positions {
        let shape = partial.outputs[i].shape
        let expected = full.output(i)
        // Rows and columns from the bytes: usually inside the output, sometimes past its end.
        let r0 = tail[0] % (shape[1] + 2), r1 = r0 + tail[1] % 9, c0 = tail[2] % (shape[2] + 2), c1 = c0 + tail[3] % 9
        let region = OutputRegion(batch: tail[4] % (shape[0] + 1), rows: r0..<r1, columns: c0..<c1)
        let inside = region.batch < shape[0] && r1 <= shape[1] && c1 <= shape[2]
        do {
            try partial.withOutput(i, computingRegions: [region]) { values in
                precondition(inside, "a region outside the output was accepted")
                for y in region.rows {
                    for x in region.columns {
                        let at = ((region.batch * shape[1] + y) * shape[2] + x) * shape[3]
                        for c in 0..<shape[3] {
                            precondition(values[at + c].bitPattern == expected[at + c].bitPattern,
                                         "partial output \(i) differs from the full run at pixel (\(y), \(x)) channel \(c)")
                        }
                    }
                }
            }
        } catch {
            precondition(!inside, "a region inside the output was refused: \(error)")
        }
    }
}
