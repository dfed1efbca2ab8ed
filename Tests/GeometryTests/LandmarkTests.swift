import XCTest
import PoseGeometry

final class LandmarkDecodingTests: XCTestCase {
    func testDecodeDividesBy256AndAppliesSigmoid() throws {
        var raw = [Float](repeating: 0, count: 39 * 5)
        // Landmark 0: (128, 64, −25.6) px → (0.5, 0.25, −0.1); σ(0) = 0.5; σ(ln 3) = 3/4.
        raw[0] = 128; raw[1] = 64; raw[2] = -25.6; raw[3] = 0; raw[4] = log(3)
        // Landmark 38 (last): x = 256 → 1.0
        raw[38 * 5] = 256
        let lm = try raw.withUnsafeBufferPointer { try LandmarkDecoder.decode(raw: $0) }
        XCTAssertEqual(lm.count, 39)
        XCTAssertEqual(lm[0].x, 0.5)
        XCTAssertEqual(lm[0].y, 0.25)
        XCTAssertEqual(lm[0].z, -0.1, accuracy: 1e-7)
        XCTAssertEqual(lm[0].visibility, 0.5)
        XCTAssertEqual(lm[0].presence, 0.75, accuracy: 1e-6)
        XCTAssertEqual(lm[38].x, 1)

        let (pose, aux) = try LandmarkDecoder.split(lm)
        XCTAssertEqual(pose.count, 33)
        XCTAssertEqual(aux.count, 2)
        XCTAssertEqual(pose[0], lm[0])
        XCTAssertEqual(aux[0], lm[33])

        XCTAssertThrowsError(try [Float](repeating: 0, count: 194).withUnsafeBufferPointer {
            try LandmarkDecoder.decode(raw: $0)
        }) { XCTAssertEqual($0 as? PoseGeometryError,
                            .bufferSizeMismatch(what: "landmark tensor [39×5]", expected: 195, actual: 194)) }
        XCTAssertThrowsError(try LandmarkDecoder.split(Array(lm.prefix(34))))
    }

    func testWorldDecodeAndRotation() throws {
        let raw: [Float] = [1, 0, 2, 0.5, -0.25, 0]
        let world = try raw.withUnsafeBufferPointer { try LandmarkDecoder.decodeWorld(raw: $0, count: 2) }
        let scores = [Landmark(x: 0, y: 0, z: 0, visibility: 0.8, presence: 0.9),
                      Landmark(x: 0, y: 0, z: 0, visibility: 0.1, presence: 0.2)]
        // Rotation by π/2: (x, y) → (−y, x); z unchanged; scores copied.
        let r = LandmarkDecoder.rotatingWorld(world, rotation: .pi / 2, copyingScoresFrom: scores)
        XCTAssertEqual(r[0].x, 0, accuracy: 1e-6)
        XCTAssertEqual(r[0].y, 1, accuracy: 1e-6)
        XCTAssertEqual(r[0].z, 2)
        XCTAssertEqual(r[1].x, 0.25, accuracy: 1e-6)
        XCTAssertEqual(r[1].y, 0.5, accuracy: 1e-6)
        XCTAssertEqual(r[0].visibility, 0.8)
        XCTAssertEqual(r[1].presence, 0.2)
        XCTAssertThrowsError(try raw.withUnsafeBufferPointer { try LandmarkDecoder.decodeWorld(raw: $0, count: 3) })
    }
}

final class HeatmapRefinementTests: XCTestCase {
    static let size = 64, channels = 8
    /// Logit −100: σ = 1/(1 + e^100) = 0 in Float (e^100 overflows to +inf), so
    /// background cells contribute exactly nothing.
    var heatmap = [Float](repeating: -100, count: size * size * channels)

    /// Sets HM[row][col][k] (HWC) to the logit of probability p.
    func set(row: Int, col: Int, k: Int, p: Float) {
        heatmap[(row * Self.size + col) * Self.channels + k] = log(p / (1 - p))
    }

    func refined(_ landmarks: [Landmark], kernel: Int) throws -> [Landmark] {
        var out = landmarks
        try heatmap.withUnsafeBufferPointer {
            try LandmarkDecoder.refine(&out, heatmap: $0, heatmapHeight: Self.size, heatmapWidth: Self.size,
                                       kernelSize: kernel)
        }
        return out
    }

