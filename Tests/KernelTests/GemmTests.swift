import BlazeKernels
import XCTest

/// The GEMM against its naive twin (`Reference.gemm`) over m, n, k chosen to run every
/// micro-kernel and every work split:
/// - n = 1 (dot-product kernel), n ≤ 8 (6×8), n = 24 (4×24), other n with 16- and 8-wide last
///   panels (6×16 + 6×8), multiples of 16 (6×16 only);
/// - m = 1…13 (partial tiles; m = 5 and 10 end in 5-row tiles), 49 (4·6 + 5·5), 48/97 (block
///   edges), 200 (mid-size panel groups), 800 (≥ 16 row blocks);
/// - k = 1, 7, 8, 9, 33 and 1153 (long sums).
/// Native builds whose GEMM does not use FMA (`BuildTarget.gemmUsesFMA`) sum each element in k order with separate multiply and
/// add, exactly as the twin, so they must match bitwise (except n = 1, whose dot product
/// splits k over 8 lanes); FMA builds and OpenBLAS within 1e-5. Every result must be
/// bit-identical across 1, 2 and 3 threads.
final class GemmTests: XCTestCase {
    func check(m: Int, n: Int, k: Int, backend: GemmBackend, lanes: GemmLanes = .eight, activation: FusedActivation, bias: Bool,
               residual: FusedActivation? = nil, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        // Padded leading dimensions: A rows and C rows are wider than k and n.
        let lda = k + 3, ldc = n + 5, ldr = n + 2
        let a = randomFloats(m * lda, &rng), w = randomFloats(n * k, &rng)
        let b = bias ? randomFloats(n, &rng) : []
        let r = randomFloats(m * ldr, &rng)
        let packed = b.withUnsafeBufferPointer { bp in
            PackedGemmWeights(weights: w, bias: bias ? bp.baseAddress : nil, n: n, k: k, backend: backend, lanes: lanes)
        }
        let label = "gemm m \(m) n \(n) k \(k) \(backend) \(lanes.rawValue)-lane \(activation) bias \(bias) residual \(String(describing: residual))"
        r.withUnsafeBufferPointer { rp in
            let res = residual.map { GemmResidual(data: rp.baseAddress!, ld: ldr, activation: $0) }
            let ref = collect(m * ldc) { c in
                b.withUnsafeBufferPointer { bp in
                    Reference.gemm(m: m, n: n, k: k, a: a, lda: lda, weights: w, bias: bias ? bp.baseAddress : nil,
                                   activation: activation, c: c, ldc: ldc, residual: res)
                }
            }
            var first: [Float]?
            for pool in Pools.all {
                let out = collect(m * ldc) { gemm(m: m, a: a, lda: lda, weights: packed, activation: activation, c: $0, ldc: ldc,
                                                  pool: pool, residual: res) }
                // Only the first n floats of each C row are written: the padding stays NaN.
                let written = (0..<m).flatMap { row in out[(row * ldc)..<(row * ldc + n)] }
                let expected = (0..<m).flatMap { row in ref[(row * ldc)..<(row * ldc + n)] }
                XCTAssertTrue((0..<m).allSatisfy { row in out[(row * ldc + n)..<((row + 1) * ldc)].allSatisfy(\.isNaN) },
                              "\(label): wrote past n")
                // The library's own answer, not this target's flags: FMA follows `-target-cpu`.
                let exact = !BuildTarget.gemmUsesFMA && backend == .native && n > 1
                if exact {
                    assertBitIdentical(written, expected, "\(label) threads=\(pool.threadCount)")
                } else {
                    assertClose(written, expected, "\(label) threads=\(pool.threadCount)")
                }
                if let first { assertBitIdentical(out, first, "\(label) threads 1 vs \(pool.threadCount)") } else { first = out }
            }
        }
    }

    func testEveryMicroKernel() {
        var seed: UInt64 = 0
        for v in GemmVariant.all {
            for n in [1, 3, 8, 9, 16, 17, 23, 24, 25, 31, 32, 33, 39, 40, 48, 49, 64, 65, 80, 96, 97] {
                for m in Array(1...17) + [48, 49, 97] {
                    for k in [1, 8, 9, 33] {
                        check(m: m, n: n, k: k, backend: v.backend, lanes: v.lanes, activation: FusedActivation.allCases[(m + n + k) % 4],
                              bias: (m + k) % 3 != 0, seed: seed)
                        seed += 1
                    }
                }
            }
        }
    }

