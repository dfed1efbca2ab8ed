import BlazeKernels
import TFLite

/// MediaPipe's custom `TransformLandmarks`, version 2 (face landmark with attention): landmarks
/// `[1, N, D]` (D = 2 or 3) and matrix `[1, 4, 4]` → `[1, N, D]` (`TransformLandmarksOperator`).
/// Version 2 has no options (its `custom_options` are empty; D comes from the tensor shape).
struct TransformLandmarksUnit: OperatorUnit {
    static let kind = OperatorKind.custom("TransformLandmarks")

    init(site: OperatorSite) throws {}

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 2...2)
        try site.requireVersion(2, in: graph.model)
        let x = try graph.activation(site.op.inputs[0], "landmarks", site)
        let m = try graph.activation(site.op.inputs[1], "matrix", site)
        let y = try graph.activation(site.op.outputs[0], "output", site)
        guard x != y else { throw site.fail("output tensor \(y) is also its input") }
        let xShape = try graph.shape(x)
        guard try graph.shape(m) == [1, 4, 4] else { throw site.fail("matrix tensor \(m) must be [1, 4, 4], is \(try graph.shape(m))") }
        let op = try graph.kernel(site) { try TransformLandmarksOperator(inputShape: xShape) }
        try graph.checkOutput(y, op.shape, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), mo = offset(m), yo = offset(y)
            return { arena, _, _ in op.run(landmarks: arena + xo, matrix: arena + mo, output: arena + yo) }
        }
    }
}
