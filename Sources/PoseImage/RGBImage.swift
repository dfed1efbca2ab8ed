/// An 8-bit RGB image in memory.
///
/// Layout: HWC, row-major, top-left origin, no row padding:
/// the sample of channel `c` (0 = R, 1 = G, 2 = B) of pixel `(x, y)` is
/// `pixels[(y * width + x) * 3 + c]`.
public struct RGBImage: Equatable, Sendable {
    /// Width in pixels (> 0 for decoded images).
    public let width: Int
    /// Height in pixels (> 0 for decoded images).
    public let height: Int
    /// Samples, `[height, width, 3]` HWC RGB, `width * height * 3` bytes.
    public var pixels: [UInt8]

    /// Wraps existing samples. Throws `PoseImageError.invalidDimensions` if the size is not positive
    /// or `pixels.count != width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        try validateDimensions(width: width, height: height, channels: 3, count: pixels.count)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A `width × height` image filled with one colour.
    public init(width: Int, height: Int, fill: RGBColor = .black) throws {
        try validateDimensions(width: width, height: height, channels: 3, count: nil)
        self.width = width
        self.height = height
        var samples = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            samples[i * 3] = fill.r
            samples[i * 3 + 1] = fill.g
            samples[i * 3 + 2] = fill.b
        }
        self.pixels = samples
    }

    /// The colour at `(x, y)`; `nil` outside the image.
    public func pixel(x: Int, y: Int) -> RGBColor? {
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        let i = (y * width + x) * 3
        return RGBColor(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
    }
}

/// An 8-bit single-channel image (e.g. a segmentation mask scaled to 0…255).
///
/// Layout: HW, row-major, top-left origin: pixel `(x, y)` is `pixels[y * width + x]`.
public struct GrayImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Samples, `[height, width]`, `width * height` bytes.
    public var pixels: [UInt8]

    /// Wraps existing samples; throws if the size is not positive or does not match `pixels.count`.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        try validateDimensions(width: width, height: height, channels: 1, count: pixels.count)
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// An 8-bit RGB colour.
public struct RGBColor: Equatable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }
    public static let black = RGBColor(r: 0, g: 0, b: 0)
    public static let white = RGBColor(r: 255, g: 255, b: 255)
    public static let red = RGBColor(r: 255, g: 0, b: 0)
    public static let green = RGBColor(r: 0, g: 255, b: 0)
    public static let blue = RGBColor(r: 0, g: 0, b: 255)
}

/// Errors of the PoseImage module. Every case says what went wrong and where.
public enum PoseImageError: Error, Equatable, CustomStringConvertible {
    /// Width/height not positive, or a sample buffer whose size does not match.
    case invalidDimensions(width: Int, height: Int, detail: String)
    /// The image is larger than the decoders accept (see `PNGLimits`, which hold for every format).
    case imageTooLarge(source: String, width: Int, height: Int, limit: String)
    /// libpng rejected the data (not a PNG, corrupt, truncated, …); `message` is libpng's text.
    case pngDecodeFailed(source: String, message: String)
    /// libjpeg-turbo rejected the data, or the JPEG is of a kind not supported (lossless,
    /// hierarchical, 12-bit, CMYK/YCCK), zero-sized, truncated or corrupt; `message` says which.
    case jpegDecodeFailed(source: String, message: String)
    /// The data starts with no signature of a supported format (PNG, JPEG, YUV4MPEG2).
    case unknownImageFormat(source: String, detail: String)
    /// libpng could not encode the image.
    case pngEncodeFailed(destination: String, message: String)
    /// A file could not be read or written.
    case fileIO(path: String, message: String)
    /// A warp was asked for with invalid parameters (sizes, non-finite ROI, singular transform).
    case invalidWarp(String)
    /// A YUV4MPEG2 stream is malformed or uses an unsupported feature.
    case y4m(String)

    public var description: String {
        switch self {
        case let .invalidDimensions(w, h, detail):
            return "invalid image dimensions \(w)x\(h): \(detail)"
        case let .imageTooLarge(source, w, h, limit):
            return "\(source): image \(w)x\(h) exceeds the limit (\(limit))"
        case let .pngDecodeFailed(source, message):
            return "\(source): cannot decode PNG: \(message)"
        case let .jpegDecodeFailed(source, message):
            return "\(source): cannot decode JPEG: \(message)"
        case let .unknownImageFormat(source, detail):
            return "\(source): not a PNG, JPEG or YUV4MPEG2 image (\(detail))"
        case let .pngEncodeFailed(destination, message):
            return "\(destination): cannot encode PNG: \(message)"
        case let .fileIO(path, message):
            return "\(path): \(message)"
        case let .invalidWarp(message):
            return "invalid warp: \(message)"
        case let .y4m(message):
            return "YUV4MPEG2: \(message)"
        }
    }
}

/// Checks `width`/`height` are positive, that `width*height*channels` does not overflow, and
/// (when `count` is given) that it equals the buffer size.
func validateDimensions(width: Int, height: Int, channels: Int, count: Int?) throws {
    guard width > 0, height > 0 else {
        throw PoseImageError.invalidDimensions(width: width, height: height, detail: "width and height must be > 0")
    }
    let (area, o1) = width.multipliedReportingOverflow(by: height)
    let (total, o2) = area.multipliedReportingOverflow(by: channels)
    guard !o1, !o2 else {
        throw PoseImageError.invalidDimensions(width: width, height: height, detail: "size overflows")
    }
    if let count, count != total {
        throw PoseImageError.invalidDimensions(
            width: width, height: height,
            detail: "expected \(total) samples (\(channels) per pixel), got \(count)")
    }
}

extension GrayImage {
    /// Quantises a float mask (e.g. segmentation probabilities) to 8 bits:
    /// `round(clamp(v, 0, 1) · 255)`, NaN → 0.
    /// - values: `[height, width]` Float, row-major.
    public init(unitMask values: [Float], width: Int, height: Int) throws {
        try validateDimensions(width: width, height: height, channels: 1, count: values.count)
        self.width = width
        self.height = height
        // round(clamp(v, 0, 1) · 255) as UInt8(min(v, 1) · 255 + 0.5) truncates it, written so the
        // loop vectorises: the clamped value is in [0.5, 255.5], its floor is exact in Float, and
        // adding 2^23 puts that integer in the low mantissa bits.
        self.pixels = values.map { v in
            let unit: Float = v > 0 ? (v < 1 ? v : 1) : 0   // NaN → 0
            let floor = (unit * 255 + 0.5).rounded(.down)
            return UInt8(truncatingIfNeeded: (floor + 8_388_608).bitPattern)
        }
    }
}
