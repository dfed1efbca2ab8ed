import XCTest
import BlazeKernels

final class KernelTestsPlaceholder: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