    func testRefinementRules() throws {
        var lm = [Landmark](repeating: Landmark(x: 0.5, y: 0.5, z: 0.3, visibility: 0.6, presence: 0.7), count: 8)
        // k=0, basic: x·64 = 10.5 → c = 10, y·64 = 20.2 → r = 20. Cells p = 0.5 at (20, 12), 0.75 at (21, 10).
        // S = 1.25, Sx = 12·0.5 + 10·0.75 = 13.5, Sy = 20·0.5 + 21·0.75 = 25.75
        // x = 13.5/64/1.25 = 0.16875, y = 25.75/64/1.25 = 0.321875 (index, no +0.5).
        lm[0].x = 10.5 / 64; lm[0].y = 20.2 / 64
        set(row: 20, col: 12, k: 0, p: 0.5)
        set(row: 21, col: 10, k: 0, p: 0.75)
        // k=1, gate: max p = 0.4 < 0.5 → unchanged.
        lm[1].x = 30.5 / 64; lm[1].y = 30.5 / 64
        set(row: 30, col: 31, k: 1, p: 0.4)
        // k=2, border: c = trunc(0.5) = 0, r = trunc(63.9) = 63 → rows [60, 64), cols [0, 4) for kernel 7.
        // In-window: 0.75 at (63, 0), 0.5 at (60, 3); outside the window: 0.99 at (59, 0) is ignored.
        // x = (0·0.75 + 3·0.5)/64/1.25 = 1.2/64, y = (63·0.75 + 60·0.5)/64/1.25 = 61.8/64.
        lm[2].x = 0.5 / 64; lm[2].y = 63.9 / 64
        set(row: 63, col: 0, k: 2, p: 0.75)
        set(row: 60, col: 3, k: 2, p: 0.5)
        set(row: 59, col: 0, k: 2, p: 0.99)
        // k=3, kernel size: centre (32, 32); 0.5 at (32, 32), 0.9 at (32, 36) — distance 4:
        // kernel 7 (offset 3) sees only the first → x = 32/64 = 0.5;
        // kernel 9 (offset 4) sees both → x = (32·0.5 + 36·0.9)/1.4/64 = 48.4/1.4/64 = 0.5401786.
        lm[3].x = 32.5 / 64; lm[3].y = 32.5 / 64
        set(row: 32, col: 32, k: 3, p: 0.5)
        set(row: 32, col: 36, k: 3, p: 0.9)
        // k=4, negative truncation: x·64 = −0.5 → trunc → 0 → processed; 0.75 at (10, 1).
        lm[4].x = -0.5 / 64; lm[4].y = 10.5 / 64
        set(row: 10, col: 1, k: 4, p: 0.75)
        // k=5, out of range: x·64 = −1 → −1 → skipped even though the cell is hot.
        lm[5].x = -1.0 / 64; lm[5].y = 10.5 / 64
        set(row: 10, col: 0, k: 5, p: 0.99)
        // k=6, x = 1.0 → c = 64 → skipped.
        lm[6].x = 1.0; lm[6].y = 0.5
        set(row: 32, col: 63, k: 6, p: 0.99)
        // k=7, NaN → skipped, no trap.
        lm[7].x = .nan

        let r7 = try refined(lm, kernel: 7)
        XCTAssertEqual(r7[0].x, 0.16875, accuracy: 1e-6)
        XCTAssertEqual(r7[0].y, 0.321875, accuracy: 1e-6)
        XCTAssertEqual(r7[0].z, 0.3)                 // z, visibility, presence untouched
        XCTAssertEqual(r7[0].visibility, 0.6)
        XCTAssertEqual(r7[0].presence, 0.7)
        XCTAssertEqual(r7[1], lm[1])
        XCTAssertEqual(r7[2].x, 1.2 / 64, accuracy: 1e-6)
        XCTAssertEqual(r7[2].y, 61.8 / 64, accuracy: 1e-6)
        XCTAssertEqual(r7[3].x, 0.5, accuracy: 1e-6)
        XCTAssertEqual(r7[3].y, 0.5, accuracy: 1e-6)
        XCTAssertEqual(r7[4].x, 1.0 / 64, accuracy: 1e-6)
        XCTAssertEqual(r7[4].y, 10.0 / 64, accuracy: 1e-6)
        XCTAssertEqual(r7[5], lm[5])
        XCTAssertEqual(r7[6], lm[6])
        XCTAssertTrue(r7[7].x.isNaN)

        let r9 = try refined(lm, kernel: 9)
        XCTAssertEqual(r9[3].x, 48.4 / 1.4 / 64, accuracy: 1e-6)
        XCTAssertEqual(r9[3].y, 0.5, accuracy: 1e-6)
        // Border window for kernel 9: rows [59, 64) now include the 0.99 cell at (59, 0):
        // S = 0.75 + 0.5 + 0.99 = 2.24; Sx = 1.5; Sy = 47.25 + 30 + 58.41 = 135.66.
        XCTAssertEqual(r9[2].x, 1.5 / 2.24 / 64, accuracy: 1e-6)
        XCTAssertEqual(r9[2].y, 135.66 / 2.24 / 64, accuracy: 1e-5)
    }

