import CBlazeTarget
import Foundation

/// Writes RGB frames as a YUV4MPEG2 (`.y4m`) stream, e.g. to standard output for
/// `… | ffmpeg -i - out.mp4`.
///
/// * Header: `YUV4MPEG2 W<w> H<h> F<num>:<den> Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED`,
///   written with the first frame (its size fixes the stream's size).
/// * Colour: BT.601 **limited range** (Y 16…235, Cb/Cr 16…240), the inverse of what ``Y4MReader``
///   reads and what FFmpeg assumes for `yuv420p` from a Y4M stream, so reading our output back (or
///   encoding it with FFmpeg) keeps the colours. 16.16 fixed point:
///   `Y = 16 + (16829·R + 33039·G + 6416·B) / 2¹⁶`,
///   `Cb = 128 + (−9714·R − 19070·G + 28784·B) / 2¹⁶`, `Cr = 128 + (28784·R − 24103·G − 4681·B) / 2¹⁶`
///   (the coefficients `65.481, 128.553, 24.966, …` / 255), rounded to nearest.
/// * 4:2:0 (`C420jpeg`: chroma sited at the centre of each 2×2 luma block): each chroma sample is
///   computed from the mean RGB of its 2×2 block (1×2, 2×1 or 1×1 at the right/bottom edge of odd sizes).
/// * Every frame is one `FRAME\n` line and the planes Y `[h, w]`, Cb `[⌈h/2⌉, ⌈w/2⌉]`, Cr (same),
///   written with one `write`.
public final class Y4MWriter {
    /// Where the stream goes, for messages.
    public let destination: String
    /// Frame rate written into the header (`F` tag), frames per second as `numerator / denominator`.
    public let frameRate: (numerator: Int, denominator: Int)
    /// Size of the stream (set by the first frame).
    public private(set) var size: (width: Int, height: Int)?
    /// Frames written so far.
    public private(set) var framesWritten = 0
    private let write: ([UInt8]) throws -> Void

    /// - Parameters:
    ///   - destination: names the output in error messages.
    ///   - frameRate: positive numerator and denominator.
    ///   - write: receives the header and every frame's bytes in order; its errors propagate.
    public init(destination: String, frameRate: (numerator: Int, denominator: Int),
                write: @escaping ([UInt8]) throws -> Void) throws {
        guard frameRate.numerator > 0, frameRate.denominator > 0 else {
            throw PoseImageError.y4m("\(destination): frame rate \(frameRate.numerator):\(frameRate.denominator) must be positive")
        }
        self.destination = destination
        self.frameRate = frameRate
        self.write = write
    }

    /// Appends `image` as the next frame.
    /// - Throws: `PoseImageError.y4m` when its size differs from the first frame's (a Y4M stream
    ///   has one size), and the errors of the `write` closure.
    public func append(_ image: RGBImage) throws {
        var bytes: [UInt8] = []
        if let size {
            guard size == (image.width, image.height) else {
                throw PoseImageError.y4m("\(destination): frame \(framesWritten) is \(image.width)x\(image.height) but the "
                                         + "video is \(size.width)x\(size.height) (a Y4M stream has one frame size)")
            }
        } else {
            size = (image.width, image.height)
            let header = "YUV4MPEG2 W\(image.width) H\(image.height) F\(frameRate.numerator):\(frameRate.denominator) "
                + "Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED\n"
            bytes += Array(header.utf8)
        }
        bytes += Array("FRAME\n".utf8)
        Y4MWriter.appendYUV420(of: image, to: &bytes)
        try write(bytes)
        framesWritten += 1
    }

    /// The frame rate `fps` as a fraction with denominator 1000 (reduced), e.g. 30 → 30:1,
    /// 29.97 → 2997:100; NTSC rates are better passed exactly (30000:1001).
    public static func frameRate(fps: Double) -> (numerator: Int, denominator: Int)? {
        guard fps.isFinite, fps > 0, fps <= 1_000_000 else { return nil }
        var n = Int((fps * 1000).rounded()), d = 1000
        guard n > 0 else { return nil }
        var a = n, b = d
        while b != 0 { (a, b) = (b, a % b) }
        n /= a; d /= a
        return (n, d)
    }

    /// Appends the planes Y `[h, w]`, Cb, Cr `[⌈h/2⌉, ⌈w/2⌉]` of `image` (BT.601 limited range).
    public static func appendYUV420(of image: RGBImage, to bytes: inout [UInt8]) {
        let w = image.width, h = image.height
        let cw = (w + 1) / 2, ch = (h + 1) / 2
        let start = bytes.count
        bytes += [UInt8](repeating: 0, count: w * h + 2 * cw * ch)
        image.pixels.withUnsafeBufferPointer { rgb in            // [h, w, 3]
            bytes.withUnsafeMutableBufferPointer { out in
                // Y [h, w], then Cb and Cr [⌈h/2⌉, ⌈w/2⌉] (CBlazeTarget's `blaze_rgb_to_yuv420`).
                guard let source = rgb.baseAddress, rgb.count >= w * h * 3, let planes = out.baseAddress,
                      out.count >= start + w * h + 2 * cw * ch else { return }
                let yPlane = planes + start, cbPlane = yPlane + w * h, crPlane = cbPlane + cw * ch
                blaze_rgb_to_yuv420(source, w, h, yPlane, cbPlane, crPlane)
            }
        }
    }
}
