/// Size limits for reading image files, in proportion to the pixel limits of ``PNGLimits``
/// (which hold for every format).
///
/// A file is read only after its header gave a size within the pixel limits, and only if it is no
/// larger than ``maxFileBytes(width:height:)`` for that size. That bound is far above what any
/// real encoder writes (8 bytes per pixel is a 16-bit RGBA PNG stored without compression), so it
/// only rejects files padded with megabytes of data no decoder would read.
public enum ImageFileLimits {
    /// Slack for metadata (EXIF, ICC profiles, text chunks, trailing data): 16 MiB.
    public static let metadataBytes = 16 << 20
    /// Largest bytes per pixel counted: 16-bit RGBA, uncompressed.
    public static let bytesPerPixel = 8

    /// Largest accepted file for a `width × height` image: `8 · width · height + 16 MiB`.
    public static func maxFileBytes(width: Int, height: Int) -> Int {
        bytesPerPixel * width * height + metadataBytes
    }

    /// Largest file read at all, whatever its header says: ``maxFileBytes(width:height:)`` at
    /// ``PNGLimits/maxPixels`` (528 MiB). Larger files are rejected after `fstat`, before any read.
    public static var maxFileBytes: Int { bytesPerPixel * PNGLimits.maxPixels + metadataBytes }

    /// Bytes read while looking for a JPEG frame header before giving up (16 MiB).
    public static let maxHeaderBytes = 16 << 20
}
