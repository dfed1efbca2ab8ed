/// max-then-min clamp of 8 lanes (TFLite's `ActivationFunctionWithMinMax` order).
@inline(__always)
func clampVector(_ v: SIMD8<Float>, _ lo: SIMD8<Float>, _ hi: SIMD8<Float>) -> SIMD8<Float> {
    let r = v.replacing(with: lo, where: v .< lo)
    return r.replacing(with: hi, where: r .> hi)
}

/// DEPTHWISE_CONV_2D on NHWC float32 tensors.
///
/// Layouts: input NHWC `[N, H, W, I]`, weights `[1, KH, KW, I·M]`, bias `[I·M]`, output NHWC
/// `[N, OH, OW, I·M]` with output channel `ic·M + m` (TFLite's `reference_ops::DepthwiseConv`).
///
/// Depth multiplier 1 (all BlazePose layers) runs a SIMD kernel vectorized over channels
/// (8 per register, scalar tail); other multipliers run a scalar loop with the same semantics.
/// Per output element the taps are summed in (ky, kx) order with separate multiply and add,
/// then bias, then the activation — the same arithmetic in every position and for any thread count.
public final class DepthwiseConv2DOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let geometry: WindowGeometry
    public let depthMultiplier: Int
    public let activation: FusedActivation
    /// `[KH·KW][C]` (C = I·M), the weights as given.
    let weights: UnsafeMutablePointer<Float>
    /// `[C]`, zeros when there is no bias.
    let bias: UnsafeMutablePointer<Float>

    /// Validates and copies `weights` (`weightsShape` = `[1, KH, KW, I·M]`) and `bias` (`[I·M]` or empty).
    public init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                depthMultiplier: Int, strideHeight: Int, strideWidth: Int,
                dilationHeight: Int = 1, dilationWidth: Int = 1,
                padding: Padding, activation: FusedActivation) throws {
        let op = "DEPTHWISE_CONV_2D"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard depthMultiplier > 0 && depthMultiplier <= maxDimension else {
            throw KernelError.invalidParameter(op: op, name: "depth multiplier", value: depthMultiplier)
        }
        guard weightsShape.count == 4, weightsShape[0] == 1, validDimensions(weightsShape) else {
            throw KernelError.invalidShape(op: op, what: "weights ([1, KH, KW, C])", shape: weightsShape)
        }
        let (kh, kw, c) = (weightsShape[1], weightsShape[2], weightsShape[3])
        guard c == input.channels * depthMultiplier else {
            throw KernelError.shapeMismatch(op: op, detail: "weights depth \(c) != input channels \(input.channels) × multiplier \(depthMultiplier)")
        }
        guard weights.count == kh * kw * c else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: kh * kw * c, got: weights.count)
        }
        guard bias.isEmpty || bias.count == c else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values, output channels \(c)")
        }
        let g = try WindowGeometry(op: op, inputHeight: input.height, inputWidth: input.width,
                                   kernelHeight: kh, kernelWidth: kw, strideHeight: strideHeight,
                                   strideWidth: strideWidth, dilationHeight: dilationHeight,
                                   dilationWidth: dilationWidth, padding: padding)
        self.inputShape = input
        outputShape = NHWCShape(batch: input.batch, height: g.outputHeight, width: g.outputWidth, channels: c)
        geometry = g
        self.depthMultiplier = depthMultiplier
        self.activation = activation
        self.weights = .allocate(capacity: kh * kw * c)
        self.weights.initialize(from: weights, count: kh * kw * c)
        self.bias = .allocate(capacity: c)
        self.bias.initialize(repeating: 0, count: c)
        if !bias.isEmpty { self.bias.update(from: bias, count: c) }
    }

    deinit {
        weights.deallocate()
        bias.deallocate()
    }

    /// Runs the op: `input` NHWC `inputShape`, `output` NHWC `outputShape`. Parallel over output rows.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let rows = outputShape.batch * geometry.outputHeight
        pool.parallelFor(rows) { row, _ in
            let b = row / geometry.outputHeight, oy = row % geometry.outputHeight
            if depthMultiplier == 1 {
                depthwiseRowMultiplier1(input: input, b: b, oy: oy, output: output)
            } else {
                depthwiseRowGeneric(input: input, b: b, oy: oy, output: output)
            }
        }
    }

    /// One output row for depth multiplier 1: channels in SIMD8 blocks, then a scalar tail.
    private func depthwiseRowMultiplier1(input: UnsafePointer<Float>, b: Int, oy: Int,
                                         output: UnsafeMutablePointer<Float>) {
        let g = geometry
        let c = outputShape.channels
        let lo = activation.lowerBound, hi = activation.upperBound
        let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
        let inYOrigin = oy * g.strideHeight - g.padTop
        // Valid ky range for this row: taps outside the input contribute nothing (TFLite skips them).
        var kyStart = 0, kyEnd = g.kernelHeight
        while kyStart < kyEnd && inYOrigin + kyStart * g.dilationHeight < 0 { kyStart += 1 }
        while kyEnd > kyStart && inYOrigin + (kyEnd - 1) * g.dilationHeight >= g.inputHeight { kyEnd -= 1 }
        let inImage = input + b * g.inputHeight * g.inputWidth * c
        let outRow = output + ((b * g.outputHeight + oy) * g.outputWidth) * c
        let vectorChannels = c & ~7
        // Interior columns: every kx tap inside the input, so no per-tap checks are needed.
        var oxLo = 0
        while oxLo < g.outputWidth && oxLo * g.strideWidth - g.padLeft < 0 { oxLo += 1 }
        var oxHi = g.outputWidth
        while oxHi > oxLo && (oxHi - 1) * g.strideWidth - g.padLeft + (g.kernelWidth - 1) * g.dilationWidth >= g.inputWidth {
            oxHi -= 1
        }
        // Interior columns, all SIMD channel blocks: kernel widths 3 and 5 (every BlazePose
        // depthwise layer) get a specialization with the kx loop unrolled at compile time.
        let interior = DepthwiseInterior(
            source: inImage + (inYOrigin * g.inputWidth - g.padLeft) * c, weights: weights, bias: bias,
            output: outRow, channels: vectorChannels, rowStride: c, pixelStride: g.strideWidth * c,
            tapStride: g.dilationWidth * c, kyStride: g.dilationHeight * g.inputWidth * c,
            kyStart: kyStart, kyEnd: kyEnd, kernelWidth: g.kernelWidth, lo: lov, hi: hiv)
        switch g.kernelWidth {
        case 3: interior.run(KernelWidth3.self, from: oxLo, to: oxHi)
        case 5: interior.run(KernelWidth5.self, from: oxLo, to: oxHi)
        default: interior.run(KernelWidthDynamic.self, from: oxLo, to: oxHi)
        }
        // Border columns (all channels) and the channel tail of interior columns. Interior
        // columns are visited only when there is a channel tail: for wide maps with few
        // channels (256×256×8) an empty visit per column costs as much as the work itself.
        let tailOnly = vectorChannels == c
        var ox = 0
        while ox < g.outputWidth {
            defer { ox += 1 }
            let interior = ox >= oxLo && ox < oxHi
            if interior && tailOnly { ox = oxHi - 1; continue }
            let inXOrigin = ox * g.strideWidth - g.padLeft
            var kxStart = 0, kxEnd = g.kernelWidth
            while kxStart < kxEnd && inXOrigin + kxStart * g.dilationWidth < 0 { kxStart += 1 }
            while kxEnd > kxStart && inXOrigin + (kxEnd - 1) * g.dilationWidth >= g.inputWidth { kxEnd -= 1 }
            let out = outRow + ox * c
            var ch = interior ? vectorChannels : 0
            // Four channel blocks at a time: independent accumulator chains (one chain per block
            // is bound by the add latency); per output the taps keep their (ky, kx) order.
            while ch + 32 <= vectorChannels {
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                for ky in kyStart..<kyEnd {
                    let inRow = inImage + ((inYOrigin + ky * g.dilationHeight) * g.inputWidth) * c + ch
                    let wRow = weights + ky * g.kernelWidth * c + ch
                    for kx in kxStart..<kxEnd {
                        let x = inRow + (inXOrigin + kx * g.dilationWidth) * c
                        let w = wRow + kx * c
                        a0 = a0 + loadVector(x) * loadVector(w)
                        a1 = a1 + loadVector(x + 8) * loadVector(w + 8)
                        a2 = a2 + loadVector(x + 16) * loadVector(w + 16)
                        a3 = a3 + loadVector(x + 24) * loadVector(w + 24)
                    }
                }
                storeVector(clampVector(a0 + loadVector(bias + ch), lov, hiv), out + ch)
                storeVector(clampVector(a1 + loadVector(bias + ch + 8), lov, hiv), out + ch + 8)
                storeVector(clampVector(a2 + loadVector(bias + ch + 16), lov, hiv), out + ch + 16)
                storeVector(clampVector(a3 + loadVector(bias + ch + 24), lov, hiv), out + ch + 24)
                ch += 32
            }
            while ch < vectorChannels {
                var acc = SIMD8<Float>()
                for ky in kyStart..<kyEnd {
                    let inRow = inImage + ((inYOrigin + ky * g.dilationHeight) * g.inputWidth) * c + ch
                    let wRow = weights + ky * g.kernelWidth * c + ch
                    for kx in kxStart..<kxEnd {
                        let x = loadVector(inRow + (inXOrigin + kx * g.dilationWidth) * c)
                        let w = loadVector(wRow + kx * c)
                        acc = acc + x * w
                    }
                }
                storeVector(clampVector(acc + loadVector(bias + ch), lov, hiv), out + ch)
                ch += 8
            }
            while ch < c {
                var acc: Float = 0
                for ky in kyStart..<kyEnd {
                    let inRow = inImage + ((inYOrigin + ky * g.dilationHeight) * g.inputWidth) * c + ch
                    let wRow = weights + ky * g.kernelWidth * c + ch
                    for kx in kxStart..<kxEnd {
                        acc = acc + inRow[(inXOrigin + kx * g.dilationWidth) * c] * wRow[kx * c]
                    }
                }
                out[ch] = Swift.min(Swift.max(acc + bias[ch], lo), hi)
                ch += 1
            }
        }
    }

    /// One output row for any depth multiplier (scalar; not used by the BlazePose models).
    private func depthwiseRowGeneric(input: UnsafePointer<Float>, b: Int, oy: Int,
                                     output: UnsafeMutablePointer<Float>) {
        let g = geometry
        let ic = inputShape.channels, oc = outputShape.channels, mult = depthMultiplier
        for ox in 0..<g.outputWidth {
            for c in 0..<ic {
                for m in 0..<mult {
                    let o = c * mult + m
                    var total: Float = 0
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideHeight - g.padTop + g.dilationHeight * ky
                        if iy < 0 || iy >= g.inputHeight { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideWidth - g.padLeft + g.dilationWidth * kx
                            if ix < 0 || ix >= g.inputWidth { continue }
                            total = total + input[((b * g.inputHeight + iy) * g.inputWidth + ix) * ic + c]
                                * weights[(ky * g.kernelWidth + kx) * oc + o]
                        }
                    }
                    output[((b * g.outputHeight + oy) * g.outputWidth + ox) * oc + o] =
                        activation.apply(total + bias[o])
                }
            }
        }
    }
}

