import BlazeRuntime
import BlazeTestSupport
import XCTest

final class MemoryPlannerTests: XCTestCase {
    /// A chain a → b → c → d: a and c can share, b and d can share.
    func testChainReusesMemory() {
        let requests = [
            BufferRequest(tensor: 0, count: 100, firstUse: -1, lastUse: 0),
            BufferRequest(tensor: 1, count: 100, firstUse: 0, lastUse: 1),
            BufferRequest(tensor: 2, count: 100, firstUse: 1, lastUse: 2),
            BufferRequest(tensor: 3, count: 100, firstUse: 2, lastUse: 3),
        ]
        let plan = MemoryPlanner.plan(requests, tensorCount: 4)
        // 100 floats align up to 112; two live at a time.
        XCTAssertEqual(plan.arenaCount, 224)
        XCTAssertEqual(plan.unsharedCount, 448)
        XCTAssertEqual(plan.offsets[0], plan.offsets[2])
        XCTAssertEqual(plan.offsets[1], plan.offsets[3])
        XCTAssertNotEqual(plan.offsets[0], plan.offsets[1])
    }

    func testNoSharingGivesDisjointRegions() {
        let requests = (0..<5).map { BufferRequest(tensor: $0, count: 10 + $0, firstUse: $0 - 1, lastUse: $0) }
        let plan = MemoryPlanner.plan(requests, tensorCount: 5, shareMemory: false)
        XCTAssertEqual(plan.arenaCount, plan.unsharedCount)
        assertNoConflicts(requests, plan, requireDisjoint: true)
    }

    /// Random graphs: buffers alive at the same time never overlap, offsets are aligned,
    /// the arena is never larger than the unshared total, and planning is deterministic.
    func testRandomLifetimesNeverOverlap() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let n = Int(rng.next() % 40) + 1
            var requests: [BufferRequest] = []
            for t in 0..<n {
                let first = Int(rng.next() % 30) - 1
                let last = first + Int(rng.next() % 10) + 1
                requests.append(BufferRequest(tensor: t, count: Int(rng.next() % 5000) + 1, firstUse: first, lastUse: last))
            }
            let plan = MemoryPlanner.plan(requests, tensorCount: n)
            XCTAssertLessThanOrEqual(plan.arenaCount, plan.unsharedCount)
            assertNoConflicts(requests, plan, requireDisjoint: false)
            let again = MemoryPlanner.plan(requests, tensorCount: n)
            XCTAssertEqual(plan.offsets, again.offsets)
        }
    }

    private func assertNoConflicts(_ requests: [BufferRequest], _ plan: MemoryPlan, requireDisjoint: Bool,
                                   file: StaticString = #filePath, line: UInt = #line) {
        for r in requests {
            guard let o = plan.offsets[r.tensor] else { return XCTFail("tensor \(r.tensor) unplanned", file: file, line: line) }
            XCTAssertEqual(o % MemoryPlanner.alignment, 0, file: file, line: line)
            XCTAssertLessThanOrEqual(o + r.count, plan.arenaCount, file: file, line: line)
        }
        for (i, a) in requests.enumerated() {
            for b in requests[(i + 1)...] {
                let liveTogether = a.firstUse <= b.lastUse && b.firstUse <= a.lastUse
                guard liveTogether || requireDisjoint, let oa = plan.offsets[a.tensor], let ob = plan.offsets[b.tensor] else { continue }
                let overlap = oa < ob + b.count && ob < oa + a.count
                XCTAssertFalse(overlap, "tensors \(a.tensor) and \(b.tensor) overlap", file: file, line: line)
            }
        }
    }
}

