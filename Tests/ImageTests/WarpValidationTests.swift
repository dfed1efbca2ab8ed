import PoseGeometry
import PoseImage
import XCTest

final class WarpValidationTests: XCTestCase {
    let image: RGBImage = {
        let pixels = (0..<(9 * 7 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 29) }
        return try! RGBImage(width: 9, height: 7, pixels: pixels)
    }()

    func testInvalidRoisAndSizesThrowTypedErrors() {
        let bad: [PixelRect] = [
            PixelRect(centerX: 4, centerY: 3, width: 0, height: 0, rotation: 0),  // MediaPipe's "no ROI"
            PixelRect(centerX: 4, centerY: 3, width: -2, height: 5, rotation: 0),
            PixelRect(centerX: .nan, centerY: 3, width: 2, height: 5, rotation: 0),
            PixelRect(centerX: 4, centerY: 3, width: 2, height: .infinity, rotation: 0),
            PixelRect(centerX: 4, centerY: 3, width: 2, height: 5, rotation: .nan),
        ]
        for roi in bad {
            XCTAssertThrowsError(try warpRotatedRectRGB8(image: image, roi: roi, outputWidth: 8, outputHeight: 8, border: .zero)) {
                guard case PoseImageError.invalidWarp? = $0 as? PoseImageError else { return XCTFail("\($0)") }
            }
        }
        let good = PixelRect(centerX: 4, centerY: 3, width: 6, height: 6, rotation: 0.2)
        for (w, h) in [(0, 8), (8, -1), (40000, 1), (20000, 20000)] {
            XCTAssertThrowsError(try warpRotatedRectRGB8(image: image, roi: good, outputWidth: w, outputHeight: h, border: .zero))
        }
        XCTAssertThrowsError(try warpAffineF32(source: [0, 1], sourceWidth: 3, sourceHeight: 1, inverse: [1, 0, 0, 0, 1, 0],
                                               outputWidth: 2, outputHeight: 2, border: .zero))
        XCTAssertThrowsError(try warpMaskBack(mask: [0, 1, 0, 1], maskWidth: 2, maskHeight: 2, matrix: [1, 0, 0],
                                              outputWidth: 2, outputHeight: 2))
        XCTAssertThrowsError(try warpPerspectiveRGB8(image: image, forward: [0, 0, 0, 0, 0, 0, 0, 0, 0],
                                                     outputWidth: 4, outputHeight: 4, border: .zero))
    }

    /// Far-away and huge ROIs only saturate coordinates (as OpenCV does); they never read out of bounds.
    func testExtremeRoisDoNotCrash() throws {
        for roi in [PixelRect(centerX: 1e9, centerY: -1e9, width: 5, height: 5, rotation: 1),
                    PixelRect(centerX: 4, centerY: 3, width: 1e12, height: 1e12, rotation: -2),
                    PixelRect(centerX: 4, centerY: 3, width: 1e-6, height: 1e-6, rotation: 0)] {
            for border in [WarpBorder.zero, .replicate] {
                if let out = try? warpRotatedRectRGB8(image: image, roi: roi, outputWidth: 33, outputHeight: 17, border: border) {
                    XCTAssertEqual(out.count, 33 * 17 * 3)
                }
            }
        }
        // A tiny ROI inside the image reads one neighbourhood: every output pixel is the same.
        let dot = try warpRotatedRectRGB8(image: image, roi: PixelRect(centerX: 4, centerY: 3, width: 1e-3, height: 1e-3, rotation: 0),
                                          outputWidth: 5, outputHeight: 5, border: .zero)
        XCTAssertEqual(Set(stride(from: 0, to: dot.count, by: 3).map { dot[$0] }).count, 1)
    }

    /// Identity crop: rect = the whole image at 1:1 reproduces the image exactly, for both borders.
    func testIdentityCropReproducesImage() throws {
        let roi = PixelRect(centerX: 4.5, centerY: 3.5, width: 9, height: 7, rotation: 0)
        for border in [WarpBorder.zero, .replicate] {
            let out = try warpRotatedRectRGB8(image: image, roi: roi, outputWidth: 9, outputHeight: 7, border: border)
            XCTAssertEqual(out, image.pixels)
        }
        let tensor = try warpRotatedRectToTensor(image: image, roi: roi, outputWidth: 9, outputHeight: 7,
                                                 border: .zero, rangeMin: 0, rangeMax: 1)
        // MediaPipe multiplies by the Float scale 1/255 (GetValueRangeTransformation); that is not
        // always the same Float as p / 255.
        XCTAssertEqual(tensor, image.pixels.map { Float($0) * (Float(1) / 255) })
    }
}
