/// CONV_2D on NHWC float32 tensors with weights prepacked once at load time.
///
/// Layouts: input NHWC `[N, H, W, I]`, weights OHWI `[O, KH, KW, I]`, bias `[O]`,
/// output NHWC `[N, OH, OW, O]`. Semantics are TFLite's `reference_ops::Conv`: zero padding
/// (SAME/VALID), strides, dilation, bias added after the sum, then the fused activation.
///
/// Strategy: a 1×1, stride-1, unpadded conv is a GEMM directly on the NHWC input
/// (M = N·H·W pixels, K = I, N = O). Any other conv gathers each 48-pixel block into a
/// per-worker im2col scratch (`[48][KH·KW·I]`, same k order as OHWI) and runs the same GEMM.
public final class Conv2DOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let geometry: WindowGeometry
    public let activation: FusedActivation
    public let backend: GemmBackend
    let packed: PackedGemmWeights
    /// True when the input itself is the GEMM's A matrix.
    let isPointwise: Bool
    /// K of the GEMM: KH·KW·I.
    let patchSize: Int

    /// Validates shapes and prepacks `weights` (OHWI, `weightsShape` = `[O, KH, KW, I]`) and `bias`
    /// (`[O]` or empty for none). Throws `KernelError` when anything does not fit.
    public init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                strideHeight: Int, strideWidth: Int, dilationHeight: Int = 1, dilationWidth: Int = 1,
                padding: Padding, activation: FusedActivation, backend: GemmBackend = .native) throws {
        let op = "CONV_2D"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard weightsShape.count == 4, weightsShape.allSatisfy({ $0 > 0 }) else {
            throw KernelError.invalidShape(op: op, what: "weights (OHWI)", shape: weightsShape)
        }
        let (o, kh, kw, i) = (weightsShape[0], weightsShape[1], weightsShape[2], weightsShape[3])
        guard i == input.channels else {
            throw KernelError.shapeMismatch(op: op, detail: "weights input depth \(i) != input channels \(input.channels)")
        }
        guard weights.count == o * kh * kw * i else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: o * kh * kw * i, got: weights.count)
        }
        guard bias.isEmpty || bias.count == o else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values, output channels \(o)")
        }
        let g = try WindowGeometry(op: op, inputHeight: input.height, inputWidth: input.width,
                                   kernelHeight: kh, kernelWidth: kw, strideHeight: strideHeight,
                                   strideWidth: strideWidth, dilationHeight: dilationHeight,
                                   dilationWidth: dilationWidth, padding: padding)
        self.inputShape = input
        self.outputShape = NHWCShape(batch: input.batch, height: g.outputHeight, width: g.outputWidth, channels: o)
        self.geometry = g
        self.activation = activation
        self.backend = backend
        self.patchSize = kh * kw * i
        self.isPointwise = kh == 1 && kw == 1 && strideHeight == 1 && strideWidth == 1
            && g.padTop == 0 && g.padLeft == 0
        packed = weights.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                PackedGemmWeights(weights: wp.baseAddress!, bias: bias.isEmpty ? nil : bp.baseAddress,
                                  n: o, k: kh * kw * i, backend: backend)
            }
        }
    }

    /// Floats of scratch `run` needs for a pool of `threads` threads (0 for pointwise convs).
    public func scratchCount(threads: Int) -> Int {
        isPointwise ? 0 : Swift.max(1, threads) * gemmRowsPerUnit * patchSize
    }

    /// Runs the conv. `input` holds `inputShape.elementCount` floats (NHWC), `output`
    /// `outputShape.elementCount` (NHWC), `scratch` at least `scratchCount(threads: pool.threadCount)`.
    /// Does not validate the pointers (the interpreter owns the buffers it planned).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        let g = geometry
        let ic = inputShape.channels, oc = outputShape.channels
        if isPointwise {
            gemm(m: outputShape.batch * g.outputHeight * g.outputWidth, a: input, lda: ic, weights: packed,
                 activation: activation, c: output, ldc: oc, pool: pool)
            return
        }
        guard let scratch else { return }
        let pixelsPerImage = g.outputHeight * g.outputWidth
        let totalPixels = outputShape.batch * pixelsPerImage
        let units = (totalPixels + gemmRowsPerUnit - 1) / gemmRowsPerUnit
        let k = patchSize
        pool.parallelFor(units) { unit, worker in
            let p0 = unit * gemmRowsPerUnit, p1 = Swift.min(totalPixels, p0 + gemmRowsPerUnit)
            // cols: [rows][KH·KW·I], one im2col row per output pixel, zeros where the window leaves the input.
            let cols = scratch + worker * gemmRowsPerUnit * k
            for p in p0..<p1 {
                let b = p / pixelsPerImage, oy = (p % pixelsPerImage) / g.outputWidth, ox = p % g.outputWidth
                let row = cols + (p - p0) * k
                let inImage = input + b * g.inputHeight * g.inputWidth * ic
                for ky in 0..<g.kernelHeight {
                    let iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight
                    for kx in 0..<g.kernelWidth {
                        let ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth
                        let dst = row + (ky * g.kernelWidth + kx) * ic
                        if iy < 0 || iy >= g.inputHeight || ix < 0 || ix >= g.inputWidth {
                            dst.update(repeating: 0, count: ic)
                        } else {
                            dst.update(from: inImage + (iy * g.inputWidth + ix) * ic, count: ic)
                        }
                    }
                }
            }
            gemmRows(m: p1 - p0, a: cols, lda: k, weights: packed, activation: activation,
                     c: output + p0 * oc, ldc: oc)
        }
    }
}
