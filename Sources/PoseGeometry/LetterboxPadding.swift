/// Letterbox padding of a tensor, as fractions of the **padded** tensor size.
///
/// `[left, top, right, bottom]` in MediaPipe's order. `left + right` is the
/// fraction of the tensor width that is padding, likewise `top + bottom`.
public struct LetterboxPadding: Equatable, Sendable {
    public var left: Float
    public var top: Float
    public var right: Float
    public var bottom: Float

    public init(left: Float, top: Float, right: Float, bottom: Float) {
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
    }

    /// No padding.
    public static let zero = LetterboxPadding(left: 0, top: 0, right: 0, bottom: 0)
}

/// A rotated rectangle in **pixels** (MediaPipe's `RotatedRect`): centre,
/// size, and rotation in radians (positive = clockwise on screen, because y
/// points down). A local point `(lx, ly)` maps to
/// `(cx + cosθ·lx − sinθ·ly, cy + sinθ·lx + cosθ·ly)`.
public struct PixelRect: Equatable, Sendable {
    public var centerX: Float
    public var centerY: Float
    public var width: Float
    public var height: Float
    public var rotation: Float

    public init(centerX: Float, centerY: Float, width: Float, height: Float, rotation: Float) {
        self.centerX = centerX
        self.centerY = centerY
        self.width = width
        self.height = height
        self.rotation = rotation
    }

    /// The whole image as a ROI (`GetRoi` without a rect): centre `(W/2, H/2)`,
    /// size `W × H`, rotation 0.
    public static func wholeImage(width: Int, height: Int) throws -> PixelRect {
        let (w, h) = try imageSizeAsFloat(width, height)
        return PixelRect(centerX: 0.5 * w, centerY: 0.5 * h, width: w, height: h, rotation: 0)
    }

    /// Pads the ROI to the tensor's aspect ratio (`PadRoi`, keep-aspect mode).
    ///
    /// With `ta = Ht/Wt` and `ra = h/w`: if `ta > ra` the height grows to
    /// `w·ta` and the vertical padding is `(1 − ra/ta)/2`; otherwise the width
    /// grows to `h/ta` and the horizontal padding is `(1 − ta/ra)/2`.
    ///
    /// - Returns: the padded rect (same centre and rotation) and the padding
    ///   `[ph, pv, ph, pv]` as fractions of the padded tensor.
    /// - Throws: ``PoseGeometryError/invalidArgument(what:reason:)`` for a
    ///   non-positive tensor size or a ROI whose width/height is not > 0.
    public func paddedToAspectRatio(tensorWidth: Int, tensorHeight: Int) throws -> (rect: PixelRect, padding: LetterboxPadding) {
        guard tensorWidth > 0, tensorHeight > 0 else {
            throw PoseGeometryError.invalidArgument(what: "tensor size", reason: "\(tensorWidth)x\(tensorHeight) must be positive")
        }
        guard width > 0, height > 0 else {
            throw PoseGeometryError.invalidArgument(what: "ROI size", reason: "\(width)x\(height) must be positive")
        }
        let tensorAspect = Float(tensorHeight) / Float(tensorWidth)
        let roiAspect = height / width
        var padded = self
        var horizontal: Float = 0
        var vertical: Float = 0
        if tensorAspect > roiAspect {
            padded.height = width * tensorAspect
            vertical = (1 - roiAspect / tensorAspect) / 2
        } else {
            padded.width = height / tensorAspect
            horizontal = (1 - tensorAspect / roiAspect) / 2
        }
        return (padded, LetterboxPadding(left: horizontal, top: vertical, right: horizontal, bottom: vertical))
    }
}

extension Detection {
    /// Undoes detector letterboxing (`DetectionLetterboxRemovalCalculator`):
    /// `x' = (x − l)/(1 − l − r)`, `y' = (y − t)/(1 − t − b)`, sizes divided by
    /// the same denominators. Applied to the box and every keypoint; the
    /// result is normalized to the original image.
    public func removingLetterbox(_ padding: LetterboxPadding) -> Detection {
        let horizontal = padding.left + padding.right
        let vertical = padding.top + padding.bottom
        var out = self
        out.xMin = (xMin - padding.left) / (1 - horizontal)
        out.yMin = (yMin - padding.top) / (1 - vertical)
        out.width = width / (1 - horizontal)
        out.height = height / (1 - vertical)
        out.keypoints = keypoints.map {
            SIMD2(($0.x - padding.left) / (1 - horizontal), ($0.y - padding.top) / (1 - vertical))
        }
        return out
    }
}
