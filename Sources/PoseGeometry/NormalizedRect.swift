#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A rotated rectangle in normalized image coordinates (MediaPipe's
/// `NormalizedRect`).
///
/// `xCenter` and `width` are fractions of the image width `W`; `yCenter` and
/// `height` are fractions of the image height `H`. A rect that is square in
/// pixels therefore has `width·W == height·H` (and `width ≠ height` when
/// `W ≠ H`). `rotation` is in radians in the pixel frame (y down), so a
/// positive angle turns the rect clockwise on screen.
public struct NormalizedRect: Equatable, Sendable {
    public var xCenter: Float
    public var yCenter: Float
    public var width: Float
    public var height: Float
    public var rotation: Float

    public init(xCenter: Float, yCenter: Float, width: Float, height: Float, rotation: Float = 0) {
        self.xCenter = xCenter
        self.yCenter = yCenter
        self.width = width
        self.height = height
        self.rotation = rotation
    }

    /// True when the rect can be cropped: width and height both `> 0` (NaN fails).
    /// A `0 × 0` rect is MediaPipe's "no ROI" sentinel; any other non-positive
    /// or NaN size is an error there. The pipeline treats both as "no pose".
    public var isUsableCropRegion: Bool { width > 0 && height > 0 }

    /// The rect in pixels (`GetRoi`): centre and size multiplied by `W`, `H`.
    public func pixelRect(imageWidth: Int, imageHeight: Int) throws -> PixelRect {
        let (w, h) = try imageSizeAsFloat(imageWidth, imageHeight)
        return PixelRect(centerX: xCenter * w, centerY: yCenter * h, width: width * w, height: height * h,
                         rotation: rotation)
    }

    /// The four corners in pixels, in local order top-left, top-right,
    /// bottom-right, bottom-left (before rotation).
    public func pixelCorners(imageWidth: Int, imageHeight: Int) throws -> [SIMD2<Float>] {
        let r = try pixelRect(imageWidth: imageWidth, imageHeight: imageHeight)
        let c = cosf(r.rotation), s = sinf(r.rotation)
        let hw = r.width / 2, hh = r.height / 2
        return [SIMD2(-hw, -hh), SIMD2(hw, -hh), SIMD2(hw, hh), SIMD2(-hw, hh)].map {
            SIMD2(r.centerX + c * $0.x - s * $0.y, r.centerY + s * $0.x + c * $0.y)
        }
    }
}

/// How the pose ROI is built from two alignment points
/// (`AlignmentPointsRectsCalculator` + `RectTransformationCalculator`).
public enum RegionOfInterest {
    /// MediaPipe's alignment rect: centre at `start`, a square of side
    /// `2·|end − start|` **pixels**, rotated so that the `start → end` vector
    /// points at `targetAngle` (π/2 = straight up on screen).
    ///
    /// `rotation = wrap(targetAngle − atan2(−(y1 − y0), x1 − x0))` in pixels.
    /// Upright person (end above start) → 0; head to the image's right → +π/2;
    /// head to the left → −π/2.
    ///
    /// - Parameters:
    ///   - start, end: normalized points (`x/W`, `y/H`).
    /// - Throws: ``PoseGeometryError/invalidImageSize(width:height:)``.
    public static func alignmentRect(start: SIMD2<Float>, end: SIMD2<Float>, imageWidth: Int, imageHeight: Int,
                                     targetAngle: Float = Float(Double.pi * 90.0 / 180.0)) throws -> NormalizedRect {
        let (w, h) = try imageSizeAsFloat(imageWidth, imageHeight)
        let x0 = start.x * w, y0 = start.y * h
        let x1 = end.x * w, y1 = end.y * h
        let boxSize = sqrtf((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)) * 2
        let rotation = normalizeRadians(targetAngle - atan2f(-(y1 - y0), x1 - x0))
        return NormalizedRect(xCenter: x0 / w, yCenter: y0 / h, width: boxSize / w, height: boxSize / h,
                              rotation: rotation)
    }

