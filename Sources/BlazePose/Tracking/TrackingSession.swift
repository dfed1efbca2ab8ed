import BlazeSupport
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
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

/// Writes JSON Lines to a file or standard output; every line is written with `write(2)` as it
/// comes (no user-space buffering), so a crash or a later stream error loses nothing already written.
public final class JSONLinesWriter {
    private let fd: Int32
    private let closeOnDeinit: Bool
    /// Where the lines go, for messages (the path, or "standard output").
    public let destination: String

    /// `path == "-"` writes to standard output; otherwise the file is created or truncated.
    /// - Throws: ``PoseTrackerError/outputFailed(destination:reason:)`` when the file cannot be created.
    public init(path: String) throws {
        if path == "-" {
            destination = "standard output"
            fd = STDOUT_FILENO
            closeOnDeinit = false
        } else {
            destination = path
            // open(2) in place, not FileManager.createFile: that writes a temp file and renames
            // it over the target, which would replace a device such as /dev/null.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw PoseTrackerError.outputFailed(destination: path, reason: String(cString: strerror(errno)))
            }
            self.fd = fd
            closeOnDeinit = true
        }
    }

    /// Appends `line` (which should end in a newline).
    /// - Throws: ``PoseTrackerError/outputFailed(destination:reason:)`` on a write error (e.g. a full disk).
    public func write(_ line: String) throws {
        var line = line
        if let failure = line.withUTF8({ writeAll(fd, UnsafeRawBufferPointer($0)) }) {
            throw PoseTrackerError.outputFailed(destination: destination, reason: failure.reason)
        }
    }

    deinit {
        if closeOnDeinit { close(fd) }
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
