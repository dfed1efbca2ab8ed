import BlazeTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PoseImage
import XCTest

/// PNG encoding speed, side by side (a benchmark that prints figures, not a timed assertion).
/// Opt-in: BLAZEPOSE_BENCH=1 swift test -c release --disable-swift-testing --filter PNGEncodeBenchmark
final class PNGEncodeBenchmarkTests: XCTestCase {
    func testPNGEncodeBenchmark() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["BLAZEPOSE_BENCH"] == "1",
                          "set BLAZEPOSE_BENCH=1 to run the PNG encoding benchmark")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let image = try RGBImage(pngFile: root.appendingPathComponent("Samples/astronaut.png").path)
        XCTAssertEqual([image.width, image.height], [512, 512])
        let mask = try GrayImage(width: 512, height: 512, pixels: (0..<(512 * 512)).map { i in
            let x = i % 512 - 256, y = i / 512 - 256
            return x * x + y * y < 150 * 150 ? 255 : 0
        })
        var lastCPU = 0.0
        /// Median wall time (ms) of 15 runs; `lastCPU` gets the median CPU time.
        func median(_ body: () throws -> Void) rethrows -> Double {
            try body()
            var times: [Double] = [], cpu: [Double] = []
            for _ in 0..<15 {
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = threadCPUMilliseconds()
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                cpu.append(threadCPUMilliseconds() - c0)
            }
            lastCPU = cpu.sorted()[cpu.count / 2]
            return times.sorted()[times.count / 2]
        }
        var lines: [String] = []
        var fastMilliseconds = 0.0, zlibFastMilliseconds = 0.0
        for (name, compression) in [("fast (run-length deflater, up)", PNGCompression.fast),
                                    ("zlibFast (zlib level 1, RLE, sub)", PNGCompression.zlibFast),
                                    ("small (level 6, default, all filters)", PNGCompression.small)] {
            var size = 0
            let ms = try median { size = try image.pngData(compression: compression).count }
            let cpu = lastCPU
            let maskSize = try mask.pngData(compression: compression).count
            let maskMs = try median { _ = try mask.pngData(compression: compression) }
            if compression == .fast { fastMilliseconds = ms }
            if compression == .zlibFast { zlibFastMilliseconds = ms }
            lines.append(String(format: "%-38@ RGB 512x512: %6.2f ms wall, %6.2f ms CPU, %7d bytes | gray 512x512 mask: %5.2f ms, %6d bytes",
                                name as NSString, ms, cpu, size, maskMs, maskSize))
            XCTAssertEqual(try RGBImage.decodePNG(try image.pngData(compression: compression)), image, "lossless")
        }
        let smallMilliseconds = try median { _ = try image.pngData(compression: .small) }
        lines.append(String(format: "ratio small/fast: %.2fx", smallMilliseconds / fastMilliseconds))
        let zlibAgain = try median { _ = try image.pngData(compression: .zlibFast) }
        let fastAgain = try median { _ = try image.pngData(compression: .fast) }
        lines.append(String(format: "zlibFast %.2f ms vs fast %.2f ms: %.2fx (first round %.2f vs %.2f ms)",
                            zlibAgain, fastAgain, zlibAgain / fastAgain, zlibFastMilliseconds, fastMilliseconds))
        print(lines.joined(separator: "\n"))
    }
}
