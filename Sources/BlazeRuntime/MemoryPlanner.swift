/// A static memory plan: every activation tensor gets a fixed offset in one arena,
/// computed once at load from tensor lifetimes, so inference allocates nothing.
///
/// Offsets and sizes are in `Float` elements (the runtime is float32 throughout).
public struct MemoryPlan: Sendable {
    /// Arena size in floats.
    public let arenaCount: Int
    /// Offset in floats of each tensor's storage, or `nil` for tensors the plan
    /// does not hold (constants, unused tensors).
    public let offsets: [Int?]
    /// Sum of all planned tensors' sizes: what the arena would need without reuse.
    public let unsharedCount: Int
}

/// One buffer request for the planner: a tensor's size and its lifetime in
/// operator steps.
public struct BufferRequest: Sendable, Equatable {
    /// The tensor this request stands for.
    public var tensor: Int
    /// Size in floats.
    public var count: Int
    /// First step at which the buffer is written (-1 for graph inputs).
    public var firstUse: Int
    /// Last step at which the buffer is read (the operator count for graph outputs).
    public var lastUse: Int

    public init(tensor: Int, count: Int, firstUse: Int, lastUse: Int) {
        self.tensor = tensor
        self.count = count
        self.firstUse = firstUse
        self.lastUse = lastUse
    }
}

/// Liveness-based arena planning ("greedy by size", as TFLite's arena planner
/// and XNNPACK's memory planner do it): place the largest buffers first, each at
/// the lowest offset that overlaps no already-placed buffer whose lifetime
/// intersects its own.
public enum MemoryPlanner {
    /// Alignment of every buffer, in floats (64 bytes: one cache line, one zmm).
    public static let alignment = 16

    /// Plans `requests` into one arena.
    ///
    /// - Parameters:
    ///   - requests: one per planned tensor (at most one per tensor index).
    ///   - tensorCount: the number of tensors in the subgraph (size of `offsets`).
    ///   - shareMemory: when false every buffer gets its own region, so every
    ///     intermediate stays readable after inference (used by `compare`).
    public static func plan(_ requests: [BufferRequest], tensorCount: Int, shareMemory: Bool = true) -> MemoryPlan {
        var offsets = [Int?](repeating: nil, count: tensorCount)
        let unshared = requests.reduce(0) { $0 + align($1.count) }
        guard shareMemory else {
            var next = 0
            for r in requests {
                offsets[r.tensor] = next
                next += align(r.count)
            }
            return MemoryPlan(arenaCount: next, offsets: offsets, unsharedCount: unshared)
        }
        // Largest first; ties by earlier first use, then tensor index, so the plan is deterministic.
        let order = requests.sorted {
            if $0.count != $1.count { return $0.count > $1.count }
            if $0.firstUse != $1.firstUse { return $0.firstUse < $1.firstUse }
            return $0.tensor < $1.tensor
        }
        var placed: [(offset: Int, end: Int, first: Int, last: Int)] = []
        var arena = 0
        for r in order {
            let size = align(r.count)
            // Regions of placed buffers alive at the same time, by offset.
            let busy = placed
                .filter { $0.first <= r.lastUse && r.firstUse <= $0.last }
                .sorted { $0.offset < $1.offset }
            var candidate = 0
            for region in busy {
                if candidate + size <= region.offset { break }
                candidate = max(candidate, region.end)
            }
            offsets[r.tensor] = candidate
            placed.append((candidate, candidate + size, r.firstUse, r.lastUse))
            arena = max(arena, candidate + size)
        }
        return MemoryPlan(arenaCount: arena, offsets: offsets, unsharedCount: unshared)
    }

    static func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}
