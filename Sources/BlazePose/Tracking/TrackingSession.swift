import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Counters of a ``TrackingSession`` run (kept up to date frame by frame, so they are valid
/// after a stream error too).
public struct TrackingSummary: Equatable, Sendable {
    /// Frames processed completely (and handed to every sink).
    public var frames = 0
    /// Frames on which the detector ran.
    public var detectorRuns = 0
    /// Frames with at least one pose.
    public var framesWithPoses = 0
    /// Sum of ``TrackedFrame/totalMilliseconds``: tracker time only (no decoding, no output).
    public var processingMilliseconds: Double = 0
    /// Wall time of the whole run including decoding and output, milliseconds.
    public var wallMilliseconds: Double = 0

    public init() {}

    /// Mean tracker time per frame (0 before the first frame).
    public var meanMillisecondsPerFrame: Double { frames > 0 ? processingMilliseconds / Double(frames) : 0 }
    /// Frames per second of the tracker alone.
    public var processingFramesPerSecond: Double { processingMilliseconds > 0 ? Double(frames) * 1000 / processingMilliseconds : 0 }
}

/// Writes JSON Lines to a file or standard output; every line is written with one `write(2)` as it
/// comes (no user-space buffering), so a crash or a later stream error loses nothing already written.
public final class JSONLinesWriter {
    private let handle: FileHandle
    private let closeOnDeinit: Bool
    /// Where the lines go, for messages.
    public let destination: String

    /// `path == "-"` writes to standard output; otherwise the file is created or truncated.
    /// - Throws: ``PoseTrackerError/invalidSource(_:)`` when the file cannot be created.
    public init(path: String) throws {
        destination = path
        if path == "-" {
            handle = FileHandle.standardOutput
            closeOnDeinit = false
        } else {
            // open(2) in place, not FileManager.createFile: that writes a temp file and renames
            // it over the target, which would replace a device such as /dev/null.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                throw PoseTrackerError.invalidSource("cannot create the JSON Lines file \(path): \(reason)")
            }
            handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
            closeOnDeinit = true
        }
    }

    /// Appends `line` (which should end in a newline).
    public func write(_ line: String) throws {
        do {
            try handle.write(contentsOf: Data(line.utf8))
        } catch {
            throw PoseTrackerError.invalidSource("cannot write to \(destination): \(error.localizedDescription)")
        }
    }

    deinit {
        if closeOnDeinit { try? handle.close() }
    }
}

/// Runs a ``VideoFrameSource`` through a ``PoseTracker`` — the engine of `blazepose track`,
/// usable without the command line.
public final class TrackingSession {
    public let tracker: PoseTracker
    public let source: VideoFrameSource
    /// Counters so far (complete frames only).
    public private(set) var summary = TrackingSummary()

    public init(tracker: PoseTracker, source: VideoFrameSource) {
        self.tracker = tracker
        self.source = source
    }

    /// Processes every frame in order and hands each result (with its image) to `onFrame` before
    /// reading the next frame.
    /// - Throws: the first error of the source (e.g. ``PoseTrackerError/frameUnreadable(index:source:reason:)``
    ///   for a truncated Y4M), the tracker or `onFrame`. Frames completed before it have all been
    ///   handed to `onFrame`, and ``summary`` counts them.
    public func run(onFrame: (TrackedFrame, RGBImage) throws -> Void) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { summary.wallMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        while let image = try source.nextFrame() {
            let frame = try tracker.process(image, timestampMicroseconds: source.timestampMicroseconds(ofFrame: summary.frames))
            try onFrame(frame, image)
            summary.frames += 1
            if frame.detectorRan { summary.detectorRuns += 1 }
            if !frame.poses.isEmpty { summary.framesWithPoses += 1 }
            summary.processingMilliseconds += frame.totalMilliseconds
            summary.wallMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
    }

    /// ``run(onFrame:)`` writing one ``TrackedFrame/jsonLine()`` per frame to `jsonl` (if any)
    /// before calling `onFrame`.
    public func run(jsonl: JSONLinesWriter?, onFrame: (TrackedFrame, RGBImage) throws -> Void = { _, _ in }) throws {
        try run { frame, image in
            try jsonl?.write(frame.jsonLine())
            try onFrame(frame, image)
        }
    }
}
