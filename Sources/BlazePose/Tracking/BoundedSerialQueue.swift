import Foundation

/// Runs jobs one at a time, in submission order, on a background thread, with at most `capacity`
/// jobs queued or running: ``enqueue(_:)`` blocks while the queue is full (backpressure), so a
/// slow consumer (PNG encoding, a video pipe) bounds memory instead of letting frames pile up.
///
/// The first job that throws stops the queue: later jobs are skipped and the error is rethrown by
/// the next ``enqueue(_:)`` and by ``drain()``. `blazepose track` writes its PNGs and video frames
/// through one of these, so writing frame k overlaps tracking frame k + 1.
public final class BoundedSerialQueue: @unchecked Sendable {
    // @unchecked: `firstError` is guarded by `lock`; jobs run only on the serial `queue`.
    private let queue: DispatchQueue
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var firstError: Error?
    /// Most jobs queued or running at once.
    public let capacity: Int

    /// - Parameter capacity: jobs queued or running at once (≥ 1; values below 1 count as 1).
    public init(capacity: Int = 2, label: String = "blazepose.output") {
        self.capacity = max(1, capacity)
        slots = DispatchSemaphore(value: self.capacity)
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Queues `job`, waiting first while `capacity` jobs are queued or running.
    /// - Throws: the error of an earlier job (then `job` is not queued).
    public func enqueue(_ job: @escaping @Sendable () throws -> Void) throws {
        if let error = lock.withLock({ firstError }) { throw error }
        slots.wait()
        if let error = lock.withLock({ firstError }) {
            slots.signal()
            throw error
        }
        queue.async { [self] in
            defer { slots.signal() }
            guard lock.withLock({ firstError == nil }) else { return }
            do {
                try job()
            } catch {
                lock.withLock { if firstError == nil { firstError = error } }
            }
        }
    }

    /// Waits until every queued job has run.
    /// - Throws: the first error of any job.
    public func drain() throws {
        queue.sync {}
        if let error = lock.withLock({ firstError }) { throw error }
    }
}