    func testGateIsInclusiveAtHalf() throws {
        // A single cell with logit 0 → σ = 0.5 exactly → max ≥ 0.5 → refined to that cell.
        var lm = [Landmark](repeating: Landmark(x: 0.5, y: 0.5, z: 0), count: 8)
        lm[0].x = 40.5 / 64; lm[0].y = 41.5 / 64
        heatmap[(42 * 64 + 39) * 8 + 0] = 0
        let r = try refined(lm, kernel: 7)
        XCTAssertEqual(r[0].x, 39.0 / 64)
        XCTAssertEqual(r[0].y, 42.0 / 64)
    }

    func testBadArgumentsThrow() {
        var lm = [Landmark](repeating: Landmark(x: 0.5, y: 0.5, z: 0), count: 8)
        XCTAssertThrowsError(try heatmap.dropLast().withUnsafeBufferPointer {
            try LandmarkDecoder.refine(&lm, heatmap: $0, heatmapHeight: 64, heatmapWidth: 64)
        })
        XCTAssertThrowsError(try heatmap.withUnsafeBufferPointer {
            try LandmarkDecoder.refine(&lm, heatmap: $0, heatmapHeight: 64, heatmapWidth: 64, kernelSize: 0)
        })
    }
}

final class ProjectionTests: XCTestCase {
    func testLetterboxRemoval() {
        // l = r = 0.1: x' = (0.3 − 0.1)/0.8 = 0.25; z' = 0.08/0.8 = 0.1; t = b = 0 → y unchanged.
        let p = Landmark(x: 0.3, y: 0.6, z: 0.08, visibility: 0.5, presence: 0.4)
            .removingLetterbox(LetterboxPadding(left: 0.1, top: 0, right: 0.1, bottom: 0))
        XCTAssertEqual(p.x, 0.25, accuracy: 1e-6)
        XCTAssertEqual(p.y, 0.6)
        XCTAssertEqual(p.z, 0.1, accuracy: 1e-6)
        XCTAssertEqual(p.visibility, 0.5)
    }

    func testProjectionHandComputed() {
        // ROI: centre (0.5, 0.5), 0.5 × 0.25 of a 400×800 image (200 px square), θ = +π/2.
        // Crop point (0.75, 0.5): dx = 0.25, dy = 0 →
        // X = 0.5 + (cos·0.25 − sin·0)·0.5 = 0.5; Y = 0.5 + (sin·0.25 + cos·0)·0.25 = 0.5625; Z = 0.1·0.5.
        // (+θ is clockwise on screen: the crop's +x points down the image.)
        let rect = NormalizedRect(xCenter: 0.5, yCenter: 0.5, width: 0.5, height: 0.25, rotation: .pi / 2)
        let p = Landmark(x: 0.75, y: 0.5, z: 0.1, visibility: 0.9, presence: 0.8).projected(onto: rect)
        XCTAssertEqual(p.x, 0.5, accuracy: 1e-6)
        XCTAssertEqual(p.y, 0.5625, accuracy: 1e-6)
        XCTAssertEqual(p.z, 0.05, accuracy: 1e-7)
        XCTAssertEqual(p.visibility, 0.9)
        XCTAssertEqual(p.presence, 0.8)
    }

    func testProjectionRoundTrip() {
        let rect = NormalizedRect(xCenter: 0.4, yCenter: 0.6, width: 0.3125, height: 200.0 / 480.0, rotation: 0.9272952)
        for (x, y, z) in [(0.0, 0.0, 0.0), (0.25, 0.8, -0.2), (1.0, 0.5, 0.05), (0.63, 0.11, 0.3)] as [(Float, Float, Float)] {
            let crop = Landmark(x: x, y: y, z: z, visibility: 0.3, presence: 0.6)
            let image = crop.projected(onto: rect)
            let back = image.unprojected(from: rect)
            XCTAssertEqual(back.x, x, accuracy: 1e-6)
            XCTAssertEqual(back.y, y, accuracy: 1e-6)
            XCTAssertEqual(back.z, z, accuracy: 1e-6)
            // Projection is a rotation in pixels (ROI square in pixels): distances from the
            // crop centre scale by the ROI side, 0.3125·640 = 200 px.
            let dxPx = (image.x - rect.xCenter) * 640, dyPx = (image.y - rect.yCenter) * 480
            let expected = ((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5)).squareRoot() * 200
            XCTAssertEqual((dxPx * dxPx + dyPx * dyPx).squareRoot(), expected, accuracy: 1e-3)
        }
    }
}
