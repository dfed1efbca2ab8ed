import BlazeKernels
import TFLite

/// STRIDED_SLICE: `begin`, `end`, `strides` (INT32 constants, one value per input dimension) with
/// begin/end/shrink-axis masks, negative indices and strides, as TFLite's reference
/// (`StridedSliceOperator`). Ellipsis and new-axis masks and `offset` are unsupported options.
struct StridedSliceUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.stridedSlice)
    /// `StridedSliceOptions`: begin_mask 0, end_mask 1, ellipsis_mask 2, new_axis_mask 3,
    /// shrink_axis_mask 4, offset 5.
    static let unionType: UInt8 = 32

    let beginMask: Int, endMask: Int, ellipsisMask: Int, newAxisMask: Int, shrinkAxisMask: Int
    let offset: Bool

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        let o = site.op.options
        beginMask = try o.int(0, "begin_mask")
        endMask = try o.int(1, "end_mask")
        ellipsisMask = try o.int(2, "ellipsis_mask")
        newAxisMask = try o.int(3, "new_axis_mask")
        shrinkAxisMask = try o.int(4, "shrink_axis_mask")
        offset = try o.bool(5, "offset")
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        "begin_mask \(beginMask) end_mask \(endMask) shrink_axis_mask \(shrinkAxisMask)"
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 4...4)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let begin = try graph.constantInt32s(site.op.inputs[1], "begin", site)
        let end = try graph.constantInt32s(site.op.inputs[2], "end", site)
        let strides = try graph.constantInt32s(site.op.inputs[3], "strides", site)
        let xShape = try graph.shape(x)
        let slice = try graph.kernel(site) {
            try StridedSliceOperator(inputShape: xShape, begin: begin, end: end, strides: strides,
                                     beginMask: beginMask, endMask: endMask, ellipsisMask: ellipsisMask,
                                     newAxisMask: newAxisMask, shrinkAxisMask: shrinkAxisMask, offset: offset)
        }
        try graph.checkOutput(y, slice.outputShape, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in slice.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
