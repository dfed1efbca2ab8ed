import Foundation

/// What became of one frame given to ``LivePoseTracker/submit(_:timestampMicroseconds:)``.
public enum LiveStreamEvent: Equatable, Sendable {
    /// The frame was tracked; the result is exactly what ``PoseTracker/process(_:timestampMicroseconds:)``
    /// returns for the same sequence of kept frames.
    case processed(TrackedFrame)
    /// The frame arrived while the previous one was still being processed and was skipped (it did
    /// not touch the tracker's state).
    case dropped(timestampMicroseconds: Int64)
    /// The tracker threw on this frame (`message` is the error's description).
    case failed(timestampMicroseconds: Int64, message: String)

    /// The timestamp of the frame the event is about.
    public var timestampMicroseconds: Int64 {
        switch self {
        case let .processed(frame): return frame.timestampMicroseconds
        case let .dropped(t), let .failed(t, _): return t
        }
    }
}

/// MediaPipe Tasks' `LIVE_STREAM` mode over a ``PoseTracker``: frames from a camera are
/// submitted without blocking; one frame is processed at a time on a background queue, and a frame
/// that arrives while another is in flight is dropped (MediaPipe's flow limiter does the same).
///
/// * ``submit(_:timestampMicroseconds:)`` returns at once: `true` when the frame was accepted,
///   `false` when it was dropped. Timestamps must strictly increase over all submitted frames,
///   dropped ones included.
/// * Every submitted frame produces exactly one ``LiveStreamEvent``, delivered on the background
///   queue **in timestamp order**: the drops that happened while frame k ran are reported right
///   after frame k's result.
/// * Dropped frames never reach the tracker, so its state (tracks, filters, frame counter) is
///   the one of a synchronous run over the kept frames, and the results are identical to it.
///
/// ```swift
/// let (live, events) = try LivePoseTracker.makeStream(options: .init(landmarker: .init(modelComplexity: .lite)))
/// Task {
///     for await event in events {
///         if case let .processed(frame) = event { print(frame.poses.first?.pose[.nose].x ?? .nan) }
///     }
/// }
/// camera.onFrame { image, microseconds in _ = try? live.submit(image, timestampMicroseconds: microseconds) }
/// ```
public final class LivePoseTracker: @unchecked Sendable {
    // @unchecked: `tracker` is used only on `queue` (serial); the mutable counters are guarded by `lock`.
    private let tracker: PoseTracker
    private let onEvent: @Sendable (LiveStreamEvent) -> Void
    private let onFinish: @Sendable () -> Void
    private let queue = DispatchQueue(label: "blazepose.live-stream", qos: .userInitiated)
    private let lock = NSLock()
    private var busy = false
    private var finished = false
    private var lastTimestamp: Int64?
    private var dropsWhileBusy: [Int64] = []
    private var droppedCount = 0
    private var acceptedCount = 0

    /// - Parameters:
    ///   - tracker: the tracker to drive; do not use it elsewhere while this object lives.
    ///   - onEvent: called once per submitted frame, on a background queue, in timestamp order.
    public init(tracker: PoseTracker, onEvent: @escaping @Sendable (LiveStreamEvent) -> Void) {
        self.tracker = tracker
        self.onEvent = onEvent
        self.onFinish = {}
    }

    private init(tracker: PoseTracker, onEvent: @escaping @Sendable (LiveStreamEvent) -> Void,
                 onFinish: @escaping @Sendable () -> Void) {
        self.tracker = tracker
        self.onEvent = onEvent
        self.onFinish = onFinish
    }

    /// A live tracker and the `AsyncStream` of its events (one per submitted frame, in timestamp
    /// order; buffered without limit, so consume it). The stream ends after ``finish()``.
    public static func makeStream(tracker: PoseTracker) -> (tracker: LivePoseTracker, events: AsyncStream<LiveStreamEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveStreamEvent.self, bufferingPolicy: .unbounded)
        let live = LivePoseTracker(tracker: tracker, onEvent: { continuation.yield($0) },
                                   onFinish: { continuation.finish() })
        return (live, stream)
    }

    /// ``makeStream(tracker:)`` with a new ``PoseTracker`` (loads the models).
    public static func makeStream(options: PoseTrackerOptions) throws -> (tracker: LivePoseTracker, events: AsyncStream<LiveStreamEvent>) {
        makeStream(tracker: try PoseTracker(options: options))
    }

    /// Frames dropped so far.
    public var droppedFrames: Int { lock.withLock { droppedCount } }
    /// Frames accepted (processed or in flight) so far.
    public var acceptedFrames: Int { lock.withLock { acceptedCount } }

    /// Offers the next frame. Returns at once.
    /// - Returns: `true` when the frame will be processed, `false` when it was dropped because the
    ///   previous frame is still running (its ``LiveStreamEvent/dropped(timestampMicroseconds:)``
    ///   event follows that frame's result).
    /// - Throws: ``PoseTrackerError/nonIncreasingTimestamp(previous:current:)`` when the timestamp
    ///   does not exceed the previous submitted one; ``PoseTrackerError/invalidSource(_:)`` after
    ///   ``finish()``. Nothing is queued then.
    @discardableResult
    public func submit(_ image: RGBImage, timestampMicroseconds: Int64) throws -> Bool {
        lock.lock()
        if finished {
            lock.unlock()
            throw PoseTrackerError.invalidSource("the live stream is finished; create a new LivePoseTracker")
        }
        if let last = lastTimestamp, timestampMicroseconds <= last {
            lock.unlock()
            throw PoseTrackerError.nonIncreasingTimestamp(previous: last, current: timestampMicroseconds)
        }
        lastTimestamp = timestampMicroseconds
        if busy {
            dropsWhileBusy.append(timestampMicroseconds)
            droppedCount += 1
            lock.unlock()
            return false
        }
        busy = true
        acceptedCount += 1
        defer { lock.unlock() }   // enqueued under the lock, so finish() cannot overtake it
        queue.async { [self] in
            let event: LiveStreamEvent
            do {
                event = .processed(try tracker.process(image, timestampMicroseconds: timestampMicroseconds))
            } catch {
                event = .failed(timestampMicroseconds: timestampMicroseconds, message: "\(error)")
            }
            onEvent(event)
            // Frames dropped while this one ran have later timestamps than it and earlier ones than
            // any frame accepted from now on (the queue is serial, so that frame runs after this block).
            let drops: [Int64] = lock.withLock {
                let d = dropsWhileBusy
                dropsWhileBusy = []
                busy = false
                return d
            }
            for t in drops { onEvent(.dropped(timestampMicroseconds: t)) }
        }
        return true
    }

    /// Waits for the frame in flight, delivers the remaining events, and ends the event stream.
    /// Later submits throw.
    public func finish() {
        lock.withLock { finished = true }
        queue.sync {}
        onFinish()
    }
}
