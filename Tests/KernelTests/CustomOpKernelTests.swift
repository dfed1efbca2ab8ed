import BlazeKernels
import BlazeTestSupport
import XCTest

/// MediaPipe's custom operators: each kernel against its naive twin (edge shapes and the real
/// shapes of selfie_segmentation*.tflite and face_landmark_with_attention.tflite), plus hand-worked
/// cases that pin the semantics independently of both.
final class CustomOpKernelTests: XCTestCase {
    // MARK: - Convolution2DTransposeBias

    private func transposeConv(input: [Int], out o: Int, kernel: (Int, Int), stride: (Int, Int), same: Bool,
                               seed: UInt64, label: String, pools: [ThreadPool] = [Pools.one, Pools.three]) throws {
        var rng = SeededGenerator(seed: seed)
        let wShape = [o, kernel.0, kernel.1, input[3]]
        let x = randomFloats(input.reduce(1, *), &rng)
        let w = randomFloats(wShape.reduce(1, *), &rng)
        let b = randomFloats(o, &rng)
        let op = try TransposeConvBiasOperator(inputShape: input, weights: w, weightsShape: wShape, bias: b,
                                               strideHeight: stride.0, strideWidth: stride.1, samePadding: same)
        // MediaPipe's output size, computed here from its formula.
        func size(_ i: Int, _ k: Int, _ s: Int) -> Int { s * (i - 1) + k - (same ? max(0, k - (i - 1) % s - 1) : 0) }
        XCTAssertEqual(op.outputShape.dims, [input[0], size(input[1], kernel.0, stride.0), size(input[2], kernel.1, stride.1), o], label)
        let count = op.outputShape.elementCount
        var expected = [Float](repeating: .nan, count: count)
        Reference.transposeConvBias(input: x, batch: input[0], inputHeight: input[1], inputWidth: input[2], inputChannels: input[3],
                                    weights: w, bias: b, outputChannels: o, kernelHeight: kernel.0, kernelWidth: kernel.1,
                                    strideHeight: stride.0, strideWidth: stride.1, padTop: op.padTop, padLeft: op.padLeft,
                                    outputHeight: op.outputShape.height, outputWidth: op.outputShape.width, output: &expected)
        for pool in pools {
            var got = [Float](repeating: .nan, count: count)
            op.run(input: x, output: &got, pool: pool)
            assertBitIdentical(got, expected, "\(label) threads \(pool.threadCount)")
        }
    }

    func testTransposeConvBiasMatchesTwinOnEdgeShapes() throws {
        var seed: UInt64 = 1
        let cases: [([Int], Int, (Int, Int), (Int, Int))] = [([1, 1, 1, 1], 1, (1, 1), (1, 1)), ([1, 3, 5, 2], 3, (3, 3), (2, 2)), ([2, 4, 3, 5], 9, (2, 3), (2, 1)),
                                 ([1, 5, 5, 3], 2, (3, 3), (1, 1)), ([1, 6, 4, 1], 1, (4, 4), (3, 2)), ([1, 2, 7, 8], 17, (1, 5), (3, 3)),
                                 ([1, 4, 4, 4], 4, (5, 5), (2, 2)),
                                 // One output channel, kernel ≤ stride (`runSingleChannelNoOverlap`): pixel and
                                 // channel tails, kernel rows/columns the stride skips, a batch, and > 64
                                 // channels (the general path).
                                 ([1, 5, 11, 3], 1, (2, 2), (2, 2)), ([2, 3, 17, 16], 1, (1, 2), (3, 2)),
                                 ([1, 4, 9, 9], 1, (2, 1), (2, 3)), ([1, 3, 8, 8], 1, (3, 3), (3, 3)),
                                 ([1, 2, 9, 70], 1, (2, 2), (2, 2))]
        for (input, o, k, s) in cases {
            for same in [true, false] {
                try transposeConv(input: input, out: o, kernel: k, stride: s, same: same, seed: seed,
                                  label: "in \(input) out \(o) k \(k) s \(s) same \(same)")
                seed += 1
            }
        }
    }

