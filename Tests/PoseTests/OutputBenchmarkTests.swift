import BlazePose
import BlazeRuntime
import BlazeTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// CPU time of each per-frame output step of `blazepose track` on a 640×480 frame, next to the
/// tracker's own time per frame (a benchmark that prints figures, not a timed assertion).
/// Opt-in: BLAZEPOSE_BENCH=1 swift test -c release --disable-swift-testing --filter OutputBenchmark
final class OutputBenchmarkTests: XCTestCase {
    func testOutputStepsBenchmark() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["BLAZEPOSE_BENCH"] == "1",
                          "set BLAZEPOSE_BENCH=1 to run the output benchmark")
        /// Median CPU milliseconds of `body` on this thread over 9 runs.
        func median(_ body: () throws -> Void) rethrows -> Double {
            try body()
            var times: [Double] = []
            for _ in 0..<9 {
                let c0 = threadCPUMilliseconds()
                try body()
                times.append(threadCPUMilliseconds() - c0)
            }
            return times.sorted()[4]
        }
        let astronaut = try fixtureImage("astronaut")   // 384×384, pasted into a 640×480 frame
        var frame = try RGBImage(width: 640, height: 480, fill: RGBColor(r: 40, g: 40, b: 40))
        for y in 0..<384 { for x in 0..<384 {
            let s = (y * 384 + x) * 3, d = ((y + 48) * 640 + x + 128) * 3
            for c in 0..<3 { frame.pixels[d + c] = astronaut.pixels[s + c] }
        } }
        let options = PoseTrackerOptions(landmarker: PoseLandmarkerOptions(modelComplexity: .full, enableSegmentation: true,
                                                                           threads: 2, weightsDirectory: weightsDirectory))
        let tracker = try PoseTracker(options: options)
        var k: Int64 = 0
        var tracked = try tracker.process(frame, timestampMicroseconds: 33_333)
        let trackWall = try (0..<9).map { _ -> Double in
            k += 1
            tracked = try tracker.process(frame, timestampMicroseconds: 33_333 * (k + 1))
            return tracked.totalMilliseconds
        }.sorted()[4]
        let pose = try XCTUnwrap(tracked.poses.first?.pose)
        let mask = try XCTUnwrap(pose.mask)
        var annotated = frame
        let draw = median { annotated = frame; annotated.drawPose(pose) }
        let blend = median { var copy = frame; copy.blendMask(mask) }
        let png = try median { _ = try annotated.pngData() }
        var y4m: [UInt8] = []
        let video = median { y4m.removeAll(keepingCapacity: true); Y4MWriter.appendYUV420(of: annotated, to: &y4m) }
        let maskPNG = try median { _ = try GrayImage(unitMask: mask.values, width: 640, height: 480).pngData() }
        let pngZlib = try median { _ = try annotated.pngData(compression: .zlibFast) }
        // The mask steps the tracker adds with segmentation on (PoseLandmarker, PoseTracker): σ on
        // the 256×256 model grid, warp back to 640×480, blend with the previous mask.
        let logits = (0..<(256 * 256)).map { i -> Float in   // [256, 256]: a disc, edges ±8
            let x = Float(i % 256) - 128, y = Float(i / 256) - 128
            return (90 - (x * x + y * y).squareRoot()) / 4
        }
        let padded = PixelRect(centerX: 330, centerY: 250, width: 420, height: 420, rotation: 0.2)
        let matrix = mediaPipeMaskMatrix(padded: padded, imageWidth: 640, imageHeight: 480)
        var sigmoid: [Float] = [], warped: [Float] = []
        // As `PoseLandmarker` computes it: LOGISTIC's kernel over the buffer.
        let sigma = median {
            sigmoid = [Float](unsafeUninitializedCapacity: logits.count) { out, count in
                logits.withUnsafeBufferPointer { UnaryOperator.logistic($0.baseAddress!, out.baseAddress!, count: logits.count) }
                count = logits.count
            }
        }
        let warp = try median {
            warped = try warpMaskBack(mask: sigmoid, maskWidth: 256, maskHeight: 256, matrix: matrix,
                                      outputWidth: 640, outputHeight: 480)
        }
        let smooth = try median { _ = try SegmentationSmoothing.blend(current: warped, previous: mask.values, ratio: 0.7) }
        let quantise = try median { _ = try GrayImage(unitMask: warped, width: 640, height: 480) }
        print(String(format: """
            640x480 frame, model full, 2 threads: tracker %.2f ms/frame wall (segmentation on)
              drawPose %.2f ms CPU | blendMask %.2f ms | PNG encode (fast) %.2f ms (zlibFast %.2f ms, %.2fx) | Y4M 4:2:0 conversion %.2f ms | mask → gray PNG %.2f ms
              mask post-processing: sigmoid 256x256 %.2f ms | warp back to 640x480 %.2f ms | temporal blend %.2f ms | unit mask → 8-bit %.2f ms
            """, trackWall, draw, blend, png, pngZlib, pngZlib / png, video, maskPNG, sigma, warp, smooth, quantise))
    }
}
