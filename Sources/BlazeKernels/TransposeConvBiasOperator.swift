/// MediaPipe's custom op `Convolution2DTransposeBias` (selfie segmentation) on NHWC float32:
/// TFLite's TRANSPOSE_CONV plus a per-channel bias, as `mediapipe/util/tflite/operations/
/// transpose_conv_bias.cc` computes it.
///
/// Layouts: input `[N, H, W, I]`, weights OHWI `[O, KH, KW, I]`, bias `[O]`, output
/// `[N, OH, OW, O]`. Options (custom options, `TfLiteTransposeConvParams`): padding, strides.
///
/// Geometry: the total padding is `max(0, K - (in - 1) % stride - 1)` for SAME and 0 for VALID;
/// the output size is `stride · (in - 1) + K - totalPadding`; the window origin of input pixel
/// `i` is `i · stride - totalPadding / 2`.
///
/// Arithmetic (kept bit-identical to the op): each output starts at its bias, then adds
/// `input · weight` one term at a time, ordered by input row, then input column, then input
/// channel (the reference scatters in that order; this kernel gathers in the same order).
public final class TransposeConvBiasOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    /// Top / left padding (half the total, rounded down).
    public let padTop: Int, padLeft: Int
    /// Weights repacked `[KH][KW][I][O]` so output channels are contiguous.
    let packed: [Float]
    let bias: [Float]

    /// `padding` is `.same` or `.valid` (MediaPipe's custom options 1 and 2); throws on
    /// mismatched shapes or sizes.
    public init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                strideHeight: Int, strideWidth: Int, padding: Padding) throws {
        let op = "Convolution2DTransposeBias"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard weightsShape.count == 4, validDimensions(weightsShape) else {
            throw KernelError.invalidShape(op: op, what: "weights (OHWI)", shape: weightsShape)
        }
        let (o, kh, kw, i) = (weightsShape[0], weightsShape[1], weightsShape[2], weightsShape[3])
        guard i == input.channels else {
            throw KernelError.shapeMismatch(op: op, detail: "weights input depth \(i) != input channels \(input.channels)")
        }
        guard weights.count == o * kh * kw * i else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: o * kh * kw * i, got: weights.count)
        }
        guard bias.count == o else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values, output channels \(o)")
        }
        for (name, v) in [("stride height", strideHeight), ("stride width", strideWidth)] where v <= 0 || v > maxDimension {
            throw KernelError.invalidParameter(op: op, name: name, value: v)
        }
        let padH: Int, padW: Int
        switch padding {
        case .same:
            padH = Swift.max(0, kh - (input.height - 1) % strideHeight - 1)
            padW = Swift.max(0, kw - (input.width - 1) % strideWidth - 1)
        case .valid:
            padH = 0; padW = 0
        case .explicit:
            throw KernelError.invalidParameter(op: op, name: "padding (explicit is not an option of this op)", value: 0)
        }
        let oh = strideHeight * (input.height - 1) + kh - padH
        let ow = strideWidth * (input.width - 1) + kw - padW
        let out = [input.batch, oh, ow, o]
        guard validDimensions(out) else { throw KernelError.invalidShape(op: op, what: "output", shape: out) }
        self.inputShape = input
        outputShape = NHWCShape(batch: input.batch, height: oh, width: ow, channels: o)
        kernelHeight = kh; kernelWidth = kw
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        padTop = padH / 2; padLeft = padW / 2
        var p = [Float](repeating: 0, count: weights.count)
        for oc in 0..<o { for y in 0..<kh { for x in 0..<kw { for c in 0..<i {
            p[((y * kw + x) * i + c) * o + oc] = weights[((oc * kh + y) * kw + x) * i + c]
        } } } }
        packed = p
        self.bias = bias
    }

    /// Input rows (or columns) contributing to output row `o`, ascending, with their kernel tap:
    /// `i · stride - pad + k == o`, `0 ≤ k < kernel`, `0 ≤ i < inputSize`.
    @inline(__always)
    static func taps(output o: Int, stride: Int, pad: Int, kernel: Int, inputSize: Int) -> (first: Int, last: Int) {
        // Smallest i with k = o + pad - i·stride < kernel, largest i with k ≥ 0.
        let numerator = o + pad - kernel + 1
        let first = Swift.max(0, numerator <= 0 ? 0 : (numerator + stride - 1) / stride)
        let last = Swift.min(inputSize - 1, (o + pad) / stride)
        return (first, last)
    }

    /// `input` NHWC `inputShape` → `output` NHWC `outputShape`. Parallel over output rows;
    /// SIMD over output channels (8 at a time), scalar for the rest.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let ih = inputShape.height, iw = inputShape.width, ic = inputShape.channels
        let oh = outputShape.height, ow = outputShape.width, oc = outputShape.channels
        let (sh, sw, kw, kh, pt, pl) = (strideHeight, strideWidth, kernelWidth, kernelHeight, padTop, padLeft)
        packed.withUnsafeBufferPointer { wbuf in
            bias.withUnsafeBufferPointer { bbuf in
                let w = wbuf.baseAddress!, b = bbuf.baseAddress!
                pool.parallelFor(outputShape.batch * oh) { row, _ in
                    let n = row / oh, oy = row % oh
                    let ys = Self.taps(output: oy, stride: sh, pad: pt, kernel: kh, inputSize: ih)
                    for ox in 0..<ow {
                        let xs = Self.taps(output: ox, stride: sw, pad: pl, kernel: kw, inputSize: iw)
                        let out = output + (row * ow + ox) * oc
                        var c0 = 0
                        while c0 + 8 <= oc {
                            var acc = loadVector(b + c0)
                            if ys.first <= ys.last && xs.first <= xs.last {
                                for iy in ys.first...ys.last {
                                    let fy = oy + pt - iy * sh
                                    for ix in xs.first...xs.last {
                                        let fx = ox + pl - ix * sw
                                        let x = input + ((n * ih + iy) * iw + ix) * ic
                                        let wt = w + (fy * kw + fx) * ic * oc + c0
                                        for c in 0..<ic { acc = acc + SIMD8<Float>(repeating: x[c]) * loadVector(wt + c * oc) }
                                    }
                                }
                            }
                            storeVector(acc, out + c0)
                            c0 += 8
                        }
                        for o in c0..<oc {
                            var acc = b[o]
                            if ys.first <= ys.last && xs.first <= xs.last {
                                for iy in ys.first...ys.last {
                                    let fy = oy + pt - iy * sh
                                    for ix in xs.first...xs.last {
                                        let fx = ox + pl - ix * sw
                                        let x = input + ((n * ih + iy) * iw + ix) * ic
                                        let wt = w + (fy * kw + fx) * ic * oc + o
                                        for c in 0..<ic { acc = acc + x[c] * wt[c * oc] }
                                    }
                                }
                            }
                            out[o] = acc
                        }
                    }
                }
            }
        }
    }
}

