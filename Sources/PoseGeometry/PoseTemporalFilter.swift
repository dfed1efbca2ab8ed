/// All per-frame temporal filtering of the legacy pose graph in one value
/// (`pose_landmark_filtering.pbtxt` + the next-frame ROI of
/// `pose_landmarks_to_roi.pbtxt`; docs/pipeline.md §2.17–§2.18, Appendix A).
///
/// Per frame with a pose, ``update(pose:world:auxiliary:timestampMicroseconds:imageWidth:imageHeight:)``:
/// 1. `objectScale` from the **unfiltered** projected aux landmarks
///    (alignment rect without ×1.25): `2·|aux1 − aux0|` pixels.
/// 2. If `smoothLandmarks`: pose = one-euro(visibility-LPF(pose)) in pixels
///    with value scale `1/objectScale`; world = one-euro(visibility-LPF(world))
///    without value scaling. Otherwise both pass through untouched.
/// 3. Aux = one-euro(visibility-LPF(aux)) **always** (even without smoothing).
/// 4. Next-frame ROI = pose ROI from the filtered aux landmarks (nil = no ROI).
///
/// On a frame without a pose call ``poseLost()``: it resets only the pose
/// and aux one-euro banks. The visibility low-passes and the world one-euro
/// bank keep their state across the gap, as in MediaPipe (they are simply not
/// run on pose-less frames).
public struct PoseTemporalFilter: Sendable {
    /// The filtered outputs of one frame.
    public struct Output: Equatable, Sendable {
        /// 33 image-normalized pose landmarks.
        public var pose: [Landmark]
        /// 33 world landmarks (metres).
        public var world: [Landmark]
        /// The 2 filtered auxiliary landmarks (image-normalized).
        public var auxiliary: [Landmark]
        /// Object scale used for the pose/aux banks, in pixels.
        public var objectScale: Float
        /// ROI for the next frame; nil when it has zero/NaN size.
        public var nextROI: NormalizedRect?
    }

    /// `smooth_landmarks` (false in static-image mode).
    public let smoothLandmarks: Bool
    private var poseVisibility: VisibilitySmoother
    private var worldVisibility: VisibilitySmoother
    private var auxVisibility: VisibilitySmoother
    private var poseBank = OneEuroLandmarkSmoother.pose()
    private var worldBank = OneEuroLandmarkSmoother.world()
    private var auxBank = OneEuroLandmarkSmoother.auxiliary()

    public init(smoothLandmarks: Bool = true) {
        self.smoothLandmarks = smoothLandmarks
        // α = 0.1 is a valid constant; the throwing initializer cannot fail here.
        let visibility = try! VisibilitySmoother(alpha: 0.1)
        poseVisibility = visibility
        worldVisibility = visibility
        auxVisibility = visibility
    }

    /// Filters one frame with a pose. See the type documentation.
    /// - Parameters:
    ///   - pose: projected image landmarks (33), unfiltered.
    ///   - world: rotated world landmarks (33), unfiltered.
    ///   - auxiliary: projected aux landmarks (exactly 2), unfiltered.
    ///   - timestampMicroseconds: frame time; should strictly increase.
    /// - Throws: ``PoseGeometryError`` for a wrong aux count, a bad image
    ///   size, or a landmark count that changes between frames.
    public mutating func update(pose: [Landmark], world: [Landmark], auxiliary: [Landmark],
                                timestampMicroseconds: Int64, imageWidth: Int, imageHeight: Int) throws -> Output {
        guard auxiliary.count == 2 else {
            throw PoseGeometryError.bufferSizeMismatch(what: "auxiliary landmarks", expected: 2, actual: auxiliary.count)
        }
        let objectScale = try RegionOfInterest.objectScale(
            start: SIMD2(auxiliary[0].x, auxiliary[0].y), end: SIMD2(auxiliary[1].x, auxiliary[1].y),
            imageWidth: imageWidth, imageHeight: imageHeight)
        var outPose = pose
        var outWorld = world
        if smoothLandmarks {
            outPose = try poseBank.applyNormalized(try poseVisibility.apply(pose), timestampMicroseconds: timestampMicroseconds,
                                                   imageWidth: imageWidth, imageHeight: imageHeight, objectScale: objectScale)
            outWorld = try worldBank.apply(try worldVisibility.apply(world), timestampMicroseconds: timestampMicroseconds)
        }
        let outAux = try auxBank.applyNormalized(try auxVisibility.apply(auxiliary), timestampMicroseconds: timestampMicroseconds,
                                                 imageWidth: imageWidth, imageHeight: imageHeight, objectScale: objectScale)
        let nextROI = try RegionOfInterest.poseROI(start: SIMD2(outAux[0].x, outAux[0].y), end: SIMD2(outAux[1].x, outAux[1].y),
                                                   imageWidth: imageWidth, imageHeight: imageHeight)
        return Output(pose: outPose, world: outWorld, auxiliary: outAux, objectScale: objectScale, nextROI: nextROI)
    }

    /// A frame without a pose: resets the pose and aux one-euro banks only.
    public mutating func poseLost() {
        poseBank.reset()
        auxBank.reset()
    }

    /// Starts a new stream: every filter forgets its history.
    public mutating func resetAll() {
        poseLost()
        worldBank.reset()
        poseVisibility.reset()
        worldVisibility.reset()
        auxVisibility.reset()
    }
}
