import BlazeKernels
import TFLite

/// MediaPipe's custom `TransformTensorBilinear`, version 2 (face landmark with attention): feature
/// map NHWC `[1, H, W, C]` and matrix `[1, 4, 4]` → NHWC `[1, OH, OW, C]`
/// (`TransformTensorBilinearOperator`). `custom_options` is a FlexBuffers map with `output_height`
/// and `output_width`, which must agree with the output tensor.
struct TransformTensorBilinearUnit: OperatorUnit {
    static let kind = OperatorKind.custom("TransformTensorBilinear")

    let outputHeight: Int, outputWidth: Int

    init(site: OperatorSite) throws {
        let map = try site.flexOptions()
        outputHeight = try site.flex { try map.int("output_height") }
        outputWidth = try site.flex { try map.int("output_width") }
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { "output \(outputHeight)x\(outputWidth)" }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...2)
        try site.requireVersion(2, in: graph.model)
        let x = try graph.activation(site.op.inputs[0], "input", site)
        let m = try graph.activation(site.op.inputs[1], "matrix", site)
        let y = try graph.activation(site.op.outputs[0], "output", site)
        let xShape = try graph.shape(x)
        guard try graph.shape(m) == [1, 4, 4] else { throw site.fail("matrix tensor \(m) must be [1, 4, 4], is \(try graph.shape(m))") }
        let op = try graph.kernel(site) {
            try TransformTensorBilinearOperator(inputShape: xShape, outputHeight: outputHeight, outputWidth: outputWidth)
        }
        try graph.checkOutput(y, op.outputShape.dims, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), mo = offset(m), yo = offset(y)
            return { arena, _, pool in op.run(input: arena + xo, matrix: arena + mo, output: arena + yo, pool: pool) }
        }
    }
}
