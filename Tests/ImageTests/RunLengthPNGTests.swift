import BlazeTestSupport
import PoseImage
import XCTest

/// The built-in run-length deflater (`PNGCompression.fast`): every PNG it writes decodes (libpng,
/// CRCs and Adler-32 checked) to exactly the pixels given, for each filter, for images that
/// exercise runs longer than one match, several deflate blocks, and the code-length limit.
final class RunLengthPNGTests: XCTestCase {
    private func compression(filters: Int32) -> PNGCompression {
        PNGCompression(level: 1, strategy: 3, filters: filters, deflater: .runLength)
    }

    private func assertRoundTrip(rgb pixels: [UInt8], width: Int, height: Int, _ label: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try RGBImage(width: width, height: height, pixels: pixels)
        for filters: Int32 in [0x08, 0x10, 0x20] {
            let png = try image.pngData(compression: compression(filters: filters))
            XCTAssertEqual(try RGBImage.decodePNG(png), image, "\(label), filters \(filters)", file: file, line: line)
        }
    }

    private func assertRoundTrip(gray pixels: [UInt8], width: Int, height: Int, _ label: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try GrayImage(width: width, height: height, pixels: pixels)
        for filters: Int32 in [0x08, 0x10, 0x20] {
            let png = try image.pngData(compression: compression(filters: filters))
            let decoded = try RGBImage.decodePNG(png)   // gray comes back replicated to RGB
            XCTAssertEqual([decoded.width, decoded.height], [width, height], label, file: file, line: line)
            XCTAssertEqual(stride(from: 0, to: decoded.pixels.count, by: 3).map { decoded.pixels[$0] }, pixels,
                           "\(label), filters \(filters)", file: file, line: line)
        }
    }

    func testNoiseRunsAndTinyImagesRoundTrip() throws {
        var random = SplitMix64(seed: 7)
        let noise = (0..<(37 * 23 * 3)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try assertRoundTrip(rgb: noise, width: 37, height: 23, "RGB noise")
        // Runs far longer than one match (258) and across rows; a constant image.
        try assertRoundTrip(rgb: [UInt8](repeating: 40, count: 300 * 5 * 3), width: 300, height: 5, "constant RGB")
        try assertRoundTrip(gray: [UInt8](repeating: 0, count: 1000 * 3), width: 1000, height: 3, "all-zero mask")
        // Short repeats (1–3 equal bytes) next to runs of exactly 3, 4 and 259.
        var mixed: [UInt8] = []
        for k in 0..<400 { mixed += [UInt8](repeating: UInt8(k % 7), count: [1, 2, 3, 4, 5, 259][k % 6]) }
        let width = 97
        mixed += [UInt8](repeating: 9, count: (width - mixed.count % width) % width)
        try assertRoundTrip(gray: mixed, width: width, height: mixed.count / width, "mixed runs")
        try assertRoundTrip(rgb: [1, 2, 3], width: 1, height: 1, "1x1 RGB")
        try assertRoundTrip(gray: [200], width: 1, height: 1, "1x1 gray")
        try assertRoundTrip(gray: (0..<50).map { UInt8($0 * 5) }, width: 1, height: 50, "one column")
    }

    func testRowsWiderThanABlockAndAMaskRoundTrip() throws {
        // One row per deflate block (a 16000-pixel RGB row is 48 KB: more than half of the ~64 KB
        // block), several blocks.
        var random = SplitMix64(seed: 11)
        let wide = (0..<(16_000 * 3 * 3)).map { i in i % 5 == 0 ? UInt8(truncatingIfNeeded: random.next() & 3) : 0 }
        try assertRoundTrip(rgb: wide, width: 16_000, height: 3, "16000-wide RGB")
        // A mask-like image: a disc, many rows, more than one block.
        let mask = (0..<(640 * 480)).map { i -> UInt8 in
            let x = i % 640 - 320, y = i / 640 - 240
            return x * x + y * y < 150 * 150 ? 255 : (x * x + y * y < 152 * 152 ? 128 : 0)
        }
        try assertRoundTrip(gray: mask, width: 640, height: 480, "disc mask")
    }

    /// Byte counts that follow the Fibonacci numbers make a plain Huffman code ~25 bits deep;
    /// deflate allows 15, so the length limit has to act.
    func testSkewedCountsStayWithinTheCodeLengthLimit() throws {
        var counts: [Int] = [1, 1]
        while counts.count < 24 { counts.append(counts[counts.count - 1] + counts[counts.count - 2]) }
        var bytes: [UInt8] = []
        for (value, count) in counts.enumerated() { bytes += [UInt8](repeating: UInt8(value * 10), count: count) }
        var random = SplitMix64(seed: 3)
        for i in stride(from: bytes.count - 1, to: 0, by: -1) { bytes.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        let width = 256
        bytes += [UInt8](repeating: 0, count: (width - bytes.count % width) % width)
        try assertRoundTrip(gray: bytes, width: width, height: bytes.count / width, "Fibonacci-skewed bytes")
    }

    func testOnlyOneFilterIsAccepted() throws {
        let image = try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 7, count: 12))
        for filters: Int32 in [0x18, 0x40, 0x80, 0xF8] {
            XCTAssertThrowsError(try image.pngData(compression: compression(filters: filters))) { error in
                XCTAssertTrue("\(error)".contains("one filter"), "\(error)")
            }
        }
    }

    /// The default is the run-length deflater, and on a photo its file is no larger than 1.05× what
    /// libpng + zlib (level 1, RLE, sub) write: both find the same runs.
    func testFastIsTheRunLengthDeflaterAndAsSmallAsZlibRLE() throws {
        XCTAssertEqual(PNGCompression.fast.deflater, .runLength)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let image = try RGBImage(pngFile: root.appendingPathComponent("Samples/astronaut.png").path)
        let runLength = try image.pngData()
        let zlib = try image.pngData(compression: .zlibFast)
        XCTAssertEqual(try RGBImage.decodePNG(runLength), image)
        XCTAssertLessThanOrEqual(Double(runLength.count), 1.05 * Double(zlib.count), "\(runLength.count) vs \(zlib.count) bytes")
    }
}