/// Compile-time kernel width for the depthwise interior loop (`dynamic` reads it at run time).
protocol DepthwiseKernelWidth { static var value: Int { get } }
enum KernelWidth3: DepthwiseKernelWidth { static var value: Int { 3 } }
enum KernelWidth5: DepthwiseKernelWidth { static var value: Int { 5 } }
enum KernelWidthDynamic: DepthwiseKernelWidth { static var value: Int { 0 } }

/// The interior of one depthwise output row (depth multiplier 1): output columns whose whole
/// kx window is inside the input, channels `0..<channels` (a multiple of 8). Computes 4 output
/// pixels × 8 channels at a time so each weight vector load serves four pixels; pixels outer,
/// channels inner, so the few input rows in use stay in L1. Per output, taps are summed in
/// (ky, kx) order with separate multiply and add — the reference's arithmetic exactly.
struct DepthwiseInterior {
    /// Input pointer for output column 0, ky = 0, channel 0 (may point before the row; only
    /// interior columns are dereferenced).
    let source: UnsafePointer<Float>
    /// `[KH][KW][C]`.
    let weights: UnsafePointer<Float>
    let bias: UnsafePointer<Float>
    /// Output row, NHWC `[OW][C]`.
    let output: UnsafeMutablePointer<Float>
    let channels: Int
    /// C: floats between neighbouring output pixels and between kx weight rows.
    let rowStride: Int
    /// strideWidth · C, dilationWidth · C, dilationHeight · W · C.
    let pixelStride: Int, tapStride: Int, kyStride: Int
    let kyStart: Int, kyEnd: Int, kernelWidth: Int
    let lo: SIMD8<Float>, hi: SIMD8<Float>

