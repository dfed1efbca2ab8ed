import BlazeSupport
import CPNG
import Foundation

/// Size limits the PNG decoder enforces before it allocates pixel memory.
public enum PNGLimits {
    /// Largest accepted width or height in pixels.
    public static let maxSide = 16_384
    /// Largest accepted number of pixels (width · height), 64 Mpx (192 MB of RGB).
    public static let maxPixels = 64 * 1024 * 1024
}

extension RGBImage {
    /// Decodes a PNG held in memory to 8-bit RGB.
    ///
    /// Uses libpng's simplified API (`png_image_*`), which reports errors through `png_image.message`
    /// instead of `longjmp`-ing through Swift frames.
    /// * Every colour type is accepted: gray, gray+alpha, RGB, RGBA, palette (with or without `tRNS`),
    ///   bit depths 1…16. Gray is replicated into R = G = B.
    /// * Alpha is **dropped, not composited** (like MediaPipe's `RGBA2RGB`): the image is decoded to
    ///   RGBA and the A sample is discarded.
    /// * 8-bit and lower samples come through unchanged (identical to `cv2.imread`).
    /// * 16-bit gray/RGB: the high byte of each sample is kept, like `cv2.imread` (`png_set_strip_16`).
    ///   16-bit gray+alpha/RGBA: libpng's simplified-API 16→8 rescale (`round(v·255/65535)`), which
    ///   differs from OpenCV's high byte by at most 1 — the simplified API cannot return unpremultiplied
    ///   16-bit samples with alpha.
    /// * gAMA/cHRM/sRGB/iCCP chunks are removed before decoding, so no gamma or colour conversion is
    ///   applied — like OpenCV, which ignores them.
    /// - Parameter source: names the data in error messages (e.g. the file path).
    /// - Throws: `PoseImageError.pngDecodeFailed` (not a PNG, corrupt, truncated, zero size),
    ///   `PoseImageError.imageTooLarge` (beyond `PNGLimits`).
    public static func decodePNG(_ data: [UInt8], source: String = "<memory>") throws -> RGBImage {
        guard data.count >= 8, data[0] == 0x89, data[1] == 0x50, data[2] == 0x4E, data[3] == 0x47 else {
            throw PoseImageError.pngDecodeFailed(source: source, message: "not a PNG file (bad signature)")
        }
        // OpenCV (and so MediaPipe's Python path) ignores colour-management chunks; libpng's simplified
        // API would gamma-convert files whose gAMA is far from sRGB. Dropping those chunks makes libpng
        // take the samples as they are stored.
        let stripped = withoutColorManagementChunks(data)
        // libpng keeps the pointer given to begin_read and reads IDAT from it in finish_read, so the
        // bytes must stay pinned for the whole decode.
        return try stripped.withUnsafeBytes { raw in try decodePinned(raw, source: source) }
    }

    /// Decodes PNG bytes that stay valid for the whole call; see `decodePNG(_:source:)`.
    private static func decodePinned(_ raw: UnsafeRawBufferPointer, source: String) throws -> RGBImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }

        let begun = png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        if begun == 0 || imageFailed(image) {
            throw PoseImageError.pngDecodeFailed(source: source, message: imageMessage(image))
        }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0 else {
            throw PoseImageError.pngDecodeFailed(source: source, message: "image has zero size \(width)x\(height)")
        }
        guard width <= PNGLimits.maxSide, height <= PNGLimits.maxSide, width * height <= PNGLimits.maxPixels else {
            throw PoseImageError.imageTooLarge(
                source: source, width: width, height: height,
                limit: "max side \(PNGLimits.maxSide), max \(PNGLimits.maxPixels) pixels")
        }
        let fileIs16Bit = image.format & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0
        let fileHasAlpha = image.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
        var rgb = [UInt8](repeating: 0, count: width * height * 3)  // [H, W, 3] HWC RGB8
        if fileIs16Bit && !fileHasAlpha {
            // Opaque 16-bit: the simplified API treats a 16-bit file without gAMA/sRGB as linear, so
            // reading it into a linear 16-bit format returns the stored samples untouched. Keeping the
            // high byte then matches cv2.imread (libpng's png_set_strip_16).
            image.format = pngFormatLinearRGB
            var wide = [UInt16](repeating: 0, count: width * height * 3)  // [H, W, 3] HWC RGB16
            let finished = wide.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, png_int_32(width * 3), nil)
            }
            if finished == 0 || imageFailed(image) {
                throw PoseImageError.pngDecodeFailed(source: source, message: imageMessage(image))
            }
            for i in wide.indices { rgb[i] = UInt8(truncatingIfNeeded: wide[i] >> 8) }
            return try RGBImage(width: width, height: height, pixels: rgb)
        }
        // 8-bit (or lower) files, and 16-bit files with alpha: decode to RGBA8 and drop A.
        // A linear (16-bit) format with alpha would come back premultiplied, so 16-bit+alpha files go
        // through libpng's own 16→8 conversion instead (sRGB rescale; within ±1 of OpenCV's high byte).
        // PNG_IMAGE_FLAG_16BIT_sRGB: a 16-bit file without gAMA/sRGB chunks is taken as sRGB-encoded,
        // so 16→8 is a plain rescale instead of a linear→sRGB curve.
        image.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
        image.format = pngFormatRGBA
        // Decoded RGBA buffer: [height, width, 4] HWC, 8-bit.
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let finished = rgba.withUnsafeMutableBytes { out in
            png_image_finish_read(&image, nil, out.baseAddress, png_int_32(width * 4), nil)
        }
        if finished == 0 || imageFailed(image) {
            throw PoseImageError.pngDecodeFailed(source: source, message: imageMessage(image))
        }
        // Drop alpha: RGBA [H, W, 4] → RGB [H, W, 3].
        rgb.withUnsafeMutableBufferPointer { dst in
            rgba.withUnsafeBufferPointer { src in
                for i in 0..<(width * height) {
                    dst[i * 3] = src[i * 4]
                    dst[i * 3 + 1] = src[i * 4 + 1]
                    dst[i * 3 + 2] = src[i * 4 + 2]
                }
            }
        }
        return try RGBImage(width: width, height: height, pixels: rgb)
    }

    /// Reads and decodes a PNG file with bounded reads; see `decodePNG(_:source:)` and
    /// ``init(contentsOfFile:orientation:)``, which reads every supported format and applies the
    /// EXIF orientation. This initializer accepts PNG only and keeps the stored pixel grid.
    public init(pngFile path: String) throws {
        self = try RGBImage.readImageFile(path, formats: [.png], orientation: .ignore)
    }
}

