import BlazeRuntime
import Foundation

/// Which landmark model runs (MediaPipe's `model_complexity`).
public enum ModelComplexity: String, CaseIterable, Sendable {
    /// `pose_landmark_lite.tflite` (complexity 0; 128×128 segmentation).
    case lite
    /// `pose_landmark_full.tflite` (complexity 1, MediaPipe's default; 256×256 segmentation).
    case full
    /// `pose_landmark_heavy.tflite` (complexity 2). Not shipped in the wheel we fetch from; install
    /// it with `Tools/fetch-weights.sh --heavy FILE`.
    case heavy

    /// File name of the landmark model inside the weights directory.
    public var landmarkModelFileName: String { "pose_landmark_\(rawValue).tflite" }
}

/// Settings of a ``PoseLandmarker``. Names mirror MediaPipe's `mp.solutions.pose` options; the
/// defaults are MediaPipe's static-image defaults except `enableSegmentation` (on).
public struct PoseLandmarkerOptions: Sendable {
    /// Landmark model (default `.full`, as MediaPipe).
    public var modelComplexity: ModelComplexity
    /// Detector score threshold: a detection is kept iff `score ≥ minDetectionConfidence`
    /// (`min_score_thresh`, docs/pipeline.md §2.5). Default 0.5.
    public var minDetectionConfidence: Float
    /// Pose-presence threshold: a pose is reported iff `presence > minTrackingConfidence`
    /// (strict, docs/pipeline.md §2.10). Default 0.5.
    public var minTrackingConfidence: Float
    /// Compute the segmentation mask (image-sized, docs/pipeline.md §2.16). Default true. When
    /// false, ``PoseLandmarker/detect(image:)`` and the trackers do not run the landmark model's
    /// segmentation head either (about 9% of lite's time and 19% of full's); the landmarks are
    /// the same bits.
    public var enableSegmentation: Bool
    /// Run the landmark model on the best `maxPoses` detections after NMS. MediaPipe uses only the
    /// first (`maxPoses = 1`, the default).
    public var maxPoses: Int
    /// Worker threads for the models. Results are bit-identical for every value.
    public var threads: Int
    /// Heatmap refinement window (docs/pipeline.md §2.12): 7 = MediaPipe's graph (default); 9 reproduces a plain
    /// `mp.solutions.pose` run of the 0.10.14 wheel, which drops the graph option (docs/pipeline.md §4.9).
    public var heatmapKernelSize: Int
    /// Where the two models come from (default ``ModelSource/searchPath``: the ``WeightsLocator`` order).
    public var models: ModelSource
    /// The directory of the packed-weight cache (`WeightCache` in BlazeRuntime): a load of a model
    /// seen before maps its packed weights from there instead of packing them. Default: the user's
    /// cache (`$BLAZEPOSE_CACHE_DIR`, else `$XDG_CACHE_HOME/blazepose`, else
    /// `~/.cache/blazepose`; none when `BLAZEPOSE_WEIGHT_CACHE=off`); nil for no cache. Results
    /// are identical either way.
    public var weightCacheDirectory: String? = WeightCache.user?.directory

    /// The directory holding `pose_detection.tflite` and `pose_landmark_<model>.tflite`, or nil
    /// (the default) to search the ``WeightsLocator`` order: `$BLAZEPOSE_WEIGHTS`, `./weights`,
    /// next to the executable, `~/.local/share/blazepose/weights`, `/usr/local/share/blazepose/weights`.
    /// Setting it sets ``models`` to ``ModelSource/directory(_:)`` (nil: ``ModelSource/searchPath``).
    public var weightsDirectory: URL? {
        get {
            if case let .directory(url) = models { return url }
            return nil
        }
        set { models = newValue.map { .directory($0) } ?? .searchPath }
    }

    /// - Parameter weightsDirectory: nil (the default) searches the ``WeightsLocator`` order.
    public init(modelComplexity: ModelComplexity = .full,
                minDetectionConfidence: Float = 0.5,
                minTrackingConfidence: Float = 0.5,
                enableSegmentation: Bool = true,
                maxPoses: Int = 1,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                heatmapKernelSize: Int = 7,
                weightsDirectory: URL? = nil) {
        self.init(modelComplexity: modelComplexity, minDetectionConfidence: minDetectionConfidence,
                  minTrackingConfidence: minTrackingConfidence, enableSegmentation: enableSegmentation,
                  maxPoses: maxPoses, threads: threads, heatmapKernelSize: heatmapKernelSize,
                  models: weightsDirectory.map { .directory($0) } ?? .searchPath)
    }

