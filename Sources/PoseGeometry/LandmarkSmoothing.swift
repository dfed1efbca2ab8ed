/// Per-landmark visibility low-pass (`VisibilitySmoothingCalculator`,
/// low-pass mode): only `visibility` is filtered (α = 0.1 in the pose graph);
/// x, y, z and presence pass through unchanged. The first sample per
/// landmark passes through.
///
/// Reset semantics in the pose pipeline: these filters are **not** reset on a
/// frame without a pose (MediaPipe does not run them then); call ``reset()``
/// only when starting a new stream.
public struct VisibilitySmoother: Equatable, Sendable {
    public let alpha: Float
    private var filters: [LowPassFilter] = []

    public init(alpha: Float = 0.1) throws {
        guard alpha >= 0, alpha <= 1 else {
            throw PoseGeometryError.invalidArgument(what: "VisibilitySmoother.alpha", reason: "\(alpha) must be in [0, 1]")
        }
        self.alpha = alpha
    }

    /// Filters the visibility of each landmark.
    /// - Throws: ``PoseGeometryError/bufferSizeMismatch(what:expected:actual:)``
    ///   when the landmark count differs from the previous call (since the last reset).
    public mutating func apply(_ landmarks: [Landmark]) throws -> [Landmark] {
        if filters.isEmpty {
            filters = Array(repeating: LowPassFilter(alpha: alpha), count: landmarks.count)
        } else if filters.count != landmarks.count {
            throw PoseGeometryError.bufferSizeMismatch(what: "VisibilitySmoother landmark count",
                                                       expected: filters.count, actual: landmarks.count)
        }
        var out = landmarks
        for i in out.indices { out[i].visibility = filters[i].apply(landmarks[i].visibility) }
        return out
    }

    public mutating func reset() { filters = [] }
}

/// A bank of one-euro filters, one per axis per landmark
/// (`LandmarksSmoothingCalculator`, one-euro mode).
///
/// * Image landmarks (``applyNormalized(_:timestampMicroseconds:imageWidth:imageHeight:objectScale:)``)
///   are filtered in **pixels** `(x·W, y·H, z·W)` and divided back.
/// * World landmarks (``apply(_:timestampMicroseconds:objectScale:)``) are
///   filtered as they are (metres).
/// * `valueScale = 1/objectScale` (Float, as MediaPipe) unless
///   `disableValueScaling`; if `objectScale < minAllowedObjectScale` the input
///   is returned unfiltered and no state changes.
///
/// Reset semantics in the pose pipeline: the pose and auxiliary banks are
/// reset on every frame without a pose (so the first frame after a gap is
/// unfiltered); the world bank is **not** reset.
public struct OneEuroLandmarkSmoother: Equatable, Sendable {
    public let frequency: Double
    public let minCutoff: Double
    public let beta: Double
    public let derivativeCutoff: Double
    public let minAllowedObjectScale: Float
    public let disableValueScaling: Bool
    private var xFilters: [OneEuroFilter] = []
    private var yFilters: [OneEuroFilter] = []
    private var zFilters: [OneEuroFilter] = []
    private let prototype: OneEuroFilter

    public init(minCutoff: Double, beta: Double, derivativeCutoff: Double = 1.0, frequency: Double = 30,
                minAllowedObjectScale: Float = 1e-6, disableValueScaling: Bool = false) throws {
        self.prototype = try OneEuroFilter(frequency: frequency, minCutoff: minCutoff, beta: beta,
                                           derivativeCutoff: derivativeCutoff)
        self.frequency = frequency
        self.minCutoff = minCutoff
        self.beta = beta
        self.derivativeCutoff = derivativeCutoff
        self.minAllowedObjectScale = minAllowedObjectScale
        self.disableValueScaling = disableValueScaling
    }

