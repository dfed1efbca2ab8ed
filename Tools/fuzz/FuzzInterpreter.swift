// libFuzzer entry for the interpreter: each input is loaded as a model and, when it loads, handed to
// `Interpreter.init` (every operator unit decodes its options, validates shapes, prepacks weights;
// fusion and memory planning; the memory budget) and, when that succeeds, run once on a constant
// input. Built by Tools/fuzz/run-interpreter.sh against the TFLite, BlazeKernels and BlazeRuntime
// modules; never part of the SwiftPM build. Errors are the expected outcome; a crash, trap or ASan
// report is a bug.
import BlazeRuntime
import TFLite

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInterpreterOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? Model(bytes: bytes) else { return 0 }
    // A low budget keeps every accepted model small enough to run many per second.
    guard let interpreter = try? Interpreter(model: model, options: .init(threads: 1, memoryBudget: 16 << 20)) else { return 0 }
    precondition(interpreter.memoryBytes <= 16 << 20, "interpreter allocated over its memory budget")
    for (i, info) in interpreter.inputs.enumerated() {
        try? interpreter.setInput(i, [Float](repeating: 0.25, count: info.elementCount))
    }
    interpreter.invoke()
    _ = try? ModelReport(model: model).text()
    return 0
}
