import CBlazeTarget

/// MediaPipe's `Convolution2DTransposeBias` custom operator (selfie segmentation): TFLite's
/// TRANSPOSE_CONV on NHWC float32 plus a per-output-channel bias, as MediaPipe's CPU kernel
/// (`mediapipe/util/tflite/operations/transpose_conv_bias.cc`) defines it.
///
/// - input: NHWC `[N, H, W, I]`; weights: OHWI `[O, kH, kW, I]`; bias: `[O]`.
/// - output: NHWC `[N, H', W', O]` with, per axis, `total = SAME ? max(0, k − (in − 1) % s − 1) : 0`,
///   `out = s·(in − 1) + k − total`, and the output origin of input pixel `i` at `i·s − total / 2`.
/// - value: `bias[o]`, then for every input pixel that reaches the output pixel, in row-major input
///   order, for every input channel in order, `+= x · w` (float32, one rounding per operation).
///
/// `run` gathers (one output pixel at a time, rows split across threads) in the same per-element
/// order as the naive scatter of `Reference.transposeConvBias`, so the two are bit-identical.
/// One output channel with a kernel no larger than the stride (selfie segmentation's 2×2, stride 2
/// head) takes `runSingleChannelNoOverlap`: there every output pixel has at most one contributing
/// input pixel, so its value is `bias + Σ_i x[i]·w[i]` summed in input-channel order, and eight
/// input pixels are computed at once, one SIMD lane each (the same operations per lane).
public final class TransposeConvBiasOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    /// Output index of input pixel 0's kernel origin is `−padTop` / `−padLeft`.
    public let padTop: Int, padLeft: Int
    /// Weights as `[kH, kW, I, O]` (output channel fastest), for the gather loop.
    let packed: [Float]
    /// `[O]`.
    let bias: [Float]

    /// - Parameters:
    ///   - inputShape: `[N, H, W, I]`.
    ///   - weights: OHWI, `O·kH·kW·I` floats; `weightsShape` `[O, kH, kW, I]`.
    ///   - bias: `[O]`.
    ///   - samePadding: TfLitePadding SAME (true) or VALID (false).
    public init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                strideHeight: Int, strideWidth: Int, samePadding: Bool) throws {
        let op = "Convolution2DTransposeBias"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard weightsShape.count == 4, validDimensions(weightsShape) else {
            throw KernelError.invalidShape(op: op, what: "weights", shape: weightsShape)
        }
        let oc = weightsShape[0], kh = weightsShape[1], kw = weightsShape[2]
        guard weightsShape[3] == input.channels else {
            throw KernelError.shapeMismatch(op: op, detail: "weights have \(weightsShape[3]) input channels, input has \(input.channels)")
        }
        guard weights.count == oc * kh * kw * input.channels else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: oc * kh * kw * input.channels, got: weights.count)
        }
        guard bias.count == oc else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values for \(oc) output channels")
        }
        guard strideHeight > 0, strideHeight <= maxDimension else { throw KernelError.invalidParameter(op: op, name: "stride_h", value: strideHeight) }
        guard strideWidth > 0, strideWidth <= maxDimension else { throw KernelError.invalidParameter(op: op, name: "stride_w", value: strideWidth) }
        let totalH = samePadding ? max(0, kh - (input.height - 1) % strideHeight - 1) : 0
        let totalW = samePadding ? max(0, kw - (input.width - 1) % strideWidth - 1) : 0
        // Bounded: every factor ≤ 2^24, so the products fit in Int before validDimensions checks them.
        let oh = strideHeight * (input.height - 1) + kh - totalH
        let ow = strideWidth * (input.width - 1) + kw - totalW
        self.inputShape = input
        outputShape = try NHWCShape([input.batch, oh, ow, oc], op: op, what: "output")
        kernelHeight = kh; kernelWidth = kw
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        padTop = totalH / 2; padLeft = totalW / 2
        let ic = input.channels
        var p = [Float](repeating: 0, count: weights.count)
        for o in 0..<oc {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    for i in 0..<ic {
                        p[((ky * kw + kx) * ic + i) * oc + o] = weights[((o * kh + ky) * kw + kx) * ic + i]
                    }
                }
            }
        }
        packed = p
        self.bias = bias
    }

    /// Input pixels `lo...hi` (one axis) whose kernel window covers output index `out`.
    @inline(__always)
    static func contributors(_ out: Int, pad: Int, stride: Int, kernel: Int, count: Int) -> (Int, Int) {
        // out = i·stride − pad + k, 0 ≤ k < kernel  ⇒  (out + pad − kernel + 1)/stride ≤ i ≤ (out + pad)/stride.
        let top = out + pad
        let lo = max(0, top - kernel + 1 <= 0 ? 0 : (top - kernel + 1 + stride - 1) / stride)
        let hi = min(count - 1, top / stride)
        return (lo, hi)
    }

    /// Input channels up to which `runSingleChannelNoOverlap` is taken (its transposed block of 8
    /// pixels × I channels lives in a fixed stack buffer).
    static let noOverlapMaxChannels = 64

    /// `input` NHWC `inputShape` → `output` NHWC `outputShape`.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        if outputShape.channels == 1 && kernelHeight <= strideHeight && kernelWidth <= strideWidth
            && inputShape.channels <= Self.noOverlapMaxChannels {
            runSingleChannelNoOverlap(input: input, output: output, pool: pool)
            return
        }
        let ih = inputShape.height, iw = inputShape.width, ic = inputShape.channels
        let oh = outputShape.height, ow = outputShape.width, oc = outputShape.channels
        let kh = kernelHeight, kw = kernelWidth, sh = strideHeight, sw = strideWidth
        let pt = padTop, pl = padLeft
        packed.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                guard let w = wp.baseAddress, let b = bp.baseAddress else { return }
                pool.parallelFor(inputShape.batch * oh) { row, _ in
                    let n = row / oh, oy = row % oh
                    let (y0, y1) = Self.contributors(oy, pad: pt, stride: sh, kernel: kh, count: ih)
                    for ox in 0..<ow {
                        let (x0, x1) = Self.contributors(ox, pad: pl, stride: sw, kernel: kw, count: iw)
                        let out = output + (row * ow + ox) * oc
                        for o in 0..<oc { out[o] = b[o] }
                        if y0 > y1 || x0 > x1 { continue }
                        for iy in y0...y1 {
                            let ky = oy + pt - iy * sh
                            for ix in x0...x1 {
                                let kx = ox + pl - ix * sw
                                let x = input + ((n * ih + iy) * iw + ix) * ic
                                let wk = w + (ky * kw + kx) * ic * oc
                                for i in 0..<ic {
                                    let xv = x[i], wi = wk + i * oc
                                    for o in 0..<oc { out[o] += xv * wi[o] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension TransposeConvBiasOperator {
    /// One output channel, `kH ≤ sH` and `kW ≤ sW`: output row `oy` is reached only by input row
    /// `iy = (oy + padTop) / sH` through kernel row `ky = (oy + padTop) % sH` (none when `ky ≥ kH`),
    /// and output column `ix·sW − padLeft + kx` only by input column `ix` through kernel column `kx`.
    /// So each row is the bias, then for every `kx < kW` and every input pixel `ix` of row `iy`:
    /// `bias + x[ix][0]·w[ky][kx][0] + x[ix][1]·w[ky][kx][1] + …` (left to right), the reference's
    /// sequence for that output.
    ///
    /// One unit per input row `iy`: the `sH` output rows it reaches (`oy = iy·sH − padTop + ky`;
    /// units past the input only set their rows to the bias). Eight input pixels at a time: their
    /// `8 × I` block is transposed once (`blaze_transpose8x8`) so that channel `i` of the eight is one
    /// vector, one lane per pixel, and the `kH·kW` sums of the block (4 for selfie segmentation's
    /// 2×2 kernel) run interleaved, so that their chains of dependent adds overlap.
    func runSingleChannelNoOverlap(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let ih = inputShape.height, iw = inputShape.width, ic = inputShape.channels
        let oh = outputShape.height, ow = outputShape.width
        let kh = kernelHeight, kw = kernelWidth, sh = strideHeight, sw = strideWidth
        let pt = padTop, pl = padLeft
        let vectorChannels = ic & ~7
        // Input rows whose output rows exist: iy ≤ (oh − 1 + pt) / sH (some of them past the input).
        let rowUnits = (oh - 1 + pt) / sh + 1
        packed.withUnsafeBufferPointer { wp in
            guard let w = wp.baseAddress, let b0 = bias.first else { return }
            pool.parallelFor(inputShape.batch * rowUnits) { unit, _ in
                let n = unit / rowUnits, iy = unit % rowUnits
                // Output rows of this unit: oy = iy·sH − pt + ky, ky ∈ kys, each inside 0 ..< OH.
                let kyLo = Swift.max(0, pt - iy * sh), kyHi = Swift.min(sh, oh + pt - iy * sh)
                guard kyLo < kyHi else { return }
                let image = output + n * oh * ow
                for ky in kyLo..<kyHi {
                    let out = image + (iy * sh - pt + ky) * ow
                    for ox in 0..<ow { out[ox] = b0 }
                }
                // Kernel rows that reach an output row of this unit from a real input row.
                let computedHi = iy < ih ? Swift.min(kyHi, kh) : kyLo
                guard kyLo < computedHi else { return }
                // xRow: input row iy, `[W][I]`; weights `[kH][kW][I]` (O = 1).
                let xRow = input + (n * ih + iy) * iw * ic
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * Self.noOverlapMaxChannels) { buffer in
                    guard let t = buffer.baseAddress else { return }
                    var ix = 0
                    while ix + 8 <= iw {
                        // t: `[I][8]`, channel i of pixels ix ..< ix + 8 at t[8i ..< 8i + 8].
                        var i = 0
                        while i < vectorChannels {
                            blaze_transpose8x8(xRow + ix * ic + i, ic, t + 8 * i)
                            i += 8
                        }
                        while i < ic {
                            for p in 0..<8 { t[8 * i + p] = xRow[(ix + p) * ic + i] }
                            i += 1
                        }
                        var ky = kyLo
                        while ky < computedHi {
                            let out = image + (iy * sh - pt + ky) * ow
                            var kx = 0
                            // Two kernel columns at a time: two independent sums per channel step.
                            while kx + 2 <= kw {
                                let wa = w + (ky * kw + kx) * ic, wb = wa + ic
                                var a = SIMD8<Float>(repeating: b0), b = a
                                for c in 0..<ic {
                                    let x = loadVector(t + 8 * c)
                                    a = a + x * SIMD8<Float>(repeating: wa[c])
                                    b = b + x * SIMD8<Float>(repeating: wb[c])
                                }
                                let first = ix * sw - pl + kx
                                if sw == 2 && first >= 0 && first + 16 <= ow {
                                    // Columns first, first + 1, … : a and b interleaved, 16 floats in a row.
                                    let lo = SIMD8<Float>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
                                    let hi = SIMD8<Float>(a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
                                    storeVector(lo, out + first)
                                    storeVector(hi, out + first + 8)
                                } else {
                                    storeColumns(a, out: out, firstColumn: first, stride: sw, width: ow)
                                    storeColumns(b, out: out, firstColumn: first + 1, stride: sw, width: ow)
                                }
                                kx += 2
                            }
                            if kx < kw {
                                let wa = w + (ky * kw + kx) * ic
                                var a = SIMD8<Float>(repeating: b0)
                                for c in 0..<ic { a = a + loadVector(t + 8 * c) * SIMD8<Float>(repeating: wa[c]) }
                                storeColumns(a, out: out, firstColumn: ix * sw - pl + kx, stride: sw, width: ow)
                            }
                            ky += 1
                        }
                        ix += 8
                    }
                    while ix < iw {
                        let x = xRow + ix * ic
                        for ky in kyLo..<computedHi {
                            let out = image + (iy * sh - pt + ky) * ow
                            for kx in 0..<kw {
                                let ox = ix * sw - pl + kx
                                guard ox >= 0 && ox < ow else { continue }
                                let wk = w + (ky * kw + kx) * ic
                                var acc = b0
                                for c in 0..<ic { acc = acc + x[c] * wk[c] }
                                out[ox] = acc
                            }
                        }
                        ix += 1
                    }
                }
            }
        }
    }

    /// Stores lane `p` of `v` at output column `firstColumn + p·stride` of the row `out` (`[width]`),
    /// skipping columns outside `0 ..< width`.
    @inline(__always)
    private func storeColumns(_ v: SIMD8<Float>, out: UnsafeMutablePointer<Float>, firstColumn: Int, stride: Int, width: Int) {
        for p in 0..<8 {
            let ox = firstColumn + p * stride
            if ox >= 0 && ox < width { out[ox] = v[p] }
        }
    }
}

extension Reference {
    /// MediaPipe's `TransposeConvBias` (float), a literal scatter: output = bias, then every input
    /// element adds `x · w` to each output it reaches, looping input y, x, channel, kernel y, x, output channel.
    ///
    /// - input: NHWC `[N, H, W, I]`; weights: OHWI `[O, kH, kW, I]`; bias `[O]`;
    ///   output: NHWC `[N, OH, OW, O]`; `padTop`/`padLeft` = total padding / 2 (see `TransposeConvBiasOperator`).
    public static func transposeConvBias(input: UnsafePointer<Float>, batch: Int, inputHeight: Int, inputWidth: Int,
                                         inputChannels: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                         outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
                                         strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
                                         outputHeight: Int, outputWidth: Int, output: UnsafeMutablePointer<Float>) {
        let ic = inputChannels, oc = outputChannels
        for n in 0..<batch {
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    for o in 0..<oc { output[((n * outputHeight + oy) * outputWidth + ox) * oc + o] = bias[o] }
                }
            }
            for iy in 0..<inputHeight {
                for ix in 0..<inputWidth {
                    for i in 0..<ic {
                        let originX = ix * strideWidth - padLeft, originY = iy * strideHeight - padTop
                        for ky in 0..<kernelHeight {
                            for kx in 0..<kernelWidth {
                                for o in 0..<oc {
                                    let ox = originX + kx, oy = originY + ky
                                    guard ox >= 0, ox < outputWidth, oy >= 0, oy < outputHeight else { continue }
                                    let x = input[((n * inputHeight + iy) * inputWidth + ix) * ic + i]
                                    let w = weights[((o * kernelHeight + ky) * kernelWidth + kx) * ic + i]
                                    output[((n * outputHeight + oy) * outputWidth + ox) * oc + o] += x * w
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
