/// Temporal mask smoothing (`SegmentationSmoothingCalculator`, docs/pipeline.md §2.19).
public enum SegmentationSmoothing {
    /// Blends the current mask with the previous *filtered* mask, per pixel,
    /// weighting the previous value by an uncertainty estimate of the
    /// current one: with `p` current, `q` previous, `t = p − 0.5`, `x = t²`,
    /// `U = 1 − min(1, x·(c1 + x·(c2 + x·(c3 + x·(c4 + x·c5)))))`,
    /// `out = p + (q − p)·(U·ratio)`. Confident pixels (p near 0 or 1) keep
    /// their value; uncertain ones (p near 0.5) lean on history.
    ///
    /// - Parameters:
    ///   - current, previous, output: masks of equal length (any layout,
    ///     typically `H×W` row-major, values in `[0, 1]`). `output` may alias
    ///     neither input.
    ///   - ratio: `combine_with_previous_ratio` (0.7 in the C++ graph; 0
    ///     reproduces the Python-wheel quirk, i.e. no smoothing).
    /// - Throws: ``PoseGeometryError/bufferSizeMismatch(what:expected:actual:)``
    ///   if lengths differ. (The pipeline should drop the history when the
    ///   mask size changes.)
    public static func blend(current: UnsafeBufferPointer<Float>, previous: UnsafeBufferPointer<Float>,
                             output: UnsafeMutableBufferPointer<Float>, ratio: Float = 0.7) throws {
        guard previous.count == current.count else {
            throw PoseGeometryError.bufferSizeMismatch(what: "previous segmentation mask", expected: current.count, actual: previous.count)
        }
        guard output.count == current.count else {
            throw PoseGeometryError.bufferSizeMismatch(what: "segmentation output mask", expected: current.count, actual: output.count)
        }
        guard let c = current.baseAddress, let q = previous.baseAddress, let o = output.baseAddress else { return }
        let n = current.count
        var i = 0
        // 8 pixels at a time: the same operations in the same order as blendPixel, lane by lane.
        while i + 8 <= n {
            let p8 = UnsafeRawPointer(c + i).loadUnaligned(as: SIMD8<Float>.self)
            let q8 = UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(o + i).storeBytes(of: blendPixels(current: p8, previous: q8, ratio: ratio),
                                                      as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            o[i] = blendPixel(current: c[i], previous: q[i], ratio: ratio)
            i += 1
        }
    }

    /// ``blendPixel(current:previous:ratio:)`` on 8 pixels (bit-identical per lane, NaN included:
    /// `min(1, v)` is `v < 1 ? v : 1`).
    @inline(__always)
    static func blendPixels(current p: SIMD8<Float>, previous q: SIMD8<Float>, ratio: Float) -> SIMD8<Float> {
        let c1: Float = 5.68842, c2: Float = -0.748699, c3: Float = -57.8051, c4: Float = 291.309, c5: Float = -624.717
        let t = p - 0.5
        let x = t * t
        let polynomial = x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5))))
        let uncertainty = 1 - SIMD8<Float>(repeating: 1).replacing(with: polynomial, where: polynomial .< 1)
        return p + (q - p) * (uncertainty * ratio)
    }

    /// Array convenience for ``blend(current:previous:output:ratio:)``.
    public static func blend(current: [Float], previous: [Float], ratio: Float = 0.7) throws -> [Float] {
        var output = [Float](repeating: 0, count: current.count)
        try current.withUnsafeBufferPointer { c in
            try previous.withUnsafeBufferPointer { p in
                try output.withUnsafeMutableBufferPointer { o in
                    try blend(current: c, previous: p, output: o, ratio: ratio)
                }
            }
        }
        return output
    }

    /// One pixel of ``blend(current:previous:output:ratio:)``.
    @inline(__always)
    public static func blendPixel(current p: Float, previous q: Float, ratio: Float) -> Float {
        let c1: Float = 5.68842, c2: Float = -0.748699, c3: Float = -57.8051, c4: Float = 291.309, c5: Float = -624.717
        let t = p - 0.5
        let x = t * t
        let uncertainty = 1 - min(1, x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5)))))
        return p + (q - p) * (uncertainty * ratio)
    }
}
