import ArgumentParser
import BlazeRuntime
import Foundation
import TFLite

/// `blazepose inspect MODEL [--json] [--dot OUT.dot]`: loads a .tflite file with the hand-written
/// reader and prints its I/O, one row per operator, and totals.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print the operators, shapes, parameters and FLOPs of a .tflite model.",
        discussion: "Exit status 1 when the runtime would reject the model at load (a tensor size that overflows or exceeds the memory budget, no operators, a graph output no operator writes); the report is printed first. Operators the runtime does not implement are listed, with exit status 0. In the text report, control characters and bidirectional overrides in names read from the file (tensors, subgraphs, description, custom operators, metadata) are shown escaped, e.g. \\x1b; --json escapes them as JSON does.")

    @Argument(help: "Path to a .tflite model file.")
    var model: String

    @Flag(help: "Print the report as JSON instead of a text table.")
    var json = false

    @Option(help: "Also write the graph as Graphviz DOT to this file.")
    var dot: String?

    @Flag(help: "Also resolve constant tensors (DENSIFY/DEQUANTIZE) and report how many.")
    var constants = false

    func run() throws {
        try reportingErrors {
            let loaded = try Model(contentsOf: URL(fileURLWithPath: model))
            // The text report and the DOT file show names raw, so they get a copy with every name
            // escaped: a tensor name must not move the cursor or recolour the terminal.
            let printable = loaded.withPrintableNames()
            let report = try ModelReport(model: json ? loaded : printable)
            print(json ? try report.json() : report.text(), terminator: json ? "\n" : "")
            if constants {
                let resolved = try loaded.resolveConstants()
                let values = resolved.values.reduce(0) { $0 + $1.count }
                print("constants: \(resolved.count) float32 tensors, \(values) values")
            }
            let unsupported = OperatorRegistry.unsupportedOperators(in: loaded)
            if !unsupported.isEmpty, !json {
                print("unsupported by the BlazePose runtime: " + unsupported.map { "#\($0.index) \(escapingControlCharacters("\($0.kind)"))" }.joined(separator: ", "))
            }
            if let dot {
                // In place (not a temporary file renamed over it, which would replace /dev/null).
                let graph = json ? try ModelReport(model: printable) : report
                try OutputWriter.writeFile(dot, graph.dot(model: printable))
            }
            // The checks the interpreter makes at load (sizes with overflow checks, the memory
            // budget, no operators, outputs nobody writes): the report above is still printed,
            // then the problem, and the exit status is 1.
            do { try GraphValidation.validate(loaded) } catch let error as RuntimeError {
                throw CLIError("the runtime would reject this model: \(escapingControlCharacters("\(error)"))")
            }
        }
    }
}

extension Model {
    /// A copy whose names read from the file (description, subgraph and tensor names, custom
    /// operator codes, metadata names) have their control characters escaped
    /// (see ``escapingControlCharacters(_:)``). Shapes, indices and buffers are unchanged.
    func withPrintableNames() -> Model {
        var copy = self
        copy.description = description.map(escapingControlCharacters)
        copy.operatorCodes = operatorCodes.map { code in
            var code = code
            code.customCode = code.customCode.map(escapingControlCharacters)
            return code
        }
        copy.subgraphs = subgraphs.map { subgraph in
            var subgraph = subgraph
            subgraph.name = subgraph.name.map(escapingControlCharacters)
            subgraph.tensors = subgraph.tensors.map { tensor in
                var tensor = tensor
                tensor.name = escapingControlCharacters(tensor.name)
                return tensor
            }
            return subgraph
        }
        copy.metadata = metadata.map { entry in
            var entry = entry
            entry.name = entry.name.map(escapingControlCharacters)
            return entry
        }
        return copy
    }
}

/// `text` with every C0/C1 control character (including newline, tab and ESC), DEL and Unicode
/// bidirectional control shown as an escape (`\x1b`, `\n`, `\u{202E}`) and a backslash doubled, so
/// text taken from a file cannot drive the terminal or fake report lines.
func escapingControlCharacters(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x5C: out += "\\\\"
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0x00...0x1F, 0x7F...0x9F: out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
            out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
