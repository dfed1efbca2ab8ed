import CPNG
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which deflate implementation compresses the PNG's image data.
public enum PNGDeflater: Equatable, Sendable {
    /// libpng's writer with zlib: `level`, `strategy` and `filters` all apply.
    case zlib
    /// The built-in run-length deflater: literals plus runs of a repeated byte (distance-1 matches),
    /// one dynamic Huffman code per ~64 KB of rows. `filters` must name one filter (none, sub or
    /// up); `level` and `strategy` are ignored. About 3× faster than zlib at level 1 with `Z_RLE`
    /// for the same size (it finds the same runs).
    case runLength
}

/// How hard the PNG encoder compresses: zlib level, zlib strategy, PNG row filters, and which
/// deflate implementation runs.
public struct PNGCompression: Equatable, Sendable {
    /// zlib level, 0 (store) … 9 (smallest).
    public var level: Int32
    /// zlib strategy: 0 default, 1 filtered, 2 Huffman only, 3 run-length (RLE).
    public var strategy: Int32
    /// PNG row filters the encoder may choose from, a mask of `PNG_FILTER_*` values (0x08 none,
    /// 0x10 sub, 0x20 up, 0x40 average, 0x80 Paeth).
    public var filters: Int32
    /// The deflate implementation (``PNGDeflater/zlib`` unless given).
    public var deflater: PNGDeflater

    public init(level: Int32, strategy: Int32, filters: Int32, deflater: PNGDeflater = .zlib) {
        self.level = level
        self.strategy = strategy
        self.filters = filters
        self.deflater = deflater
    }

    /// The default for annotated frames and masks: the built-in run-length deflater
    /// (``PNGDeflater/runLength``) with the "up" filter. Fast to write; files are ~1.5–2× larger
    /// than `.small` on photos (a little smaller than ``zlibFast``), and very small for masks.
    /// "Up" rather than "sub": on 640×480 frames of the track benchmark and the 512×512 sample
    /// photo it made 5–15 % smaller files and ~15 % less CPU (more zero runs, fewer tokens).
    /// Tried and not kept: the "none" filter (512×512 RGB with zlib: 13.5 ms and 667 KB vs 12.9 ms
    /// and 465 KB with "sub"); deflate, not filtering, is the cost.
    public static let fast = PNGCompression(level: 1, strategy: 3, filters: 0x20, deflater: .runLength)
    /// What `.fast` was before the built-in deflater: libpng with zlib level 1, the RLE strategy
    /// and the "sub" filter only (one filter, so libpng does not try five per row).
    public static let zlibFast = PNGCompression(level: 1, strategy: 3, filters: 0x10)
    /// libpng's defaults: zlib level 6, default strategy, all five filters tried per row.
    public static let small = PNGCompression(level: 6, strategy: 0, filters: 0xF8)
}

extension RGBImage {
    /// Encodes the image as an 8-bit RGB PNG (colour type 2, non-interlaced, no ancillary chunks)
    /// in one pass with libpng's write API.
    /// - Throws: `PoseImageError.pngEncodeFailed` with libpng's message.
    public func pngData(compression: PNGCompression = .fast) throws -> [UInt8] {
        try encodePNGOnePass(pixels: pixels, width: width, height: height, channels: 3, compression: compression)
    }

    /// Writes the image as an 8-bit RGB PNG file (see ``pngData(compression:)``).
    public func writePNG(to path: String, compression: PNGCompression = .fast) throws {
        try writeFileBytes(try pngData(compression: compression), to: path)
    }
}

extension GrayImage {
    /// Encodes the image as an 8-bit grayscale PNG (colour type 0) in one pass with libpng's write API.
    public func pngData(compression: PNGCompression = .fast) throws -> [UInt8] {
        try encodePNGOnePass(pixels: pixels, width: width, height: height, channels: 1, compression: compression)
    }

    /// Writes the image as an 8-bit grayscale PNG file.
    public func writePNG(to path: String, compression: PNGCompression = .fast) throws {
        try writeFileBytes(try pngData(compression: compression), to: path)
    }
}

/// Encodes `pixels` (`[height, width, channels]` HWC, 8-bit, no row padding) with the chosen
/// deflater: libpng + zlib, or the built-in run-length deflater.
private func encodePNGOnePass(pixels: [UInt8], width: Int, height: Int, channels: Int,
                              compression: PNGCompression) throws -> [UInt8] {
    try validateDimensions(width: width, height: height, channels: channels, count: pixels.count)
    // libpng's default user limits (png_set_user_limits): 1,000,000 pixels a side.
    guard width <= 1_000_000, height <= 1_000_000 else {
        throw PoseImageError.pngEncodeFailed(destination: "<memory>",
                                             message: "image \(width)x\(height) exceeds libpng's 1000000-pixel side limit")
    }
    guard (0...9).contains(compression.level), (0...4).contains(compression.strategy),
          compression.filters & ~0xF8 == 0, compression.filters != 0 else {
        throw PoseImageError.pngEncodeFailed(
            destination: "<memory>",
            message: "invalid compression level \(compression.level), strategy \(compression.strategy) or filters \(compression.filters)")
    }
    if compression.deflater == .runLength {
        guard let filter = PNGRowFilter(mask: compression.filters) else {
            throw PoseImageError.pngEncodeFailed(
                destination: "<memory>",
                message: "the run-length deflater takes one filter (0x08 none, 0x10 sub or 0x20 up), got filters \(compression.filters)")
        }
        return pixels.withUnsafeBufferPointer { src in
            RunLengthDeflater.encodePNG(src, width: width, height: height, channels: channels, filter: filter)
        }
    }
    var stream = blaze_png_stream(data: nil, size: 0, capacity: 0)
    defer { free(stream.data) }
    var error = blaze_png_error_text()
    // Start with room for a typical fast-compressed frame (half the raw size) to avoid regrowth.
    let initial = max(4096, width * height * channels / 2)
    if let buffer = malloc(initial) {
        stream.data = buffer.assumingMemoryBound(to: UInt8.self)
        stream.capacity = initial
    }
    let ok = pixels.withUnsafeBufferPointer { src in
        blaze_png_encode(src.baseAddress, png_uint_32(width), png_uint_32(height), Int32(channels),
                         compression.level, compression.strategy, compression.filters, &stream, &error)
    }
    guard ok != 0, let data = stream.data else {
        let message = withUnsafeBytes(of: &error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        throw PoseImageError.pngEncodeFailed(destination: "<memory>", message: message.isEmpty ? "libpng error" : message)
    }
    return Array(UnsafeBufferPointer(start: data, count: stream.size))
}
