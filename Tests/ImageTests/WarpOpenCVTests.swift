import PoseGeometry
import Foundation
import PoseImage
import XCTest

/// Byte-for-byte comparison with OpenCV (fixtures from Tools/opencv/make_warp_cases.py).
final class WarpOpenCVTests: XCTestCase {
    struct PerspectiveCase: Decodable {
        let name: String
        let imageWidth: Int
        let imageHeight: Int
        let image: String
        let roiBits: [UInt32]
        let outputWidth: Int
        let outputHeight: Int
        let border: String
        let matrix: [Double]
        let expected: String
    }

    struct MaskCase: Decodable {
        let name: String
        let maskWidth: Int
        let maskHeight: Int
        let mask: String
        let matrixBits: [UInt32]
        let outputWidth: Int
        let outputHeight: Int
        let expected: String
    }

    struct ValueCase: Decodable {
        let rangeMin: Float
        let rangeMax: Float
        let expected: String
    }

    struct HashedCase: Decodable {
        let name: String
        let imageWidth: Int
        let imageHeight: Int
        let roiBits: [UInt32]
        let outputWidth: Int
        let outputHeight: Int
        let border: String
        let matrix: [Double]
        let fnv1a64: String
        let byteSum: Int
    }

    struct Cases: Decodable {
        let hashed: [HashedCase]
        let opencv: String
        let perspective: [PerspectiveCase]
        let mask: [MaskCase]
        let valueTransform: [ValueCase]
    }

    func loadCases() throws -> Cases {
        try JSONDecoder().decode(Cases.self, from: Data(try fixtureBytes("warp_cases.json")))
    }

    func decode(_ base64: String) throws -> [UInt8] {
        guard let data = Data(base64Encoded: base64) else { throw PoseImageError.invalidWarp("bad base64 in fixture") }
        return [UInt8](data)
    }

    func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

