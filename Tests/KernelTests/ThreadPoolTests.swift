import BlazeKernels
import Foundation
import XCTest

final class ThreadPoolTests: XCTestCase {
    func testEveryItemRunsExactlyOnce() {
        for pool in Pools.all {
            for count in [0, 1, 2, 3, 7, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
                hits.initialize(repeating: 0, count: max(1, count))
                defer { hits.deallocate() }
                pool.parallelFor(count) { i, worker in
                    XCTAssert(worker >= 0 && worker < pool.threadCount)
                    hits[i] += 1  // distinct items touch distinct cells
                }
                XCTAssertEqual((0..<count).filter { hits[$0] != 1 }.count, 0, "threads=\(pool.threadCount) count=\(count)")
            }
        }
    }

    func testManyDispatchesAndTeardown() {
        let pool = ThreadPool(threads: 3)
        var sum = [Int](repeating: 0, count: 8)
        for _ in 0..<2000 {
            sum.withUnsafeMutableBufferPointer { s in pool.parallelFor(8) { i, _ in s[i] += i } }
        }
        XCTAssertEqual(sum, (0..<8).map { $0 * 2000 })
    }

    /// Workers really take part: with slow items, more than one thread runs some.
    func testWorkersParticipate() {
        let pool = Pools.two
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: 16)
        seen.initialize(repeating: -1, count: 16)
        defer { seen.deallocate() }
        pool.parallelFor(16) { i, worker in
            usleep(3000)
            seen[i] = worker
        }
        XCTAssertFalse((0..<16).contains { seen[$0] == -1 })
        XCTAssertGreaterThan(Set((0..<16).map { seen[$0] }).count, 1, "only one thread ran items")
    }
}
