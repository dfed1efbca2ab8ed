import XCTest
import BlazeRuntime

final class RuntimeTestsPlaceholder: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
