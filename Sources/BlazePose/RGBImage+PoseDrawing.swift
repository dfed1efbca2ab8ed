import PoseGeometry
import PoseImage

/// How ``RGBImage/drawPose(_:style:label:)`` draws a pose: the rules and colours of MediaPipe's
/// `mediapipe.solutions.drawing_utils.draw_landmarks` 0.10.14 with
/// `drawing_styles.get_default_pose_landmarks_style()`, with sizes that scale with the image.
public struct PoseDrawingStyle: Equatable, Sendable {
    /// A landmark is drawn only when `visibility ≥ visibilityThreshold` and `presence ≥
    /// presenceThreshold` (MediaPipe: 0.5 and 0.5); a connection only when both ends are drawn.
    public var visibilityThreshold: Float
    public var presenceThreshold: Float
    /// Connection colour (MediaPipe's default `DrawingSpec`: (224, 224, 224)).
    public var connectionColor: RGBColor
    /// Disc colours: the person's left side, right side, and the nose (MediaPipe's default pose
    /// style, converted from its BGR: left (255, 138, 0), right (0, 217, 231), nose (224, 224, 224)).
    public var leftColor: RGBColor
    public var rightColor: RGBColor
    public var centerColor: RGBColor
    /// Ring drawn around every disc (MediaPipe: a (224, 224, 224) circle).
    public var borderColor: RGBColor

    public init(visibilityThreshold: Float = 0.5, presenceThreshold: Float = 0.5,
                connectionColor: RGBColor = RGBColor(r: 224, g: 224, b: 224),
                leftColor: RGBColor = RGBColor(r: 255, g: 138, b: 0),
                rightColor: RGBColor = RGBColor(r: 0, g: 217, b: 231),
                centerColor: RGBColor = RGBColor(r: 224, g: 224, b: 224),
                borderColor: RGBColor = RGBColor(r: 224, g: 224, b: 224)) {
        self.visibilityThreshold = visibilityThreshold
        self.presenceThreshold = presenceThreshold
        self.connectionColor = connectionColor
        self.leftColor = leftColor
        self.rightColor = rightColor
        self.centerColor = centerColor
        self.borderColor = borderColor
    }

    /// MediaPipe's default pose style.
    public static let mediaPipe = PoseDrawingStyle()

    /// True when `landmark` is drawn (MediaPipe's rule: hidden when visibility or presence < 0.5;
    /// NaN counts as hidden).
    public func isDrawn(_ landmark: Landmark) -> Bool {
        landmark.visibility >= visibilityThreshold && landmark.presence >= presenceThreshold
            && landmark.x.isFinite && landmark.y.isFinite
    }

    /// Sizes in pixels for a `width × height` image. MediaPipe draws 2-px lines and discs of
    /// radius ≈ 3 with a ring to ≈ 4 px whatever the image size; here those are the sizes at
    /// 480 px (the smaller side) and they grow in proportion above it, so a 1080p frame gets
    /// 4.5-px lines.
    public static func sizes(width: Int, height: Int) -> (lineThickness: Float, pointRadius: Float, borderRadius: Float) {
        let scale = max(1, Float(min(width, height)) / 480)
        return (2 * scale, 3 * scale, 4 * scale)
    }

    /// Disc colour of landmark `index` (``PoseLandmark`` order).
    public func pointColor(_ index: Int) -> RGBColor {
        let name = PoseLandmark(rawValue: index)?.name ?? ""
        return name.hasPrefix("left") || name == "mouth_left" ? leftColor
            : name.hasPrefix("right") || name == "mouth_right" ? rightColor : centerColor
    }
}

extension RGBImage {
    /// Draws `pose` as MediaPipe's `draw_landmarks` does with the default pose style: first the 35
    /// connections whose two ends are both drawn, then a disc with a light ring for every drawn
    /// landmark (see ``PoseDrawingStyle/isDrawn(_:)``: visibility and presence ≥ 0.5). Sizes scale
    /// with the image (``PoseDrawingStyle/sizes(width:height:)``). Unlike MediaPipe, a visible
    /// landmark outside the image still has its connections drawn (clipped at the border).
    /// - Parameter label: drawn in a dark box above the highest drawn landmark (e.g. a track id),
    ///   nothing when nil or when no landmark is drawn.
    public mutating func drawPose(_ pose: Pose, style: PoseDrawingStyle = .mediaPipe, label: String? = nil) {
        let (thickness, radius, border) = PoseDrawingStyle.sizes(width: width, height: height)
        let w = Float(width), h = Float(height)
        let points = pose.landmarks.map { SIMD2($0.x * w, $0.y * h) }   // image pixels
        let drawn = pose.landmarks.map(style.isDrawn)
        for (a, b) in poseConnections where a < points.count && b < points.count && drawn[a] && drawn[b] {
            drawLine(from: points[a], to: points[b], thickness: thickness, color: style.connectionColor)
        }
        for (i, p) in points.enumerated() where drawn[i] {
            fillCircle(center: p, radius: border, color: style.borderColor)
            fillCircle(center: p, radius: radius, color: style.pointColor(i))
        }
        if let label, let top = points.indices.filter({ drawn[$0] }).min(by: { points[$0].y < points[$1].y }) {
            let scale = max(2, Int((Float(min(width, height)) / 240).rounded()))
            let textWidth = (label.count * 6 + 1) * scale, textHeight = 9 * scale
            let p = points[top]
            guard p.x.isFinite, p.y.isFinite, abs(p.x) < 1e6, abs(p.y) < 1e6 else { return }
            // Centred above the point, kept inside the image when the point is near an edge.
            let x = min(max(0, Int(p.x) - textWidth / 2), max(0, width - textWidth))
            let y = min(max(0, Int(p.y) - textHeight - Int(2 * border)), max(0, height - textHeight))
            drawText(label, origin: SIMD2(x, y), scale: scale, color: .white, background: RGBColor(r: 32, g: 32, b: 32))
        }
    }

    /// Blends a segmentation mask into the image: `out = in + (color − in) · opacity · p` per pixel
    /// (MediaPipe's samples overlay the mask in a similar way). A mask of another size draws nothing.
    public mutating func blendMask(_ mask: SegmentationMask, color: RGBColor = RGBColor(r: 128, g: 64, b: 255),
                                   opacity: Float = 0.5) {
        guard mask.width == width, mask.height == height else { return }
        blend(color: color, weights: mask.values, opacity: opacity)
    }
}