    /// selfie_segmentation op 244: [1,128,128,16] * [1,2,2,16] stride 2 SAME → [1,256,256,1];
    /// the landscape model: [1,72,128,16] → [1,144,256,1].
    func testTransposeConvBiasRealShapes() throws {
        try transposeConv(input: [1, 128, 128, 16], out: 1, kernel: (2, 2), stride: (2, 2), same: true, seed: 244, label: "selfie op 244")
        try transposeConv(input: [1, 72, 128, 16], out: 1, kernel: (2, 2), stride: (2, 2), same: true, seed: 245, label: "selfie landscape op 244")
    }

    /// Worked by hand: each input pixel stamps the kernel scaled by its value (stride = kernel, VALID).
    func testTransposeConvBiasHandWorked() throws {
        let op = try TransposeConvBiasOperator(inputShape: [1, 2, 2, 1], weights: [1, 10, 100, 1000], weightsShape: [1, 2, 2, 1],
                                               bias: [0.5], strideHeight: 2, strideWidth: 2, samePadding: false)
        var out = [Float](repeating: 0, count: 16)
        op.run(input: [1, 2, 3, 4], output: &out, pool: Pools.one)
        XCTAssertEqual(out, [1.5, 10.5, 2.5, 20.5,
                             100.5, 1000.5, 200.5, 2000.5,
                             3.5, 30.5, 4.5, 40.5,
                             300.5, 3000.5, 400.5, 4000.5])
        // Overlap (stride 1, kernel 2, VALID → 3x3): the centre sums all four input pixels × their taps.
        let overlap = try TransposeConvBiasOperator(inputShape: [1, 2, 2, 1], weights: [1, 1, 1, 1], weightsShape: [1, 2, 2, 1],
                                                    bias: [0], strideHeight: 1, strideWidth: 1, samePadding: false)
        var o2 = [Float](repeating: 0, count: 9)
        overlap.run(input: [1, 2, 3, 4], output: &o2, pool: Pools.one)
        XCTAssertEqual(o2, [1, 3, 2, 4, 10, 6, 3, 7, 4])
    }

    func testTransposeConvBiasRejectsBadParameters() {
        let w = [Float](repeating: 0, count: 4)
        XCTAssertThrowsError(try TransposeConvBiasOperator(inputShape: [1, 2, 2, 1], weights: w, weightsShape: [1, 2, 2, 1], bias: [0],
                                                           strideHeight: 0, strideWidth: 1, samePadding: true))
        XCTAssertThrowsError(try TransposeConvBiasOperator(inputShape: [1, 2, 2, 2], weights: w, weightsShape: [1, 2, 2, 1], bias: [0],
                                                           strideHeight: 1, strideWidth: 1, samePadding: true))
        XCTAssertThrowsError(try TransposeConvBiasOperator(inputShape: [1, 2, 2, 1], weights: w, weightsShape: [1, 2, 2, 1], bias: [0, 1],
                                                           strideHeight: 1, strideWidth: 1, samePadding: true))
        XCTAssertThrowsError(try TransposeConvBiasOperator(inputShape: [1, 2, 2, 1], weights: [0], weightsShape: [1, 2, 2, 1], bias: [0],
                                                           strideHeight: 1, strideWidth: 1, samePadding: true))
        XCTAssertThrowsError(try TransposeConvBiasOperator(inputShape: [1, 2, 2, 1], weights: w, weightsShape: [1, 2, 2, 1], bias: [0],
                                                           strideHeight: 1, strideWidth: -1, samePadding: false))
    }

    // MARK: - Landmarks2TransformMatrix

