extension Reference {
    /// The naive twin of `gemm` / `gemmRows`: `C[m×n] = act(A[m×k] · W^T + bias)`, then with a
    /// residual `C = act2(C + R)` (a fused ADD, see `GemmResidual`).
    ///
    /// - a: `[m][lda]` row-major (first k floats of each row); w: `[n][k]` row-major (conv OHWI
    ///   as `[O, KH·KW·I]`, FULLY_CONNECTED `[O, I]`); bias: `[n]` or nil.
    /// - c: `[m][ldc]` row-major, first n floats of each row written.
    /// - residual: `[m][ld]` row-major, first n floats of each row read, or nil.
    ///
    /// Each element is summed from 0 in k order with a separate multiply and add (TFLite's
    /// reference conv / fully-connected order), then `+ bias`, then the clamp.
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, weights w: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, activation: FusedActivation,
                            c: UnsafeMutablePointer<Float>, ldc: Int, residual: GemmResidual? = nil) {
        for r in 0..<m {
            for j in 0..<n {
                var total: Float = 0
                for kk in 0..<k { total += a[r * lda + kk] * w[j * k + kk] }
                var v = activation.apply(total + (bias?[j] ?? 0))
                if let residual { v = residual.activation.apply(v + residual.data[r * residual.ld + j]) }
                c[r * ldc + j] = v
            }
        }
    }
}
