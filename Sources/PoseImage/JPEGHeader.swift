/// What a bounded scan of a JPEG's marker segments finds before the first scan (SOS): the frame
/// header (SOFn) and the first APP1 segment. Used to reject unsupported or oversized images
/// before any pixel memory is allocated, and to find the EXIF orientation.
struct JPEGHeader {
    /// The SOFn marker byte (0xC0…0xCF, except 0xC4, 0xC8, 0xCC).
    var frameMarker: UInt8
    /// Sample precision in bits (8 for baseline/progressive; 12 or 16 elsewhere).
    var precision: Int
    var width: Int
    var height: Int
    /// Number of colour components (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK).
    var components: Int
    /// Byte range of the first APP1 segment's payload (after its length field), if any.
    var firstAPP1: Range<Int>?
    /// Offset of the SOS marker that starts the first scan.
    var firstScanOffset: Int

    /// Result of ``scan(_:)``: a header, or a request for more bytes of the file.
    enum ScanResult {
        case header(JPEGHeader)
        /// The scan needs the file's first `count` bytes (it got fewer).
        case needBytes(Int)
    }

    /// Scans `bytes` (a prefix of the file, or all of it) from SOI to the first SOS.
    /// - Parameter isComplete: `bytes` is the whole file, so running out of data is an error.
    /// - Throws: `PoseImageError.jpegDecodeFailed` for a missing SOI, a malformed segment, a second
    ///   frame header, or no frame header before the first scan, naming the byte offset.
    static func scan(_ bytes: [UInt8], isComplete: Bool, source: String) throws -> ScanResult {
        func fail(_ message: String) -> PoseImageError {
            PoseImageError.jpegDecodeFailed(source: source, message: message)
        }
        guard bytes.count >= 2 || !isComplete else { throw fail("file too short for a JPEG (\(bytes.count) bytes)") }
        guard bytes.count >= 2 else { return .needBytes(2) }
        guard bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw fail("not a JPEG file (no SOI marker)") }
        var offset = 2
        var frame: (marker: UInt8, precision: Int, width: Int, height: Int, components: Int)?
        var app1: Range<Int>?
        while true {
            // A marker: one or more 0xFF fill bytes, then the marker code.
            guard offset < bytes.count else {
                if isComplete { throw fail("data ends at byte \(offset) before the first scan (SOS): truncated file") }
                return .needBytes(offset + 1)
            }
            guard bytes[offset] == 0xFF else {
                throw fail(String(format: "expected a marker at byte %d, found 0x%02X", offset, bytes[offset]))
            }
            var codeOffset = offset + 1
            while codeOffset < bytes.count, bytes[codeOffset] == 0xFF { codeOffset += 1 }
            guard codeOffset < bytes.count else {
                if isComplete { throw fail("data ends at byte \(codeOffset) inside a marker: truncated file") }
                return .needBytes(codeOffset + 1)
            }
            let marker = bytes[codeOffset]
            let markerOffset = codeOffset - 1
            switch marker {
            case 0x00, 0x01, 0xD0...0xD7:
                throw fail(String(format: "unexpected marker 0x%02X at byte %d before the first scan", marker, markerOffset))
            case 0xD8:
                throw fail("second SOI marker at byte \(markerOffset)")
            case 0xD9:
                throw fail("EOI marker at byte \(markerOffset) before any image data")
            default:
                break
            }
            // Every other marker carries a 16-bit big-endian length that counts itself.
            let lengthOffset = codeOffset + 1
            guard lengthOffset + 2 <= bytes.count else {
                if isComplete { throw fail("data ends inside the segment header at byte \(lengthOffset): truncated file") }
                return .needBytes(lengthOffset + 2)
            }
            let length = Int(bytes[lengthOffset]) << 8 | Int(bytes[lengthOffset + 1])
            guard length >= 2 else {
                throw fail(String(format: "marker 0x%02X at byte %d has an invalid length %d", marker, markerOffset, length))
            }
            let payload = (lengthOffset + 2)..<(lengthOffset + length)
            if marker == 0xDA {
                guard let frame else { throw fail("first scan (SOS) at byte \(markerOffset) comes before any frame header (SOF)") }
                return .header(JPEGHeader(
                    frameMarker: frame.marker, precision: frame.precision, width: frame.width, height: frame.height,
                    components: frame.components, firstAPP1: app1, firstScanOffset: markerOffset))
            }
            guard payload.upperBound <= bytes.count else {
                if isComplete {
                    throw fail(String(format: "segment 0x%02X at byte %d (%d bytes) runs past the end of the file (%d bytes): truncated file",
                                      marker, markerOffset, length, bytes.count))
                }
                return .needBytes(payload.upperBound)
            }
            switch marker {
            case 0xC0...0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                guard frame == nil else { throw fail("second frame header (SOF) at byte \(markerOffset)") }
                guard length >= 8 else { throw fail("frame header at byte \(markerOffset) is too short (\(length) bytes)") }
                let p = payload.lowerBound
                let components = Int(bytes[p + 5])
                guard length == 8 + 3 * components else {
                    throw fail("frame header at byte \(markerOffset): length \(length) does not match \(components) components")
                }
                frame = (marker, Int(bytes[p]), Int(bytes[p + 3]) << 8 | Int(bytes[p + 4]),
                         Int(bytes[p + 1]) << 8 | Int(bytes[p + 2]), components)
            case 0xE1:
                if app1 == nil { app1 = payload }
            default:
                break
            }
            offset = payload.upperBound
        }
    }

    /// Throws a clear error for the kinds this decoder does not handle, and for sizes beyond
    /// ``PNGLimits`` (checked here, before decoding).
    func validate(source: String) throws {
        func unsupported(_ what: String) -> PoseImageError {
            PoseImageError.jpegDecodeFailed(source: source, message: "\(what) is not supported")
        }
        switch frameMarker {
        case 0xC3, 0xCB: throw unsupported(String(format: "lossless JPEG (SOF%d)", Int(frameMarker - 0xC0)))
        case 0xC5...0xC7, 0xCD...0xCF:
            throw unsupported(String(format: "hierarchical JPEG (SOF%d)", Int(frameMarker - 0xC0)))
        default: break
        }
        guard precision == 8 else { throw unsupported("\(precision)-bit JPEG (sample precision \(precision))") }
        guard width > 0, height > 0 else {
            throw PoseImageError.jpegDecodeFailed(source: source, message: "image has zero size \(width)x\(height)")
        }
        switch components {
        case 1, 3: break
        case 4: throw unsupported("CMYK/YCCK JPEG (4 colour components)")
        default: throw unsupported("JPEG with \(components) colour components")
        }
        guard width <= PNGLimits.maxSide, height <= PNGLimits.maxSide, width * height <= PNGLimits.maxPixels else {
            throw PoseImageError.imageTooLarge(
                source: source, width: width, height: height,
                limit: "max side \(PNGLimits.maxSide), max \(PNGLimits.maxPixels) pixels")
        }
    }
}
