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
            Example: ffmpeg -i clip.mp4 -f yuv4mpegpipe - | blazepose track - --jsonl poses.jsonl
            The detector runs on the first frame and whenever the previous frame had no pose; otherwise the \
            ROI comes from the previous frame's landmarks (MediaPipe's video mode). One JSON line per frame: \
            {"frame","timestamp_ms","detector_ran","poses":[{"id",…detect's pose object…}]}.
            """)

    @Argument(help: "A folder of PNG frames (sorted by name), a .y4m file, or - for Y4M on stdin.")
    var input: String
    @Option(help: "Write one JSON line per frame to this file ('-' = stdout), flushed as it goes.") var jsonl: String?
    @Option(help: "Write annotated frames (PNG, frame_000000.png …) to this folder (created if missing).")
    var annotateDir: String?
    @Option(help: "Write the segmentation mask of every frame (8-bit gray PNG, all people combined) to this folder.")
    var maskDir: String?
    @Option(parsing: .unconditional, help: "Frame rate for the timestamps, 0.001...1000 (default: the Y4M header's rate, else 30).") var fps: Double?
    @Flag(help: "Turn landmark smoothing off (the ROI-driving auxiliary landmarks stay smoothed, as in MediaPipe).")
    var noSmooth = false
    @Flag(name: .customLong("static"), help: "Detect on every frame, no tracking, no smoothing (static_image_mode).")
    var staticMode = false
    /// Model, thresholds, --max-poses (people tracked, each with a stable id), threads, weights.
    @OptionGroup var pipeline: PipelineOptions

    func validate() throws {
        if let fps { try OptionRanges.checkFPS("--fps", fps) }
    }

    func run() throws {
        try reportingErrors {
            // The mask is only needed for --mask-dir (the JSON lines carry no mask); MediaPipe's
            // default is enable_segmentation=False too.
            let landmarkerOptions = pipeline.landmarkerOptions(enableSegmentation: maskDir != nil)
            let options = PoseTrackerOptions(landmarker: landmarkerOptions, staticImageMode: staticMode,
                                             smoothLandmarks: !noSmooth)
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
            let session = TrackingSession(tracker: tracker, source: source)
            let progress = ProgressLine(total: source.frameCount)
            do {
                try session.run(jsonl: writer) { frame, image in
                    let name = String(format: "frame_%06d.png", frame.index)
                    if let annotateDir {
                        try annotatedFrame(image, frame).writePNG(to: annotateDir + "/" + name)
                    }
                    if let maskDir {
                        try combinedMask(frame).writePNG(to: maskDir + "/" + name)
                    }
                    progress.update(done: frame.index + 1, processingMilliseconds: session.summary.processingMilliseconds
                                        + frame.totalMilliseconds)
                }
            } catch {
                progress.finish()
                printSummary(session.summary, source: source)
                // An output failure says so; only an input failure can claim the lines are all written.
                let wroteAll: Bool
                if case PoseTrackerError.outputFailed = error { wroteAll = false } else { wroteAll = !(error is OutputError) }
                throw CLIError("\(error) — stopped after \(session.summary.frames) complete frame(s)"
                               + (wroteAll ? (jsonl.map { ", all written to \($0)" } ?? "") : ""))
            }
            progress.finish()
            printSummary(session.summary, source: source)
        }
    }

    private func printSummary(_ s: TrackingSummary, source: VideoFrameSource) {
        let text = String(format: "track %@ (model %@): %d frames, %d with a pose, detector ran on %d; mean %.2f ms/frame (processing %.1f frames/s), wall %.2f s\n",
                          source.name, pipeline.model.rawValue, s.frames, s.framesWithPoses, s.detectorRuns,
                          s.meanMillisecondsPerFrame, s.processingFramesPerSecond, s.wallMilliseconds / 1000)
        printError(text)
    }

    /// The frame with every person's skeleton and points; the colour of the skeleton encodes the id.
    private func annotatedFrame(_ image: RGBImage, _ frame: TrackedFrame) -> RGBImage {
        var out = image
        let palette: [RGBColor] = [.white, RGBColor(r: 255, g: 220, b: 0), RGBColor(r: 255, g: 0, b: 255),
                                   RGBColor(r: 0, g: 255, b: 128), RGBColor(r: 80, g: 160, b: 255)]
        for tracked in frame.poses {
            out.drawPose(tracked.pose, skeletonColor: palette[tracked.id % palette.count])   // one colour per person
        }
        return out
    }

    /// Per-pixel maximum of all people's masks (all zero when nobody was found).
    private func combinedMask(_ frame: TrackedFrame) throws -> GrayImage {
        var values = [Float](repeating: 0, count: frame.imageWidth * frame.imageHeight)   // [H, W]
        for tracked in frame.poses {
            guard let mask = tracked.pose.mask, mask.values.count == values.count else { continue }
            for i in values.indices { values[i] = max(values[i], mask.values[i]) }
        }
        return try GrayImage(unitMask: values, width: frame.imageWidth, height: frame.imageHeight)
    }
}

/// `frames done/total, frames/s, ETA` on one stderr line, only when stderr is a terminal.
final class ProgressLine {
    private let total: Int?
    private let enabled = isatty(STDERR_FILENO) != 0
    private var lastPrint: UInt64 = 0
    private var printed = false

    init(total: Int?) { self.total = total }

    func update(done: Int, processingMilliseconds: Double) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastPrint > 200_000_000 || done == total else { return }
        lastPrint = now
        let fps = processingMilliseconds > 0 ? Double(done) * 1000 / processingMilliseconds : 0
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
