/// A 1×1 conv kernel, dense or sparse: the one a `PointwiseDepthwiseOperator` runs on the
/// depthwise output rows it computes (MobileNetV2's projection after the expansion and the
/// depthwise conv), or the one a `ResizedPointwiseOperator` runs on the small map before its resize.
public enum PointwiseProjection {
    /// A native-GEMM 1×1 conv (`Conv2DOperator.isPointwise`), several output channels, no PRELU.
    case dense(Conv2DOperator)
    /// A sparse 1×1 conv reading its input as given (no `resize`).
    case sparse(SparseConv1x1Operator)

    /// Its input, NHWC `[N, H, W, C]`.
    public var inputShape: NHWCShape {
        switch self { case .dense(let c): return c.inputShape; case .sparse(let c): return c.inputShape }
    }
    /// Its output, NHWC `[N, H, W, P]`.
    public var outputShape: NHWCShape {
        switch self { case .dense(let c): return c.outputShape; case .sparse(let c): return c.outputShape }
    }
    /// Whether its `run` may be given a residual in the output's own memory (the conv's own
    /// `residualMayShareOutput`).
    public var residualMayShareOutput: Bool {
        switch self { case .dense(let c): return c.residualMayShareOutput; case .sparse(let c): return c.residualMayShareOutput }
    }
    /// Pixels it is given at a time: the sparse kernel's widest tile, or 64 rows of the GEMM.
    var tilePixels: Int {
        switch self { case .dense: return 64; case .sparse(let c): return 8 * c.tileGroups }
    }
    /// Floats of scratch one worker needs for it (the sparse kernel's tile scratch; 0 dense).
    var scratchCount: Int {
        switch self { case .dense: return 0; case .sparse(let c): return c.scratchCount(threads: 1) }
    }

    /// Floats of scratch its whole-map `run` needs with `threads` threads.
    public func scratchCount(threads: Int) -> Int {
        switch self {
        case .dense(let c): return c.scratchCount(threads: threads)
        case .sparse(let c): return c.scratchCount(threads: threads)
        }
    }

    /// The whole map: `input` `[N, H, W, C]` → `output` `[N, H, W, P]` on `pool`, `scratch` at
    /// least `scratchCount(threads:)` floats; the conv's own `run`.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                    pool: ThreadPool, residual: GemmResidual? = nil) {
        switch self {
        case .dense(let c): c.run(input: input, output: output, scratch: scratch, pool: pool, residual: residual)
        case .sparse(let c): c.run(input: input, output: output, scratch: scratch, pool: pool, residual: residual)
        }
    }

    /// Computes `pixels` NHWC pixels on the calling thread: `input` `[pixels][C]`, `output`
    /// `[pixels][P]`, with the conv's activation and then `residual` (its rows aligned with the
    /// output's): the bits of the conv's own `run` for those pixels.
    @inline(__always)
    func run(pixels: Int, from input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, residual: GemmResidual?,
             scratch: UnsafeMutablePointer<Float>) {
        switch self {
        case .dense(let conv):
            gemmRows(m: pixels, a: input, lda: conv.inputShape.channels, weights: conv.packed, activation: conv.activation,
                     c: output, ldc: conv.outputShape.channels, residual: residual)
        case .sparse(let conv):
            conv.runPixels(input: input, pixel0: 0, pixels: pixels, output: output, scratch: scratch, residual: residual)
        }
    }
}
