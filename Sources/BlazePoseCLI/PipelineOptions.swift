import ArgumentParser
import BlazePose
import Foundation

extension ModelComplexity: ExpressibleByArgument {}

/// The pipeline options `detect` and `track` share (one source for both). Ranges are checked
/// once, by `PoseLandmarkerOptions.validate()`; numbers parse even when negative (`--threads -1`
/// gets a range error, not "missing value").
struct PipelineOptions: ParsableArguments {
    @Option(help: "Landmark model: lite, full or heavy.")
    var model: ModelComplexity = .full
    @Option(parsing: .unconditional, help: "Run the landmark model on the best N detections (MediaPipe: 1); 1...64.")
    var maxPoses: Int = 1
    @Option(parsing: .unconditional, help: "Detector score threshold in [0, 1] (score >= F is kept).")
    var minDetectionConfidence: Float = 0.5
    @Option(parsing: .unconditional, help: "Pose presence threshold in [0, 1] (presence > F is reported / keeps a track).")
    var minTrackingConfidence: Float = 0.5
    @Option(parsing: .unconditional,
            help: "Worker threads per image, 1...256 (default: all cores; 1 with detect --jobs). Results are identical for every value.")
    var threads: Int?
    @Option(parsing: .unconditional, help: "Heatmap refinement kernel: 7 (MediaPipe graph) or 9 (plain mp.solutions.pose 0.10.14).")
    var heatmapKernel: Int = 7
    @Option(help: "Directory with the .tflite files (default: the search order of `blazepose doctor`: $BLAZEPOSE_WEIGHTS, ./weights, next to the executable, ~/.local/share/blazepose/weights, /usr/local/share/blazepose/weights).")
    var weights: String?
    @Flag(name: .customLong("weight-cache"), inversion: .prefixedNo,
          help: "Map the models' packed weights from the cache of earlier loads ($BLAZEPOSE_CACHE_DIR, else $XDG_CACHE_HOME/blazepose, else ~/.cache/blazepose), writing it on a miss; --no-weight-cache packs them afresh and writes nothing. Results are identical.")
    var weightCache = true

    /// The library options these flags describe (weights not yet searched for).
    func landmarkerOptions(enableSegmentation: Bool, defaultThreads: Int = ProcessInfo.processInfo.activeProcessorCount)
        -> PoseLandmarkerOptions {
        var options = PoseLandmarkerOptions(
            modelComplexity: model, minDetectionConfidence: minDetectionConfidence,
            minTrackingConfidence: minTrackingConfidence, enableSegmentation: enableSegmentation,
            maxPoses: maxPoses, threads: threads ?? defaultThreads, heatmapKernelSize: heatmapKernel,
            weightsDirectory: weights.map { URL(fileURLWithPath: $0, isDirectory: true) })
        if !weightCache { options.weightCacheDirectory = nil }
        return options
    }

    /// Checks the ranges through the library's `PoseLandmarkerOptions.validate()`, naming the flag.
    func validate() throws {
        do {
            try landmarkerOptions(enableSegmentation: false).validate()
        } catch let BlazePoseError.invalidOption(name, value, reason) {
            throw ValidationError("\(Self.flag(forOption: name)) \(value): \(reason)")
        }
    }

    /// The command-line flag of a `PoseLandmarkerOptions` property.
    static func flag(forOption name: String) -> String {
        switch name {
        case "minDetectionConfidence": return "--min-detection-confidence"
        case "minTrackingConfidence": return "--min-tracking-confidence"
        case "maxPoses": return "--max-poses"
        case "threads": return "--threads"
        case "heatmapKernelSize": return "--heatmap-kernel"
        default: return name
        }
    }
}