extension Reference {
    /// MediaPipe's `TransposeConvBias` (float) written out: fill the output with the bias, then
    /// scatter `input · weight` over input rows, columns, channels, kernel rows, kernel columns
    /// and output channels, skipping taps outside the output. input NHWC, weights OHWI `[O, KH, KW, I]`.
    public static func transposeConvBias(input: UnsafePointer<Float>, inputShape: NHWCShape, weights: UnsafePointer<Float>,
                                         weightsShape: [Int], bias: UnsafePointer<Float>, strideHeight: Int, strideWidth: Int,
                                         padTop: Int, padLeft: Int, outputShape: NHWCShape,
                                         output: UnsafeMutablePointer<Float>) {
        let (o, kh, kw, ic) = (weightsShape[0], weightsShape[1], weightsShape[2], weightsShape[3])
        let (oh, ow) = (outputShape.height, outputShape.width)
        for n in 0..<inputShape.batch {
            for p in 0..<(oh * ow) { for c in 0..<o { output[(n * oh * ow + p) * o + c] = bias[c] } }
            for iy in 0..<inputShape.height { for ix in 0..<inputShape.width { for c in 0..<ic {
                for fy in 0..<kh { for fx in 0..<kw { for oc in 0..<o {
                    let oy = iy * strideHeight - padTop + fy, ox = ix * strideWidth - padLeft + fx
                    if oy < 0 || oy >= oh || ox < 0 || ox >= ow { continue }
                    let x = input[((n * inputShape.height + iy) * inputShape.width + ix) * ic + c]
                    output[((n * oh + oy) * ow + ox) * o + oc] += x * weights[((oc * kh + fy) * kw + fx) * ic + c]
                } } }
            } } }
        }
    }
}
