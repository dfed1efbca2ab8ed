/// The parts of a PNG read before (and besides) libpng: the IHDR size, to check the pixel limits
/// before the file is read whole, and the `eXIf` chunk, for the orientation `cv2.imread` applies.
enum PNGHeader {
    /// Bytes needed for ``size(_:)``: signature (8) + IHDR length, type and size fields (16).
    static let sizeBytes = 24

    /// Width and height from the IHDR chunk, or `nil` when the first chunk is not IHDR (libpng
    /// then reports the error). `png` starts with the file's first ``sizeBytes`` bytes.
    static func size(_ png: [UInt8]) -> (width: Int, height: Int)? {
        guard png.count >= sizeBytes, png[12..<16].elementsEqual(Array("IHDR".utf8)) else { return nil }
        return (bigEndian32(png, 16), bigEndian32(png, 20))
    }

    /// The payload of the `eXIf` chunk that libpng keeps, as `cv2.imread` sees it: the first
    /// `eXIf` chunk (before or after the image data) that is at least 2 bytes long, starts with
    /// `II` or `MM` and has a correct CRC; `nil` if there is none. Chunks are walked with every
    /// length checked against the data; the walk stops at IEND or at the first chunk that runs
    /// past the end.
    static func exifPayload(_ png: [UInt8]) -> ArraySlice<UInt8>? {
        var offset = 8
        while offset + 12 <= png.count {
            let length = bigEndian32(png, offset)
            let dataStart = offset + 8
            guard length <= png.count - dataStart - 4 else { return nil }
            let dataEnd = dataStart + length
            let type = png[(offset + 4)..<dataStart]
            if type.elementsEqual(Array("IEND".utf8)) { return nil }
            if type.elementsEqual(Array("eXIf".utf8)), length >= 2 {
                let first = png[dataStart], second = png[dataStart + 1]
                let byteOrderOK = first == second && (first == UInt8(ascii: "I") || first == UInt8(ascii: "M"))
                let crc = UInt32(truncatingIfNeeded: bigEndian32(png, dataEnd))
                if byteOrderOK, crc == crc32(png[(offset + 4)..<dataEnd]) {
                    return png[dataStart..<dataEnd]
                }
            }
            offset = dataEnd + 4
        }
        return nil
    }

    /// The big-endian 32-bit value at `bytes[offset ..< offset + 4]` (a chunk's length, type or CRC).
    static func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }

    /// CRC-32 (ISO 3309, as in PNG) of `bytes`.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
