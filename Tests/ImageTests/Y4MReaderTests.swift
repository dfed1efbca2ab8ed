import Foundation
import PoseImage
import XCTest

final class Y4MReaderTests: XCTestCase {
    /// A reader over `bytes` delivered in chunks of `chunkSize` (exercises incremental parsing).
    func reader(_ bytes: [UInt8], chunkSize: Int = 7) throws -> Y4MReader {
        var offset = 0
        return try Y4MReader(chunks: {
            let end = min(offset + chunkSize, bytes.count)
            defer { offset = end }
            return Array(bytes[offset..<end])
        })
    }

    func stream(_ header: String, frames: [[UInt8]]) -> [UInt8] {
        var out = Array((header + "\n").utf8)
        for f in frames { out += Array("FRAME\n".utf8) + f }
        return out
    }

    func testHeaderFieldsAndPrimaryColours444() throws {
        // 3×1 frame: black, white, BT.601 red (Y 81, Cb 90, Cr 240).
        let frame: [UInt8] = [16, 235, 81, /* Cb */ 128, 128, 90, /* Cr */ 128, 128, 240]
        let r = try reader(stream("YUV4MPEG2 W3 H1 F30000:1001 Ip A1:1 C444 XYSCSS=444", frames: [frame]))
        XCTAssertEqual(r.header.width, 3)
        XCTAssertEqual(r.header.height, 1)
        XCTAssertEqual(r.header.chroma, .yuv444)
        XCTAssertEqual(r.header.frameRate?.numerator, 30000)
        XCTAssertEqual(r.header.frameRate?.denominator, 1001)
        XCTAssertEqual(r.header.pixelAspect?.numerator, 1)
        let image = try XCTUnwrap(try r.nextFrame())
        XCTAssertEqual(image.pixels, [0, 0, 0, 255, 255, 255, 254, 0, 0])
        XCTAssertNil(try r.nextFrame())
        XCTAssertEqual(r.framesRead, 1)
    }

    func testChroma420VariantsReplicateChromaOverOddSizes() throws {
        // 3×3 luma (all 126), 2×2 chroma: each quadrant a different Cb.
        let luma = [UInt8](repeating: 126, count: 9)
        let cb: [UInt8] = [60, 100, 160, 200], cr: [UInt8] = [128, 128, 128, 128]
        for tag in ["", " C420jpeg", " C420paldv", " C420mpeg2", " C420"] {
            let r = try reader(stream("YUV4MPEG2 W3 H3" + tag, frames: [luma + cb + cr, luma + cb + cr]))
            for _ in 0..<2 {
                let image = try XCTUnwrap(try r.nextFrame(), tag)
                func blue(_ x: Int, _ y: Int) -> UInt8 { image.pixel(x: x, y: y)!.b }
                let expected = cb.map { bt601LimitedToRGB(y: 126, cb: Int32($0), cr: 128).2 }
                XCTAssertEqual([blue(0, 0), blue(1, 1), blue(2, 0), blue(0, 2), blue(2, 2)],
                               [expected[0], expected[0], expected[1], expected[2], expected[3]], tag)
            }
            XCTAssertNil(try r.nextFrame())
        }
    }

