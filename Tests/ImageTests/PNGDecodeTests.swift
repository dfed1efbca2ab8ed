import PoseImage
import XCTest

final class PNGDecodeTests: XCTestCase {
    /// 8-bit and lower bit depths, every colour type: identical to OpenCV's imread + BGR2RGB
    /// (which drops alpha without compositing).
    func testLowBitDepthMatchesOpenCVExactly() throws {
        for name in ["gray1", "gray4", "gray8", "gray_alpha8", "rgb8", "rgba8", "palette8_trns", "palette4",
                     "rgb8_gama45455", "rgb8_srgb", "rgb8_gama100000"] {
            let decoded = try RGBImage.decodePNG(try fixtureBytes("png/\(name).png"), source: name)
            let expected = try fixtureBytes("png/\(name).rgb")
            XCTAssertEqual(decoded.width, 7, name)
            XCTAssertEqual(decoded.height, 5, name)
            XCTAssertEqual(decoded.pixels, expected, "\(name): differs from OpenCV")
        }
    }

    func testSixteenBitOpaqueMatchesOpenCVExactly() throws {
        for name in ["gray16", "rgb16", "rgb16_gama45455"] {
            let decoded = try RGBImage.decodePNG(try fixtureBytes("png/\(name).png"), source: name)
            XCTAssertEqual(decoded.pixels, try fixtureBytes("png/\(name).rgb"), "\(name): differs from OpenCV")
        }
    }

    /// Documented limitation: 16-bit with alpha goes through libpng's rescale, ±1 from OpenCV's high byte.
    func testSixteenBitWithAlphaWithinOneOfOpenCV() throws {
        for name in ["gray_alpha16", "rgba16"] {
            let decoded = try RGBImage.decodePNG(try fixtureBytes("png/\(name).png"), source: name)
            let expected = try fixtureBytes("png/\(name).rgb")
            let diffs = zip(decoded.pixels, expected).map { abs(Int($0) - Int($1)) }
            print("16-bit \(name): max diff vs OpenCV \(diffs.max()!), differing samples \(diffs.filter { $0 != 0 }.count)/\(diffs.count)")
            XCTAssertEqual(decoded.pixels.count, expected.count)
            XCTAssertLessThanOrEqual(diffs.max() ?? 99, 1, name)
        }
    }

    func testBrokenFilesGiveTypedErrors() throws {
        for name in ["bad_not_png", "bad_truncated", "bad_corrupt", "bad_zero_size"] {
            let data = try fixtureBytes("png/\(name).png")
            XCTAssertThrowsError(try RGBImage.decodePNG(data, source: name)) { error in
                guard case let PoseImageError.pngDecodeFailed(source, message)? = error as? PoseImageError else {
                    return XCTFail("\(name): unexpected error \(error)")
                }
                XCTAssertEqual(source, name)
                XCTAssertFalse(message.isEmpty)
                print("\(name): \(error)")
            }
        }
        for name in ["bad_oversized_side", "bad_oversized_area"] {
            let data = try fixtureBytes("png/\(name).png")
            XCTAssertThrowsError(try RGBImage.decodePNG(data, source: name)) { error in
                guard case PoseImageError.imageTooLarge? = error as? PoseImageError else {
                    return XCTFail("\(name): unexpected error \(error)")
                }
            }
        }
        XCTAssertThrowsError(try RGBImage.decodePNG([], source: "empty"))
        XCTAssertThrowsError(try RGBImage(pngFile: fixturesDirectory + "/does-not-exist.png")) { error in
            guard case PoseImageError.fileIO? = error as? PoseImageError else { return XCTFail("\(error)") }
        }
    }

    /// Every prefix that cuts into the header or pixel data must fail cleanly (no crash, no hang).
    /// Only the trailing 12-byte IEND chunk is optional: libpng (like OpenCV) stops once all rows
    /// are read, so those prefixes must decode to the complete, correct image.
    func testEveryTruncationFailsCleanly() throws {
        let data = try fixtureBytes("png/rgb8.png")
        let full = try RGBImage.decodePNG(data)
        let iendStart = data.count - 12
        XCTAssertEqual(Array(data[(iendStart + 4)..<(iendStart + 8)]), Array("IEND".utf8))
        for length in 0..<data.count {
            let prefix = Array(data.prefix(length))
            if length < iendStart {
                XCTAssertThrowsError(try RGBImage.decodePNG(prefix), "prefix \(length)")
            } else {
                XCTAssertEqual(try RGBImage.decodePNG(prefix), full, "prefix \(length)")
            }
        }
    }

    func testEncodeDecodeRoundTrip() throws {
        var pixels = [UInt8](repeating: 0, count: 13 * 9 * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
        let image = try RGBImage(width: 13, height: 9, pixels: pixels)
        let decoded = try RGBImage.decodePNG(try image.pngData())
        XCTAssertEqual(decoded, image)

        let gray = try GrayImage(width: 5, height: 3, pixels: (0..<15).map { UInt8($0 * 17) })
        let decodedGray = try RGBImage.decodePNG(try gray.pngData())
        XCTAssertEqual(decodedGray.pixels, gray.pixels.flatMap { [$0, $0, $0] })

        let path = NSTemporaryDirectory() + "/poseimage-roundtrip-\(getpid()).png"
        try image.writePNG(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertEqual(try RGBImage(pngFile: path), image)
    }

    func testInvalidBuffersAreRejected() {
        XCTAssertThrowsError(try RGBImage(width: 2, height: 2, pixels: [0, 0, 0]))
        XCTAssertThrowsError(try RGBImage(width: 0, height: 2, pixels: []))
        XCTAssertThrowsError(try GrayImage(width: -1, height: 2, pixels: []))
    }
}
