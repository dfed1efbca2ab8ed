import BlazeKernels
import TFLite

/// AVERAGE_POOL_2D: NHWC window mean over the input cells inside the window (TFLite's reference:
/// padding cells are not counted), SAME/VALID, fused activation (`AveragePool2DOperator`).
struct AveragePool2DUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.averagePool2D)
    /// `Pool2DOptions`: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5.
    static let unionType: UInt8 = 5

    let window: WindowOptions
    let filterHeight: Int, filterWidth: Int
    let activation: FusedActivation

    init(site: OperatorSite) throws {
        try site.requireOptions(Self.unionType)
        let o = site.op.options
        window = WindowOptions(padding: try Padding(field: 0, of: site),
                               strideHeight: try o.int(2, "stride_h"), strideWidth: try o.int(1, "stride_w"))
        filterWidth = try o.int(3, "filter_width")
        filterHeight = try o.int(4, "filter_height")
        activation = try FusedActivation(field: 5, of: site)
    }

    var fusedActivation: FusedActivation? { activation }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String {
        "filter \(filterHeight)x\(filterWidth) " + window.text
    }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try site.arity(inputs: 1...1)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let xShape = try graph.shape(x)
        let pool2D = try graph.kernel(site) {
            try AveragePool2DOperator(inputShape: xShape, filterHeight: filterHeight, filterWidth: filterWidth,
                                      strideHeight: window.strideHeight, strideWidth: window.strideWidth,
                                      padding: window.padding, activation: activation)
        }
        try graph.checkOutput(y, pool2D.outputShape.dims, site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in pool2D.run(input: arena + xo, output: arena + yo, pool: pool) }
        }
    }
}
