// A small rasterizer for `--annotate` overlays: thick line segments (skeleton connections) and
// filled discs (landmarks). Geometry is in pixel coordinates with pixel centres at integer
// positions (the OpenCV/MediaPipe convention), so a disc at (3, 4) is centred on pixel (3, 4).
// Coverage is estimated from the distance of the pixel centre to the shape: fully inside → colour,
// anti-aliased mode blends a one-pixel ramp at the edge. Everything is clipped to the image and
// non-finite or non-positive sizes draw nothing (never a crash).

extension RGBImage {
    /// Draws the segment `from`–`to` with round caps, `thickness` pixels wide.
    /// - Parameters:
    ///   - antialiased: blend edge pixels by coverage (`clamp(r + 0.5 − d, 0, 1)`); otherwise a pixel
    ///     is painted iff its centre is within `thickness / 2` of the segment.
    public mutating func drawLine(from a: SIMD2<Float>, to b: SIMD2<Float>, thickness: Float, color: RGBColor,
                                  antialiased: Bool = true) {
        let radius = thickness / 2
        guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite, radius.isFinite, radius > 0 else { return }
        let ab = b - a
        let lengthSquared = (ab * ab).sum()
        rasterize(minX: min(a.x, b.x) - radius, maxX: max(a.x, b.x) + radius,
                  minY: min(a.y, b.y) - radius, maxY: max(a.y, b.y) + radius,
                  radius: radius, color: color, antialiased: antialiased) { p in
            // Distance from p to the closest point of the segment.
            let ap = p - a
            let t = lengthSquared > 0 ? min(max((ap * ab).sum() / lengthSquared, 0), 1) : 0
            let d = ap - ab * t
            return (d * d).sum().squareRoot()
        }
    }

    /// Fills the disc of `radius` pixels around `center`.
    public mutating func fillCircle(center c: SIMD2<Float>, radius: Float, color: RGBColor, antialiased: Bool = true) {
        guard c.x.isFinite, c.y.isFinite, radius.isFinite, radius > 0 else { return }
        rasterize(minX: c.x - radius, maxX: c.x + radius, minY: c.y - radius, maxY: c.y + radius,
                  radius: radius, color: color, antialiased: antialiased) { p in
            let d = p - c
            return (d * d).sum().squareRoot()
        }
    }

    /// Visits the pixels of the bounding box (grown by one pixel for the anti-aliasing ramp and
    /// clipped to the image) and blends `color` by the coverage derived from `distance`.
    private mutating func rasterize(minX: Float, maxX: Float, minY: Float, maxY: Float, radius: Float,
                                    color: RGBColor, antialiased: Bool, distance: (SIMD2<Float>) -> Float) {
        // Clip in Float before converting so huge coordinates cannot overflow Int.
        let x0 = Int(max(0, (minX - 1).rounded(.down)))
        let y0 = Int(max(0, (minY - 1).rounded(.down)))
        let x1 = Int(min(Float(width - 1), (maxX + 1).rounded(.up)))
        let y1 = Int(min(Float(height - 1), (maxY + 1).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let rgb = [Float(color.r), Float(color.g), Float(color.b)]
        for y in y0...y1 {
            for x in x0...x1 {
                let d = distance(SIMD2(Float(x), Float(y)))
                let coverage: Float = antialiased ? min(max(radius + 0.5 - d, 0), 1) : (d <= radius ? 1 : 0)
                guard coverage > 0 else { continue }
                let i = (y * width + x) * 3
                for c in 0..<3 {
                    let blended = Float(pixels[i + c]) * (1 - coverage) + rgb[c] * coverage
                    pixels[i + c] = UInt8(min(max(blended.rounded(), 0), 255))
                }
            }
        }
    }
}
