import PoseImage
import XCTest

final class DrawingTests: XCTestCase {
    func coloured(_ image: RGBImage, _ color: RGBColor) -> Set<[Int]> {
        var set = Set<[Int]>()
        for y in 0..<image.height { for x in 0..<image.width where image.pixel(x: x, y: y) == color { set.insert([x, y]) } }
        return set
    }

    func testPlainDiscCoversExactlyPixelsWithinRadius() throws {
        var image = try RGBImage(width: 9, height: 9)
        image.fillCircle(center: SIMD2(4, 4), radius: 1.5, color: .red, antialiased: false)
        // Pixel centres within 1.5 of (4, 4): the 3×3 block (corner distance √2 ≈ 1.41).
        var expected = Set<[Int]>()
        for y in 3...5 { for x in 3...5 { expected.insert([x, y]) } }
        XCTAssertEqual(coloured(image, .red), expected)
        XCTAssertEqual(coloured(image, .black).count, 81 - 9)
    }

    func testPlainHorizontalLine() throws {
        var image = try RGBImage(width: 8, height: 5)
        image.drawLine(from: SIMD2(1, 2), to: SIMD2(6, 2), thickness: 1, color: .green, antialiased: false)
        XCTAssertEqual(coloured(image, .green), Set((1...6).map { [$0, 2] }))
    }

    func testDiagonalThickLineIsSymmetricAndCapped() throws {
        var image = try RGBImage(width: 11, height: 11)
        image.drawLine(from: SIMD2(2, 2), to: SIMD2(8, 8), thickness: 3, color: .white, antialiased: false)
        let painted = coloured(image, .white)
        for p in painted { XCTAssertTrue(painted.contains([p[1], p[0]]), "not symmetric about the diagonal at \(p)") }
        XCTAssertTrue(painted.contains([5, 5]))
        XCTAssertTrue(painted.contains([6, 5]))  // distance 0.71 from the axis
        XCTAssertTrue(painted.contains([7, 5]))  // distance 1.41 ≤ 1.5
        XCTAssertFalse(painted.contains([8, 5]))  // distance 2.12 > 1.5
        XCTAssertFalse(painted.contains([0, 0]))  // beyond the round cap
        XCTAssertFalse(painted.contains([10, 0]))
    }

    func testAntialiasedEdgeBlends() throws {
        var image = try RGBImage(width: 9, height: 9)
        image.fillCircle(center: SIMD2(4, 4), radius: 2, color: .white, antialiased: true)
        XCTAssertEqual(image.pixel(x: 4, y: 4), .white)
        // (6, 5): distance √5 ≈ 2.236 → coverage 2.5 − 2.236 = 0.264 → 67.
        XCTAssertEqual(image.pixel(x: 6, y: 5), RGBColor(r: 67, g: 67, b: 67))
        XCTAssertEqual(image.pixel(x: 0, y: 0), .black)
    }

    func testClippingAndInvalidInputNeverCrash() throws {
        let blank = try RGBImage(width: 6, height: 4)
        var image = blank
        image.fillCircle(center: SIMD2(-100, -100), radius: 5, color: .red)
        image.drawLine(from: SIMD2(-1e30, 2), to: SIMD2(1e30, 2), thickness: 0, color: .red)
        image.fillCircle(center: SIMD2(.nan, 1), radius: 3, color: .red)
        image.fillCircle(center: SIMD2(2, 2), radius: -1, color: .red)
        image.drawLine(from: SIMD2(.infinity, 0), to: SIMD2(1, 1), thickness: 2, color: .red)
        XCTAssertEqual(image, blank)
        // A line crossing the whole image far beyond its bounds is clipped, not skipped.
        image.drawLine(from: SIMD2(-1e6, 1), to: SIMD2(1e6, 1), thickness: 1, color: .blue, antialiased: false)
        XCTAssertEqual(coloured(image, .blue), Set((0..<6).map { [$0, 1] }))
        // A disc at the corner only paints the in-image quarter.
        var corner = blank
        corner.fillCircle(center: SIMD2(0, 0), radius: 1, color: .green, antialiased: false)
        XCTAssertEqual(coloured(corner, .green), [[0, 0], [1, 0], [0, 1]])
    }
}

final class GrayMaskTests: XCTestCase {
    func testUnitMaskQuantisation() throws {
        let mask = try GrayImage(unitMask: [-1, 0, 0.5, 1, 2, .nan], width: 3, height: 2)
        XCTAssertEqual(mask.pixels, [0, 0, 128, 255, 255, 0])
        XCTAssertThrowsError(try GrayImage(unitMask: [0, 1], width: 3, height: 1))
    }
}

/// `RGBImage.blend` (CBlazeTarget's `blaze_blend_rgb8`) against a plain Swift twin of its
/// definition, byte for byte: weights ≤ 0, NaN, ±infinity, above 1, and opacities around 1.
final class BlendTwinTests: XCTestCase {
    func twin(_ image: RGBImage, color: RGBColor, weights: [Float], opacity: Float) -> [UInt8] {
        var px = image.pixels
        guard weights.count == image.width * image.height, opacity.isFinite, opacity > 0 else { return px }
        let target = [Float(color.r), Float(color.g), Float(color.b)]
        let alpha = min(opacity, 1)
        for i in 0..<weights.count {
            let m = weights[i]
            guard m > 0 else { continue }
            let w = min(m, 1) * alpha
            for c in 0..<3 {
                let v = Float(px[i * 3 + c])
                px[i * 3 + c] = UInt8(min(max((v + (target[c] - v) * w).rounded(), 0), 255))
            }
        }
        return px
    }

    func testBlendEqualsTheDefinition() throws {
        var state: UInt32 = 5
        func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state }
        let (w, h) = (37, 11)
        let specials: [Float] = [0, -0, -1, .nan, .infinity, -.infinity, 1, 1.5, 0.5, 1e-8, 0.999_999]
        for opacity: Float in [0.5, 1, 1.7, 0.25, 0.333] {
            for color in [RGBColor(r: 128, g: 64, b: 255), RGBColor(r: 0, g: 0, b: 0), RGBColor(r: 255, g: 255, b: 255)] {
                let pixels = (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: next() >> 24) }
                let weights = (0..<(w * h)).map { i -> Float in
                    i % 5 == 0 ? specials[(i / 5) % specials.count] : Float(next() >> 8) / Float(1 << 24) * 1.2 - 0.1
                }
                var image = try RGBImage(width: w, height: h, pixels: pixels)
                let expected = twin(image, color: color, weights: weights, opacity: opacity)
                image.blend(color: color, weights: weights, opacity: opacity)
                XCTAssertEqual(image.pixels, expected, "opacity \(opacity), colour \(color)")
            }
        }
    }
}
