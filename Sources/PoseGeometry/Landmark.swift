#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One landmark.
///
/// For image landmarks `x`, `y` are normalized (by `W`, `H` of the frame they
/// live in: first the 256×256 crop, after projection the image) and `z` uses
/// the same scale as `x` (multiply by `W` for pixel-like units; smaller = closer
/// to the camera). For world landmarks `x`, `y`, `z` are metres with the origin
/// at the hip centre. `visibility` and `presence` are probabilities in `[0, 1]`.
public struct Landmark: Equatable, Sendable {
    public var x: Float
    public var y: Float
    public var z: Float
    public var visibility: Float
    public var presence: Float

    public init(x: Float, y: Float, z: Float, visibility: Float = 0, presence: Float = 0) {
        self.x = x
        self.y = y
        self.z = z
        self.visibility = visibility
        self.presence = presence
    }
}

/// Landmark-model output decoding and post-processing (docs/pipeline.md §2.11–§2.15).
public enum LandmarkDecoder {
    /// Landmarks the model emits: 33 pose + 2 auxiliary + 4 unused.
    public static let modelLandmarkCount = 39
    /// Pose landmarks kept in the output.
    public static let poseLandmarkCount = 33
    /// Auxiliary landmarks (33 mid-hip, 34 size/rotation point).
    public static let auxiliaryRange = 33..<35

    /// Decodes `[count × 5]` raw values `(x, y, z, visibility logit, presence logit)`
    /// in crop pixels (`TensorsToLandmarksCalculator`): `x/inputWidth`,
    /// `y/inputHeight`, `z/inputWidth`, `σ` on visibility and presence.
    ///
    /// - Parameter raw: the `[1, 195]` tensor for 39 landmarks.
    /// - Returns: landmarks normalized to the letterboxed crop.
    /// - Throws: ``PoseGeometryError/bufferSizeMismatch(what:expected:actual:)``.
    public static func decode(raw: UnsafeBufferPointer<Float>, count: Int = modelLandmarkCount,
                              inputWidth: Int = 256, inputHeight: Int = 256) throws -> [Landmark] {
        guard count >= 0, inputWidth > 0, inputHeight > 0 else {
            throw PoseGeometryError.invalidArgument(what: "landmark decoding",
                                                    reason: "count \(count) and input size \(inputWidth)x\(inputHeight) must be positive")
        }
        let expected = try checkedElementCount([count, 5], what: "landmark tensor")
        guard raw.count == expected else {
            throw PoseGeometryError.bufferSizeMismatch(what: "landmark tensor [\(count)×5]", expected: expected, actual: raw.count)
        }
        let w = Float(inputWidth), h = Float(inputHeight)
        return (0..<count).map { k in
            let q = 5 * k                                   // raw: [count, 5]
            // normalize_z = 1: z is divided by the width, then by 1.
            return Landmark(x: raw[q] / w, y: raw[q + 1] / h, z: raw[q + 2] / w / 1.0,
                            visibility: logistic(raw[q + 3]), presence: logistic(raw[q + 4]))
        }
    }

    /// Decodes world landmarks `[count × 3]` metres, no activation, no scaling.
    /// Visibility and presence are 0 here; copy them from the image landmarks
    /// (see ``rotatingWorld(_:rotation:copyingScoresFrom:)``).
    public static func decodeWorld(raw: UnsafeBufferPointer<Float>, count: Int) throws -> [Landmark] {
        let needed = try checkedElementCount([count, 3], what: "world landmark tensor")
        guard raw.count >= needed else {
            throw PoseGeometryError.bufferSizeMismatch(what: "world landmark tensor (needs \(count)×3)",
                                                       expected: needed, actual: raw.count)
        }
        return (0..<count).map { k in Landmark(x: raw[3 * k], y: raw[3 * k + 1], z: raw[3 * k + 2]) }
    }