    /// Options with the models given explicitly, e.g. `.data(detector:landmark:)` for weights an
    /// app bundles as resources, or `.files(detector:landmark:)`.
    public init(modelComplexity: ModelComplexity = .full,
                minDetectionConfidence: Float = 0.5,
                minTrackingConfidence: Float = 0.5,
                enableSegmentation: Bool = true,
                maxPoses: Int = 1,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                heatmapKernelSize: Int = 7,
                models: ModelSource) {
        self.modelComplexity = modelComplexity
        self.minDetectionConfidence = minDetectionConfidence
        self.minTrackingConfidence = minTrackingConfidence
        self.enableSegmentation = enableSegmentation
        self.maxPoses = maxPoses
        self.threads = threads
        self.heatmapKernelSize = heatmapKernelSize
        self.models = models
    }

    /// Checks every option; throws ``BlazePoseError/invalidOption(name:value:reason:)``.
    public func validate() throws {
        func bad(_ name: String, _ value: String, _ reason: String) -> BlazePoseError {
            .invalidOption(name: name, value: value, reason: reason)
        }
        guard minDetectionConfidence.isFinite, (0...1).contains(minDetectionConfidence) else {
            throw bad("minDetectionConfidence", "\(minDetectionConfidence)", "must be in [0, 1]")
        }
        guard minTrackingConfidence.isFinite, (0...1).contains(minTrackingConfidence) else {
            throw bad("minTrackingConfidence", "\(minTrackingConfidence)", "must be in [0, 1]")
        }
        guard (1...64).contains(maxPoses) else { throw bad("maxPoses", "\(maxPoses)", "must be in 1...64") }
        guard (1...256).contains(threads) else { throw bad("threads", "\(threads)", "must be in 1...256") }
        guard heatmapKernelSize == 7 || heatmapKernelSize == 9 else {
            throw bad("heatmapKernelSize", "\(heatmapKernelSize)", "must be 7 (MediaPipe graph) or 9 (plain wheel)")
        }
    }
}

/// Where a ``PoseLandmarker`` gets its two models from.
public enum ModelSource: Sendable {
    /// The first directory of the ``WeightsLocator`` search order that holds both files.
    case searchPath
    /// `pose_detection.tflite` and `pose_landmark_<model>.tflite` in this directory.
    case directory(URL)
    /// Two `.tflite` files (file URLs), e.g. `Bundle.main.url(forResource:withExtension:)`.
    case files(detector: URL, landmark: URL)
    /// The bytes of the two `.tflite` files (copied into aligned storage when loaded); the
    /// landmark model must be the one ``PoseLandmarkerOptions/modelComplexity`` names.
    case data(detector: Data, landmark: Data)
}

/// Errors of the pose pipeline. Each says what failed and where.
public enum BlazePoseError: Error, CustomStringConvertible, Equatable {
    /// A model file is not in the weights directory; `hint` says how to get it.
    case missingWeights(path: String, hint: String)
    /// No searched directory holds all of `files`: `searched` lists every place looked at (and what
    /// it lacked), `install` the command that installs the weights.
    case weightsNotFound(files: [String], searched: [String], install: String)
    /// A model file exists but cannot be loaded or does not have BlazePose's inputs/outputs.
    case invalidModel(path: String, reason: String)
    /// An option is out of range.
    case invalidOption(name: String, value: String, reason: String)
    /// The input image cannot be processed (e.g. zero size).
    case invalidImage(String)

    public var description: String {
        switch self {
        case let .missingWeights(path, hint): return "model file not found: \(path) (\(hint))"
        case let .weightsNotFound(files, searched, install):
            return "model files \(files.joined(separator: ", ")) not found; searched, in order:\n"
                + searched.enumerated().map { "  \($0.offset + 1). \($0.element)\n" }.joined()
                + "  \(install)"
        case let .invalidModel(path, reason): return "\(path): \(reason)"
        case let .invalidOption(name, value, reason): return "option \(name) = \(value): \(reason)"
        case let .invalidImage(message): return "invalid image: \(message)"
        }
    }
}
