// A small rasterizer for `--annotate` overlays: thick line segments (skeleton connections) and
// filled discs (landmarks). Geometry is in pixel coordinates with pixel centres at integer
// positions (the OpenCV/MediaPipe convention), so a disc at (3, 4) is centred on pixel (3, 4).
// Coverage is estimated from the distance of the pixel centre to the shape: fully inside → colour,
// anti-aliased mode blends a one-pixel ramp at the edge. Everything is clipped to the image and
// non-finite or non-positive sizes draw nothing (never a crash).

import CBlazeTarget

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
        let fx0 = max(0, (minX - 1).rounded(.down)), fy0 = max(0, (minY - 1).rounded(.down))
        let fx1 = min(Float(width - 1), (maxX + 1).rounded(.up)), fy1 = min(Float(height - 1), (maxY + 1).rounded(.up))
        guard fx0 <= fx1, fy0 <= fy1 else { return }   // entirely off the image (also before Int conversion)
        let x0 = Int(fx0), y0 = Int(fy0), x1 = Int(fx1), y1 = Int(fy1)
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

extension RGBImage {
    /// Blends `color` into every pixel with weight `opacity · weights[y·width + x]` (clamped to
    /// `[0, 1]`, NaN = 0): `out = in + (color − in) · w`, rounded. `weights` is `[height, width]`
    /// row-major; a buffer of another size draws nothing.
    public mutating func blend(color: RGBColor, weights: [Float], opacity: Float) {
        guard weights.count == width * height, opacity.isFinite, opacity > 0 else { return }
        let alpha = min(opacity, 1), count = width * height
        // Per pixel with m = weights[i] > 0 (not NaN): w = min(m, 1) · alpha, then per channel
        // `UInt8(min(max((v + (target − v) · w).rounded(), 0), 255))`, by CBlazeTarget's
        // `blaze_blend_rgb8` (the same float operations, vectorised by the compiler).
        pixels.withUnsafeMutableBufferPointer { px in            // [H, W, 3]
            weights.withUnsafeBufferPointer { m in               // [H, W]
                guard let pixelBase = px.baseAddress, let weightBase = m.baseAddress, px.count >= 3 * count else { return }
                blaze_blend_rgb8(pixelBase, weightBase, count, Float(color.r), Float(color.g), Float(color.b), alpha)
            }
        }
    }

    /// Draws `text` (digits `0`–`9`, `#` and space; other characters are drawn as a blank) in a
    /// 5×7-cell bitmap font, each cell `scale × scale` pixels, on a filled `background` box with a
    /// one-cell margin. `origin` is the box's top-left corner in pixels; the box is clipped to the image.
    /// - Returns: the box size in pixels.
    @discardableResult
    public mutating func drawText(_ text: String, origin: SIMD2<Int>, scale: Int, color: RGBColor,
                                  background: RGBColor) -> (width: Int, height: Int) {
        let scale = max(1, min(scale, 64))
        let characters = Array(text.prefix(32))
        let boxWidth = (characters.count * 6 + 1) * scale, boxHeight = 9 * scale
        fillRect(x: origin.x, y: origin.y, width: boxWidth, height: boxHeight, color: background)
        for (k, character) in characters.enumerated() {
            let rows = glyphRows[character] ?? []
            for (row, bits) in rows.enumerated() {
                for column in 0..<5 where bits & (0b10000 >> column) != 0 {
                    fillRect(x: origin.x + (1 + 6 * k + column) * scale, y: origin.y + (1 + row) * scale,
                             width: scale, height: scale, color: color)
                }
            }
        }
        return (boxWidth, boxHeight)
    }

    /// Fills the axis-aligned rectangle, clipped to the image.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBColor) {
        guard w > 0, h > 0 else { return }
        // Saturating ends: a huge origin or size clips instead of overflowing.
        func end(_ start: Int, _ length: Int, _ limit: Int) -> Int {
            let (sum, overflow) = start.addingReportingOverflow(length)
            return overflow ? limit : min(limit, sum)
        }
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = end(x, w, width), y1 = end(y, h, height)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            for column in x0..<x1 {
                let i = (row * width + column) * 3
                pixels[i] = color.r
                pixels[i + 1] = color.g
                pixels[i + 2] = color.b
            }
        }
    }
}

/// 5×7 glyphs, one 5-bit row each (bit 4 = leftmost column).
private let glyphRows: [Character: [UInt8]] = [
    "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
    "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
    "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
    "3": [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
    "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
    "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
    "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
    "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
    "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
    "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
    "#": [0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010],
]
