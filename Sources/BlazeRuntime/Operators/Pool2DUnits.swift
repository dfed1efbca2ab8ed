import BlazeKernels
import TFLite

/// `Pool2DOptions`, shared by MAX_POOL_2D and AVERAGE_POOL_2D: padding 0, stride_w 1, stride_h 2,
/// filter_width 3, filter_height 4, fused_activation_function 5.
struct Pool2DOptions {
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

    var text: String { "filter \(filterHeight)x\(filterWidth) " + window.text }

    /// One NHWC input, one output: builds the kernel for the input's shape with `make`, checks the
    /// output shape, and binds `run(kernel, input, output, pool)`.
    func prepare<Kernel>(_ graph: inout GraphBuilder, _ site: OperatorSite,
                         make: (_ inputShape: [Int], Pool2DOptions) throws -> Kernel,
                         outputShape: (Kernel) -> [Int],
                         run: @escaping (Kernel, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, ThreadPool) -> Void)
        throws -> PreparedStep {
        try site.arity(inputs: 1...1)
        let x = try graph.activation(site.op.inputs[0], "input", site), y = try graph.activation(site.op.outputs[0], "output", site)
        let xShape = try graph.shape(x)
        let kernel = try graph.kernel(site) { try make(xShape, self) }
        try graph.checkOutput(y, outputShape(kernel), site)
        return PreparedStep(flops: 0) { offset in
            let xo = offset(x), yo = offset(y)
            return { arena, _, pool in run(kernel, arena + xo, arena + yo, pool) }
        }
    }
}

/// MAX_POOL_2D: NHWC window maximum with SAME/VALID padding and a fused activation (`MaxPool2DOperator`).
struct MaxPool2DUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.maxPool2D)
    let options: Pool2DOptions

    init(site: OperatorSite) throws { options = try Pool2DOptions(site: site) }

    var fusedActivation: FusedActivation? { options.activation }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { options.text }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try options.prepare(&graph, site, make: { shape, o in
            try MaxPool2DOperator(inputShape: shape, filterHeight: o.filterHeight, filterWidth: o.filterWidth,
                                  strideHeight: o.window.strideHeight, strideWidth: o.window.strideWidth,
                                  padding: o.window.padding, activation: o.activation)
        }, outputShape: { $0.outputShape.dims }, run: { $0.run(input: $1, output: $2, pool: $3) })
    }
}

/// AVERAGE_POOL_2D: NHWC window mean over the input cells inside the window (TFLite's reference:
/// padding cells are not counted), SAME/VALID, fused activation (`AveragePool2DOperator`).
struct AveragePool2DUnit: OperatorUnit {
    static let kind = OperatorKind.builtin(.averagePool2D)
    let options: Pool2DOptions

    init(site: OperatorSite) throws { options = try Pool2DOptions(site: site) }

    var fusedActivation: FusedActivation? { options.activation }

    func parameters(inputShapes: [[Int]], outputShapes: [[Int]]) -> String { options.text }

    func prepare(_ graph: inout GraphBuilder, _ site: OperatorSite) throws -> PreparedStep? {
        try options.prepare(&graph, site, make: { shape, o in
            try AveragePool2DOperator(inputShape: shape, filterHeight: o.filterHeight, filterWidth: o.filterWidth,
                                      strideHeight: o.window.strideHeight, strideWidth: o.window.strideWidth,
                                      padding: o.window.padding, activation: o.activation)
        }, outputShape: { $0.outputShape.dims }, run: { $0.run(input: $1, output: $2, pool: $3) })
    }
}