/// `png` with its gAMA, cHRM, sRGB and iCCP chunks removed (the signature and every other chunk are
/// kept byte for byte). Stops rewriting at the first chunk whose length runs past the data and keeps
/// the rest unchanged, so libpng still sees — and reports — truncation or corruption.
func withoutColorManagementChunks(_ png: [UInt8]) -> [UInt8] {
    // The dropped chunk types as big-endian 32-bit tags: gAMA, cHRM, sRGB, iCCP. (Not a
    // Set<[UInt8]>: building one makes the runtime look up [UInt8]'s Hashable conformance, a scan
    // of every conformance record in the binary, ~0.1 ms the first time in a process.)
    let dropped = [0x6741_4D41, 0x6348_524D, 0x7352_4742, 0x6943_4350]
    guard png.count > 8 else { return png }
    var out = Array(png[0..<8])
    out.reserveCapacity(png.count)
    var offset = 8
    while offset + 12 <= png.count {
        let length = PNGHeader.bigEndian32(png, offset)
        let end = offset + 12 + length  // length, type, data, CRC
        guard length <= Int(Int32.max), end <= png.count else { break }
        let type = PNGHeader.bigEndian32(png, offset + 4)
        if !dropped.contains(type) { out.append(contentsOf: png[offset..<end]) }
        offset = end
    }
    out.append(contentsOf: png[offset...])
    return out
}

// png.h defines these as composite macros that do not import into Swift.
/// `PNG_FORMAT_RGBA` = `PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA`.
private let pngFormatRGBA = png_uint_32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)

/// `PNG_FORMAT_LINEAR_RGB` = `PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR` (16-bit samples).
private let pngFormatLinearRGB = png_uint_32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR)

/// `PNG_IMAGE_FAILED(image)`: the macro does not import into Swift.
private func imageFailed(_ image: png_image) -> Bool {
    (image.warning_or_error & 3) > 1
}

/// `png_image.message` (a fixed `char[64]`) as a Swift string.
private func imageMessage(_ image: png_image) -> String {
    var copy = image.message
    let text = withUnsafeBytes(of: &copy) { raw -> String in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
    return text.isEmpty ? "libpng error" : text
}

/// Writes `bytes` to `path` (created or truncated in place, mode 0644) with BlazeSupport's
/// `writeFileInPlace`. No fsync: `Data.write(to:)`, used before, syncs every file, and on
/// `track --annotate-dir` that made the output queue wait for the disk on every frame.
func writeFileBytes(_ bytes: [UInt8], to path: String) throws {
    do {
        try bytes.withUnsafeBytes { try writeFileInPlace(path, $0) }
    } catch let error as FileWriteError {
        let what: String
        switch error {
        case .open: what = "cannot open for writing"
        case .write(let failure, let total): what = "at byte \(failure.written) of \(total)"
        case .close: what = "close"
        }
        throw PoseImageError.fileIO(path: path, message: "write failed: \(what): \(error.reason)")
    }
}
