import Foundation
import CBlazeTarget

/// Chroma layout of a YUV4MPEG2 stream (`C` header tag).
public enum Y4MChroma: String, Sendable, Equatable {
    /// 4:2:0, chroma centred between luma samples (`C420jpeg`, also the default when `C` is absent).
    case yuv420jpeg = "420jpeg"
    /// 4:2:0, PAL-DV siting (`C420paldv`).
    case yuv420paldv = "420paldv"
    /// 4:2:0, MPEG-2 siting (`C420mpeg2`).
    case yuv420mpeg2 = "420mpeg2"
    /// 4:2:0 (`C420`, MPEG-2 siting per the spec).
    case yuv420 = "420"
    /// 4:4:4, full-resolution chroma.
    case yuv444 = "444"
    /// Luma only.
    case mono = "mono"

    /// Chroma plane size for a `width × height` frame (0×0 for mono).
    func chromaSize(width: Int, height: Int) -> (width: Int, height: Int) {
        switch self {
        case .yuv420jpeg, .yuv420paldv, .yuv420mpeg2, .yuv420: return ((width + 1) / 2, (height + 1) / 2)
        case .yuv444: return (width, height)
        case .mono: return (0, 0)
        }
    }
}

/// The stream header of a YUV4MPEG2 file.
public struct Y4MHeader: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Frame rate `numerator / denominator` frames per second (`F` tag); `nil` if absent or `0:0`.
    public var frameRate: (numerator: Int, denominator: Int)?
    /// Pixel aspect ratio (`A` tag); `nil` if absent or `0:0` (unknown).
    public var pixelAspect: (numerator: Int, denominator: Int)?
    public var chroma: Y4MChroma

    public static func == (a: Y4MHeader, b: Y4MHeader) -> Bool {
        a.width == b.width && a.height == b.height && a.chroma == b.chroma
            && a.frameRate?.numerator == b.frameRate?.numerator && a.frameRate?.denominator == b.frameRate?.denominator
            && a.pixelAspect?.numerator == b.pixelAspect?.numerator
            && a.pixelAspect?.denominator == b.pixelAspect?.denominator
    }
}

/// A streaming reader of YUV4MPEG2 (`.y4m`) video, e.g. `ffmpeg -i in.mp4 -f yuv4mpegpipe -` on stdin.
///
/// * Accepted: progressive (`Ip` or no `I` tag) streams with `C420jpeg`, `C420paldv`, `C420mpeg2`,
///   `C420`, `C444` or `Cmono`, 8-bit. Other interlacing modes, bit depths or chroma formats throw.
/// * 4:2:0 chroma is upsampled by replication (each chroma sample covers its 2×2 luma block);
///   the different chroma sitings of the 4:2:0 variants are not interpolated — the same as the
///   unscaled yuv420p→rgb24 path of FFmpeg's swscale with default flags.
/// * Colour conversion: BT.601, limited range (Y 16…235, Cb/Cr 16…240), in 16.16 fixed point:
///   `R = 1.164383·(Y−16) + 1.596027·(Cr−128)`,
///   `G = 1.164383·(Y−16) − 0.391762·(Cb−128) − 0.812968·(Cr−128)`,
///   `B = 1.164383·(Y−16) + 2.017232·(Cb−128)`, rounded to nearest and clamped to 0…255.
///   (It is within ±1–2 grey levels of FFmpeg's table-based converter, not bit-identical to it.)
/// * Frames are read incrementally; a stream that ends inside a frame throws `PoseImageError.y4m`
///   after the complete frames have been returned.
public final class Y4MReader {
    public private(set) var header: Y4MHeader
    /// Number of frames returned so far.
    public private(set) var framesRead = 0

    private let source: () throws -> [UInt8]
    private var buffer: [UInt8] = []
    private var position = 0
    private var sourceEnded = false
    private static let maxHeaderLength = 4096

    /// Reads the stream header from `fileHandle` (e.g. `FileHandle.standardInput`).
    public convenience init(fileHandle: FileHandle) throws {
        try self.init(chunks: {
            do {
                return [UInt8](try fileHandle.read(upToCount: 1 << 16) ?? Data())
            } catch {
                throw PoseImageError.y4m("read failed: \(error)")
            }
        })
    }

    /// Reads the stream header from a chunked byte source; `chunks` returns `[]` at end of stream.
    public init(chunks: @escaping () throws -> [UInt8]) throws {
        source = chunks
        header = Y4MHeader(width: 0, height: 0, frameRate: nil, pixelAspect: nil, chroma: .yuv420jpeg)
        // Placeholder until the header line is parsed: every stored property must be set before `self` is used.
        guard let line = try readLine(maxLength: Self.maxHeaderLength, what: "stream header") else {
            throw PoseImageError.y4m("empty stream (no YUV4MPEG2 header)")
        }
        header = try Self.parseHeader(line)
    }

