/// The image formats ``RGBImage/init(contentsOfFile:orientation:)`` reads, told apart by the
/// file's first bytes (magic bytes), never by its name.
public enum ImageFileFormat: String, Sendable, CaseIterable {
    /// `89 50 4E 47 0D 0A 1A 0A`.
    case png
    /// `FF D8 FF` (SOI, then the first marker).
    case jpeg
    /// `YUV4MPEG2 ` (a single-frame YUV4MPEG2 still).
    case y4m

    /// The format whose signature `prefix` starts with, or `nil`. Needs at most 10 bytes.
    public static func detect<C: Collection>(_ prefix: C) -> ImageFileFormat? where C.Element == UInt8 {
        let head = Array(prefix.prefix(10))
        if head.count >= 8, head[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
        if head.count >= 10, head.elementsEqual(Array("YUV4MPEG2 ".utf8)) { return .y4m }
        return nil
    }
}
