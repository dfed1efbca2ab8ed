/// The EXIF `Orientation` tag (0x0112): how the stored pixel grid maps to the upright picture.
///
/// Raw values follow the EXIF/TIFF specification. Applying an orientation (see
/// ``RGBImage/oriented(_:)``) turns the stored grid into the upright image, exactly as
/// `cv2.imread` does (OpenCV's `ExifTransform`, checked pixel for pixel against OpenCV 4.11):
///
/// | value | stored row 0 is… | transform applied |
/// |---|---|---|
/// | 1 | top, col 0 left | none |
/// | 2 | top, col 0 right | flip left↔right |
/// | 3 | bottom, col 0 right | rotate 180° |
/// | 4 | bottom, col 0 left | flip top↔bottom |
/// | 5 | left, col 0 top | transpose |
/// | 6 | right, col 0 top | rotate 90° clockwise |
/// | 7 | right, col 0 bottom | transverse (transpose, then rotate 180°) |
/// | 8 | left, col 0 bottom | rotate 90° counter-clockwise |
public enum EXIFOrientation: Int, Sendable, CaseIterable {
    case up = 1
    case upMirrored = 2
    case down = 3
    case downMirrored = 4
    case leftMirrored = 5
    case right = 6
    case rightMirrored = 7
    case left = 8

    /// True for 5…8: the upright image is `height × width` of the stored grid.
    public var swapsWidthAndHeight: Bool { rawValue >= 5 }
}

/// Whether a decoder applies the file's EXIF orientation.
public enum EXIFOrientationHandling: Sendable, Equatable {
    /// Apply the EXIF `Orientation` tag, as `cv2.imread` does by default (upright image).
    case apply
    /// Keep the stored pixel grid (`cv2.IMREAD_IGNORE_ORIENTATION`).
    case ignore
}

extension EXIFOrientation {
    /// Reads the orientation from a TIFF structure (the payload of a JPEG `Exif` APP1 segment after
    /// its 6-byte identifier, or of a PNG `eXIf` chunk) the way OpenCV 4.11's `ExifReader` does, so
    /// that the result matches `cv2.imread` on malformed data too:
    /// * byte order from bytes 0…1: `II` little-endian; `MM` or two different bytes big-endian;
    /// * the TIFF mark (42) at byte 2, the IFD0 offset at byte 4, the entry count at that offset;
    /// * the entries of IFD0 in order; OpenCV reads the values of a few tags (strings, rationals)
    ///   and gives up at the first read that falls outside the data, keeping the tags read before;
    /// * the first `Orientation` entry wins; its value is the 16-bit word at the entry's value
    ///   field, whatever the declared type and count;
    /// * values outside 1…8 mean "no orientation".
    ///
    /// Every read is bounds-checked; no input traps or reads outside `tiff`.
    /// - Returns: the orientation, or `nil` when there is none or its value is outside 1…8.
    public static func parse(tiff: ArraySlice<UInt8>) -> EXIFOrientation? {
        var reader = TIFFReader(bytes: tiff)
        guard let value = reader.orientationValue() else { return nil }
        return EXIFOrientation(rawValue: Int(value))
    }
}

/// Bounds-checked reads over a TIFF block, mirroring OpenCV's `ExifReader` (see
/// ``EXIFOrientation/parse(tiff:)``). Offsets are relative to the block's first byte.
private struct TIFFReader {
    let bytes: ArraySlice<UInt8>
    var littleEndian = false

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    /// `nil` when the read falls outside the block (OpenCV throws `ExifParsingError` there).
    func u16(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset < bytes.count - 1 else { return nil }
        let a = UInt16(bytes[bytes.startIndex + offset]), b = UInt16(bytes[bytes.startIndex + offset + 1])
        return littleEndian ? a | b << 8 : a << 8 | b
    }

    func u32(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset < bytes.count - 3 else { return nil }
        let base = bytes.startIndex + offset
        let b0 = UInt32(bytes[base]), b1 = UInt32(bytes[base + 1])
        let b2 = UInt32(bytes[base + 2]), b3 = UInt32(bytes[base + 3])
        return littleEndian ? b0 | b1 << 8 | b2 << 16 | b3 << 24 : b0 << 24 | b1 << 16 | b2 << 8 | b3
    }

    /// The first Orientation value of IFD0, or `nil`.
    mutating func orientationValue() -> UInt16? {
        guard bytes.count >= 2 else { return nil }
        let first = bytes[bytes.startIndex], second = bytes[bytes.startIndex + 1]
        littleEndian = first == second && first == UInt8(ascii: "I")
        guard u16(2) == 42, let ifd = u32(4), let count = u16(Int(ifd)) else { return nil }
        var entry = Int(ifd) + 2
        for _ in 0..<Int(count) {
            guard let tag = u16(entry) else { return nil }
            switch tag {
            case 0x0112:  // Orientation: the first one wins (OpenCV keeps the first map insertion).
                return u16(entry + 8)
            case 0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x8298:  // ASCII tags OpenCV copies out
                guard stringFits(entry) else { return nil }
            case 0x011A, 0x011B:  // X/YResolution: one rational at the value offset
                guard rationalsFit(entry, count: 1) else { return nil }
            case 0x013E:  // WhitePoint: two rationals
                guard rationalsFit(entry, count: 2) else { return nil }
            case 0x013F, 0x0214:  // PrimaryChromaticities, ReferenceBlackWhite: six rationals
                guard rationalsFit(entry, count: 6) else { return nil }
            case 0x0211:  // YCbCrCoefficients: three rationals
                guard rationalsFit(entry, count: 3) else { return nil }
            case 0x0128, 0x0213:  // ResolutionUnit, YCbCrPositioning: a 16-bit value
                guard u16(entry + 8) != nil else { return nil }
            default:
                break
            }
            entry += 12
        }
        return nil
    }

    /// OpenCV's `getString`: count at +4; data at absolute offset 8 when count ≤ 4, else at the
    /// offset stored at +8; the whole string must lie inside the block.
    private func stringFits(_ entry: Int) -> Bool {
        guard let size = u32(entry + 4) else { return false }
        var dataOffset = 8
        if size > 4 {
            guard let stored = u32(entry + 8) else { return false }
            dataOffset = Int(stored)
        }
        return dataOffset <= bytes.count && dataOffset + Int(size) <= bytes.count
    }

    /// OpenCV's rational readers: `count` unsigned rationals (8 bytes each) at the offset stored at +8.
    private func rationalsFit(_ entry: Int, count: Int) -> Bool {
        guard let stored = u32(entry + 8) else { return false }
        var offset = Int(stored)
        for _ in 0..<count {
            guard u32(offset) != nil, u32(offset + 4) != nil else { return false }
            offset += 8
        }
        return true
    }
}
