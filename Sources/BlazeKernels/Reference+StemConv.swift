extension Reference {
    /// Naive twin of the stem kernel (`Conv2DOperator`'s `runStem`, tiles 6×16, 4×24, 6×8), with its
    /// exact arithmetic: for a KH×KW window on 3 input channels (`geometry`'s kernel, undilated),
    /// each output starts at 0 and takes one multiply-add per tap in k order
    /// (ky, kx, i), a tap outside the input as `0 · w`; fused (one rounding) when the build's
    /// GEMM fuses (``BuildTarget/gemmUsesFMA``), else a product and a sum. Then `+ bias`, and the
    /// clamps in the epilogue's form (`r < lo ? lo : r`, then `r > hi ? hi : r`).
    ///
    /// - input: NHWC `[N, H, W, 3]`; weights: OHWI `[O, KH, KW, 3]`; bias `[O]` or nil;
    ///   output: NHWC `[N, OH, OW, O]`.
    public static func stemConv(input: UnsafePointer<Float>, batch: Int, weights: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, outputChannels: Int, geometry g: WindowGeometry,
                                   activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        let oc = outputChannels
        let lo = activation.lowerBound, hi = activation.upperBound
        for b in 0..<batch {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    for o in 0..<oc {
                        var total: Float = 0
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth {
                                let iy = oy * g.strideHeight - g.padTop + ky
                                let ix = ox * g.strideWidth - g.padLeft + kx
                                let inside = iy >= 0 && iy < g.inputHeight && ix >= 0 && ix < g.inputWidth
                                for i in 0..<3 {
                                    let x = inside ? input[((b * g.inputHeight + iy) * g.inputWidth + ix) * 3 + i] : 0
                                    let w = weights[((o * g.kernelHeight + ky) * g.kernelWidth + kx) * 3 + i]
                                    total = gemmUsesFMA ? total.addingProduct(x, w) : total + x * w
                                }
                            }
                        }
                        var r = total + (bias?[o] ?? 0)
                        r = r < lo ? lo : r
                        r = r > hi ? hi : r
                        output[((b * g.outputHeight + oy) * g.outputWidth + ox) * oc + o] = r
                    }
                }
            }
        }
    }
}