    /// Heatmap refinement (`RefineLandmarksFromHeatmapCalculator`).
    ///
    /// For each landmark `k`: `c = trunc(x·Wh)`, `r = trunc(y·Hh)` (values in
    /// `(−1/Wh, 0)` truncate to 0 and are refined); skip if `c`/`r` is outside
    /// the heatmap. Over the window of `kernelSize` centred on `(r, c)`,
    /// clipped at the borders, with `p = σ(HM[row][col][k])`: if
    /// `max p ≥ minConfidence` and `Σp > 0`, set `x = Σ col·p / Wh / Σp`,
    /// `y = Σ row·p / Hh / Σp` (the integer index, no +0.5). z, visibility and
    /// presence are untouched unless `refinePresence` / `refineVisibility`
    /// (then they become `min(current, max p)`).
    ///
    /// - Parameters:
    ///   - heatmap: logits, HWC `[heatmapHeight, heatmapWidth, channels]`
    ///     (the model's `[1, 64, 64, 39]`), `channels == landmarks.count`.
    ///   - kernelSize: 7 in the C++ graph; 9 reproduces the Python-wheel quirk.
    /// - Throws: on a buffer of the wrong size or a non-positive kernel size.
    public static func refine(_ landmarks: inout [Landmark], heatmap: UnsafeBufferPointer<Float>,
                              heatmapHeight: Int, heatmapWidth: Int, kernelSize: Int = 7,
                              minConfidence: Float = 0.5,
                              refinePresence: Bool = false, refineVisibility: Bool = false) throws {
        let channels = landmarks.count
        guard heatmapHeight > 0, heatmapWidth > 0 else {
            throw PoseGeometryError.invalidArgument(what: "heatmap size", reason: "\(heatmapWidth)x\(heatmapHeight) must be positive")
        }
        guard kernelSize >= 1 else {
            throw PoseGeometryError.invalidArgument(what: "heatmap kernelSize", reason: "\(kernelSize) must be ≥ 1")
        }
        let expected = try checkedElementCount([heatmapHeight, heatmapWidth, channels], what: "heatmap")
        guard heatmap.count == expected else {
            throw PoseGeometryError.bufferSizeMismatch(
                what: "heatmap [\(heatmapHeight)×\(heatmapWidth)×\(channels)] (channels = landmark count)",
                expected: expected, actual: heatmap.count)
        }
        let hmW = Float(heatmapWidth), hmH = Float(heatmapHeight)
        for k in 0..<channels {
            guard let window = refinementWindow(landmarks[k], heatmapHeight: heatmapHeight, heatmapWidth: heatmapWidth,
                                                kernelSize: kernelSize) else { continue }
            var sum: Float = 0, weightedCol: Float = 0, weightedRow: Float = 0, maxConfidence: Float = 0
            for row in window.rows {
                for col in window.columns {
                    let p = logistic(heatmap[(row * heatmapWidth + col) * channels + k])   // HWC
                    sum += p
                    maxConfidence = max(maxConfidence, p)
                    weightedCol += Float(col) * p
                    weightedRow += Float(row) * p
                }
            }
            if maxConfidence >= minConfidence && sum > 0 {
                landmarks[k].x = weightedCol / hmW / sum
                landmarks[k].y = weightedRow / hmH / sum
            }
            if refinePresence && sum > 0 { landmarks[k].presence = min(landmarks[k].presence, maxConfidence) }
            if refineVisibility && sum > 0 { landmarks[k].visibility = min(landmarks[k].visibility, maxConfidence) }
        }
    }

    /// The heatmap pixels ``refine(_:heatmap:heatmapHeight:heatmapWidth:kernelSize:minConfidence:refinePresence:refineVisibility:)``
    /// reads for `landmark` (in its own channel): the `kernelSize` window centred on
    /// `(trunc(y·Hh), trunc(x·Wh))`, clipped at the borders; nil when that centre is outside the
    /// heatmap (or not finite). For computing only those pixels of the heatmap.
    public static func refinementWindow(_ landmark: Landmark, heatmapHeight: Int, heatmapWidth: Int,
                                        kernelSize: Int) -> (rows: Range<Int>, columns: Range<Int>)? {
        let offset = (max(1, kernelSize) - 1) / 2
        let hmW = Float(heatmapWidth), hmH = Float(heatmapHeight)
        let colF = landmark.x * hmW
        let rowF = landmark.y * hmH
        // trunc(v) ∈ [0, size) ⟺ −1 < v < size. Checking in float first
        // also keeps NaN/huge values away from Int conversion (which traps).
        guard colF > -1, colF < hmW, rowF > -1, rowF < hmH else { return nil }
        let centerCol = Int(colF), centerRow = Int(rowF)
        return (max(0, centerRow - offset) ..< min(heatmapHeight, centerRow + offset + 1),
                max(0, centerCol - offset) ..< min(heatmapWidth, centerCol + offset + 1))
    }

