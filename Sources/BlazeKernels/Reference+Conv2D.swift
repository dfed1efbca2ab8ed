/// Naive reference twins of the optimized kernels: plain loops written straight from
/// TFLite's `reference_ops` semantics, used by the tests as ground truth. Slow on purpose.
public enum Reference {}

extension Reference {
    /// TFLite `reference_ops::Conv` (float).
    ///
    /// - input: NHWC `[N, H, W, I]`; weights: OHWI `[O, KH, KW, I]`; bias: `[O]` or nil;
    ///   output: NHWC `[N, OH, OW, O]` with `OH, OW` from `geometry`.
    public static func conv2D(input: UnsafePointer<Float>, batch: Int, inputChannels: Int,
                              weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputChannels: Int,
                              geometry g: WindowGeometry, activation: FusedActivation,
                              output: UnsafeMutablePointer<Float>) {
        let ic = inputChannels, oc = outputChannels
        for b in 0..<batch {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let inYOrigin = oy * g.strideHeight - g.padTop
                    let inXOrigin = ox * g.strideWidth - g.padLeft
                    for o in 0..<oc {
                        var total: Float = 0
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth {
                                let iy = inYOrigin + g.dilationHeight * ky
                                let ix = inXOrigin + g.dilationWidth * kx
                                if iy < 0 || iy >= g.inputHeight || ix < 0 || ix >= g.inputWidth { continue }
                                for i in 0..<ic {
                                    let x = input[((b * g.inputHeight + iy) * g.inputWidth + ix) * ic + i]
                                    let w = weights[((o * g.kernelHeight + ky) * g.kernelWidth + kx) * ic + i]
                                    total += x * w
                                }
                            }
                        }
                        let biasValue = bias?[o] ?? 0
                        output[((b * g.outputHeight + oy) * g.outputWidth + ox) * oc + o] =
                            activation.apply(total + biasValue)
                    }
                }
            }
        }
    }

    /// TFLite `reference_ops::DepthwiseConv` (float).
    ///
    /// - input: NHWC `[N, H, W, I]`; weights: `[1, KH, KW, I·M]`; bias `[I·M]` or nil;
    ///   output: NHWC `[N, OH, OW, I·M]`, output channel `oc = ic·M + m`.
    public static func depthwiseConv2D(input: UnsafePointer<Float>, batch: Int, inputChannels: Int,
                                       depthMultiplier: Int, weights: UnsafePointer<Float>,
                                       bias: UnsafePointer<Float>?, geometry g: WindowGeometry,
                                       activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        let ic = inputChannels, oc = inputChannels * depthMultiplier
        for b in 0..<batch {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    for c in 0..<ic {
                        for m in 0..<depthMultiplier {
                            let o = c * depthMultiplier + m
                            var total: Float = 0
                            for ky in 0..<g.kernelHeight {
                                for kx in 0..<g.kernelWidth {
                                    let iy = oy * g.strideHeight - g.padTop + g.dilationHeight * ky
                                    let ix = ox * g.strideWidth - g.padLeft + g.dilationWidth * kx
                                    if iy < 0 || iy >= g.inputHeight || ix < 0 || ix >= g.inputWidth { continue }
                                    let x = input[((b * g.inputHeight + iy) * g.inputWidth + ix) * ic + c]
                                    let w = weights[(ky * g.kernelWidth + kx) * oc + o]
                                    total += x * w
                                }
                            }
                            output[((b * g.outputHeight + oy) * g.outputWidth + ox) * oc + o] =
                                activation.apply(total + (bias?[o] ?? 0))
                        }
                    }
                }
            }
        }
    }
}
