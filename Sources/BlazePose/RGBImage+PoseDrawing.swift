import PoseGeometry
import PoseImage

extension RGBImage {
    /// Draws `pose` on the image: MediaPipe's 35 connections as lines in `skeletonColor`, then the
    /// 33 landmarks as discs — the person's left side orange, right side cyan, the rest green,
    /// like MediaPipe's default drawing style. Line width and disc size scale with the image;
    /// points off the image are clipped.
    public mutating func drawPose(_ pose: Pose, skeletonColor: RGBColor = .white) {
        let scale = Float(max(width, height))
        let thickness = max(1.5, scale / 250), radius = max(2, scale / 160)
        let w = Float(width), h = Float(height)
        let points = pose.landmarks.map { SIMD2($0.x * w, $0.y * h) }   // image pixels
        for (a, b) in poseConnections where a < points.count && b < points.count {
            drawLine(from: points[a], to: points[b], thickness: thickness, color: skeletonColor)
        }
        for (i, p) in points.enumerated() {
            let name = PoseLandmark(rawValue: i)?.name ?? ""
            let color: RGBColor = name.hasPrefix("left") ? RGBColor(r: 255, g: 138, b: 0)
                : name.hasPrefix("right") ? RGBColor(r: 0, g: 217, b: 231) : .green
            fillCircle(center: p, radius: radius, color: color)
        }
    }
}
