#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A small pool of persistent worker threads for data-parallel loops.
///
/// `parallelFor(n) { item, worker in ... }` runs `body` once for every item in `0..<n`,
/// spread over the calling thread (worker 0) and `threads - 1` workers. Each thread first
/// takes the items of its own contiguous share (thread `w` of `T`: `n·w/T ..< n·(w+1)/T`, in
/// order), then steals what is left of the others' shares. The fixed shares keep a thread on
/// the same rows from one layer to the next (its L2 already holds them), as static scheduling
/// does; stealing keeps a late or preempted thread from stalling the others. Still, *which*
/// thread runs an item varies; kernels therefore make every
/// item's arithmetic depend only on the item index (never on the thread count or worker),
/// which keeps results bit-identical for any thread count. `worker` (in `0..<threads`) is
/// only for choosing a private scratch slice.
///
/// Dispatch cost is low: idle workers spin briefly on an atomic generation counter before
/// sleeping on a condition variable, because an inference issues ~300 parallel ops back to back.
///
/// Not re-entrant: do not call `parallelFor` from inside `body`, nor from two threads at once.
public final class ThreadPool: @unchecked Sendable {
    /// Total threads that execute items, including the caller.
    public let threadCount: Int
    private let state: PoolState
    private var workers: [Thread] = []

    /// Creates a pool with `threads` executing threads (the caller counts as one); values < 1 become 1.
    public init(threads: Int) {
        threadCount = Swift.max(1, threads)
        state = PoolState(threads: threadCount)
        for index in 1..<threadCount {
            let state = self.state
            let thread = Thread { state.workerLoop(worker: index) }
            thread.name = "blaze-kernel-\(index)"
            thread.stackSize = 1 << 20
            workers.append(thread)
            thread.start()
        }
    }

    deinit {
        state.stopAndWait(workerCount: threadCount - 1)
    }

    /// Runs `body(item, worker)` for every `item` in `0..<count`; returns when all have finished.
    public func parallelFor(_ count: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for item in 0..<count { body(item, 0) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            state.run(count: count, workerCount: threadCount - 1, body: escaping)
        }
    }
}

/// Shared state between the pool and its workers (kept separate so workers do not retain the pool).
///
/// `jobState` packs a job id (high bits) and the number of workers inside the job (low 20 bits).
/// An even id is an open job, odd means closed. A worker *enters* a job with a CAS that only
/// succeeds while that job is open; the dispatcher, after running out of items itself, closes
/// the job and waits only for workers that entered. So a worker that the OS has not scheduled
/// yet (the machine may be oversubscribed) never delays the caller: it finds the job closed
/// when it wakes and goes back to waiting.
private final class PoolState: @unchecked Sendable {
    static let countBits = 20
    static let countMask = (1 << countBits) - 1
    let jobState = Atomic<Int>(1)
    /// Next unclaimed item of each thread's share (owner and thieves both take from it).
    let cursors: [ShareCursor]
    let threadCount: Int
    let exitedWorkers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    // Written by the dispatcher before the job is published (release) and read by workers
    // only after they entered it (acquire).
    var body: ((Int, Int) -> Void)?
    var itemCount = 0
    /// Id of the last published job (even); only touched by the dispatching thread.
    var jobID = 0
    let condition = NSCondition()
    /// Spin iterations before a worker sleeps (~tens of microseconds).
    let spinLimit = 20_000

    init(threads: Int) {
        threadCount = threads
        cursors = (0..<threads).map { _ in ShareCursor() }
    }

    func run(count: Int, workerCount: Int, body: @escaping (Int, Int) -> Void) {
        self.body = body
        itemCount = count
        for (share, cursor) in cursors.enumerated() {
            cursor.next.store(count * share / threadCount, ordering: .relaxed)
        }
        jobID += 2
        let open = jobID << Self.countBits
        condition.lock()
        jobState.store(open, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
        drain(worker: 0, body: body, count: count)
        // Close the job (keeping the count of workers inside), then wait for those to finish.
        var state = jobState.load(ordering: .acquiring)
        while true {
            let closed = ((jobID + 1) << Self.countBits) | (state & Self.countMask)
            let (exchanged, original) = jobState.compareExchange(expected: state, desired: closed,
                                                                 ordering: .acquiringAndReleasing)
            if exchanged { break }
            state = original
        }
        var spins = 0
        while jobState.load(ordering: .acquiring) & Self.countMask != 0 {
            spins += 1
            if spins > spinLimit { sched_yield() }
        }
        self.body = nil
    }

    /// Runs the items of this thread's own share, then steals from the other shares in turn.
    @inline(__always)
    func drain(worker: Int, body: (Int, Int) -> Void, count: Int) {
        let shares = threadCount
        for step in 0..<shares {
            let share = (worker + step) % shares
            let end = count * (share + 1) / shares
            let cursor = cursors[share]
            while true {
                let item = cursor.next.add(1, ordering: .relaxed).oldValue
                if item >= end { break }
                body(item, worker)
            }
        }
    }

    func workerLoop(worker: Int) {
        var lastJob = 0
        while true {
            // Wait for a new open job (or stop).
            var spins = 0
            var state = jobState.load(ordering: .acquiring)
            while !stopping.load(ordering: .relaxed) && ((state >> Self.countBits) & 1 == 1 || state >> Self.countBits == lastJob) {
                spins += 1
                if spins > spinLimit {
                    condition.lock()
                    state = jobState.load(ordering: .acquiring)
                    while !stopping.load(ordering: .relaxed)
                            && ((state >> Self.countBits) & 1 == 1 || state >> Self.countBits == lastJob) {
                        condition.wait()
                        state = jobState.load(ordering: .acquiring)
                    }
                    condition.unlock()
                    spins = 0
                }
                state = jobState.load(ordering: .acquiring)
            }
            if stopping.load(ordering: .acquiring) {
                exitedWorkers.add(1, ordering: .releasing)
                return
            }
            let job = state >> Self.countBits
            lastJob = job
            // Enter the job only while it is still open.
            var entered = false
            while state >> Self.countBits == job {
                let (exchanged, original) = jobState.compareExchange(expected: state, desired: state + 1,
                                                                     ordering: .acquiringAndReleasing)
                if exchanged { entered = true; break }
                state = original
            }
            if !entered { continue }
            if let body = body { drain(worker: worker, body: body, count: itemCount) }
            jobState.subtract(1, ordering: .releasing)
        }
    }

    func stopAndWait(workerCount: Int) {
        condition.lock()
        stopping.store(true, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
        while exitedWorkers.load(ordering: .acquiring) < workerCount { sched_yield() }
    }
}

/// One share's claim counter, padded to its own cache lines so two threads claiming from
/// different shares do not contend on one line.
final class ShareCursor: @unchecked Sendable {
    let next = Atomic<Int>(0)
    private let padding: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}
