// libFuzzer entry for the TFLite reader. Compiled *together with* Sources/TFLite/*.swift into one
// module by Tools/fuzz/run.sh (so there is no `import TFLite`); never part of the SwiftPM build.
//
// Each input is loaded as a model; when it loads, constants are resolved and a report is rendered,
// so every code path that touches file data is exercised. Errors are the expected outcome; a crash,
// trap or ASan report is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTFLiteOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? Model(bytes: bytes) else { return 0 }
    for index in model.subgraphs.indices {
        _ = try? model.resolveConstants(subgraph: index)
        _ = model.unsupportedOperators(subgraph: index)
        _ = try? model.validateOperators(subgraph: index)
        if let report = try? ModelReport(model: model, subgraph: index) {
            _ = report.text()
            _ = report.dot(model: model)
        }
    }
    for buffer in model.buffers.indices { _ = try? model.bufferData(buffer) }
    return 0
}
