import Foundation
import TFLite

/// A human-readable summary of one subgraph: I/O, one row per operator with shapes, parameters and
/// FLOPs, and totals by operator type. Each operator's unit (`OperatorRegistry`) decodes its options
/// and reports its parameters and FLOPs (2·MAC of its multiply-adds; 0 for operators without).
public struct ModelReport: Codable, Sendable {
    /// A graph input or output.
    public struct IO: Codable, Sendable {
        public var tensor: Int
        public var name: String
        public var shape: [Int]
        public var type: String
    }

    /// One operator.
    public struct Row: Codable, Sendable {
        public var index: Int
        public var op: String
        /// Tensor indices (-1 = absent optional input).
        public var inputs: [Int]
        public var outputs: [Int]
        /// Shapes of `inputs` (empty for an absent input).
        public var inputShapes: [[Int]]
        public var outputShapes: [[Int]]
        /// Fused activation name, nil when the options carry none.
        public var activation: String?
        /// Op parameters, e.g. `stride 2x2 pad SAME kernel 3x3`.
        public var params: String
        /// Millions of floating-point operations (2·MAC); 0 for ops that are not convolutions.
        public var mflops: Double
    }

    /// Totals for one operator type.
    public struct OpTotal: Codable, Sendable {
        public var op: String
        public var count: Int
        public var mflops: Double
    }

    public var version: UInt32
    public var description: String?
    public var subgraph: Int
    public var inputs: [IO]
    public var outputs: [IO]
    public var rows: [Row]
    /// Sorted by count (descending), then name.
    public var totals: [OpTotal]
    public var operatorCount: Int
    /// Elements of all tensors that have constant data (dense shape for sparse ones).
    public var parameterCount: Int
    /// Bytes of constant data stored in the file.
    public var constantBytes: Int
    /// Total GFLOPs (2·MAC) of the operators that multiply-add (convolutions, matrix products).
    public var gflops: Double

    /// Builds the report for `subgraph` of `model`.
    public init(model: Model, subgraph index: Int = 0) throws {
        guard index >= 0, index < model.subgraphs.count else {
            throw TFLiteError.invalidModel(what: "subgraph \(index) out of range 0..<\(model.subgraphs.count)", location: "")
        }
        let graph = model.subgraphs[index]
        func io(_ t: Int) -> IO {
            let tensor = graph.tensors[t]
            return IO(tensor: t, name: tensor.name, shape: tensor.shape, type: tensor.type.description)
        }
        version = model.version
        description = model.description
        subgraph = index
        inputs = graph.inputs.map(io)
        outputs = graph.outputs.map(io)
        rows = graph.operators.enumerated().map { i, op in
            Self.row(index: i, op: op, model: model, graph: graph)
        }
        var byOp: [String: OpTotal] = [:]
        for row in rows {
            byOp[row.op, default: OpTotal(op: row.op, count: 0, mflops: 0)].count += 1
            byOp[row.op]?.mflops += row.mflops
        }
        totals = byOp.values.sorted { ($0.count, $1.op) > ($1.count, $0.op) }
        operatorCount = rows.count
        var parameters = 0, bytes = 0
        for tensor in graph.tensors {
            guard tensor.buffer < model.buffers.count, model.buffers[tensor.buffer].count > 0 else { continue }
            parameters = parameters.addingReportingOverflow(tensor.elementCount ?? 0).partialValue
            bytes += model.buffers[tensor.buffer].count   // each <= file size; cannot overflow in practice
        }
        parameterCount = parameters
        constantBytes = bytes
        gflops = rows.reduce(0) { $0 + $1.mflops } / 1000
    }

