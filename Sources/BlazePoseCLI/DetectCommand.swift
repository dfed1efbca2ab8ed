import ArgumentParser
import BlazePose
import Foundation

/// `blazepose detect IMAGE [...]`: the MediaPipe Pose pipeline on one PNG.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find poses in a PNG image: 33 landmarks, world landmarks and a segmentation mask (MediaPipe Pose).")

    @Argument(help: "Input PNG image.") var image: String
    @Option(help: "Landmark model: lite, full or heavy.") var model: ModelChoice = .full
    @Option(help: "Write the result as JSON to this file ('-' = stdout).") var json: String?
    @Option(help: "Write a copy of the image with the landmarks and skeleton drawn on it (PNG).") var annotate: String?
    @Option(help: "Write the segmentation mask of the first pose as an 8-bit gray PNG.") var mask: String?
    @Option(help: "Run the landmark model on the best N detections (MediaPipe: 1).") var maxPoses: Int = 1
    @Option(help: "Detector score threshold (score >= F is kept).") var minDetectionConfidence: Float = 0.5
    @Option(help: "Pose presence threshold (presence > F is reported).") var minTrackingConfidence: Float = 0.5
    @Option(help: "Worker threads (default: all cores). Results are identical for every value.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Directory with the .tflite files (default: ./weights, else the package's weights/).")
    var weights: String?
    @Option(help: "Heatmap refinement kernel: 7 (MediaPipe graph) or 9 (plain mp.solutions.pose 0.10.14).")
    var heatmapKernel: Int = 7
    @Option(help: "Write every pipeline stage to this directory (layout: Tools/mediapipe/STAGES.md).")
    var dumpStages: String?
    @Option(help: ArgumentHelp("Skip the detector and run the landmark model on this ROI: a JSON file {\"x_center\",\"y_center\",\"width\",\"height\",\"rotation\"} (image-normalized, radians), e.g. MediaPipe's roi.json stage.", valueName: "FILE"))
    var roiJson: String?
    @Option(name: .customLong("repeat"), help: "Also time N more runs of the pipeline on the same image and print their median/min (timing only).")
    var repeatRuns: Int = 0
    @Flag(help: "Keep the stored pixel grid of a JPEG/PNG: do not apply its EXIF orientation (cv2.IMREAD_IGNORE_ORIENTATION).")
    var ignoreOrientation = false

    enum ModelChoice: String, ExpressibleByArgument, CaseIterable {
        case lite, full, heavy
    }

    func validate() throws {
        guard (0...10_000).contains(repeatRuns) else { throw ValidationError("--repeat must be in 0...10000, got \(repeatRuns)") }
        guard (1...64).contains(maxPoses) else { throw ValidationError("--max-poses must be in 1...64, got \(maxPoses)") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        guard heatmapKernel == 7 || heatmapKernel == 9 else { throw ValidationError("--heatmap-kernel must be 7 or 9, got \(heatmapKernel)") }
        for (name, v) in [("--min-detection-confidence", minDetectionConfidence), ("--min-tracking-confidence", minTrackingConfidence)] {
            guard v.isFinite, (0...1).contains(v) else { throw ValidationError("\(name) must be in [0, 1], got \(v)") }
        }
    }

    func run() throws {
        try reportingErrors {
            let start = DispatchTime.now().uptimeNanoseconds
            let options = PoseLandmarkerOptions(
                modelComplexity: ModelComplexity(rawValue: model.rawValue) ?? .full,
                minDetectionConfidence: minDetectionConfidence, minTrackingConfidence: minTrackingConfidence,
                enableSegmentation: mask != nil || dumpStages != nil,
                maxPoses: maxPoses, threads: threads, heatmapKernelSize: heatmapKernel,
                weightsDirectory: try resolveWeightsDirectory(weights))
            let landmarker = try PoseLandmarker(options: options)

            let decodeStart = DispatchTime.now().uptimeNanoseconds
            let picture = try RGBImage(contentsOfFile: image, orientation: ignoreOrientation ? .ignore : .apply)
            let decodeMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - decodeStart) / 1e6
            let runStart = DispatchTime.now().uptimeNanoseconds
            let result: PoseResult
            let detectorStages: DetectorStages?
            let landmarkStages: [LandmarkStages]
            if let roiJson {
                let roi = try readROI(roiJson)
                let stages = try landmarker.landmarks(in: picture, roi: roi)
                var timing = PoseTiming()
                timing.landmarkMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - runStart) / 1e6
                result = PoseResult(imageWidth: picture.width, imageHeight: picture.height,
                                    poses: stages.pose.map { [$0] } ?? [], timing: timing)
                (detectorStages, landmarkStages) = (nil, [stages])
            } else {
                (result, detectorStages, landmarkStages) = try landmarker.detectWithStages(image: picture)
            }
            // "total" = decode + pipeline (model loading is excluded, as MediaPipe's Pose() init is).
            let totalMilliseconds = decodeMilliseconds + Double(DispatchTime.now().uptimeNanoseconds - runStart) / 1e6

            if repeatRuns > 0 {
                var times: [Double] = []
                for _ in 0..<repeatRuns {
                    let t = DispatchTime.now().uptimeNanoseconds
                    _ = try landmarker.detect(image: picture)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
                }
                times.sort()
                print(String(format: "warm pipeline (detector + landmark, no PNG decode) over %d runs: median %.2f ms  min %.2f  max %.2f",
                             repeatRuns, times[times.count / 2], times[0], times[times.count - 1]))
            }
            if let dumpStages {
                var writer = try StageDumpWriter(directory: URL(fileURLWithPath: dumpStages, isDirectory: true))
                try writer.write(imageName: URL(fileURLWithPath: image).lastPathComponent, imageWidth: picture.width,
                                 imageHeight: picture.height, options: options, detector: detectorStages,
                                 landmarks: landmarkStages.first)
            }
            if let json {
                let text = result.jsonText(model: model.rawValue, decodeMilliseconds: decodeMilliseconds,
                                           totalMilliseconds: totalMilliseconds)
                if json == "-" {
                    try OutputWriter.standardOutput.write(text)
                } else {
                    try OutputWriter.writeFile(json, text)
                }
            }
            if let annotate {
                try annotated(picture, result).writePNG(to: annotate)
            }
            if let mask {
                // No person is not an error (exit 0, "poses": []); say why the file is absent.
                if let m = result.poses.first?.mask {
                    try GrayImage(unitMask: m.values, width: m.width, height: m.height).writePNG(to: mask)
                } else {
                    printError("warning: no pose found, --mask \(mask) not written\n")
                }
            }
            if json != "-" {
                printSummary(result, decodeMilliseconds: decodeMilliseconds, totalMilliseconds: totalMilliseconds,
                             loadMilliseconds: Double(decodeStart - start) / 1e6)
            }
        }
    }

    private func printSummary(_ result: PoseResult, decodeMilliseconds: Double, totalMilliseconds: Double,
                              loadMilliseconds: Double) {
        func ms(_ v: Double) -> String { String(format: "%.1f", v) }
        print("\(image): \(result.imageWidth)x\(result.imageHeight), model \(model.rawValue): \(result.poses.count) pose(s)")
        for (i, pose) in result.poses.enumerated() {
            let r = pose.roi
            print("  pose \(i): detection score \(pose.detectionScore.map { String(format: "%.3f", $0) } ?? "-"), presence \(String(format: "%.3f", pose.presence)), ROI centre (\(String(format: "%.3f", r.xCenter)), \(String(format: "%.3f", r.yCenter))) size \(String(format: "%.3f", r.width))x\(String(format: "%.3f", r.height)) rotation \(String(format: "%.3f", r.rotation)) rad")
            let visible = pose.landmarks.filter { $0.visibility > 0.5 }.count
            let nose = pose[.nose]
            print("    \(visible)/33 landmarks with visibility > 0.5; nose at (\(String(format: "%.1f", nose.x * Float(result.imageWidth))), \(String(format: "%.1f", nose.y * Float(result.imageHeight)))) px")
        }
        print("  time: decode \(ms(decodeMilliseconds)) ms, detector \(ms(result.timing.detectorMilliseconds)) ms, landmark \(ms(result.timing.landmarkMilliseconds)) ms, total \(ms(totalMilliseconds)) ms (model load \(ms(loadMilliseconds)) ms, not included)")
    }

    /// The image with every pose's skeleton (MediaPipe's 35 connections) and 33 points drawn on it.
    private func annotated(_ picture: RGBImage, _ result: PoseResult) -> RGBImage {
        var out = picture
        for pose in result.poses { out.drawPose(pose) }
        return out
    }
}

/// `--weights DIR`, else `./weights`, else the `weights/` folder of the package the executable was
/// built in (found by walking up from the executable, e.g. `.build/release/blazepose`).
func resolveWeightsDirectory(_ explicit: String?) throws -> URL {
    if let explicit { return URL(fileURLWithPath: explicit, isDirectory: true) }
    let marker = "pose_detection.tflite"
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        .appendingPathComponent("weights", isDirectory: true)
    if FileManager.default.fileExists(atPath: cwd.appendingPathComponent(marker).path) { return cwd }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<6 {
        let candidate = dir.appendingPathComponent("weights", isDirectory: true)
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(marker).path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return cwd   // the loader reports the missing file with a hint
}
