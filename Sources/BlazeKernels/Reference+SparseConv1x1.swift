extension Reference {
    /// The naive twin of `SparseConv1x1Operator`: a 1×1, stride-1 conv that skips zero weights.
    ///
    /// - input: NHWC `[pixels][I]` (all images' pixels in a row); weights: OHWI `[O, 1, 1, I]`
    ///   dense, row-major `[O][I]`; bias: `[O]` or nil.
    /// - output: NHWC `[pixels][O]`; residual: `[pixels][ld]` (first O floats of each row) or nil.
    ///
    /// Each output is summed from `+0` over the nonzero weights in increasing input-channel order,
    /// with the multiply-add of the optimized kernels (one rounding when ``gemmUsesFMA``, else a
    /// multiply then an add), then `+ bias`, the clamp (max then min), then `act2(v + residual)`.
    public static func sparseConv1x1(pixels: Int, inputChannels k: Int, outputChannels n: Int,
                                     input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                     bias: UnsafePointer<Float>?, activation: FusedActivation,
                                     output: UnsafeMutablePointer<Float>, residual: GemmResidual? = nil) {
        for p in 0..<pixels {
            for o in 0..<n {
                var total: Float = 0
                for i in 0..<k {
                    let w = weights[o * k + i]
                    if w == 0 { continue }
                    let x = input[p * k + i]
                    total = gemmUsesFMA ? total.addingProduct(x, w) : total + x * w
                }
                var v = clampLikeGemm(total + (bias?[o] ?? 0), activation)
                if let residual {
                    v = clampLikeGemm(v + residual.data[p * residual.ld + o], residual.activation)
                }
                output[p * n + o] = v
            }
        }
    }

    /// `x < lo ? lo : x`, then `> hi ? hi : …`: the GEMM epilogue's clamp (NaN passes through).
    static func clampLikeGemm(_ x: Float, _ activation: FusedActivation) -> Float {
        var r = x
        if r < activation.lowerBound { r = activation.lowerBound }
        if r > activation.upperBound { r = activation.upperBound }
        return r
    }
}