    /// face_landmark_with_attention op 192 (lips): its subset_idxs and rotation landmarks.
    static let lipsSubset = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409, 78, 95, 88, 178,
                             87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415, 76, 77, 90, 180, 85, 16, 315, 404,
                             320, 307, 306, 184, 74, 73, 72, 11, 302, 303, 304, 408, 62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292, 183,
                             42, 41, 38, 12, 268, 271, 272, 407]

    func testLandmarks2TransformMatrixMatchesClosedForm() throws {
        var rng = SeededGenerator(seed: 192)
        let cases: [([Int], Int, Int, Float, Float, Bool)] = [(Self.lipsSubset, 61, 291, 0, 1.5, false),
                                                              (Array(Self.lipsSubset.prefix(7)), 33, 133, 0.3, 2, true),
                                                              ([5], 5, 6, -1.2, 1, true)]
        for (subset, left, right, target, scale, odd) in cases {
            // Landmarks in the 192-pixel crop's coordinates, z arbitrary.
            let landmarks = randomFloats(468 * 3, &rng, range: 0...192)
            let op = try Landmarks2TransformMatrixOperator(inputShape: [1, 468, 3], subsetIndices: subset, leftIndex: left, rightIndex: right,
                                                           targetRotation: target, outputHeight: 16, outputWidth: 16, scaleX: scale, scaleY: scale)
            XCTAssertEqual(op.subset.count, (subset.count + 1) / 2)
            if odd, let last = subset.last { XCTAssertEqual(op.subset.last?.0, last); XCTAssertEqual(op.subset.last?.1, last) }
            var got = [Float](repeating: .nan, count: 16), expected = [Float](repeating: .nan, count: 16)
            op.run(landmarks: landmarks, output: &got)
            Reference.landmarks2TransformMatrix(landmarks: landmarks, subset: subset, left: left, right: right,
                                                targetRotation: Double(target), outputHeight: 16, outputWidth: 16,
                                                scaleX: Double(scale), scaleY: Double(scale), output: &expected)
            assertClose(got, expected, tolerance: 2e-6, "subset \(subset.count) target \(target)")
        }
    }

    /// Worked by hand: a level left→right pair, an axis-aligned box [10, 30] × [40, 80]: no rotation,
    /// centre (20, 60), size 20 × 40; crop 16 × 8 with scale 2 → sx = 2·20/16, sy = 2·40/8.
    func testLandmarks2TransformMatrixHandWorked() throws {
        var l = [Float](repeating: 0, count: 4 * 3)
        for (i, p) in [(10, 40), (30, 40), (10, 80), (30, 80)].enumerated() { l[i * 3] = Float(p.0); l[i * 3 + 1] = Float(p.1) }
        let op = try Landmarks2TransformMatrixOperator(inputShape: [1, 4, 3], subsetIndices: [0, 1, 2, 3], leftIndex: 0, rightIndex: 1,
                                                       targetRotation: 0, outputHeight: 8, outputWidth: 16, scaleX: 2, scaleY: 2)
        var m = [Float](repeating: .nan, count: 16)
        op.run(landmarks: l, output: &m)
        let sx: Float = 2.5, sy: Float = 10
        XCTAssertEqual(m, [sx, 0, 0, 20 - sx * 8, 0, sy, 0, 60 - sy * 4, 0, 0, 1, 0, 0, 0, 0, 1])
    }

    func testLandmarks2TransformMatrixRejectsBadParameters() {
        func make(_ shape: [Int] = [1, 10, 3], subset: [Int] = [0, 1], left: Int = 0, right: Int = 1, h: Int = 16, sx: Float = 1) throws {
            _ = try Landmarks2TransformMatrixOperator(inputShape: shape, subsetIndices: subset, leftIndex: left, rightIndex: right,
                                                      targetRotation: 0, outputHeight: h, outputWidth: 16, scaleX: sx, scaleY: 1)
        }
        XCTAssertNoThrow(try make())
        XCTAssertThrowsError(try make([1, 10, 2]))
        XCTAssertThrowsError(try make([2, 10, 3]))
        XCTAssertThrowsError(try make(subset: []))
        XCTAssertThrowsError(try make(subset: [0, 10]))
        XCTAssertThrowsError(try make(subset: [-1, 0]))
        XCTAssertThrowsError(try make(left: 10))
        XCTAssertThrowsError(try make(right: -1))
        XCTAssertThrowsError(try make(h: 0))
        XCTAssertThrowsError(try make(sx: 0))
        XCTAssertThrowsError(try make(sx: .nan))
    }

    // MARK: - TransformTensorBilinear

    func testTransformTensorBilinearMatchesTwin() throws {
        var rng = SeededGenerator(seed: 195)
        let cases: [([Int], (Int, Int))] = [([1, 48, 48, 32], (16, 16)), ([1, 1, 1, 1], (3, 2)), ([1, 5, 7, 3], (9, 4)), ([1, 2, 2, 9], (1, 1))]
        for (input, out) in cases {
            let x = randomFloats(input.reduce(1, *), &rng)
            let op = try TransformTensorBilinearOperator(inputShape: input, outputHeight: out.0, outputWidth: out.1)
            // Matrices: rotated and scaled crops inside, straddling and outside the map, and an exact grid.
            let h = Float(input[1]), w = Float(input[2])
            var matrices: [[Float]] = [[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]]
            for _ in 0..<6 {
                let a = Float.random(in: -0.9...0.9, using: &rng), s = Float.random(in: 0.2...1.5, using: &rng)
                matrices.append([s * cos(a), -s * sin(a), 0, Float.random(in: -2...w, using: &rng),
                                 s * sin(a), s * cos(a), 0, Float.random(in: -2...h, using: &rng), 0, 0, 1, 0, 0, 0, 0, 1])
            }
            for m in matrices {
                let count = op.outputShape.elementCount
                var expected = [Float](repeating: .nan, count: count)
                Reference.transformTensorBilinear(input: x, height: input[1], width: input[2], channels: input[3], matrix: m,
                                                  outputHeight: out.0, outputWidth: out.1, output: &expected)
                for pool in [Pools.one, Pools.three] {
                    var got = [Float](repeating: .nan, count: count)
                    op.run(input: x, matrix: m, output: &got, pool: pool)
                    assertBitIdentical(got, expected, "\(input) → \(out) matrix \(m.prefix(8)) threads \(pool.threadCount)")
                }
            }
        }
    }

    /// Worked by hand: with the identity matrix the align-corners correction cancels (m3 += 0.5 − 0.5),
    /// so output pixel (x, y) reads input (x, y) exactly; a shift of 0.5 averages two neighbours; a
    /// point past the map (x > W − 1) is 0.
    func testTransformTensorBilinearHandWorked() throws {
        let x: [Float] = (0..<12).map(Float.init)   // [1, 3, 4, 1]
        let op = try TransformTensorBilinearOperator(inputShape: [1, 3, 4, 1], outputHeight: 2, outputWidth: 5)
        var out = [Float](repeating: .nan, count: 10)
        op.run(input: x, matrix: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], output: &out, pool: Pools.one)
        XCTAssertEqual(out, [0, 1, 2, 3, 0, 4, 5, 6, 7, 0])
        op.run(input: x, matrix: [1, 0, 0, 0.5, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1], output: &out, pool: Pools.one)
        XCTAssertEqual(out, [4.5, 5.5, 6.5, 0, 0, 8.5, 9.5, 10.5, 0, 0])
        XCTAssertThrowsError(try TransformTensorBilinearOperator(inputShape: [2, 3, 4, 1], outputHeight: 2, outputWidth: 2))
        XCTAssertThrowsError(try TransformTensorBilinearOperator(inputShape: [1, 3, 4, 1], outputHeight: 0, outputWidth: 2))
    }

    // MARK: - TransformLandmarks

    func testTransformLandmarksMatchesMatrixProduct() throws {
        var rng = SeededGenerator(seed: 701)
        for (n, d) in [(80, 2), (71, 2), (5, 2), (1, 2), (468, 3)] {
            let l = randomFloats(n * d, &rng, range: -20...20)
            let m = randomFloats(16, &rng, range: -3...3)
            let op = try TransformLandmarksOperator(inputShape: [1, n, d])
            var got = [Float](repeating: .nan, count: n * d), expected = got
            op.run(landmarks: l, matrix: m, output: &got)
            Reference.transformLandmarks(landmarks: l, count: n, dimensions: d, matrix: m, output: &expected)
            assertClose(got, expected, tolerance: 1e-6, "[1, \(n), \(d)]")
            if d == 3 { for i in 0..<n { XCTAssertEqual(got[i * 3 + 2].bitPattern, l[i * 3 + 2].bitPattern) } }
        }
        var out = [Float](repeating: .nan, count: 2)
        try TransformLandmarksOperator(inputShape: [1, 1, 2]).run(landmarks: [3, 4], matrix: [2, 0, 9, 1, 0, 3, 9, -1, 5, 5, 5, 5, 5, 5, 5, 5], output: &out)
        XCTAssertEqual(out, [7, 11])
        XCTAssertThrowsError(try TransformLandmarksOperator(inputShape: [1, 5, 4]))
        XCTAssertThrowsError(try TransformLandmarksOperator(inputShape: [2, 5, 2]))
        XCTAssertThrowsError(try TransformLandmarksOperator(inputShape: [5, 2]))
    }
}
