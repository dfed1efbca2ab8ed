import BlazeSupport
import ArgumentParser
import BlazePose
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `blazepose track INPUT [...]`: MediaPipe Pose in video mode (tracking + smoothing).
struct TrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Track poses through a video: a folder of PNG frames, a .y4m file, or - for Y4M on stdin.",
        discussion: """
            Video in and out: ffmpeg -i in.mp4 -f yuv4mpegpipe - | blazepose track - --annotate-video - | ffmpeg -i - out.mp4
            The detector runs on the first frame and whenever the previous frame had no pose; otherwise the \
            ROI comes from the previous frame's landmarks (MediaPipe's video mode). One JSON line per frame: \
            {"frame","timestamp_ms","detector_ran","poses":[{"id",…detect's pose object…}]}.
            """)

    @Argument(help: "A folder of PNG frames (sorted by name), a .y4m file, or - for Y4M on stdin.")
    var input: String
    @Option(help: "Write one JSON line per frame to this file ('-' = stdout), flushed as it goes.") var jsonl: String?
    @Option(help: "Write annotated frames (PNG, frame_000000.png …) to this folder (created if missing).")
    var annotateDir: String?
    @Option(help: ArgumentHelp("Write the annotated frames as a Y4M video (4:2:0 C420jpeg, BT.601 limited range) to this file ('-' = stdout), e.g. for | ffmpeg -i - out.mp4.",
                               valueName: "OUT.y4m"))
    var annotateVideo: String?
    @Flag(help: "Blend each person's segmentation mask into the annotated frames.")
    var drawMask = false
    @Option(help: "Write the segmentation mask of every frame (8-bit gray PNG, all people combined) to this folder.")
    var maskDir: String?
    @Option(parsing: .unconditional, help: "Frame rate for the timestamps, 0.001...1000 (default: the Y4M header's rate, else 30).") var fps: Double?
    @Flag(help: "Turn landmark smoothing off (the ROI-driving auxiliary landmarks stay smoothed, as in MediaPipe).")
    var noSmooth = false
    @Flag(inversion: .prefixedNo, help: "Blend each mask with the previous frame's mask of the same person (MediaPipe's smooth_segmentation).")
    var smoothSegmentation = true
    @Option(help: "Weight of the previous mask in that blend (MediaPipe's combine_with_previous_ratio), in [0, 1].")
    var segmentationSmoothingRatio: Float = 0.7
    @Flag(name: .customLong("static"), help: "Detect on every frame, no tracking, no smoothing (static_image_mode).")
    var staticMode = false
    /// Model, thresholds, --max-poses (people tracked, each with a stable id), threads, weights.
    @OptionGroup var pipeline: PipelineOptions

    func validate() throws {
        if let fps { try OptionRanges.checkFPS("--fps", fps) }
        guard segmentationSmoothingRatio.isFinite, (0...1).contains(segmentationSmoothingRatio) else {
            throw ValidationError("--segmentation-smoothing-ratio must be in [0, 1], got \(segmentationSmoothingRatio)")
        }
        if jsonl == "-" && annotateVideo == "-" {
            throw ValidationError("--jsonl - and --annotate-video - cannot both write to stdout")
        }
        if drawMask && annotateDir == nil && annotateVideo == nil {
            throw ValidationError("--draw-mask needs --annotate-dir or --annotate-video")
        }
    }

    /// Whether frames are annotated at all.
    private var annotating: Bool { annotateDir != nil || annotateVideo != nil }

    func run() throws {
        try reportingErrors {
            let start = DispatchTime.now().uptimeNanoseconds
            // The mask is only needed for --mask-dir and --draw-mask (the JSON lines carry no
            // mask); MediaPipe's default is enable_segmentation=False too.
            let landmarkerOptions = pipeline.landmarkerOptions(enableSegmentation: maskDir != nil || drawMask)
            let options = PoseTrackerOptions(landmarker: landmarkerOptions, staticImageMode: staticMode,
                                             smoothLandmarks: !noSmooth, smoothSegmentation: smoothSegmentation,
                                             segmentationSmoothingRatio: segmentationSmoothingRatio)
            let source = try openVideoFrameSource(input, fps: fps)
            let tracker = try PoseTracker(options: options)
            for dir in [annotateDir, maskDir].compactMap({ $0 }) {
                do {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                } catch {
                    throw CLIError("cannot create folder \(dir): \(error.localizedDescription)")
                }
            }
            let writer = try jsonl.map { try JSONLinesWriter(path: $0) }
            let video = try annotateVideo.map { try openVideoWriter($0, source: source) }
            // PNG encoding and video writing run here, one frame behind the tracker (at most 2
            // frames waiting: the tracker blocks when the writer falls behind).
            let outputs = annotating || maskDir != nil ? BoundedSerialQueue(capacity: 2) : nil
            let session = TrackingSession(tracker: tracker, source: source)
            let progress = ProgressLine(total: source.frameCount, startNanoseconds: start)
            do {
                try session.run(jsonl: writer) { frame, image in
                    if let outputs {
                        try outputs.enqueue { try writeOutputs(frame, image, video: video) }
                    }
                    progress.update(done: frame.index + 1)
                }
                try outputs?.drain()
            } catch {
                try? outputs?.drain()
                progress.finish()
                printSummary(session.summary, source: source, start: start)
                // An output failure says so; only an input failure can claim the lines are all written.
                let wroteAll: Bool
                if case PoseTrackerError.outputFailed = error { wroteAll = false } else { wroteAll = !(error is OutputError) }
                throw CLIError("\(error) — stopped after \(session.summary.frames) complete frame(s)"
                               + (wroteAll ? (jsonl.map { ", all written to \($0)" } ?? "") : ""))
            }
            progress.finish()
            printSummary(session.summary, source: source, start: start)
        }
    }

    /// Annotated PNG, video frame and mask PNG of one frame (runs on the output queue).
    private func writeOutputs(_ frame: TrackedFrame, _ image: RGBImage, video: Y4MWriter?) throws {
        let name = String(format: "frame_%06d.png", frame.index)
        if annotating {
            let annotated = annotatedFrame(image, frame)
            if let annotateDir { try annotated.writePNG(to: annotateDir + "/" + name) }
            try video?.append(annotated)
        }
        if let maskDir {
            try combinedMask(frame).writePNG(to: maskDir + "/" + name)
        }
    }

    /// A Y4M writer to `path` (`-` = stdout) at the source's frame rate: `--fps`, else the Y4M
    /// header's exact `F` ratio, else 30.
    private func openVideoWriter(_ path: String, source: VideoFrameSource) throws -> Y4MWriter {
        var rate: (numerator: Int, denominator: Int) = (30, 1)
        if let fps, let r = Y4MWriter.frameRate(fps: fps) {
            rate = r
        } else if let y4m = source as? Y4MFrameSource, let f = y4m.header.frameRate, f.numerator > 0, f.denominator > 0 {
            rate = (f.numerator, f.denominator)
        }
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardOutput
        } else {
            // open(2) in place (not an atomic replace), so a FIFO or device works too.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))") }
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        }
        let destination = path == "-" ? "stdout" : path
        return try Y4MWriter(destination: destination, frameRate: rate) { bytes in
            // write(2) directly, for errno's text ("Broken pipe" when the reader quits).
            if let failure = bytes.withUnsafeBytes({ writeAll(handle.fileDescriptor, $0) }) {
                throw CLIError("cannot write the video to \(destination): \(failure.reason)")
            }
        }
    }

    private func printSummary(_ s: TrackingSummary, source: VideoFrameSource, start: UInt64) {
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let text = String(format: "track %@ (model %@): %d frames, %d with a pose, detector ran on %d; mean %.2f ms/frame (processing %.1f frames/s), wall %.2f s\n",
                          source.name, pipeline.model.rawValue, s.frames, s.framesWithPoses, s.detectorRuns,
                          s.meanMillisecondsPerFrame, s.processingFramesPerSecond, wall)
        printError(text)
    }

    /// The frame with every person drawn in MediaPipe's style (``RGBImage/drawPose(_:style:label:)``);
    /// with `--max-poses > 1` each person's id is written above the head; `--draw-mask` first
    /// tints each person's mask in the id's colour.
    private func annotatedFrame(_ image: RGBImage, _ frame: TrackedFrame) -> RGBImage {
        var out = image
        if drawMask {
            let palette: [RGBColor] = [RGBColor(r: 128, g: 64, b: 255), RGBColor(r: 255, g: 200, b: 0),
                                       RGBColor(r: 0, g: 200, b: 120), RGBColor(r: 255, g: 64, b: 128),
                                       RGBColor(r: 64, g: 160, b: 255)]
            for tracked in frame.poses {
                if let mask = tracked.pose.mask { out.blendMask(mask, color: palette[tracked.id % palette.count]) }
            }
        }
        for tracked in frame.poses {
            out.drawPose(tracked.pose, label: pipeline.maxPoses > 1 ? "\(tracked.id)" : nil)
        }
        return out
    }

    /// Per-pixel maximum of all people's masks (all zero when nobody was found).
    private func combinedMask(_ frame: TrackedFrame) throws -> GrayImage {
        let masks = frame.poses.compactMap(\.pose.mask).filter { $0.width == frame.imageWidth && $0.height == frame.imageHeight }
        if masks.count == 1 {
            return try GrayImage(unitMask: masks[0].values, width: frame.imageWidth, height: frame.imageHeight)
        }
        var values = [Float](repeating: 0, count: frame.imageWidth * frame.imageHeight)   // [H, W]
        for mask in masks {
            for i in values.indices { values[i] = max(values[i], mask.values[i]) }
        }
        return try GrayImage(unitMask: values, width: frame.imageWidth, height: frame.imageHeight)
    }
}

/// `frames done/total, frames/s, ETA` on one stderr line, only when stderr is a terminal. The rate
/// and the ETA come from wall time since `startNanoseconds` (model loading, decoding and writing
/// included), so the ETA is the time the run will really take.
final class ProgressLine {
    private let total: Int?
    private let start: UInt64
    private let enabled = isatty(STDERR_FILENO) != 0
    private var lastPrint: UInt64 = 0
    private var printed = false

    init(total: Int?, startNanoseconds: UInt64) {
        self.total = total
        start = startNanoseconds
    }

    func update(done: Int) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastPrint > 200_000_000 || done == total else { return }
        lastPrint = now
        let seconds = Double(now - start) / 1e9
        let fps = seconds > 0 ? Double(done) / seconds : 0
        var text = "\r\u{1B}[Kframe \(done)" + (total.map { "/\($0)" } ?? "") + String(format: "  %.1f frames/s", fps)
        if let total, fps > 0, total >= done {
            text += String(format: "  ETA %.1f s", Double(total - done) / fps)
        }
        printError(text)
        printed = true
    }

    func finish() {
        if printed { printError("\n") }
        printed = false
    }
}
