import BlazeKernels
import TFLite

/// RESHAPE: a view, no copy: the output shares the input's storage. The output's declared shape
/// must hold as many elements as the input.
struct ReshapeUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.reshape)
    /// `ReshapeOptions`: new_shape 0 (optional; the shape may come from the second input instead).
    static let unionType: UInt8 = 17

    let newShape: [Int]?

    init(site: OperatorSite) throws {
        newShape = site.op.options.unionType == Self.unionType ? try site.op.options.intVector(0, "new_shape") : nil
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        newShape.map { "new_shape \($0)" } ?? ""
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 1...2)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let xShape = try graph.shape(x), yShape = try graph.shape(y)
        guard graph.elementCount(x) == yShape.reduce(1, *) else {
            throw site.fail("reshape from \(xShape) to \(yShape) changes the element count")
        }
        try graph.makeView(y, of: x, site)
        return nil
    }
}
