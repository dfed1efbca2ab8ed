import Foundation

/// One tensor of a reference comparison.
public struct ComparisonRow: Sendable {
    public var tensor: Int
    public var name: String
    public var shape: [Int]
    /// "input", "output" or "intermediate".
    public var role: String
    /// Operator that writes the tensor (nil for inputs and constants).
    public var producer: Int?
    public var producerName: String?
    public var difference: TensorDifference
    /// The tolerance this tensor was held to (see ``ComparisonReport/tolerance``).
    public var tolerance: Float
    public var withinTolerance: Bool
}

/// Every tensor a reference holds, compared with ours, in execution order.
public struct ComparisonReport: Sendable {
    public var rows: [ComparisonRow]
    /// Tolerance: `max|ours − ref| ≤ tolerance · max(1, max|ref|)`. With `xnnpackScaled`, an output
    /// the manifest records XNNPACK's distance for is held to `max(tolerance, 1.5 × that distance)`
    /// instead (each row states its own).
    public var tolerance: Float
    /// Tensors the reference holds that we do not compute (e.g. folded constants).
    public var skipped: [String]
    /// The first operator (in execution order) whose output leaves tolerance.
    public var firstFailing: ComparisonRow? { rows.first { !$0.withinTolerance && $0.role != "input" } }
    public var allWithinTolerance: Bool { rows.allSatisfy(\.withinTolerance) }
}

extension Interpreter {
    /// Feeds the reference's inputs, runs once and compares every tensor the
    /// reference holds. Build the interpreter with `preserveIntermediates: true`
    /// to compare intermediates (otherwise their memory has been reused).
    ///
    /// - Throws: ``ReferenceDumpError/unknownTensor(file:index:detail:)`` when an entry's tensor
    ///   index is not in the model or its name or shape differ from the model's tensor,
    ///   ``ReferenceDumpError/missingInput(index:name:)`` when a model input has no entry,
    ///   ``ReferenceDumpError/nothingCompared(entries:)`` when no output or intermediate could be compared, and the
    ///   errors of reading the `.npy` files.
    /// - Parameter xnnpackScaled: hold each output the manifest's `xnnpack_vs_builtin` names to
    ///   `max(tolerance, 1.5 × XNNPACK's own relative distance from the builtin kernels)`: the
    ///   accuracy bar of the model tests (a reference made with LiteRT's builtin kernels is not
    ///   matched more closely by XNNPACK itself, e.g. the full model's segmentation logits).
    public func compare(with dump: ReferenceDump, tolerance: Float = 1e-4, xnnpackScaled: Bool = false) throws -> ComparisonReport {
        let tensors = model.subgraphs[0].tensors
        for entry in dump.entries {
            guard tensors.indices.contains(entry.index) else {
                throw ReferenceDumpError.unknownTensor(file: entry.file, index: entry.index,
                                                       detail: "the model has tensors 0..<\(tensors.count) only")
            }
            let tensor = tensors[entry.index]
            guard tensor.name == entry.name else {
                throw ReferenceDumpError.unknownTensor(file: entry.file, index: entry.index,
                                                       detail: "the manifest names it '\(entry.name)', the model '\(tensor.name)'")
            }
            guard tensor.shape == entry.shape else {
                throw ReferenceDumpError.unknownTensor(file: entry.file, index: entry.index,
                                                       detail: "manifest shape \(entry.shape), model shape \(tensor.shape)")
            }
        }
        for input in inputs where !dump.entries.contains(where: { $0.role == "input" && $0.index == input.index }) {
            throw ReferenceDumpError.missingInput(index: input.index, name: input.name)
        }
        for entry in dump.entries where entry.role == "input" {
            guard let i = inputs.firstIndex(where: { $0.index == entry.index }) else {
                throw RuntimeError.inputIndex(entry.index, count: inputs.count)
            }
            try setInput(i, dump.values(of: entry))
        }
        invoke()
        let outputIndices = Set(outputs.map(\.index))
        var rows: [ComparisonRow] = [], skipped: [String] = []
        for entry in dump.entries {
            let isPlannedIntermediate = options.preserveIntermediates || entry.role != "intermediate" || outputIndices.contains(entry.index)
            guard isPlannedIntermediate, let ours = tensorValues(entry.index), plan.offsets.indices.contains(entry.index),
                  plan.offsets[entry.index] != nil else {
                skipped.append(entry.name)
                continue
            }
            let diff = TensorDifference(ours: ours, reference: try dump.values(of: entry))
            let producer = self.producer(of: entry.index)
            let scaled = xnnpackScaled ? dump.xnnpackRelative[entry.name].map { 1.5 * $0 } : nil
            let rowTolerance = max(tolerance, scaled ?? 0)
            rows.append(ComparisonRow(tensor: entry.index, name: entry.name, shape: entry.shape, role: entry.role,
                                      producer: producer,
                                      producerName: producer.map { OperatorKind(of: model.subgraphs[0].operators[$0], in: model).description },
                                      difference: diff, tolerance: rowTolerance, withinTolerance: diff.within(rowTolerance)))
        }
        // Inputs are copied in, so they always match: at least one computed tensor must be compared.
        guard rows.contains(where: { $0.role != "input" }) else { throw ReferenceDumpError.nothingCompared(entries: dump.entries.count) }
        rows.sort { ($0.producer ?? -1, $0.tensor) < ($1.producer ?? -1, $1.tensor) }
        return ComparisonReport(rows: rows, tolerance: tolerance, skipped: skipped)
    }
}