    private static func row(index: Int, op: Operator, model: Model, graph: Subgraph) -> Row {
        let shapes = op.inputs.map { $0 >= 0 && $0 < graph.tensors.count ? graph.tensors[$0].shape : [] }
        let outShapes = op.outputs.map { $0 >= 0 && $0 < graph.tensors.count ? graph.tensors[$0].shape : [] }
        let kind = OperatorKind(of: op, in: model)
        var params = "", activation: String?, flops = 0.0
        if let unitType = OperatorRegistry.unit(for: kind) {
            // The operator's own unit decodes its options; a bad option shows as the error text.
            do {
                let unit = try unitType.init(site: OperatorSite(index: index, name: kind.description, op: op))
                params = unit.parameters(inputShapes: shapes, outputShapes: outShapes)
                activation = unit.fusedActivation.flatMap { $0 == .none ? nil : $0.tfliteName }
                flops = unit.flops(inputShapes: shapes, outputShapes: outShapes)
            } catch {
                params = "invalid options: \(error)"
            }
        } else if op.options.unionType != 0 {
            params = "options type \(op.options.unionType)"
        }
        return Row(index: index, op: kind.description, inputs: op.inputs, outputs: op.outputs,
                   inputShapes: shapes, outputShapes: outShapes, activation: activation,
                   params: params, mflops: flops / 1e6)
    }
}

extension ModelReport {
    private static func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

    /// A plain-text table (fixed-width columns).
    public func text(includeRows: Bool = true) -> String {
        var lines: [String] = []
        lines.append("TFLite schema version \(version)" + (description.map { ", \"\($0)\"" } ?? ""))
        for (label, list) in [("input ", inputs), ("output", outputs)] {
            for io in list { lines.append("  \(label) #\(io.tensor) \(io.name) \(Self.shapeText(io.shape)) \(io.type)") }
        }
        if includeRows {
            lines.append("")
            lines.append(pad("#", 4) + pad("op", 20) + pad("inputs -> output", 60) + pad("act", 8) + pad("params", 44) + "MFLOPs")
            for row in rows {
                let ins = zip(row.inputs, row.inputShapes)
                    .map { $0.0 < 0 ? "-" : Self.shapeText($0.1) }.joined(separator: " ")
                let outs = row.outputShapes.map(Self.shapeText).joined(separator: " ")
                let flops = row.mflops > 0 ? String(format: "%.3f", row.mflops) : ""
                lines.append(pad("\(row.index)", 4) + pad(row.op, 20) + pad("\(ins) -> \(outs)", 60)
                             + pad(row.activation ?? "", 8) + pad(row.params, 44) + flops)
            }
        }
        lines.append("")
        lines.append("operators by type:")
        for total in totals {
            let flops = total.mflops > 0 ? String(format: "  %.3f MFLOPs", total.mflops) : ""
            lines.append("  " + pad(total.op, 20) + String(format: "%5d", total.count) + flops)
        }
        lines.append("operators: \(operatorCount)   parameters: \(parameterCount) (\(constantBytes) bytes stored)   "
                     + String(format: "%.3f GFLOPs (2·MAC)", gflops))
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    /// Pretty-printed JSON with sorted keys (deterministic).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A Graphviz DOT graph: one node per operator, edges along tensors (labelled with their shape);
    /// graph inputs and outputs as ellipses. Constant inputs are folded into the op node.
    public func dot(model: Model) -> String {
        let graph = model.subgraphs[subgraph]
        // DOT escString: backslash and quote escaped, line breaks as the `\n` escape (centred lines).
        func quote(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var producer: [Int: String] = [:]
        var lines = ["digraph model {", "  rankdir=TB;", "  node [shape=box, fontname=\"Helvetica\", fontsize=10];"]
        for io in inputs {
            let id = "in\(io.tensor)"
            lines.append("  \(id) [shape=ellipse, label=\(quote("\(io.name)\n\(Self.shapeText(io.shape))"))];")
            producer[io.tensor] = id
        }
        for row in rows {
            let id = "op\(row.index)"
            var label = "#\(row.index) \(row.op)"
            if !row.params.isEmpty { label += "\n" + row.params }
            if let act = row.activation { label += "\n" + act }
            lines.append("  \(id) [label=\(quote(label))];")
            for t in row.inputs where t >= 0 {
                if let from = producer[t] {
                    lines.append("  \(from) -> \(id) [label=\(quote(Self.shapeText(graph.tensors[t].shape)))];")
                }
            }
            for t in row.outputs { producer[t] = id }
        }
        for io in outputs {
            let id = "out\(io.tensor)"
            lines.append("  \(id) [shape=ellipse, label=\(quote("\(io.name)\n\(Self.shapeText(io.shape))"))];")
            if let from = producer[io.tensor] { lines.append("  \(from) -> \(id);") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