    /// Pose landmarks (docs/pipeline.md §2.17 a): min_cutoff 0.05, beta 80, derivate_cutoff 1.
    public static func pose() -> OneEuroLandmarkSmoother {
        // Constant, valid parameters: init cannot throw here.
        try! OneEuroLandmarkSmoother(minCutoff: 0.05, beta: 80, derivativeCutoff: 1.0)
    }

    /// World landmarks (docs/pipeline.md §2.17 b): min_cutoff 0.1, beta 40, no value scaling.
    public static func world() -> OneEuroLandmarkSmoother {
        try! OneEuroLandmarkSmoother(minCutoff: 0.1, beta: 40, derivativeCutoff: 1.0, disableValueScaling: true)
    }

    /// Auxiliary landmarks (docs/pipeline.md §2.17 c): min_cutoff 0.01, beta 10.
    public static func auxiliary() -> OneEuroLandmarkSmoother {
        try! OneEuroLandmarkSmoother(minCutoff: 0.01, beta: 10, derivativeCutoff: 1.0)
    }

    /// Filters landmarks in their own units.
    /// - Parameter objectScale: required unless `disableValueScaling`.
    /// - Throws: when the landmark count changes without a reset, or when
    ///   `objectScale` is missing while value scaling is on.
    public mutating func apply(_ landmarks: [Landmark], timestampMicroseconds: Int64,
                               objectScale: Float? = nil) throws -> [Landmark] {
        var valueScale: Float = 1
        if !disableValueScaling {
            guard let objectScale else {
                throw PoseGeometryError.invalidArgument(what: "OneEuroLandmarkSmoother.objectScale",
                                                        reason: "required when value scaling is enabled")
            }
            // `!(a >= b)` so that a NaN scale also disables smoothing.
            if !(objectScale >= minAllowedObjectScale) { return landmarks }
            valueScale = 1 / objectScale
        }
        if xFilters.isEmpty {
            xFilters = Array(repeating: prototype, count: landmarks.count)
            yFilters = xFilters
            zFilters = xFilters
        } else if xFilters.count != landmarks.count {
            throw PoseGeometryError.bufferSizeMismatch(what: "OneEuroLandmarkSmoother landmark count",
                                                       expected: xFilters.count, actual: landmarks.count)
        }
        let scale = Double(valueScale)
        var out = landmarks
        for i in out.indices {
            out[i].x = Float(xFilters[i].apply(Double(landmarks[i].x), timestampMicroseconds: timestampMicroseconds, valueScale: scale))
            out[i].y = Float(yFilters[i].apply(Double(landmarks[i].y), timestampMicroseconds: timestampMicroseconds, valueScale: scale))
            out[i].z = Float(zFilters[i].apply(Double(landmarks[i].z), timestampMicroseconds: timestampMicroseconds, valueScale: scale))
        }
        return out
    }

    /// Filters image-normalized landmarks in pixel units: converts to
    /// `(x·W, y·H, z·W)`, filters with ``apply(_:timestampMicroseconds:objectScale:)``,
    /// converts back. `objectScale` is in pixels (see
    /// ``RegionOfInterest/objectScale(start:end:imageWidth:imageHeight:)``).
    public mutating func applyNormalized(_ landmarks: [Landmark], timestampMicroseconds: Int64,
                                         imageWidth: Int, imageHeight: Int, objectScale: Float?) throws -> [Landmark] {
        let (w, h) = try imageSizeAsFloat(imageWidth, imageHeight)
        let pixels = landmarks.map { Landmark(x: $0.x * w, y: $0.y * h, z: $0.z * w, visibility: $0.visibility, presence: $0.presence) }
        let filtered = try apply(pixels, timestampMicroseconds: timestampMicroseconds, objectScale: objectScale)
        return filtered.map { Landmark(x: $0.x / w, y: $0.y / h, z: $0.z / w, visibility: $0.visibility, presence: $0.presence) }
    }

    /// Drops all filter state; the next call passes its input through.
    public mutating func reset() {
        xFilters = []
        yFilters = []
        zFilters = []
    }
}
