import BlazeTestSupport
import Foundation
import PoseGeometry
import PoseImage
import XCTest

/// Opt-in: BLAZEPOSE_BENCH=1 swift test -c release --disable-swift-testing --filter WarpBenchmark
/// The pipeline's two crops of an 810×1080 photo (the detector's 224×224 letterbox, zero border;
/// 256×256 landmark crops, replicate border: one inside the image, one mostly outside it as for a
/// close-up), fast row kernel vs its reference twin, alternating, median thread CPU time.
final class WarpBenchmarkTests: XCTestCase {
    func testWarpBenchmark() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["BLAZEPOSE_BENCH"] == "1",
                          "set BLAZEPOSE_BENCH=1 to run the warp benchmark")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let sample = try RGBImage(pngFile: root.appendingPathComponent("Samples/astronaut.png").path)
        // 810×1080: the sample scaled by nearest neighbour (content only matters for the caches).
        let (width, height) = (810, 1080)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let sx = x * sample.width / width, sy = y * sample.height / height
                for c in 0..<3 { pixels[(y * width + x) * 3 + c] = sample.pixels[(sy * sample.width + sx) * 3 + c] }
            }
        }
        let image = try RGBImage(width: width, height: height, pixels: pixels)
        let cases: [(String, PixelRect, Int, WarpBorder)] = [
            ("letterbox 224", PixelRect(centerX: 405, centerY: 540, width: 1080, height: 1080, rotation: 0), 224, .zero),
            ("crop 256 inside", PixelRect(centerX: 400, centerY: 560, width: 700, height: 700, rotation: 0.16), 256, .replicate),
            ("crop 256 mostly outside", PixelRect(centerX: 251, centerY: 1105, width: 1985, height: 1985, rotation: 0.16),
             256, .replicate),
        ]
        for (name, roi, size, border) in cases {
            let forward = try mediaPipeRoiTransform(roi: roi, outputWidth: size, outputHeight: size)
            var fast: [Double] = [], reference: [Double] = []
            for _ in 0..<21 {
                var c0 = threadCPUMilliseconds()
                let a = try warpPerspectiveRGB8(image: image, forward: forward, outputWidth: size, outputHeight: size, border: border)
                fast.append(threadCPUMilliseconds() - c0)
                c0 = threadCPUMilliseconds()
                let b = try referenceWarpPerspectiveRGB8(image: image, forward: forward, outputWidth: size, outputHeight: size,
                                                         border: border)
                reference.append(threadCPUMilliseconds() - c0)
                XCTAssertEqual(a, b, name)
            }
            let f = fast.sorted()[fast.count / 2], r = reference.sorted()[reference.count / 2]
            print(String(format: "warp %@ from 810x1080: fast %.3f ms, reference %.3f ms (CPU, median of 21), reference / fast %.2fx",
                         name, f, r, r / f))
        }
    }
}