    func testLongSumsAndLargeM() {
        var seed: UInt64 = 10_000
        for v in GemmVariant.all {
            for (m, n, k) in [(49, 24, 1153), (5, 40, 1153), (1, 1, 1153), (200, 40, 7), (200, 64, 12), (800, 24, 9), (800, 17, 5),
                              (97, 1, 7), (7, 195, 768), (200, 130, 20), (55, 144, 24)] {
                check(m: m, n: n, k: k, backend: v.backend, lanes: v.lanes, activation: .relu6, bias: true, seed: seed)
                seed += 1
            }
        }
    }

    /// The fused residual epilogue (`act2(act(acc + bias) + R)`) on every tile kind.
    func testResidualEpilogue() {
        var seed: UInt64 = 20_000
        for v in GemmVariant.all {
            for n in [1, 8, 17, 24, 32, 48, 50] {
                for m in [1, 5, 6, 7, 8, 49, 130] {
                    check(m: m, n: n, k: 19, backend: v.backend, lanes: v.lanes, activation: .relu6, bias: true, residual: .relu, seed: seed)
                    check(m: m, n: n, k: 19, backend: v.backend, lanes: v.lanes, activation: .none, bias: false,
                          residual: FusedActivation.none, seed: seed + 1)
                    seed += 2
                }
            }
        }
    }
}

/// The 16-lane micro-kernels (`GemmLanes.sixteen`: 32-wide panels, 8×32 / 7×32 / 8×16 tiles), which
/// this build runs by default only when its target has AVX-512, forced on every machine: they must
/// give the 8-lane kernels' results bit for bit (each output is the same k-ordered chain of
/// multiply-adds and the same epilogue), for every epilogue and edge shape.
final class GemmLanesTests: XCTestCase {
    func testBuildChoiceFollowsTheTarget() {
        XCTAssertEqual(GemmLanes.build, BuildTarget.simdBits >= 512 ? .sixteen : .eight)
        XCTAssertEqual(BuildTarget.gemmLanes, GemmLanes.build)
        let w = [Float](repeating: 1, count: 64 * 3)
        let packed = PackedGemmWeights(weights: w, bias: nil, n: 64, k: 3, backend: .native)
        XCTAssertEqual(packed.lanes, GemmLanes.build)
        XCTAssertEqual(packed.panelWidth, GemmLanes.build == .sixteen ? 32 : 16)
    }

    func testPanelLayouts() {
        // (n, lanes) -> (panel width, last panel width, lanes run)
        let cases: [(Int, GemmLanes, Int, Int, GemmLanes)] = [
            (1, .sixteen, 1, 1, .eight), (8, .sixteen, 8, 8, .eight), (9, .sixteen, 16, 16, .sixteen),
            (16, .sixteen, 16, 16, .sixteen), (17, .sixteen, 32, 32, .sixteen), (24, .sixteen, 32, 32, .sixteen),
            (33, .sixteen, 32, 16, .sixteen), (48, .sixteen, 32, 16, .sixteen), (49, .sixteen, 32, 32, .sixteen),
            (64, .sixteen, 32, 32, .sixteen), (24, .eight, 16, 8, .eight), (48, .eight, 16, 16, .eight),
        ]
        for (n, requested, pw, last, lanes) in cases {
            let w = [Float](repeating: 1, count: n * 5)
            let p = PackedGemmWeights(weights: w, bias: nil, n: n, k: 5, backend: .native, lanes: requested)
            XCTAssertEqual(p.panelWidth, pw, "n \(n) \(requested)")
            XCTAssertEqual(p.lastPanelWidth, last, "n \(n) \(requested)")
            XCTAssertEqual(p.lanes, lanes, "n \(n) \(requested)")
        }
        let blas = PackedGemmWeights(weights: [Float](repeating: 1, count: 40), bias: nil, n: 40, k: 1, backend: .openBLAS,
                                     lanes: .sixteen)
        XCTAssertEqual(blas.lanes, .eight)
    }