    /// Decodes the next frame to RGB8; returns `nil` at a clean end of stream (between frames).
    /// - Throws: `PoseImageError.y4m` for a malformed `FRAME` line or a truncated frame.
    public func nextFrame() throws -> RGBImage? {
        let frameIndex = framesRead
        guard let line = try readLine(maxLength: Self.maxHeaderLength, what: "header of frame \(frameIndex)") else {
            return nil
        }
        guard line.count >= 5, Array(line.prefix(5)) == Array("FRAME".utf8),
              line.count == 5 || line[5] == UInt8(ascii: " ") else {
            throw PoseImageError.y4m("frame \(frameIndex): expected a FRAME line, got \"\(Self.printable(line))\"")
        }
        let w = header.width, h = header.height
        let chromaSize = header.chroma.chromaSize(width: w, height: h)
        let lumaCount = w * h, chromaCount = chromaSize.width * chromaSize.height
        let frameBytes = lumaCount + 2 * chromaCount
        guard let data = try readExactly(frameBytes) else {
            let available = buffer.count - position
            throw PoseImageError.y4m(
                "truncated stream: frame \(frameIndex) needs \(frameBytes) bytes, only \(available) left")
        }
        framesRead += 1
        return try Self.convert(planes: data, width: w, height: h, chroma: header.chroma, chromaSize: chromaSize)
    }

    // MARK: Parsing

    static func parseHeader(_ line: [UInt8]) throws -> Y4MHeader {
        let text = String(decoding: line, as: UTF8.self)
        var tokens = text.split(separator: " ", omittingEmptySubsequences: true)
        guard tokens.first == "YUV4MPEG2" else {
            throw PoseImageError.y4m("not a YUV4MPEG2 stream (header starts with \"\(printable(Array(line.prefix(16))))\")")
        }
        tokens.removeFirst()
        var width: Int?, height: Int?
        var frameRate: (Int, Int)?, aspect: (Int, Int)?
        var chroma = Y4MChroma.yuv420jpeg
        for token in tokens {
            guard let tag = token.first else { continue }
            let value = String(token.dropFirst())
            switch tag {
            case "W": width = try positive(value, "width (W)")
            case "H": height = try positive(value, "height (H)")
            case "F": frameRate = try ratio(value, "frame rate (F)")
            case "A": aspect = try ratio(value, "pixel aspect (A)")
            case "I":
                guard value == "p" else {
                    throw PoseImageError.y4m("interlacing I\(value) is not supported (only progressive Ip)")
                }
            case "C":
                guard let parsed = Y4MChroma(rawValue: value) else {
                    throw PoseImageError.y4m(
                        "chroma format C\(value) is not supported (420jpeg, 420paldv, 420mpeg2, 420, 444, mono)")
                }
                chroma = parsed
            case "X": continue  // application-specific metadata, e.g. XYSCSS=420JPEG
            default:
                throw PoseImageError.y4m("unknown header tag \"\(token)\"")
            }
        }
        guard let width, let height else {
            throw PoseImageError.y4m("header lacks \(width == nil ? "W (width)" : "H (height)")")
        }
        guard width <= PNGLimits.maxSide, height <= PNGLimits.maxSide, width * height <= PNGLimits.maxPixels else {
            throw PoseImageError.y4m("frame size \(width)x\(height) exceeds the limit "
                + "(max side \(PNGLimits.maxSide), max \(PNGLimits.maxPixels) pixels)")
        }
        return Y4MHeader(
            width: width, height: height,
            frameRate: frameRate.flatMap { $0 == (0, 0) ? nil : (numerator: $0.0, denominator: $0.1) },
            pixelAspect: aspect.flatMap { $0 == (0, 0) ? nil : (numerator: $0.0, denominator: $0.1) },
            chroma: chroma)
    }

    private static func positive(_ value: String, _ what: String) throws -> Int {
        guard let n = Int(value), n > 0 else { throw PoseImageError.y4m("invalid \(what): \"\(value)\"") }
        return n
    }