    /// `RectTransformationCalculator` without extra rotation: shift (in units
    /// of the rect size, along the rect's own axes), optionally make it square
    /// in pixels (long or short side), then scale width and height.
    public static func transformed(_ rect: NormalizedRect, imageWidth: Int, imageHeight: Int,
                                   scaleX: Float = 1.25, scaleY: Float = 1.25, shiftX: Float = 0, shiftY: Float = 0,
                                   squareLong: Bool = true, squareShort: Bool = false) throws -> NormalizedRect {
        let (w, h) = try imageSizeAsFloat(imageWidth, imageHeight)
        var out = rect
        var width = rect.width, height = rect.height
        if rect.rotation == 0 {
            out.xCenter = rect.xCenter + width * shiftX
            out.yCenter = rect.yCenter + height * shiftY
        } else {
            let c = cosf(rect.rotation), s = sinf(rect.rotation)
            let xShift = (w * width * shiftX * c - h * height * shiftY * s) / w
            let yShift = (w * width * shiftX * s + h * height * shiftY * c) / h
            out.xCenter = rect.xCenter + xShift
            out.yCenter = rect.yCenter + yShift
        }
        if squareLong {
            let longSide = max(width * w, height * h)
            width = longSide / w
            height = longSide / h
        } else if squareShort {
            let shortSide = min(width * w, height * h)
            width = shortSide / w
            height = shortSide / h
        }
        out.width = width * scaleX
        out.height = height * scaleY
        return out
    }

    /// The BlazePose ROI from two points (detector kp0/kp1, or the filtered
    /// aux landmarks 33/34 for the next frame): the alignment rect
    /// (`start → end` at 90°, side `2·d`) scaled ×1.25, square in pixels.
    /// The result is a square of side `2.5·|end − start|` pixels centred on
    /// `start`.
    ///
    /// - Returns: nil when the ROI cannot be cropped (zero size when
    ///   `start == end`, or NaN) — the pipeline reports "no pose" then.
    public static func poseROI(start: SIMD2<Float>, end: SIMD2<Float>,
                               imageWidth: Int, imageHeight: Int) throws -> NormalizedRect? {
        let aligned = try alignmentRect(start: start, end: end, imageWidth: imageWidth, imageHeight: imageHeight)
        let roi = try transformed(aligned, imageWidth: imageWidth, imageHeight: imageHeight)
        return roi.isUsableCropRegion ? roi : nil
    }

    /// ``poseROI(start:end:imageWidth:imageHeight:)`` from a detection's
    /// keypoints 0 and 1 (already letterbox-removed, i.e. image-normalized).
    /// - Throws: ``PoseGeometryError/invalidArgument(what:reason:)`` if the
    ///   detection has fewer than 2 keypoints.
    public static func poseROI(from detection: Detection, imageWidth: Int, imageHeight: Int) throws -> NormalizedRect? {
        guard detection.keypoints.count >= 2 else {
            throw PoseGeometryError.invalidArgument(what: "Detection.keypoints",
                                                    reason: "needs at least 2 keypoints, has \(detection.keypoints.count)")
        }
        return try poseROI(start: detection.keypoints[0], end: detection.keypoints[1],
                           imageWidth: imageWidth, imageHeight: imageHeight)
    }

    /// Object scale for landmark smoothing (`GetObjectScale(NormalizedRect)`):
    /// `(w·W + h·H)/2` pixels of the alignment rect **without** ×1.25, i.e.
    /// `2·|end − start|` pixels. `start`, `end` are the unfiltered aux landmarks.
    public static func objectScale(start: SIMD2<Float>, end: SIMD2<Float>,
                                   imageWidth: Int, imageHeight: Int) throws -> Float {
        let rect = try alignmentRect(start: start, end: end, imageWidth: imageWidth, imageHeight: imageHeight)
        return (rect.width * Float(imageWidth) + rect.height * Float(imageHeight)) / 2
    }
}
