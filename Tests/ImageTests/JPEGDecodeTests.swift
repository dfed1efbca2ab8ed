import BlazeSupport
import BlazeTestSupport
import Foundation
import PoseImage
import XCTest

/// JPEG decoding and EXIF orientation against `cv2.imread` (OpenCV 4.11): the SHA-256 of its RGB
/// pixels, stored by Tools/mediapipe/make_jpeg_fixtures.py for every fixture.
final class JPEGDecodeTests: XCTestCase {
    /// `{file: {width, height, rgb_sha256, width_ignore_orientation, …}}`.
    struct Reference: Decodable {
        var width: Int
        var height: Int
        var rgb_sha256: String
        var width_ignore_orientation: Int
        var height_ignore_orientation: Int
        var rgb_sha256_ignore_orientation: String
    }

    private func checkAgainstCV2(directory: String, manifest file: String, expectedCount: Int) throws {
        let manifest = try JSONDecoder().decode(
            [String: Reference].self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
        XCTAssertEqual(manifest.count, expectedCount, "fixtures in \(directory)")
        for (name, reference) in manifest.sorted(by: { $0.key < $1.key }) {
            let path = directory + "/" + name
            let upright = try RGBImage(contentsOfFile: path)
            XCTAssertEqual(upright.width, reference.width, name)
            XCTAssertEqual(upright.height, reference.height, name)
            XCTAssertEqual(SHA256.hex(upright.pixels), reference.rgb_sha256, "\(name): pixels differ from cv2.imread")
            let raw = try RGBImage(contentsOfFile: path, orientation: .ignore)
            XCTAssertEqual(raw.width, reference.width_ignore_orientation, name)
            XCTAssertEqual(raw.height, reference.height_ignore_orientation, name)
            XCTAssertEqual(SHA256.hex(raw.pixels), reference.rgb_sha256_ignore_orientation,
                           "\(name): pixels differ from cv2.imread(IMREAD_IGNORE_ORIENTATION)")
        }
    }

    /// The 13 person/no-person fixtures as JPEG q90 plus the EXIF-rotated astronaut.
    func testPoseFixturesAreByteIdenticalToCV2Imread() throws {
        try checkAgainstCV2(directory: sharedFixturesDirectory + "/jpeg", manifest: "cv2_imread.json", expectedCount: 14)
    }

    /// Subsamplings, gray, progressive, restart markers, optimised tables, 8 orientations in both
    /// byte orders, malformed EXIF read the way OpenCV reads it, PNG eXIf, misnamed files.
    func testDecoderAndOrientationCasesAreByteIdenticalToCV2Imread() throws {
        try checkAgainstCV2(directory: fixturesDirectory + "/jpeg", manifest: "manifest.json", expectedCount: 55)
    }

    /// The orientation of each case, from the stored grid: `decodeImage` on bytes agrees with the file reader.
    func testInMemoryDecodingMatchesFileDecoding() throws {
        for name in ["orientation6.jpg", "progressive.jpg", "png_exif6.png", "jpeg_named.png"] {
            let bytes = try fixtureBytes("jpeg/" + name)
            XCTAssertEqual(try RGBImage.decodeImage(bytes, source: name), try RGBImage(contentsOfFile: fixturesDirectory + "/jpeg/" + name), name)
        }
        // decodeJPEG alone: the stored grid with .ignore, upright with .apply.
        let bytes = try fixtureBytes("jpeg/orientation6.jpg")
        let raw = try RGBImage.decodeJPEG(bytes, orientation: .ignore)
        XCTAssertEqual((raw.width, raw.height).0, 37)
        XCTAssertEqual(try RGBImage.decodeJPEG(bytes), raw.oriented(.right))
    }

    /// Every orientation is a pixel permutation with the documented geometry (checked on a 3×2 grid).
    func testOrientationGeometry() throws {
        // Stored grid, pixel value = index: row 0 = 0 1 2, row 1 = 3 4 5 (R channel).
        let stored = try RGBImage(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8($0), 0, 0] })
        let expected: [EXIFOrientation: (Int, Int, [UInt8])] = [
            .up: (3, 2, [0, 1, 2, 3, 4, 5]),
            .upMirrored: (3, 2, [2, 1, 0, 5, 4, 3]),
            .down: (3, 2, [5, 4, 3, 2, 1, 0]),
            .downMirrored: (3, 2, [3, 4, 5, 0, 1, 2]),
            .leftMirrored: (2, 3, [0, 3, 1, 4, 2, 5]),
            .right: (2, 3, [3, 0, 4, 1, 5, 2]),
            .rightMirrored: (2, 3, [5, 2, 4, 1, 3, 0]),
            .left: (2, 3, [2, 5, 1, 4, 0, 3]),
        ]
        for orientation in EXIFOrientation.allCases {
            let out = stored.oriented(orientation)
            guard let (w, h, values) = expected[orientation] else { XCTFail("\(orientation)"); continue }
            XCTAssertEqual(out.width, w, "\(orientation)")
            XCTAssertEqual(out.height, h, "\(orientation)")
            XCTAssertEqual(stride(from: 0, to: out.pixels.count, by: 3).map { out.pixels[$0] }, values, "\(orientation)")
        }
    }

    /// Bad JPEGs: a clear error that names the file and the reason, never an image.
    func testBadJPEGsGiveClearErrors() throws {
        let cases: [(String, [String])] = [
            ("bad_truncated.jpg", ["cannot decode JPEG", "Premature end"]),
            ("bad_huffman_data.jpg", ["cannot decode JPEG", "Huffman"]),
            ("bad_huffman_table.jpg", ["cannot decode JPEG", "Huffman table"]),
            ("bad_zero_size.jpg", ["cannot decode JPEG", "zero size 0x0"]),
            ("bad_oversized_side.jpg", ["20000x8", "exceeds the limit"]),
            ("bad_oversized_area.jpg", ["10000x10000", "exceeds the limit"]),
            ("bad_12bit.jpg", ["12-bit JPEG", "not supported"]),
            ("bad_lossless.jpg", ["lossless JPEG (SOF3)", "not supported"]),
            ("bad_cmyk.jpg", ["CMYK/YCCK", "not supported"]),
            ("bad_not_an_image.jpg", ["not a PNG, JPEG or YUV4MPEG2 image", "47 49 46 38"]),
        ]
        for (name, expected) in cases {
            let path = fixturesDirectory + "/jpeg/" + name
            for orientation in [EXIFOrientationHandling.apply, .ignore] {
                XCTAssertThrowsError(try RGBImage(contentsOfFile: path, orientation: orientation), name) { error in
                    let text = "\(error)"
                    XCTAssertTrue(text.hasPrefix(path), "\(name): \"\(text)\" should start with the path")
                    for word in expected {
                        XCTAssertTrue(text.contains(word), "\(name): \"\(text)\" should mention \"\(word)\"")
                    }
                }
            }
            // The same bytes in memory give the same reason.
            let bytes = try fixtureBytes("jpeg/" + name)
            XCTAssertThrowsError(try RGBImage.decodeImage(bytes, source: name)) { error in
                XCTAssertTrue("\(error)".contains(expected[0]), "\(name) in memory: \(error)")
            }
        }
    }

    /// Every prefix of a JPEG and a progressive JPEG is an error (or, for the whole file, the image).
    func testEveryTruncationIsAnError() throws {
        for name in ["sub420.jpg", "progressive.jpg", "orientation6.jpg"] {
            let bytes = try fixtureBytes("jpeg/" + name)
            let full = try RGBImage.decodeImage(bytes)
            for length in 0..<bytes.count {
                // The last two bytes are EOI: libjpeg treats a missing EOI after complete data as a warning too.
                XCTAssertThrowsError(try RGBImage.decodeImage(Array(bytes.prefix(length))), "\(name) prefix \(length)")
            }
            XCTAssertEqual(try RGBImage.decodeImage(bytes), full)
        }
    }

    /// The EXIF parser on mutated TIFF blocks: never traps, never reads outside the block, and
    /// agrees with itself whether the block is an array or a slice of a larger array.
    func testEXIFParserOnMutatedBlocks() throws {
        var generator = SplitMix64(seed: 0x1A2B_3C4D)
        let seeds = try ["orientation6.jpg", "orientation3_be.jpg", "exif_make_inline.jpg", "exif_two_orientations.jpg"].map { name -> [UInt8] in
            let bytes = try fixtureBytes("jpeg/" + name)
            // The APP1 payload after "Exif\0\0": starts at SOI(2) + marker(2) + length(2) + 6.
            let length = Int(bytes[4]) << 8 | Int(bytes[5])
            return Array(bytes[12..<(4 + length)])
        }
        var found = 0
        for i in 0..<20_000 {
            var block = seeds[i % seeds.count]
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                switch generator.next() % 3 {
                case 0 where !block.isEmpty: block[Int(generator.next() % UInt64(block.count))] = UInt8(truncatingIfNeeded: generator.next())
                case 1 where !block.isEmpty: block.removeLast(Int(generator.next() % UInt64(block.count)))
                default: block.append(UInt8(truncatingIfNeeded: generator.next()))
                }
            }
            let direct = EXIFOrientation.parse(tiff: block[...])
            let padded = [0xAA, 0xBB] + block + [0xCC]
            XCTAssertEqual(direct, EXIFOrientation.parse(tiff: padded[2..<(2 + block.count)]), "case \(i)")
            if direct != nil { found += 1 }
        }
        XCTAssertGreaterThan(found, 1000, "mutations that keep a readable orientation")
    }
}

