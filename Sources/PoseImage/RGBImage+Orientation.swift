extension RGBImage {
    /// The upright image for a stored grid with EXIF orientation `orientation` (see ``EXIFOrientation``):
    /// flips, transposes and rotations by 90°, exact pixel permutations, identical to OpenCV's
    /// `ExifTransform` (`cv2.imread`). Orientations 5…8 swap width and height.
    public func oriented(_ orientation: EXIFOrientation) -> RGBImage {
        if orientation == .up { return self }
        let w = width, h = height
        let outWidth = orientation.swapsWidthAndHeight ? h : w
        let outHeight = orientation.swapsWidthAndHeight ? w : h
        // Output [outHeight, outWidth, 3] HWC RGB8; each output pixel (x, y) reads stored pixel (sx, sy).
        var out = [UInt8](repeating: 0, count: pixels.count)
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let sx: Int, sy: Int
                        switch orientation {
                        case .up: (sx, sy) = (x, y)
                        case .upMirrored: (sx, sy) = (w - 1 - x, y)
                        case .down: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case .downMirrored: (sx, sy) = (x, h - 1 - y)
                        case .leftMirrored: (sx, sy) = (y, x)  // transpose
                        case .right: (sx, sy) = (y, h - 1 - x)  // transpose, flip left↔right
                        case .rightMirrored: (sx, sy) = (w - 1 - y, h - 1 - x)  // transpose, rotate 180°
                        case .left: (sx, sy) = (w - 1 - y, x)  // transpose, flip top↔bottom
                        }
                        let d = (y * outWidth + x) * 3, s = (sy * w + sx) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        // The sample count is unchanged and both sides are positive: this cannot fail for a valid image.
        return (try? RGBImage(width: outWidth, height: outHeight, pixels: out)) ?? self
    }
}
