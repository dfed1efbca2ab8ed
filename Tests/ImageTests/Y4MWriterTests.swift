import PoseImage
import XCTest

/// `Y4MWriter.appendYUV420` (CBlazeTarget's `blaze_rgb_to_yuv420`) against a plain Swift twin of its
/// definition, byte for byte, over sizes with odd edges (1-pixel rows and columns among them).
final class Y4MWriterTests: XCTestCase {
    /// The definition, one pixel and one block at a time: Y per pixel; Cb and Cr per 2×2 block (or
    /// its part inside the frame) as `floor((c·sums + 2¹⁵·n) / (2¹⁶·n))`, clamped to 16…240.
    func twin(_ image: RGBImage) -> [UInt8] {
        let w = image.width, h = image.height, cw = (w + 1) / 2, ch = (h + 1) / 2
        let p = image.pixels
        var y = [UInt8](), cb = [UInt8](), cr = [UInt8]()
        for i in 0..<(w * h) {
            let r = Int32(p[3 * i]), g = Int32(p[3 * i + 1]), b = Int32(p[3 * i + 2])
            y.append(UInt8(16 + ((16829 * r + 33039 * g + 6416 * b + 32768) >> 16)))
        }
        func byte(_ v: Int32, _ scale: Int32) -> UInt8 {
            let shifted = v + scale / 2
            let q = shifted >= 0 ? shifted / scale : -((-shifted + scale - 1) / scale)
            return UInt8(min(max(128 + q, 16), 240))
        }
        for by in 0..<ch {
            for bx in 0..<cw {
                var r: Int32 = 0, g: Int32 = 0, b: Int32 = 0, n: Int32 = 0
                for yy in (2 * by)...min(2 * by + 1, h - 1) {
                    for xx in (2 * bx)...min(2 * bx + 1, w - 1) {
                        let i = 3 * (yy * w + xx)
                        r += Int32(p[i]); g += Int32(p[i + 1]); b += Int32(p[i + 2]); n += 1
                    }
                }
                cb.append(byte(-9714 * r - 19070 * g + 28784 * b, 65536 * n))
                cr.append(byte(28784 * r - 24103 * g - 4681 * b, 65536 * n))
            }
        }
        return y + cb + cr
    }

    func testPlanesEqualTheDefinition() throws {
        var state: UInt32 = 99
        func byte() -> UInt8 { state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(truncatingIfNeeded: state >> 24) }
        for (w, h) in [(1, 1), (1, 4), (5, 1), (2, 2), (3, 3), (16, 9), (17, 5), (33, 2), (64, 48), (641, 3)] {
            // Random pixels, then the extremes (saturated colours drive Cb/Cr to their clamps).
            for pattern in 0..<2 {
                let pixels = (0..<(w * h * 3)).map { i -> UInt8 in pattern == 0 ? byte() : ((i / 3 + i % 3) % 2 == 0 ? 255 : 0) }
                let image = try RGBImage(width: w, height: h, pixels: pixels)
                var bytes: [UInt8] = [7, 7]   // appended after existing bytes
                Y4MWriter.appendYUV420(of: image, to: &bytes)
                XCTAssertEqual(Array(bytes.prefix(2)), [7, 7])
                XCTAssertEqual(Array(bytes.dropFirst(2)), twin(image), "\(w)x\(h) pattern \(pattern)")
            }
        }
    }
}