    /// Splits the 39 model landmarks into pose `0..<33` and auxiliary `33..<35`
    /// (`35..<39` are dropped).
    /// - Throws: if fewer than 35 landmarks are given.
    public static func split(_ landmarks: [Landmark]) throws -> (pose: [Landmark], auxiliary: [Landmark]) {
        guard landmarks.count >= auxiliaryRange.upperBound else {
            throw PoseGeometryError.bufferSizeMismatch(what: "model landmarks (need ≥ 35 to split)",
                                                       expected: modelLandmarkCount, actual: landmarks.count)
        }
        return (Array(landmarks[0..<poseLandmarkCount]), Array(landmarks[auxiliaryRange]))
    }

    /// World landmarks rotated by the ROI rotation only (no translation, no
    /// scaling): `X = cosθ·x − sinθ·y`, `Y = sinθ·x + cosθ·y`, `Z = z`.
    /// Visibility and presence are copied from `scores[i]` when given.
    public static func rotatingWorld(_ world: [Landmark], rotation: Float,
                                     copyingScoresFrom scores: [Landmark]? = nil) -> [Landmark] {
        let c = cosf(rotation), s = sinf(rotation)
        return world.enumerated().map { i, p in
            var out = Landmark(x: c * p.x - s * p.y, y: s * p.x + c * p.y, z: p.z,
                               visibility: p.visibility, presence: p.presence)
            if let scores, i < scores.count {
                out.visibility = scores[i].visibility
                out.presence = scores[i].presence
            }
            return out
        }
    }
}

extension Landmark {
    /// Undoes crop letterboxing (`LandmarkLetterboxRemovalCalculator`):
    /// `x' = (x − l)/(1 − l − r)`, `y' = (y − t)/(1 − t − b)`, `z' = z/(1 − l − r)`.
    public func removingLetterbox(_ padding: LetterboxPadding) -> Landmark {
        let horizontal = padding.left + padding.right
        let vertical = padding.top + padding.bottom
        var out = self
        out.x = (x - padding.left) / (1 - horizontal)
        out.y = (y - padding.top) / (1 - vertical)
        out.z = z / (1 - horizontal)
        return out
    }

    /// Projects a crop-normalized landmark into the image
    /// (`LandmarkProjectionCalculator`, square-ROI formula):
    /// `X = xc + (cosθ·dx − sinθ·dy)·w`, `Y = yc + (sinθ·dx + cosθ·dy)·h`,
    /// `Z = z·w`, with `dx = x − 0.5`, `dy = y − 0.5`. Exact in pixels only
    /// when the ROI is square in pixels (`w·W == h·H`), as pose ROIs are.
    public func projected(onto rect: NormalizedRect) -> Landmark {
        let dx = x - 0.5, dy = y - 0.5
        let c = cosf(rect.rotation), s = sinf(rect.rotation)
        var out = self
        out.x = (c * dx - s * dy) * rect.width + rect.xCenter
        out.y = (s * dx + c * dy) * rect.height + rect.yCenter
        out.z = z * rect.width
        return out
    }

    /// Inverse of ``projected(onto:)``: maps an image-normalized landmark back
    /// into the rect's crop-normalized frame. Not part of MediaPipe's graph;
    /// useful for tests and for re-cropping. Requires non-zero rect size.
    public func unprojected(from rect: NormalizedRect) -> Landmark {
        let px = (x - rect.xCenter) / rect.width
        let py = (y - rect.yCenter) / rect.height
        let c = cosf(rect.rotation), s = sinf(rect.rotation)
        var out = self
        out.x = c * px + s * py + 0.5
        out.y = -s * px + c * py + 0.5
        out.z = z / rect.width
        return out
    }
}
