/// The constant float tensors of one subgraph, keyed by tensor index, checked but not yet widened
/// (see ``Model/constantTable(subgraph:)``). Several tensors may share one source (a DENSIFY output
/// and the DEQUANTIZE output that follows it).
public struct ConstantTable: Sendable {
    /// Where the float32 values of one constant tensor come from (an entry of ``ConstantTable``).
    public struct Source: Sendable, Equatable {
        /// The tensor whose buffer holds the data: the constant itself (a plain FLOAT32 constant) or the
        /// constant input of the DEQUANTIZE / DENSIFY chain that produces it.
        public var tensor: Int
        /// The DEQUANTIZE or DENSIFY operator that reads `tensor` (named in errors); nil for a plain
        /// FLOAT32 constant.
        public var op: Int?
        /// Number of float32 values (row-major over the shape of the tensor they resolve).
        public var count: Int
    }

    /// The subgraph the table describes.
    public let subgraph: Int
    /// Source of every constant float tensor, by tensor index.
    public let sources: [Int: Source]

    /// Whether tensor `t` is a constant float tensor.
    public func contains(_ t: Int) -> Bool { sources[t] != nil }
}
