import ArgumentParser
import BlazePose
import BlazeRuntime
import BlazeSupport
import Foundation

/// `blazepose detect INPUT... [...]`: the MediaPipe Pose pipeline on one image or a batch.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find poses in images: 33 landmarks, world landmarks and a segmentation mask (MediaPipe Pose).",
        discussion: """
            One image: --json/--annotate/--mask/--dump-stages/--roi-json/--repeat as below. Many inputs \
            (files, directories = their images sorted by name, - = paths on stdin, one per line): the models \
            load once, --jsonl writes one line per input ({"file", …detect's object…} or {"file","error"}), \
            a failed input does not stop the batch but makes the exit status 1. --jobs N runs N images at once, \
            each single-threaded by default; results are bit-identical to one run per image.
            """)

    @Argument(help: "Input images: files, directories (their images, sorted), or - for a list of paths on stdin.")
    var inputs: [String] = []
    @OptionGroup var pipeline: PipelineOptions
    @Option(help: "One image: write the result as JSON to this file ('-' = stdout).") var json: String?
    @Option(help: "Write one JSON line per input to this file ('-' = stdout): {\"file\", …the --json object…}, or {\"file\",\"error\"}.")
    var jsonl: String?
    @Option(parsing: .unconditional,
            help: "Run N images concurrently (1...256), each with --threads threads (default 1 with --jobs).")
    var jobs: Int?
    @Option(help: "One image: write a copy with the landmarks and skeleton drawn on it (PNG).") var annotate: String?
    @Option(help: "One image: write the segmentation mask of the first pose as an 8-bit gray PNG.") var mask: String?
    @Option(help: "One image: write every pipeline stage to this directory (layout: Tools/mediapipe/STAGES.md).")
    var dumpStages: String?
    @Option(help: ArgumentHelp("One image: skip the detector and run the landmark model on this ROI: a JSON file {\"x_center\",\"y_center\",\"width\",\"height\",\"rotation\"} (image-normalized, radians), e.g. MediaPipe's roi.json stage.", valueName: "FILE"))
    var roiJson: String?
    @Option(name: .customLong("repeat"), parsing: .unconditional,
            help: "One image: also time N more runs of the pipeline on the same image and print their median/min (timing only).")
    var repeatRuns: Int = 0
    @Flag(help: "Keep the stored pixel grid of a JPEG/PNG: do not apply its EXIF orientation (cv2.IMREAD_IGNORE_ORIENTATION).")
    var ignoreOrientation = false

    /// Options that only make sense for a single image.
    private var singleImageOptions: [String] {
        [("--json", json != nil), ("--annotate", annotate != nil), ("--mask", mask != nil),
         ("--dump-stages", dumpStages != nil), ("--roi-json", roiJson != nil), ("--repeat", repeatRuns != 0)]
            .filter(\.1).map(\.0)
    }

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one input image (a file, a directory, or - for paths on stdin)") }
        guard (0...10_000).contains(repeatRuns) else { throw ValidationError("--repeat \(repeatRuns): must be in 0...10000") }
        if let jobs, !(1...256).contains(jobs) { throw ValidationError("--jobs \(jobs): must be in 1...256") }
        if jsonl != nil || jobs != nil, let first = singleImageOptions.first {
            throw ValidationError("\(first) is for one image; with --jsonl/--jobs use one JSON line per input")
        }
        if json != nil, jsonl != nil { throw ValidationError("give --json (one image) or --jsonl (one line per input), not both") }
    }

    func run() throws {
        try reportingErrors {
            let isSingleFile: Bool = {
                guard inputs.count == 1, inputs[0] != "-", jsonl == nil, jobs == nil else { return false }
                var isDirectory: ObjCBool = false
                return !(FileManager.default.fileExists(atPath: inputs[0], isDirectory: &isDirectory) && isDirectory.boolValue)
            }()
            if isSingleFile {
                try runSingle(inputs[0])
            } else {
                if let first = singleImageOptions.first {
                    throw CLIError("\(first) is for one image file; for several inputs use --jsonl")
                }
                try runBatch()
            }
        }
    }

    // MARK: - Batch

    private func runBatch() throws {
        let paths = try expandInputs(inputs)
        guard !paths.isEmpty else { throw CLIError("no input images (directories are searched for *.\(imageFileExtensions.sorted().joined(separator: ", *.")))") }
        let jobCount = min(jobs ?? 1, paths.count)
        let perJobThreads = jobs == nil ? ProcessInfo.processInfo.activeProcessorCount : 1
        var options = pipeline.landmarkerOptions(enableSegmentation: false, defaultThreads: perJobThreads)
        options.weightsDirectory = try resolveWeightsDirectory(pipeline.weights, model: pipeline.model)
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let landmarkers = try (0..<jobCount).map { _ in try PoseLandmarker(options: options) }
        let loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6

        // One JSON line per input: stdout through OutputWriter (a closed pipe ends the run with
        // status 141, a full disk is an error), a file through a FileHandle opened once.
        let output: ((String) throws -> Void)?
        var file: FileHandle?
        if let jsonl {
            if jsonl == "-" {
                output = { try OutputWriter.standardOutput.write($0) }
            } else {
                guard FileManager.default.createFile(atPath: jsonl, contents: nil),
                      let handle = FileHandle(forWritingAtPath: jsonl) else { throw CLIError("cannot write \(jsonl)") }
                file = handle
                output = { line in
                    do { try handle.write(contentsOf: Data(line.utf8)) } catch {
                        throw CLIError("cannot write \(jsonl): \(error.localizedDescription)")
                    }
                }
            }
        } else {
            output = nil
        }
        defer { try? file?.close() }
        let progress = BatchProgress(total: paths.count)
        var failed = 0, withPose = 0
        let batch = BatchDetector(paths: paths, landmarkers: landmarkers, decoders: (jobCount + 1) / 2,
                                     orientation: ignoreOrientation ? .ignore : .apply)
        do {
            try batch.run { index, item in
                let line: String
                switch item.outcome {
                case let .success((result, decodeMilliseconds, totalMilliseconds)):
                    if !result.poses.isEmpty { withPose += 1 }
                    let object = result.jsonText(model: pipeline.model.rawValue, decodeMilliseconds: decodeMilliseconds,
                                                 totalMilliseconds: totalMilliseconds)
                    // `detect --json`'s object (one line) with "file" first.
                    line = "{\"file\":\"\(jsonEscape(item.path))\"," + object.dropFirst().trimmingCharacters(in: .newlines)
                    if output == nil {
                        progress.clear()
                        printSummary(item.path, result, decodeMilliseconds: decodeMilliseconds,
                                     totalMilliseconds: totalMilliseconds, loadMilliseconds: nil)
                    }
                case let .failure(error):
                    failed += 1
                    line = "{\"file\":\"\(jsonEscape(item.path))\",\"error\":\"\(jsonEscape("\(error)"))\"}"
                    progress.clear()
                    printError("error: \(error)\n")
                }
                try output?(line + "\n")
                progress.update(done: index + 1)
            }
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        let wall = progress.elapsedSeconds
        let summary = String(format: "detect: %d image(s), %d with a pose, %d failed; %.1f images/s (wall %.2f s, %d job(s) × %d thread(s), model load %.0f ms)\n",
                             paths.count, withPose, failed, wall > 0 ? Double(paths.count) / wall : 0, wall,
                             jobCount, options.threads, loadMilliseconds)
        printError(summary)
        if failed > 0 { throw ExitCode.failure }
    }

    // MARK: - One image

    private func runSingle(_ image: String) throws {
        // The image decodes on a thread of its own while the two models load (with more than one
        // core and thread): a photo's decode takes about as long as a model's load. The image's
        // error, if any, is the one reported, as when it was decoded first; decoded here, a bad
        // image is an error before the models load.
        let orientation: EXIFOrientationHandling = ignoreOrientation ? .ignore : .apply
        var options = pipeline.landmarkerOptions(enableSegmentation: mask != nil || dumpStages != nil)
        let decoding = ImageDecoding(path: image, orientation: orientation,
                                     concurrently: options.threads > 1 && ProcessInfo.processInfo.activeProcessorCount > 1)
        if !decoding.concurrent { _ = try decoding.result() }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let loaded = Result { () throws -> PoseLandmarker in
            options.weightsDirectory = try resolveWeightsDirectory(pipeline.weights, model: pipeline.model)
            return try PoseLandmarker(options: options)
        }
        let loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
        let (picture, decodeMilliseconds) = try decoding.result()
        let landmarker = try loaded.get()
        let model = pipeline.model
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
            // [repeatRuns] each: whole call, its detector stage, its landmark stage (ms).
            var times: [Double] = [], detectorTimes: [Double] = [], landmarkTimes: [Double] = []
            for _ in 0..<repeatRuns {
                let t = DispatchTime.now().uptimeNanoseconds
                let warm = try landmarker.detect(image: picture)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
                detectorTimes.append(warm.timing.detectorMilliseconds)
                landmarkTimes.append(warm.timing.landmarkMilliseconds)
            }
            times.sort()
            print(String(format: "warm pipeline (detector + landmark, no image decode) over %d runs: median %.2f ms  min %.2f  max %.2f"
                         + "  (stage medians: detector %.2f, landmark %.2f)",
                         repeatRuns, times[times.count / 2], times[0], times[times.count - 1],
                         median(detectorTimes), median(landmarkTimes)))
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
            printSummary(image, result, decodeMilliseconds: decodeMilliseconds, totalMilliseconds: totalMilliseconds,
                         loadMilliseconds: loadMilliseconds, decodedDuringLoad: decoding.concurrent)
        }
    }

    private func printSummary(_ image: String, _ result: PoseResult, decodeMilliseconds: Double,
                              totalMilliseconds: Double, loadMilliseconds: Double?, decodedDuringLoad: Bool = false) {
        let model = pipeline.model
        func ms(_ v: Double) -> String { String(format: "%.1f", v) }
        print("\(image): \(result.imageWidth)x\(result.imageHeight), model \(model.rawValue): \(result.poses.count) pose(s)")
        for (i, pose) in result.poses.enumerated() {
            let r = pose.roi
            print("  pose \(i): detection score \(pose.detectionScore.map { String(format: "%.3f", $0) } ?? "-"), presence \(String(format: "%.3f", pose.presence)), ROI centre (\(String(format: "%.3f", r.xCenter)), \(String(format: "%.3f", r.yCenter))) size \(String(format: "%.3f", r.width))x\(String(format: "%.3f", r.height)) rotation \(String(format: "%.3f", r.rotation)) rad")
            let visible = pose.landmarks.filter { $0.visibility > 0.5 }.count
            let nose = pose[.nose]
            print("    \(visible)/33 landmarks with visibility > 0.5; nose at (\(String(format: "%.1f", nose.x * Float(result.imageWidth))), \(String(format: "%.1f", nose.y * Float(result.imageHeight)))) px")
        }
        print("  time: decode \(ms(decodeMilliseconds)) ms, detector \(ms(result.timing.detectorMilliseconds)) ms, landmark \(ms(result.timing.landmarkMilliseconds)) ms, total \(ms(totalMilliseconds)) ms"
              + (loadMilliseconds.map { " (model load \(ms($0)) ms, not included" + (decodedDuringLoad ? "; the image decoded meanwhile)" : ")") } ?? ""))
    }

    /// The image with every pose's skeleton (MediaPipe's 35 connections) and 33 points drawn on it.
    private func annotated(_ picture: RGBImage, _ result: PoseResult) -> RGBImage {
        var out = picture
        for pose in result.poses { out.drawPose(pose) }
        return out
    }
}

/// The weights directory for `model`: `--weights DIR`, else the library's search order
/// (`WeightsLocator`, printed by `blazepose doctor`).
/// - Throws: `BlazePoseError.weightsNotFound` listing every place searched and the install command.
func resolveWeightsDirectory(_ explicit: String?, model: ModelComplexity) throws -> URL {
    try WeightsLocator().locate(files: ["pose_detection.tflite", model.landmarkModelFileName],
                                explicit: explicit.map { URL(fileURLWithPath: $0, isDirectory: true) })
}