    private static func ratio(_ value: String, _ what: String) throws -> (Int, Int) {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0]), let d = Int(parts[1]), n >= 0, d >= 0, (n == 0) == (d == 0) else {
            throw PoseImageError.y4m("invalid \(what): \"\(value)\" (expected n:d)")
        }
        return (n, d)
    }

    private static func printable(_ bytes: [UInt8]) -> String {
        String(bytes.prefix(40).map { $0 >= 32 && $0 < 127 ? Character(UnicodeScalar($0)) : "?" })
    }

    // MARK: Conversion

    /// planes: Y `[height, width]`, then Cb and Cr `[chromaHeight, chromaWidth]` each (none for mono).
    /// Each pixel as ``bt601LimitedToRGB(y:cb:cr:)`` computes it (the same integer operations, so
    /// the same bytes), a row at a time by CBlazeTarget's `blaze_ycbcr_row_to_rgb`, which the
    /// compiler vectorises.
    static func convert(planes: ArraySlice<UInt8>, width: Int, height: Int, chroma: Y4MChroma,
                        chromaSize: (width: Int, height: Int)) throws -> RGBImage {
        let lumaCount = width * height, chromaCount = chromaSize.width * chromaSize.height
        // 4:2:0 halves the chroma grid in each direction that has more than one pixel (a 1-pixel-wide
        // frame keeps 1 chroma column, but still has half as many chroma rows).
        let halfColumns = chromaSize.width != width, halfRows = chromaSize.height != height
        let mono = chroma == .mono
        let rgb = [UInt8](unsafeUninitializedCapacity: lumaCount * 3) { out, count in   // [H, W, 3] HWC RGB8
            planes.withUnsafeBufferPointer { src in
                guard let base = src.baseAddress, let rgbBase = out.baseAddress,
                      src.count >= lumaCount + (mono ? 0 : 2 * chromaCount) else {
                    out.initialize(repeating: 0)
                    return
                }
                for y in 0..<height {
                    let cy = halfRows ? y / 2 : y
                    let cbRow = base + lumaCount + cy * chromaSize.width          // [chromaWidth]
                    blaze_ycbcr_row_to_rgb(base + y * width, mono ? nil : cbRow, mono ? nil : cbRow + chromaCount,
                                           rgbBase + y * width * 3, width, halfColumns ? 1 : 0)
                }
            }
            count = lumaCount * 3
        }
        return try RGBImage(width: width, height: height, pixels: rgb)
    }

    // MARK: Buffered input

    /// Makes at least `count` unread bytes available; false if the source ends first.
    private func fill(_ count: Int) throws -> Bool {
        while buffer.count - position < count {
            if sourceEnded { return false }
            if position > 0 && position >= buffer.count / 2 {
                buffer.removeFirst(position)
                position = 0
            }
            let chunk = try source()
            if chunk.isEmpty { sourceEnded = true } else { buffer.append(contentsOf: chunk) }
        }
        return true
    }

    /// The next line without its `\n`; `nil` if the stream ends cleanly before any byte of it.
    private func readLine(maxLength: Int, what: String) throws -> [UInt8]? {
        var scanned = 0
        while true {
            let unread = buffer.count - position
            while scanned < unread {
                if buffer[position + scanned] == UInt8(ascii: "\n") {
                    let line = Array(buffer[position..<(position + scanned)])
                    position += scanned + 1
                    return line
                }
                scanned += 1
                if scanned > maxLength {
                    throw PoseImageError.y4m("\(what): no end of line within \(maxLength) bytes")
                }
            }
            if try !fill(unread + 1) {
                if unread == 0 { return nil }
                throw PoseImageError.y4m("truncated stream: \(what) ends without a newline")
            }
        }
    }

    /// Exactly `count` bytes, or `nil` if the stream ends first (the partial bytes stay unread).
    private func readExactly(_ count: Int) throws -> ArraySlice<UInt8>? {
        guard try fill(count) else { return nil }
        let slice = buffer[position..<(position + count)]
        position += count
        return slice
    }
}

/// BT.601 limited-range YCbCr → RGB in 16.16 fixed point, rounded and clamped (see `Y4MReader`).
@inline(__always)
public func bt601LimitedToRGB(y: Int32, cb: Int32, cr: Int32) -> (UInt8, UInt8, UInt8) {
    let luma = 76309 * (y - 16)  // 1.164383 · 2^16
    let u = cb - 128, v = cr - 128
    let half: Int32 = 1 << 15
    let r = (luma + 104597 * v + half) >> 16  // 1.596027
    let g = (luma - 25675 * u - 53279 * v + half) >> 16  // 0.391762, 0.812968
    let b = (luma + 132201 * u + half) >> 16  // 2.017232
    return (UInt8(clamping: r), UInt8(clamping: g), UInt8(clamping: b))
}
