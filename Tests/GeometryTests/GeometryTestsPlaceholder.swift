import XCTest
import PoseGeometry

final class GeometryTestsPlaceholder: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
