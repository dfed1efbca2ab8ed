// libFuzzer entry for the TFLite reader. Compiled *together with* Sources/TFLite/*.swift into one
// module by Tools/fuzz/run.sh (so there is no `import TFLite`); never part of the SwiftPM build.
//
// Each input is loaded as a model; when it loads, constants are resolved and every operator's options fields are read,
// so every code path that touches file data is exercised. Errors are the expected outcome; a crash,
// trap or ASan report is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTFLiteOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let model = try? Model(bytes: bytes) else { return 0 }
    for index in model.subgraphs.indices {
        _ = try? model.resolveConstants(subgraph: index)
        for op in model.subgraphs[index].operators where op.options.hasTable {
            for id in 0..<8 { _ = try? op.options.scalar(id, "field", default: Int32(0)) }
            _ = try? op.options.intVector(0, "vector")
        }
    }
    for buffer in model.buffers.indices { _ = try? model.bufferData(buffer) }
    return 0
}