    /// `GemmLanes.preferred`: 16 lanes only where their panels pad N to no more columns than the
    /// 8-lane ones (counted here from the real packed layouts) and for at least a tile of rows;
    /// `Conv2DOperator.preferredLanes` keeps the stem kernel's 3-channel convs on 8 lanes.
    func testPreferredLanesComputeNoMoreColumns() {
        func computed(_ n: Int, _ lanes: GemmLanes) -> Int {
            let p = PackedGemmWeights(weights: [Float](repeating: 1, count: n), bias: nil, n: n, k: 1, backend: .native,
                                      lanes: lanes)
            if p.lanes == .eight && n == 24 { return 24 }   // the 4×24 tile
            let panels = (n + p.panelWidth - 1) / p.panelWidth
            return (panels - 1) * p.panelWidth + p.lastPanelWidth
        }
        for n in 9...300 {
            let choice = GemmLanes.sixteen.preferred(rows: 64, columns: n)
            XCTAssertEqual(choice == .sixteen, computed(n, .sixteen) <= computed(n, .eight), "n \(n)")
            XCTAssertEqual(GemmLanes.eight.preferred(rows: 64, columns: n), .eight, "n \(n)")
        }
        XCTAssertEqual(GemmLanes.sixteen.preferred(rows: 64, columns: 24), .eight)
        XCTAssertEqual(GemmLanes.sixteen.preferred(rows: 64, columns: 39), .eight)
        XCTAssertEqual(GemmLanes.sixteen.preferred(rows: 64, columns: 144), .sixteen)
        XCTAssertEqual(GemmLanes.sixteen.preferred(rows: 5, columns: 64), .eight)
        XCTAssertEqual(GemmLanes.sixteen.preferred(rows: 6, columns: 64), .sixteen)
        XCTAssertEqual(GemmLanes.sixteen.preferred(rows: 64, columns: 8), .eight)
        XCTAssertEqual(Conv2DOperator.preferredLanes(.sixteen, inputChannels: 3, outputChannels: 64, outputPixels: 4096), .eight)
        XCTAssertEqual(Conv2DOperator.preferredLanes(.sixteen, inputChannels: 16, outputChannels: 64, outputPixels: 4096), .sixteen)
        XCTAssertEqual(Conv2DOperator.preferredLanes(.eight, inputChannels: 16, outputChannels: 64, outputPixels: 4096), .eight)
    }

    /// Direct GEMM calls, 16-lane vs 8-lane, every epilogue (clamped, unclamped, residual with
    /// partial skip channels, fused PRELU), 1 and 2 threads: bit-identical.
    func testSixteenLanesEqualEightLanes() {
        var seed: UInt64 = 30_000
        for n in [9, 16, 17, 24, 32, 33, 40, 47, 48, 64, 65, 96, 112, 144, 195] {
            for m in [1, 6, 7, 8, 9, 15, 16, 17, 49, 56, 100, 196] {
                for k in [1, 5, 16, 37] {
                    var rng = SeededGenerator(seed: seed)
                    seed += 1
                    let a = randomFloats(m * (k + 1), &rng), w = randomFloats(n * k, &rng)
                    let bias = randomFloats(n, &rng), alpha = randomFloats(n, &rng, range: -2...2)
                    let skip = randomFloats(m * n, &rng, range: -3...3)
                    let activation = FusedActivation.allCases[Int(seed % 4)]
                    let prelu = seed % 3 == 0
                    let residual: FusedActivation? = seed % 2 == 0 ? nil : FusedActivation.allCases[Int(seed / 2 % 4)]
                    let skipChannels = seed % 5 == 0 ? n - 3 : Int.max
                    var outputs: [GemmLanes: [Float]] = [:]
                    for lanes in GemmLanes.allCases {
                        let packed = bias.withUnsafeBufferPointer { bp in
                            alpha.withUnsafeBufferPointer { ap in
                                PackedGemmWeights(weights: w, bias: bp.baseAddress, n: n, k: k, backend: .native,
                                                  preluAlpha: prelu ? ap.baseAddress : nil, lanes: lanes)
                            }
                        }
                        for pool in [Pools.one, Pools.two] {
                            let out = skip.withUnsafeBufferPointer { sp in
                                collect(m * n) {
                                    gemm(m: m, a: a, lda: k + 1, weights: packed, activation: activation, c: $0, ldc: n, pool: pool,
                                         residual: residual.map { GemmResidual(data: sp.baseAddress!, ld: n, activation: $0,
                                                                               channels: skipChannels) })
                                }
                            }
                            let label = "m \(m) n \(n) k \(k) \(activation) prelu \(prelu) residual \(String(describing: residual)) threads \(pool.threadCount)"
                            if let expected = outputs[lanes] {
                                assertBitIdentical(out, expected, "\(label) \(lanes.rawValue)-lane threads")
                            } else {
                                outputs[lanes] = out
                            }
                            if lanes == .sixteen, let eight = outputs[.eight] {
                                assertBitIdentical(out, eight, "\(label) 16-lane vs 8-lane")
                            }
                        }
                    }
                }
            }
        }
    }
}
