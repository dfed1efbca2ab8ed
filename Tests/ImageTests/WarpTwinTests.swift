import BlazeTestSupport
import Foundation
import PoseGeometry
import PoseImage
import XCTest

/// The fused row kernel behind `warpPerspectiveRGB8` against its plain reference twin
/// (`referenceWarpPerspectiveRGB8`), byte for byte, over edge shapes: 1×1 to 2×2 sources and
/// outputs, outputs wider than OpenCV's 32×32 block layout, ROIs inside, straddling and wholly
/// outside the image (both borders), rotations, and general (non-affine) homographies whose
/// denominator crosses zero. `WarpOpenCVTests` holds the kernel to OpenCV itself.
final class WarpTwinTests: XCTestCase {
    private func randomImage(width: Int, height: Int, _ rng: inout SplitMix64) throws -> RGBImage {
        let pixels = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }

    private func unit(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    private func assertTwinsAgree(_ image: RGBImage, forward: [Double], width: Int, height: Int,
                                  _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for border in [WarpBorder.zero, .replicate] {
            let fast = try warpPerspectiveRGB8(image: image, forward: forward, outputWidth: width,
                                               outputHeight: height, border: border)
            let reference = try referenceWarpPerspectiveRGB8(image: image, forward: forward, outputWidth: width,
                                                             outputHeight: height, border: border)
            XCTAssertEqual(fast.count, width * height * 3, what, file: file, line: line)
            // Row bands on other threads, in any order: the same bytes.
            let banded = try warpPerspectiveRGB8(image: image, forward: forward, outputWidth: width,
                                                 outputHeight: height, border: border) { count, body in
                DispatchQueue.concurrentPerform(iterations: count) { body(count - 1 - $0) }
            }
            XCTAssertEqual(banded, fast, "\(what) \(border): banded", file: file, line: line)
            if fast != reference {
                let first = zip(fast, reference).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
                XCTFail("\(what) \(border): first differing byte \(first) (pixel \(first / 3))", file: file, line: line)
            }
        }
    }

    func testRotatedCropsMatchTheReferenceOnEdgeShapes() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let sources = [(1, 1), (2, 1), (1, 2), (2, 2), (3, 5), (17, 9), (64, 48), (129, 70)]
        let outputs = [(1, 1), (2, 3), (7, 1), (33, 17), (65, 40), (224, 9), (256, 256)]
        var cases = 0
        for (sw, sh) in sources {
            let image = try randomImage(width: sw, height: sh, &rng)
            for (ow, oh) in outputs {
                for _ in 0..<3 {
                    // Centres from well outside to well inside; sizes from a sub-pixel to 4× the image.
                    let roi = PixelRect(centerX: Float((unit(&rng) * 2 - 0.5) * Double(sw)),
                                        centerY: Float((unit(&rng) * 2 - 0.5) * Double(sh)),
                                        width: Float(0.3 + unit(&rng) * 4 * Double(sw)),
                                        height: Float(0.3 + unit(&rng) * 4 * Double(sh)),
                                        rotation: Float((unit(&rng) * 2 - 1) * Double.pi))
                    let forward = try mediaPipeRoiTransform(roi: roi, outputWidth: ow, outputHeight: oh)
                    try assertTwinsAgree(image, forward: forward, width: ow, height: oh, "\(sw)x\(sh) → \(ow)x\(oh) \(roi)")
                    cases += 1
                }
            }
        }
        XCTAssertEqual(cases, sources.count * outputs.count * 3)
    }

    func testGeneralHomographiesMatchTheReference() throws {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let image = try randomImage(width: 40, height: 30, &rng)
        for i in 0..<60 {
            // Perspective terms large enough that w = m6·x + m7·y + m8 changes sign inside the output.
            var forward = (0..<9).map { _ in unit(&rng) * 4 - 2 }
            forward[6] *= i % 3 == 0 ? 0 : 0.05
            forward[7] *= i % 2 == 0 ? 0 : 0.05
            guard let determinantCheck = openCVInvert3x3(forward), determinantCheck.allSatisfy({ $0.isFinite }) else { continue }
            try assertTwinsAgree(image, forward: forward, width: 50 + i, height: 20 + i % 7, "homography \(i) \(forward)")
        }
    }
}

/// `openCVSaturateToInt32` (the add-1.5·2^52 rounding) against Swift's round-half-to-even and
/// OpenCV's clamping, on ties, signed zeros, the Int32 edges, NaN, infinities and random values.
final class SaturateCastTests: XCTestCase {
    private func expected(_ v: Double) -> Int32 {
        if v.isNaN { return Int32.max }
        return Int32(min(max(v, Double(Int32.min)), Double(Int32.max)).rounded(.toNearestOrEven))
    }

    func testMatchesRoundHalfToEvenWithClamping() {
        var values: [Double] = [0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
                                1e-300, -1e-300, 2147483646.5, 2147483647.0, 2147483647.5, 2147483648.0, 1e12,
                                -2147483647.5, -2147483648.0, -2147483648.5, -2147483649.0, -1e12,
                                .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for k in -70_000...70_000 { values.append(Double(k) / 2); values.append(Double(k) / 32 + 1.0 / 64) }
        var rng = SplitMix64(seed: 0x5A7)
        for _ in 0..<200_000 {
            let scale = Double(1 << Int(rng.next() % 33))
            values.append((Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * scale)
        }
        var wrong = 0
        for v in values where openCVSaturateToInt32(v) != expected(v) {
            if wrong < 5 { XCTFail("\(v): \(openCVSaturateToInt32(v)) != \(expected(v))") }
            wrong += 1
        }
        XCTAssertEqual(wrong, 0)
        // The four-lane form (the fast warp's positions) on the same values, each value in every lane.
        var wrongLanes = 0
        for k in values.indices {
            let lanes = SIMD4<Double>(values[k], values[(k + 1) % values.count], values[(k + 2) % values.count],
                                      values[(k + 3) % values.count])
            let got = openCVSaturateToInt32(vector: lanes)
            for lane in 0..<4 where got[lane] != expected(lanes[lane]) {
                if wrongLanes < 5 { XCTFail("lane \(lane) of \(lanes): \(got[lane]) != \(expected(lanes[lane]))") }
                wrongLanes += 1
            }
        }
        XCTAssertEqual(wrongLanes, 0)
    }
}
