import XCTest
import TFLite

final class TFLiteTestsPlaceholder: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