    func testPerspectiveWarpMatchesOpenCVByteForByte() throws {
        let cases = try loadCases()
        XCTAssertGreaterThanOrEqual(cases.perspective.count, 60)
        var failing: [String] = []
        var totalPixels = 0
        for c in cases.perspective {
            let image = try RGBImage(width: c.imageWidth, height: c.imageHeight, pixels: try decode(c.image))
            let r = c.roiBits.map(Float.init(bitPattern:))
            let roi = PixelRect(centerX: r[0], centerY: r[1], width: r[2], height: r[3], rotation: r[4])
            let matrix = try mediaPipeRoiTransform(roi: roi, outputWidth: c.outputWidth, outputHeight: c.outputHeight)
            XCTAssertEqual(matrix, c.matrix, "\(c.name): getPerspectiveTransform differs")
            let out = try warpRotatedRectRGB8(image: image, roi: roi, outputWidth: c.outputWidth,
                                              outputHeight: c.outputHeight, border: c.border == "zero" ? .zero : .replicate)
            let expected = try decode(c.expected)
            XCTAssertEqual(out.count, expected.count, c.name)
            let maxDiff = zip(out, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            let differing = zip(out, expected).filter { $0 != $1 }.count
            if maxDiff != 0 { failing.append("\(c.name): max diff \(maxDiff), \(differing) samples") }
            totalPixels += out.count / 3
        }
        print("perspective: \(cases.perspective.count) cases, \(totalPixels) pixels vs OpenCV \(cases.opencv); failing: \(failing.count)")
        XCTAssertEqual(failing, [], "cases differing from OpenCV")
    }

    func testMaskWarpBackMatchesOpenCVBitForBit() throws {
        let cases = try loadCases()
        var failing: [String] = []
        for c in cases.mask {
            let mask = floats(try decode(c.mask))
            let matrix = c.matrixBits.map(Float.init(bitPattern:))
            let out = try warpMaskBack(mask: mask, maskWidth: c.maskWidth, maskHeight: c.maskHeight, matrix: matrix,
                                       outputWidth: c.outputWidth, outputHeight: c.outputHeight)
            let expected = floats(try decode(c.expected))
            XCTAssertEqual(out.count, expected.count, c.name)
            let differing = zip(out, expected).filter { $0.bitPattern != $1.bitPattern }.count
            if differing != 0 {
                let maxDiff = zip(out, expected).map { abs($0 - $1) }.max() ?? 0
                failing.append("\(c.name): \(differing) values differ, max \(maxDiff)")
            }
        }
        print("mask: \(cases.mask.count) cases vs OpenCV \(cases.opencv); failing: \(failing.count)")
        XCTAssertEqual(failing, [], "mask cases differing from OpenCV")
    }

    /// `convertTo(CV_32F, scale, offset)` of every byte value, as OpenCV 4.10 computes it on this
    /// AVX2 machine (fused multiply-add), for the detector range [-1, 1] and the landmark range [0, 1].
    func testValueTransformMatchesOpenCVConvertTo() throws {
        let cases = try loadCases()
        XCTAssertEqual(cases.valueTransform.count, 2)
        let ramp = try RGBImage(width: 256, height: 1, pixels: (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] })
        for c in cases.valueTransform {
            let expected = floats(try decode(c.expected))
            // An identity crop of the ramp (rect = the whole 256×1 image, 1:1 output) keeps every byte value.
            let roi = PixelRect(centerX: 128, centerY: 0.5, width: 256, height: 1, rotation: 0)
            let bytes = try warpRotatedRectRGB8(image: ramp, roi: roi, outputWidth: 256, outputHeight: 1, border: .replicate)
            let tensor = try warpRotatedRectToTensor(image: ramp, roi: roi, outputWidth: 256, outputHeight: 1,
                                                     border: .replicate, rangeMin: c.rangeMin, rangeMax: c.rangeMax)
            let (scale, offset) = mediaPipeValueTransform(rangeMin: c.rangeMin, rangeMax: c.rangeMax)
            for i in 0..<256 {
                XCTAssertEqual(tensor[i * 3].bitPattern, offset.addingProduct(Float(bytes[i * 3]), scale).bitPattern)
            }
            let direct = (0..<256).map { applyValueTransform(UInt8($0), scale: scale, offset: offset) }
            XCTAssertEqual(direct.map(\.bitPattern), expected.map(\.bitPattern), "range [\(c.rangeMin), \(c.rangeMax)]")
        }
    }

    /// The integer pattern of make_warp_cases.py `pattern_image`, `[h, w, 3]` HWC RGB8.
    func patternImage(width w: Int, height h: Int) throws -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let checker = ((x / 9 + y / 7) % 2) * 90
                    pixels[(y * w + x) * 3 + c] = UInt8((x * 7 + y * 13 + c * 71 + (x * y) % 251 + checker) & 255)
                }
            }
        }
        return try RGBImage(width: w, height: h, pixels: pixels)
    }

    /// VGA and 720p sources (letterbox 224 with zero border, rotated 256 crops with replicate border),
    /// compared with OpenCV through an FNV-1a hash and byte sum of the whole output.
    func testCameraSizedWarpsMatchOpenCVHashes() throws {
        let cases = try loadCases()
        XCTAssertEqual(cases.hashed.count, 4)
        for c in cases.hashed {
            let image = try patternImage(width: c.imageWidth, height: c.imageHeight)
            let r = c.roiBits.map(Float.init(bitPattern:))
            let roi = PixelRect(centerX: r[0], centerY: r[1], width: r[2], height: r[3], rotation: r[4])
            XCTAssertEqual(try mediaPipeRoiTransform(roi: roi, outputWidth: c.outputWidth, outputHeight: c.outputHeight),
                           c.matrix, c.name)
            let out = try warpRotatedRectRGB8(image: image, roi: roi, outputWidth: c.outputWidth,
                                              outputHeight: c.outputHeight, border: c.border == "zero" ? .zero : .replicate)
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in out { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            XCTAssertEqual(out.reduce(0) { $0 + Int($1) }, c.byteSum, c.name)
            XCTAssertEqual(String(hash), c.fnv1a64, "\(c.name): output differs from OpenCV")
        }
    }
}