    /// Stride 1, undilated, KW = 3: 8 pixels × 8 channels per step, each input vector loaded once
    /// and used for every (pixel, kx) pair that reads it. Visiting inputs left to right gives each
    /// pixel its taps in kx order, so per output the arithmetic is the generic loop's exactly.
    @inline(__always)
    func runUnitStride3(from oxStart: Int, to oxHi: Int) -> Int {
        let c = rowStride
        var ox = oxStart
        while ox + 8 <= oxHi {
            let base = source + ox * c
            let out = output + ox * c
            var ch = 0
            while ch < channels {
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * 3 * c + ch
                    let w0 = loadVector(wp + 0 * c)
                    let w1 = loadVector(wp + 1 * c)
                    let w2 = loadVector(wp + 2 * c)
                    do {
                        let x = loadVector(src + 0 * c)
                        a0 = a0 + x * w0
                    }
                    do {
                        let x = loadVector(src + 1 * c)
                        a1 = a1 + x * w0
                        a0 = a0 + x * w1
                    }
                    do {
                        let x = loadVector(src + 2 * c)
                        a2 = a2 + x * w0
                        a1 = a1 + x * w1
                        a0 = a0 + x * w2
                    }
                    do {
                        let x = loadVector(src + 3 * c)
                        a3 = a3 + x * w0
                        a2 = a2 + x * w1
                        a1 = a1 + x * w2
                    }
                    do {
                        let x = loadVector(src + 4 * c)
                        a4 = a4 + x * w0
                        a3 = a3 + x * w1
                        a2 = a2 + x * w2
                    }
                    do {
                        let x = loadVector(src + 5 * c)
                        a5 = a5 + x * w0
                        a4 = a4 + x * w1
                        a3 = a3 + x * w2
                    }
                    do {
                        let x = loadVector(src + 6 * c)
                        a6 = a6 + x * w0
                        a5 = a5 + x * w1
                        a4 = a4 + x * w2
                    }
                    do {
                        let x = loadVector(src + 7 * c)
                        a7 = a7 + x * w0
                        a6 = a6 + x * w1
                        a5 = a5 + x * w2
                    }
                    do {
                        let x = loadVector(src + 8 * c)
                        a7 = a7 + x * w1
                        a6 = a6 + x * w2
                    }
                    do {
                        let x = loadVector(src + 9 * c)
                        a7 = a7 + x * w2
                    }
                    ky += 1
                }
                let b = loadVector(bias + ch)
                storeVector(clampVector(a0 + b, lo, hi), out + 0 * c + ch)
                storeVector(clampVector(a1 + b, lo, hi), out + 1 * c + ch)
                storeVector(clampVector(a2 + b, lo, hi), out + 2 * c + ch)
                storeVector(clampVector(a3 + b, lo, hi), out + 3 * c + ch)
                storeVector(clampVector(a4 + b, lo, hi), out + 4 * c + ch)
                storeVector(clampVector(a5 + b, lo, hi), out + 5 * c + ch)
                storeVector(clampVector(a6 + b, lo, hi), out + 6 * c + ch)
                storeVector(clampVector(a7 + b, lo, hi), out + 7 * c + ch)
                ch += 8
            }
            ox += 8
        }
        return ox
    }

    /// Stride 1, undilated, KW = 5: 8 pixels × 8 channels per step, each input vector loaded once
    /// and used for every (pixel, kx) pair that reads it. Visiting inputs left to right gives each
    /// pixel its taps in kx order, so per output the arithmetic is the generic loop's exactly.
    @inline(__always)
    func runUnitStride5(from oxStart: Int, to oxHi: Int) -> Int {
        let c = rowStride
        var ox = oxStart
        while ox + 8 <= oxHi {
            let base = source + ox * c
            let out = output + ox * c
            var ch = 0
            while ch < channels {
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * 5 * c + ch
                    let w0 = loadVector(wp + 0 * c)
                    let w1 = loadVector(wp + 1 * c)
                    let w2 = loadVector(wp + 2 * c)
                    let w3 = loadVector(wp + 3 * c)
                    let w4 = loadVector(wp + 4 * c)
                    do {
                        let x = loadVector(src + 0 * c)
                        a0 = a0 + x * w0
                    }
                    do {
                        let x = loadVector(src + 1 * c)
                        a1 = a1 + x * w0
                        a0 = a0 + x * w1
                    }
                    do {
                        let x = loadVector(src + 2 * c)
                        a2 = a2 + x * w0
                        a1 = a1 + x * w1
                        a0 = a0 + x * w2
                    }
                    do {
                        let x = loadVector(src + 3 * c)
                        a3 = a3 + x * w0
                        a2 = a2 + x * w1
                        a1 = a1 + x * w2
                        a0 = a0 + x * w3
                    }
                    do {
                        let x = loadVector(src + 4 * c)
                        a4 = a4 + x * w0
                        a3 = a3 + x * w1
                        a2 = a2 + x * w2
                        a1 = a1 + x * w3
                        a0 = a0 + x * w4
                    }
                    do {
                        let x = loadVector(src + 5 * c)
                        a5 = a5 + x * w0
                        a4 = a4 + x * w1
                        a3 = a3 + x * w2
                        a2 = a2 + x * w3
                        a1 = a1 + x * w4
                    }
                    do {
                        let x = loadVector(src + 6 * c)
                        a6 = a6 + x * w0
                        a5 = a5 + x * w1
                        a4 = a4 + x * w2
                        a3 = a3 + x * w3
                        a2 = a2 + x * w4
                    }
                    do {
                        let x = loadVector(src + 7 * c)
                        a7 = a7 + x * w0
                        a6 = a6 + x * w1
                        a5 = a5 + x * w2
                        a4 = a4 + x * w3
                        a3 = a3 + x * w4
                    }
                    do {
                        let x = loadVector(src + 8 * c)
                        a7 = a7 + x * w1
                        a6 = a6 + x * w2
                        a5 = a5 + x * w3
                        a4 = a4 + x * w4
                    }
                    do {
                        let x = loadVector(src + 9 * c)
                        a7 = a7 + x * w2
                        a6 = a6 + x * w3
                        a5 = a5 + x * w4
                    }
                    do {
                        let x = loadVector(src + 10 * c)
                        a7 = a7 + x * w3
                        a6 = a6 + x * w4
                    }
                    do {
                        let x = loadVector(src + 11 * c)
                        a7 = a7 + x * w4
                    }
                    ky += 1
                }
                let b = loadVector(bias + ch)
                storeVector(clampVector(a0 + b, lo, hi), out + 0 * c + ch)
                storeVector(clampVector(a1 + b, lo, hi), out + 1 * c + ch)
                storeVector(clampVector(a2 + b, lo, hi), out + 2 * c + ch)
                storeVector(clampVector(a3 + b, lo, hi), out + 3 * c + ch)
                storeVector(clampVector(a4 + b, lo, hi), out + 4 * c + ch)
                storeVector(clampVector(a5 + b, lo, hi), out + 5 * c + ch)
                storeVector(clampVector(a6 + b, lo, hi), out + 6 * c + ch)
                storeVector(clampVector(a7 + b, lo, hi), out + 7 * c + ch)
                ch += 8
            }
            ox += 8
        }
        return ox
    }

    @inline(__always)
    func run<KW: DepthwiseKernelWidth>(_: KW.Type, from oxLo: Int, to oxHi: Int) {
        let kw = KW.value == 0 ? kernelWidth : KW.value
        let c = rowStride, sx = pixelStride, dx = tapStride
        var ox = oxLo
        if sx == c && dx == c {
            if KW.value == 3 { ox = runUnitStride3(from: ox, to: oxHi) }
            if KW.value == 5 { ox = runUnitStride5(from: ox, to: oxHi) }
        }
        // 8 pixels per step: eight independent add chains (four left the adds latency-bound).
        while ox + 8 <= oxHi {
            let base = source + ox * sx
            let out = output + ox * c
            var ch = 0
            while ch < channels {
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * kw * c + ch
                    var kx = 0
                    while kx < kw {
                        let w = loadVector(wp + kx * c)
                        let p = src + kx * dx
                        a0 = a0 + loadVector(p) * w
                        a1 = a1 + loadVector(p + sx) * w
                        a2 = a2 + loadVector(p + 2 * sx) * w
                        a3 = a3 + loadVector(p + 3 * sx) * w
                        a4 = a4 + loadVector(p + 4 * sx) * w
                        a5 = a5 + loadVector(p + 5 * sx) * w
                        a6 = a6 + loadVector(p + 6 * sx) * w
                        a7 = a7 + loadVector(p + 7 * sx) * w
                        kx += 1
                    }
                    ky += 1
                }
                let b = loadVector(bias + ch)
                storeVector(clampVector(a0 + b, lo, hi), out + ch)
                storeVector(clampVector(a1 + b, lo, hi), out + c + ch)
                storeVector(clampVector(a2 + b, lo, hi), out + 2 * c + ch)
                storeVector(clampVector(a3 + b, lo, hi), out + 3 * c + ch)
                storeVector(clampVector(a4 + b, lo, hi), out + 4 * c + ch)
                storeVector(clampVector(a5 + b, lo, hi), out + 5 * c + ch)
                storeVector(clampVector(a6 + b, lo, hi), out + 6 * c + ch)
                storeVector(clampVector(a7 + b, lo, hi), out + 7 * c + ch)
                ch += 8
            }
            ox += 8
        }
        while ox + 4 <= oxHi {
            let base = source + ox * sx
            let out = output + ox * c
            var ch = 0
            while ch < channels {
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * kw * c + ch
                    var kx = 0
                    while kx < kw {
                        let w = loadVector(wp + kx * c)
                        let p = src + kx * dx
                        a0 = a0 + loadVector(p) * w
                        a1 = a1 + loadVector(p + sx) * w
                        a2 = a2 + loadVector(p + 2 * sx) * w
                        a3 = a3 + loadVector(p + 3 * sx) * w
                        kx += 1
                    }
                    ky += 1
                }
                let b = loadVector(bias + ch)
                storeVector(clampVector(a0 + b, lo, hi), out + ch)
                storeVector(clampVector(a1 + b, lo, hi), out + c + ch)
                storeVector(clampVector(a2 + b, lo, hi), out + 2 * c + ch)
                storeVector(clampVector(a3 + b, lo, hi), out + 3 * c + ch)
                ch += 8
            }
            ox += 4
        }
        while ox < oxHi {
            let base = source + ox * sx
            var ch = 0
            while ch < channels {
                var acc = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * kw * c + ch
                    var kx = 0
                    while kx < kw {
                        acc = acc + loadVector(src + kx * dx) * loadVector(wp + kx * c)
                        kx += 1
                    }
                    ky += 1
                }
                storeVector(clampVector(acc + loadVector(bias + ch), lo, hi), output + ox * c + ch)
                ch += 8
            }
            ox += 1
        }
    }
}
