#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PixelRect {
    /// Where tensor pixel `(column, row)` samples the image, in image pixels
    /// (pixel centres at integer coordinates), for a **padded** ROI
    /// (`ImageToTensor` with OpenCV, docs/pipeline.md §2.2/§2.9):
    /// `lx = (column/Wt − 0.5)·width`, `ly = (row/Ht − 0.5)·height`,
    /// `X = cx + cosθ·lx − sinθ·ly`, `Y = cy + sinθ·lx + cosθ·ly`.
    /// Integer tensor coordinates, no +0.5, as `warpPerspective` maps corners.
    public func sourcePoint(column: Int, row: Int, tensorWidth: Int, tensorHeight: Int) -> SIMD2<Float> {
        let lx = (Float(column) / Float(tensorWidth) - 0.5) * width
        let ly = (Float(row) / Float(tensorHeight) - 0.5) * height
        let c = cosf(rotation), s = sinf(rotation)
        return SIMD2(centerX + c * lx - s * ly, centerY + s * lx + c * ly)
    }

    /// Inverse of ``sourcePoint(column:row:tensorWidth:tensorHeight:)`` in
    /// normalized tensor units: for an image pixel `(x, y)` returns `(u, v)`
    /// with `u = lx/width + 0.5`, `v = ly/height + 0.5`, where `(lx, ly)` is
    /// the point rotated back by −θ about the centre. Used to warp the
    /// segmentation mask back to the image (docs/pipeline.md §2.16): sample the mask at
    /// `(u·Wm, v·Hm)`; outside `[0, 1)` is outside the ROI.
    public func tensorCoordinates(ofImagePoint point: SIMD2<Float>) -> SIMD2<Float> {
        let px = point.x - centerX, py = point.y - centerY
        let c = cosf(rotation), s = sinf(rotation)
        let lx = c * px + s * py
        let ly = -s * px + c * py
        return SIMD2(lx / width + 0.5, ly / height + 0.5)
    }
}
