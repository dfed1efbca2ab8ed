import Foundation

/// The activation memory (arena and scratch) of one or more interpreters that never run at the
/// same time, e.g. a pose detector and the landmark model that runs after it.
///
/// Pass the same instance in ``InterpreterOptions/sharedArena`` to each interpreter: the memory
/// holds the largest of their needs instead of their sum. Layout while an interpreter runs: its
/// planned activations (`MemoryPlan.arenaCount` floats, offsets from its plan), then its scratch.
/// Sharing has one consequence: an interpreter's tensors (inputs included) do not survive an
/// `invoke` of another interpreter on the same arena, so set the inputs before every `invoke` and
/// read the outputs before invoking another. Not for interpreters used from several threads at once.
public final class ActivationArena: @unchecked Sendable {
    /// Start of the memory: 64-byte aligned (2 MiB aligned and huge-page backed from 2 MiB up).
    private(set) var base: UnsafeMutablePointer<Float>
    /// Floats available at `base`.
    public private(set) var capacity: Int

    public init() {
        base = allocateHugePageBacked(byteCount: MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
        base.initialize(to: 0)
        capacity = 1
    }

    /// Makes `count` floats available, zeroed (so their pages are faulted in now, not during the
    /// first `invoke`). Growing frees the old memory before allocating the new, so the two never
    /// coexist; the contents are not kept.
    func reserve(_ count: Int) {
        let count = max(1, count)
        if count > capacity {
            UnsafeMutableRawPointer(base).deallocate()
            base = allocateHugePageBacked(byteCount: count * MemoryLayout<Float>.stride).assumingMemoryBound(to: Float.self)
            capacity = count
        }
        base.initialize(repeating: 0, count: count)
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }
}
