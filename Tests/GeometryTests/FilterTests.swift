import XCTest
import PoseGeometry

final class OneEuroFilterTests: XCTestCase {
    // Timestamps 100 ms apart → frequency 10 Hz, Te = 0.1 s.
    // α(fc) = 1/(1 + τ/Te), τ = 1/(2π·fc). α(1) = 1/(1 + 0.1591549/0.1) = 0.3858695.
    let alpha1: Double = 0.3858695450950375

    func testBetaZeroIsPlainLowPassWithTimestampRules() throws {
        var f = try OneEuroFilter(frequency: 30, minCutoff: 1, beta: 0, derivativeCutoff: 1)
        // First sample passes through.
        XCTAssertEqual(f.apply(1, timestampMicroseconds: 100_000), 1)
        // 2nd: freq = 1/(100 000 000 ns·1e-9) = 10 Hz; out = α·2 + (1 − α)·1 = 1.3858695
        XCTAssertEqual(f.apply(2, timestampMicroseconds: 200_000), 1 + alpha1, accuracy: 1e-6)
        XCTAssertEqual(f.frequency, 10, accuracy: 1e-9)
        // Equal and earlier timestamps: the input comes back unchanged, no state is touched.
        XCTAssertEqual(f.apply(5, timestampMicroseconds: 200_000), 5)
        XCTAssertEqual(f.apply(7, timestampMicroseconds: 150_000), 7)
        // 3rd: out = α·2 + (1 − α)·1.3858695 = 1.6228438 (the 5 and 7 above left no trace).
        XCTAssertEqual(f.apply(2, timestampMicroseconds: 300_000), 1.6228437843582237, accuracy: 1e-6)
    }

    func testDerivativeUsesPreviousRawValue() throws {
        var f = try OneEuroFilter(frequency: 30, minCutoff: 1, beta: 1, derivativeCutoff: 1)
        XCTAssertEqual(f.apply(1, timestampMicroseconds: 100_000), 1)       // DX starts at dv = 0
        // 2nd: dv = (2 − 1)·1·10 = 10; edv = α(1)·10 + (1 − α(1))·0 = 3.8586955
        // cutoff = 1 + 1·3.8586955 = 4.8586955 → α = 1/(1 + 1/(2π·4.8586955)/0.1) = 0.7532575
        // out = 0.7532575·2 + 0.2467425·1 = 1.7532575
        XCTAssertEqual(f.apply(2, timestampMicroseconds: 200_000), 1.753257518114923, accuracy: 1e-6)
        // 3rd, same value: dv = (2 − previous RAW 2)·10 = 0 (not 2 − 1.753 output)
        // edv = (1 − 0.3858695)·3.8586955 = 2.3697424 → cutoff 3.3697424 → α = 0.6792066
        // out = 0.6792066·2 + 0.3207934·1.7532575 = 1.9208467
        XCTAssertEqual(f.apply(2, timestampMicroseconds: 300_000), 1.920846652324784, accuracy: 1e-6)
    }

    func testValueScaleMultipliesDerivative() throws {
        var f = try OneEuroFilter(frequency: 30, minCutoff: 1, beta: 1, derivativeCutoff: 1)
        _ = f.apply(1, timestampMicroseconds: 100_000)
        // dv = 1·0.5·10 = 5; edv = α(1)·5 = 1.9293477; cutoff 2.9293477 → α = 0.6479572
        // out = 1 + 0.6479572·1 = 1.6479572
        XCTAssertEqual(f.apply(2, timestampMicroseconds: 200_000, valueScale: 0.5), 1.6479571695923358, accuracy: 1e-6)
    }

    func testResetMakesNextSamplePassThrough() throws {
        var f = try OneEuroFilter(frequency: 30, minCutoff: 0.05, beta: 80, derivativeCutoff: 1)
        _ = f.apply(10, timestampMicroseconds: 33_333)
        XCTAssertNotEqual(f.apply(20, timestampMicroseconds: 66_666), 20)
        f.reset()
        XCTAssertEqual(f.frequency, 30)
        // After reset even an *earlier* timestamp is accepted, and the sample passes through.
        XCTAssertEqual(f.apply(42, timestampMicroseconds: 10), 42)
    }