    /// Every (Y, Cb, Cr) triple, in a 4:4:4 frame of 4096×4096 (16 pixels at a time for most of
    /// each row, one by one for none: 4096 is a multiple of 16), against `bt601LimitedToRGB`.
    func testEveryTripleMatchesTheScalarFormula() throws {
        let side = 4096, count = side * side
        var frame = [UInt8](repeating: 0, count: 3 * count)
        for i in 0..<count {
            frame[i] = UInt8(truncatingIfNeeded: i)
            frame[count + i] = UInt8(truncatingIfNeeded: i >> 8)
            frame[2 * count + i] = UInt8(truncatingIfNeeded: i >> 16)
        }
        let r = try reader(stream("YUV4MPEG2 W\(side) H\(side) C444", frames: [frame]), chunkSize: 1 << 22)
        let image = try XCTUnwrap(try r.nextFrame())
        var mismatches = 0
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<count {
                let (red, green, blue) = bt601LimitedToRGB(y: Int32(i & 255), cb: Int32((i >> 8) & 255), cr: Int32(i >> 16))
                if p[3 * i] != red || p[3 * i + 1] != green || p[3 * i + 2] != blue { mismatches += 1 }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    /// 4:2:0, 4:4:4 and mono frames of odd and edge sizes (1-pixel-wide and 1-pixel-high among
    /// them, widths around 16) against the per-pixel formula with chroma sample (x/2, y/2) for
    /// 4:2:0: the 16-pixel path, the rest of each row, and the chroma grid in each direction.
    func testSizesAndChromaFormatsAgainstThePerPixelFormula() throws {
        var state: UInt32 = 12345
        func byte() -> UInt8 { state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(truncatingIfNeeded: state >> 24) }
        for (w, h) in [(1, 1), (1, 3), (3, 1), (2, 5), (15, 3), (16, 2), (17, 5), (31, 7), (32, 1), (33, 4), (47, 3)] {
            for tag in ["C420jpeg", "C444", "Cmono"] {
                let (cw, ch) = tag == "C420jpeg" ? ((w + 1) / 2, (h + 1) / 2) : tag == "C444" ? (w, h) : (0, 0)
                let luma = (0..<(w * h)).map { _ in byte() }
                let cb = (0..<(cw * ch)).map { _ in byte() }, cr = (0..<(cw * ch)).map { _ in byte() }
                let r = try reader(stream("YUV4MPEG2 W\(w) H\(h) \(tag)", frames: [luma + cb + cr]))
                let image = try XCTUnwrap(try r.nextFrame(), "\(w)x\(h) \(tag)")
                var expected: [UInt8] = []
                for y in 0..<h {
                    for x in 0..<w {
                        let c = tag == "C420jpeg" ? (y / 2) * cw + x / 2 : y * w + x
                        let (red, green, blue) = bt601LimitedToRGB(y: Int32(luma[y * w + x]), cb: tag == "Cmono" ? 128 : Int32(cb[c]),
                                                                   cr: tag == "Cmono" ? 128 : Int32(cr[c]))
                        expected += [red, green, blue]
                    }
                }
                XCTAssertEqual(image.pixels, expected, "\(w)x\(h) \(tag)")
            }
        }
    }

    func testMono() throws {
        let r = try reader(stream("YUV4MPEG2 W2 H2 Cmono", frames: [[16, 126, 235, 255]]))
        let image = try XCTUnwrap(try r.nextFrame())
        XCTAssertEqual(image.pixels, [0, 0, 0, 128, 128, 128, 255, 255, 255, 255, 255, 255])
    }

    func testTruncatedStreamThrowsAfterCompleteFrames() throws {
        let frame = [UInt8](repeating: 128, count: 4 * 2 + 2 * 2)  // 4×2, 4:2:0 → 8 + 2 + 2
        var bytes = stream("YUV4MPEG2 W4 H2", frames: [frame, frame])
        bytes.removeLast(3)
        let r = try reader(bytes)
        XCTAssertNotNil(try r.nextFrame())
        XCTAssertThrowsError(try r.nextFrame()) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
            XCTAssertTrue("\(error)".contains("frame 1"), "\(error)")
        }
        // A stream cut inside a FRAME line is also truncated.
        let cut = Array(stream("YUV4MPEG2 W4 H2", frames: [frame]).dropLast(frame.count + 2))
        let r2 = try reader(cut)
        XCTAssertThrowsError(try r2.nextFrame())
    }

    func testBadHeadersAndFrameLines() throws {
        let bad: [(String, String)] = [
            ("YUV4MPEG W2 H2", "not a YUV4MPEG2"),
            ("YUV4MPEG2 H2", "lacks W"),
            ("YUV4MPEG2 W2", "lacks H"),
            ("YUV4MPEG2 W0 H2", "width"),
            ("YUV4MPEG2 W-3 H2", "width"),
            ("YUV4MPEG2 Wabc H2", "width"),
            ("YUV4MPEG2 W2 H2 It", "interlacing"),
            ("YUV4MPEG2 W2 H2 Im", "interlacing"),
            ("YUV4MPEG2 W2 H2 C422", "chroma"),
            ("YUV4MPEG2 W2 H2 C420p10", "chroma"),
            ("YUV4MPEG2 W2 H2 F30", "frame rate"),
            ("YUV4MPEG2 W2 H2 F30:0", "frame rate"),
            ("YUV4MPEG2 W2 H2 Q7", "unknown"),
            ("YUV4MPEG2 W20000 H2", "limit"),
            ("YUV4MPEG2 W99999999999999999999 H2", "width"),
        ]
        for (header, fragment) in bad {
            XCTAssertThrowsError(try reader(Array((header + "\n").utf8)), header) { error in
                guard case PoseImageError.y4m? = error as? PoseImageError else { return XCTFail("\(header): \(error)") }
                XCTAssertTrue("\(error)".contains(fragment), "\(header): \(error)")
            }
        }
        XCTAssertThrowsError(try reader([]))
        XCTAssertThrowsError(try reader(Array("YUV4MPEG2 W2 H2".utf8)))  // no newline
        XCTAssertThrowsError(try reader([UInt8](repeating: 65, count: 10_000)))  // endless header
        let r = try reader(Array("YUV4MPEG2 W1 H1 C444\nFRAMX\n\0\0\0".utf8))
        XCTAssertThrowsError(try r.nextFrame()) { XCTAssertTrue("\($0)".contains("FRAME"), "\($0)") }
    }

    func testFrameParametersAreAccepted() throws {
        let r = try reader(Array("YUV4MPEG2 W1 H1 C444\nFRAME Ixyz\n".utf8) + [16, 128, 128])
        XCTAssertEqual(try r.nextFrame()?.pixels, [0, 0, 0])
    }

    func testReadsFromFileHandle() throws {
        let path = NSTemporaryDirectory() + "/poseimage-\(getpid()).y4m"
        let frame = [UInt8](repeating: 235, count: 6) + [128, 128, 128, 128]
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(stream("YUV4MPEG2 W3 H2 F25:1", frames: [frame, frame, frame]))))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try XCTUnwrap(FileHandle(forReadingAtPath: path))
        let r = try Y4MReader(fileHandle: handle)
        var count = 0
        while let image = try r.nextFrame() {
            XCTAssertEqual(image.pixels, [UInt8](repeating: 255, count: 18))
            count += 1
        }
        XCTAssertEqual(count, 3)
    }
}
