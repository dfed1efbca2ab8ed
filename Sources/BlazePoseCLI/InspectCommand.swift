import ArgumentParser
import BlazeRuntime
import Foundation
import TFLite

/// `blazepose inspect MODEL [--json] [--dot OUT.dot]`: loads a .tflite file with the hand-written
/// reader and prints its I/O, one row per operator, and totals.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print the operators, shapes, parameters and FLOPs of a .tflite model.")

    @Argument(help: "Path to a .tflite model file.")
    var model: String

    @Flag(help: "Print the report as JSON instead of a text table.")
    var json = false

    @Option(help: "Also write the graph as Graphviz DOT to this file.")
    var dot: String?

    @Flag(help: "Also resolve constant tensors (DENSIFY/DEQUANTIZE) and report how many.")
    var constants = false

    func run() throws {
        do {
            let loaded = try Model(contentsOf: URL(fileURLWithPath: model))
            let report = try ModelReport(model: loaded)
            print(json ? try report.json() : report.text(), terminator: json ? "\n" : "")
            if constants {
                let resolved = try loaded.resolveConstants()
                let values = resolved.values.reduce(0) { $0 + $1.count }
                print("constants: \(resolved.count) float32 tensors, \(values) values")
            }
            let unsupported = OperatorRegistry.unsupportedOperators(in: loaded)
            if !unsupported.isEmpty, !json {
                print("unsupported by the BlazePose runtime: " + unsupported.map { "#\($0.index) \($0.kind)" }.joined(separator: ", "))
            }
            if let dot {
                // Not atomically: an atomic write renames a temp file over the target, which
                // would replace a device such as /dev/null with a regular file.
                try Data(report.dot(model: loaded).utf8).write(to: URL(fileURLWithPath: dot))
            }
        } catch let error as TFLiteError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
