/// A decoded detector output: a score, a box and keypoints.
///
/// Coordinates are normalized: `x` by the width and `y` by the height of the
/// frame they were decoded in (first the letterboxed 224×224 detector tensor;
/// after ``removingLetterbox(_:)`` the original image). Origin top-left, y down.
public struct Detection: Equatable, Sendable {
    /// Probability in `[0, 1]` (sigmoid of the clipped logit).
    public var score: Float
    /// Left edge of the box.
    public var xMin: Float
    /// Top edge of the box.
    public var yMin: Float
    public var width: Float
    public var height: Float
    /// Keypoints `(x, y)`; for the pose detector 4 of them: kp0 mid-hip,
    /// kp1 full-body size/rotation point, kp2 mid-shoulder, kp3 upper-body point.
    public var keypoints: [SIMD2<Float>]
    /// Index of the anchor (row of the raw tensor) this detection came from.
    /// Used to break score ties deterministically in NMS.
    public var anchorIndex: Int

    public init(score: Float, xMin: Float, yMin: Float, width: Float, height: Float,
                keypoints: [SIMD2<Float>], anchorIndex: Int) {
        self.score = score
        self.xMin = xMin
        self.yMin = yMin
        self.width = width
        self.height = height
        self.keypoints = keypoints
        self.anchorIndex = anchorIndex
    }
}

/// Options of MediaPipe's `TensorsToDetectionsCalculator` that matter on the
/// CPU path. Use ``poseDetector`` for BlazePose.
public struct DetectionDecoderOptions: Equatable, Sendable {
    /// Layout of the 4 box values and of each keypoint pair in a raw row.
    public enum BoxFormat: Sendable {
        /// `[yc, xc, h, w]`, keypoints `[y, x]` (MediaPipe's default).
        case yxhw
        /// `[xc, yc, w, h]`, keypoints `[x, y]` (`reverse_output_order: true`).
        case xywh
    }

    public var numBoxes: Int
    /// Values per raw row (4 box values + 2 per keypoint, plus any offset).
    public var numCoords: Int
    public var boxCoordOffset: Int = 0
    public var keypointCoordOffset: Int
    public var numKeypoints: Int
    public var boxFormat: BoxFormat
    /// Raw values are divided by these (tensor pixels → normalized).
    public var xScale: Float
    public var yScale: Float
    public var wScale: Float
    public var hScale: Float
    public var applyExponentialOnBoxSize: Bool = false
    /// Logits are clipped to `[-t, t]` before the sigmoid; nil = no clipping.
    public var scoreClippingThreshold: Float?
    public var sigmoidScore: Bool
    /// Keep a detection iff `score >= minScoreThreshold`; nil keeps all.
    public var minScoreThreshold: Float?

    public init(numBoxes: Int, numCoords: Int, keypointCoordOffset: Int, numKeypoints: Int,
                boxFormat: BoxFormat, xScale: Float, yScale: Float, wScale: Float, hScale: Float,
                scoreClippingThreshold: Float?, sigmoidScore: Bool, minScoreThreshold: Float?) {
        self.numBoxes = numBoxes
        self.numCoords = numCoords
        self.keypointCoordOffset = keypointCoordOffset
        self.numKeypoints = numKeypoints
        self.boxFormat = boxFormat
        self.xScale = xScale
        self.yScale = yScale
        self.wScale = wScale
        self.hScale = hScale
        self.scoreClippingThreshold = scoreClippingThreshold
        self.sigmoidScore = sigmoidScore
        self.minScoreThreshold = minScoreThreshold
    }