    func testAlphaAt30Hz() throws {
        // docs/pipeline.md §2.17: at 30 Hz α(0.05) ≈ 0.0104, α(0.1) ≈ 0.0205, α(0.01) ≈ 0.0021, α(1) ≈ 0.173.
        let f = try OneEuroFilter(frequency: 30, minCutoff: 1, beta: 0)
        XCTAssertEqual(f.alpha(cutoff: 0.05), 0.0104, accuracy: 1e-4)
        XCTAssertEqual(f.alpha(cutoff: 0.1), 0.0205, accuracy: 1e-4)
        XCTAssertEqual(f.alpha(cutoff: 0.01), 0.0021, accuracy: 1e-4)
        XCTAssertEqual(f.alpha(cutoff: 1.0), 0.173, accuracy: 1e-3)
    }

    func testInvalidParametersThrow() {
        XCTAssertThrowsError(try OneEuroFilter(frequency: 0, minCutoff: 1, beta: 0))
        XCTAssertThrowsError(try OneEuroFilter(frequency: 30, minCutoff: -1, beta: 0))
        XCTAssertThrowsError(try OneEuroFilter(frequency: 30, minCutoff: 1, beta: 0, derivativeCutoff: 0))
    }
}

final class LowPassAndVisibilityTests: XCTestCase {
    func testLowPass() {
        var f = LowPassFilter(alpha: 0.25)
        XCTAssertEqual(f.apply(8), 8)                       // first sample passes
        XCTAssertEqual(f.apply(0), 6)                       // 0.25·0 + 0.75·8
        XCTAssertEqual(f.lastRawValue, 0)
        XCTAssertEqual(f.apply(4, alpha: 1.5), 5.5)         // α 1.5 is ignored, α stays 0.25: 0.25·4 + 0.75·6 = 5.5
        XCTAssertEqual(f.apply(2, alpha: 0.5), 3.75)        // 0.5·2 + 0.5·5.5
    }

    func testVisibilitySmoothing() throws {
        var s = try VisibilitySmoother(alpha: 0.1)
        func lm(_ v: Float) -> [Landmark] { [Landmark(x: 0.1, y: 0.2, z: 0.3, visibility: v, presence: v)] }
        XCTAssertEqual(try s.apply(lm(1.0))[0].visibility, 1.0)                    // passes through
        XCTAssertEqual(try s.apply(lm(0.0))[0].visibility, 0.9, accuracy: 1e-6)    // 0.1·0 + 0.9·1
        let third = try s.apply(lm(0.5))[0]
        XCTAssertEqual(third.visibility, 0.86, accuracy: 1e-6)                     // 0.1·0.5 + 0.9·0.9
        XCTAssertEqual(third.presence, 0.5)                                         // presence is not filtered
        XCTAssertEqual(third.x, 0.1)
        XCTAssertThrowsError(try s.apply(lm(0.5) + lm(0.5)))                        // count changed
        s.reset()
        XCTAssertEqual(try s.apply(lm(0.25) + lm(0.75)).map(\.visibility), [0.25, 0.75])
        XCTAssertThrowsError(try VisibilitySmoother(alpha: 2))
    }
}

final class LandmarkSmootherTests: XCTestCase {
    func testNormalizedLandmarksAreFilteredInPixels() throws {
        // Image 200×100, 10 Hz, minCutoff 1, beta 0 → α = 0.3858695 on every axis.
        var s = try OneEuroLandmarkSmoother(minCutoff: 1, beta: 0, derivativeCutoff: 1)
        let first = [Landmark(x: 0.5, y: 0.5, z: 0.1, visibility: 0.3, presence: 0.4)]
        let out1 = try s.applyNormalized(first, timestampMicroseconds: 100_000, imageWidth: 200, imageHeight: 100, objectScale: 50)
        XCTAssertEqual(out1[0].x, 0.5, accuracy: 1e-7)
        // x: 100 px → 120 px: 100 + α·20 = 107.717391 px → /200 = 0.5385870
        // y:  50 px →  60 px:  50 + α·10 =  53.858695 px → /100 = 0.5385870
        // z (scaled by W): 20 px → 40 px: 20 + α·20 = 27.717391 → /200 = 0.1385870
        let second = [Landmark(x: 0.6, y: 0.6, z: 0.2, visibility: 0.9, presence: 0.8)]
        let out2 = try s.applyNormalized(second, timestampMicroseconds: 200_000, imageWidth: 200, imageHeight: 100, objectScale: 50)
        XCTAssertEqual(out2[0].x, 0.5385869545, accuracy: 1e-6)
        XCTAssertEqual(out2[0].y, 0.5385869545, accuracy: 1e-6)
        XCTAssertEqual(out2[0].z, 0.1385869545, accuracy: 1e-6)
        XCTAssertEqual(out2[0].visibility, 0.9)            // scores pass through this bank
        XCTAssertEqual(out2[0].presence, 0.8)

        // Reset: the next sample passes through.
        s.reset()
        let out3 = try s.applyNormalized(first, timestampMicroseconds: 300_000, imageWidth: 200, imageHeight: 100, objectScale: 50)
        XCTAssertEqual(out3[0].x, 0.5, accuracy: 1e-7)
    }

