import BlazeKernels
import TFLite

/// MediaPipe's custom `Landmarks2TransformMatrix`, version 2 (face landmark with attention):
/// landmarks `[1, N, 3]` → matrix `[1, 4, 4]` (`Landmarks2TransformMatrixOperator`).
/// `custom_options` is a FlexBuffers map: `subset_idxs` (int vector), `left_rotation_idx`,
/// `right_rotation_idx`, `output_height`, `output_width` (ints), `scale_x`, `scale_y` and optionally
/// `target_rotation_radians` (floats, default 0).
struct Landmarks2TransformMatrixUnit: OperatorUnit {
    static let kind = OperatorKind.custom("Landmarks2TransformMatrix")

    let subset: [Int]
    let left: Int, right: Int
    let outputHeight: Int, outputWidth: Int
    let scaleX: Float, scaleY: Float, targetRotation: Float

    init(site: OperatorSite) throws {
        let map = try site.flexOptions()
        subset = try site.flex { try map.ints("subset_idxs") }
        left = try site.flex { try map.int("left_rotation_idx") }
        right = try site.flex { try map.int("right_rotation_idx") }
        outputHeight = try site.flex { try map.int("output_height") }
        outputWidth = try site.flex { try map.int("output_width") }
        scaleX = try site.flex { try map.float("scale_x") }
        scaleY = try site.flex { try map.float("scale_y") }
        targetRotation = map.contains("target_rotation_radians") ? try site.flex { try map.float("target_rotation_radians") } : 0
    }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        "subset \(subset.count) indices rotation \(left)->\(right) crop \(outputHeight)x\(outputWidth) scale \(scaleX)x\(scaleY)"
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 1...1)
        try site.requireVersion(2, in: graph.model)
        let x = try graph.activation(site.op.inputs[0], "landmarks", site)
        let y = try graph.activation(site.op.outputs[0], "output", site)
        let xShape = try graph.shape(x)
        let op = try graph.kernel(site) {
            try Landmarks2TransformMatrixOperator(inputShape: xShape, subsetIndices: subset, leftIndex: left, rightIndex: right,
                                                  targetRotation: targetRotation, outputHeight: outputHeight,
                                                  outputWidth: outputWidth, scaleX: scaleX, scaleY: scaleY)
        }
        try graph.checkOutput(y, op.outputShape, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, _ in op.run(landmarks: arena + xo, output: arena + yo) }
        }
    }
}