    /// BlazePose detector preset (`pose_detection_cpu.pbtxt`): 2254 boxes × 12,
    /// XYWH, scales 224, sigmoid with ±100 clipping, threshold 0.5.
    public static func poseDetector(minScoreThreshold: Float = 0.5) -> DetectionDecoderOptions {
        DetectionDecoderOptions(numBoxes: 2254, numCoords: 12, keypointCoordOffset: 4, numKeypoints: 4,
                                boxFormat: .xywh, xScale: 224, yScale: 224, wScale: 224, hScale: 224,
                                scoreClippingThreshold: 100, sigmoidScore: true,
                                minScoreThreshold: minScoreThreshold)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Detector-output decoding (`TensorsToDetectionsCalculator`, CPU path).
public enum DetectionDecoder {
    /// Decodes raw detector tensors into detections, in anchor order.
    ///
    /// - Parameters:
    ///   - boxes: `[numBoxes × numCoords]` row-major raw regressors (tensor
    ///     pixels, relative to the anchor).
    ///   - scores: `[numBoxes]` raw logits (one class).
    ///   - anchors: `numBoxes` anchors from ``SSDAnchors/generate(_:)``.
    /// - Returns: detections with `score >= minScoreThreshold` whose width and
    ///   height are non-negative and not NaN, normalized to the detector tensor.
    /// - Throws: ``PoseGeometryError/bufferSizeMismatch(what:expected:actual:)``
    ///   if a buffer does not match the options, or
    ///   ``PoseGeometryError/invalidArgument(what:reason:)`` for bad options.
    public static func decode(boxes: UnsafeBufferPointer<Float>, scores: UnsafeBufferPointer<Float>,
                              anchors: [Anchor], options: DetectionDecoderOptions) throws -> [Detection] {
        let n = options.numBoxes
        guard n >= 0, options.numKeypoints >= 0, options.boxCoordOffset >= 0, options.keypointCoordOffset >= 0,
              options.boxCoordOffset + 4 <= options.numCoords,
              options.keypointCoordOffset + 2 * options.numKeypoints <= options.numCoords else {
            throw PoseGeometryError.invalidArgument(
                what: "DetectionDecoderOptions",
                reason: "box (offset \(options.boxCoordOffset)) and \(options.numKeypoints) keypoints (offset \(options.keypointCoordOffset)) must fit in numCoords \(options.numCoords)")
        }
        let boxValues = try checkedElementCount([n, options.numCoords], what: "detector boxes")
        guard boxes.count == boxValues else {
            throw PoseGeometryError.bufferSizeMismatch(what: "detector boxes [\(n)×\(options.numCoords)]",
                                                       expected: boxValues, actual: boxes.count)
        }
        guard scores.count == n else {
            throw PoseGeometryError.bufferSizeMismatch(what: "detector scores [\(n)]", expected: n, actual: scores.count)
        }
        guard anchors.count == n else {
            throw PoseGeometryError.bufferSizeMismatch(what: "anchors", expected: n, actual: anchors.count)
        }

        var detections: [Detection] = []
        for i in 0..<n {
            // Score first: most anchors are rejected here, which saves decoding.
            var score = scores[i]
            if let clip = options.scoreClippingThreshold {
                score = score < -clip ? -clip : score
                score = score > clip ? clip : score
            }
            if options.sigmoidScore { score = logistic(score) }
            if let threshold = options.minScoreThreshold, !(score >= threshold) {
                // `score < thr` drops in MediaPipe; NaN never passes `>=` either,
                // and a NaN score would poison NMS sorting.
                continue
            }

            let anchor = anchors[i]
            let row = i * options.numCoords            // boxes: [numBoxes, numCoords]
            let b = row + options.boxCoordOffset
            var xCenter: Float, yCenter: Float, w: Float, h: Float
            switch options.boxFormat {
            case .xywh: xCenter = boxes[b]; yCenter = boxes[b + 1]; w = boxes[b + 2]; h = boxes[b + 3]
            case .yxhw: yCenter = boxes[b]; xCenter = boxes[b + 1]; h = boxes[b + 2]; w = boxes[b + 3]
            }
            xCenter = xCenter / options.xScale * anchor.width + anchor.xCenter
            yCenter = yCenter / options.yScale * anchor.height + anchor.yCenter
            if options.applyExponentialOnBoxSize {
                h = expf(h / options.hScale) * anchor.height
                w = expf(w / options.wScale) * anchor.width
            } else {
                h = h / options.hScale * anchor.height
                w = w / options.wScale * anchor.width
            }
            // MediaPipe stores corners, then width = xmax − xmin; we keep that
            // rounding so results match to the last bit.
            let yMin = yCenter - h / 2
            let xMin = xCenter - w / 2
            let yMax = yCenter + h / 2
            let xMax = xCenter + w / 2
            let width = xMax - xMin
            let height = yMax - yMin
            if width < 0 || height < 0 || width.isNaN || height.isNaN { continue }

            var keypoints: [SIMD2<Float>] = []
            keypoints.reserveCapacity(options.numKeypoints)
            for k in 0..<options.numKeypoints {
                let o = row + options.keypointCoordOffset + 2 * k
                let (rx, ry) = options.boxFormat == .xywh ? (boxes[o], boxes[o + 1]) : (boxes[o + 1], boxes[o])
                keypoints.append(SIMD2(rx / options.xScale * anchor.width + anchor.xCenter,
                                       ry / options.yScale * anchor.height + anchor.yCenter))
            }
            detections.append(Detection(score: score, xMin: xMin, yMin: yMin, width: width, height: height,
                                        keypoints: keypoints, anchorIndex: i))
        }
        return detections
    }

    /// Array convenience for ``decode(boxes:scores:anchors:options:)``.
    public static func decode(boxes: [Float], scores: [Float], anchors: [Anchor],
                              options: DetectionDecoderOptions) throws -> [Detection] {
        try boxes.withUnsafeBufferPointer { b in
            try scores.withUnsafeBufferPointer { s in
                try decode(boxes: b, scores: s, anchors: anchors, options: options)
            }
        }
    }
}