    func testTinyObjectScaleDisablesFilteringWithoutState() throws {
        var s = OneEuroLandmarkSmoother.pose()
        let a = [Landmark(x: 0.5, y: 0.5, z: 0)]
        let b = [Landmark(x: 0.7, y: 0.5, z: 0)]
        _ = try s.applyNormalized(a, timestampMicroseconds: 1, imageWidth: 10, imageHeight: 10, objectScale: 1e-7)
        // Below 1e-6: returned as is; the bank is still uninitialised, so the next
        // (valid) sample passes through too.
        XCTAssertEqual(try s.applyNormalized(b, timestampMicroseconds: 2, imageWidth: 10, imageHeight: 10, objectScale: 1e-7)[0].x,
                       0.7, accuracy: 1e-7)
        XCTAssertEqual(try s.applyNormalized(b, timestampMicroseconds: 3, imageWidth: 10, imageHeight: 10, objectScale: 5)[0].x,
                       0.7, accuracy: 1e-7)
        XCTAssertThrowsError(try s.applyNormalized(a, timestampMicroseconds: 4, imageWidth: 10, imageHeight: 10, objectScale: nil))
        XCTAssertThrowsError(try s.applyNormalized(a + a, timestampMicroseconds: 5, imageWidth: 10, imageHeight: 10, objectScale: 5))
    }

    func testWorldBankIgnoresObjectScale() throws {
        var s = OneEuroLandmarkSmoother.world()
        XCTAssertTrue(s.disableValueScaling)
        XCTAssertEqual(try s.apply([Landmark(x: 1, y: 2, z: 3)], timestampMicroseconds: 33_333), [Landmark(x: 1, y: 2, z: 3)])
        let out = try s.apply([Landmark(x: 2, y: 2, z: 3)], timestampMicroseconds: 66_666)
        XCTAssertGreaterThan(out[0].x, 1)
        XCTAssertLessThan(out[0].x, 2)
        XCTAssertEqual(out[0].y, 2)
    }
}

final class SegmentationSmoothingTests: XCTestCase {
    func testPolynomialBlend() throws {
        // p = 0.5, q = 0: t = 0, x = 0 → U = 1 → out = 0.5 + (0 − 0.5)·0.7 = 0.15
        // p = 1.0, q = 0: x = 0.25 → poly = 0.9999572 → U = 4.2789e-5 → out = 1 − 4.2789e-5·0.7 = 0.99997005
        // p = 0.3, q = 1: x = 0.04 → poly = 0.2233211 → U = 0.7766789 → out = 0.3 + 0.7·0.7766789·0.7 = 0.6805726
        let out = try SegmentationSmoothing.blend(current: [0.5, 1.0, 0.3], previous: [0, 0, 1], ratio: 0.7)
        XCTAssertEqual(out[0], 0.15, accuracy: 1e-6)
        XCTAssertEqual(out[1], 0.99997004765625, accuracy: 1e-6)
        XCTAssertEqual(out[2], 0.6805726437425919, accuracy: 1e-6)
        // Ratio 0 (Python-wheel quirk) leaves the current mask untouched.
        XCTAssertEqual(try SegmentationSmoothing.blend(current: [0.5, 1.0, 0.3], previous: [0, 0, 1], ratio: 0), [0.5, 1.0, 0.3])
        XCTAssertThrowsError(try SegmentationSmoothing.blend(current: [0.5], previous: [0.5, 0.5]))
    }
}
