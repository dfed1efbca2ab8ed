import BlazeKernels
import XCTest

/// Binary16 weight panels (`PanelPrecision.float16WhenExact`, `GemmHalf.swift`), forced on every
/// build (without F16C the half kernels widen value by value, so CI's plain build runs them too):
/// - packing takes half panels exactly when every weight is a binary16 value and the panels are
///   16 wide (the last may be 8) or, at 16 lanes, 32 wide (the last may be 16), else float32 (all
///   65,536 halves; inexact values, NaNs);
/// - the GEMM, the few-row kernels (`gemvRows`) and convs on the real layer shapes give the float32
///   panels' bits for every epilogue and thread count, with the 8-lane and the 16-lane kernels.
final class GemmHalfTests: XCTestCase {
    /// Random binary16 values (finite, not NaN; zeros and subnormals included) as floats.
    func randomHalves(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in
            switch UInt64.random(in: 0..<20, using: &rng) {
            case 0: return 0
            case 1: return -0.0
            case 2: return Float(Float16(bitPattern: UInt16.random(in: 1...0x3ff, using: &rng)))   // subnormal
            default: return Float(Float16(Float.random(in: -2...2, using: &rng)))
            }
        }
    }

    func packed(_ w: [Float], n: Int, k: Int, bias: [Float]? = nil, alpha: [Float]? = nil,
                precision: PanelPrecision, store: WeightStore? = nil, lanes: GemmLanes = .eight) -> PackedGemmWeights {
        (bias ?? []).withUnsafeBufferPointer { bp in
            (alpha ?? []).withUnsafeBufferPointer { ap in
                w.withUnsafeBufferPointer { wp in
                    PackedGemmWeights(rows: WeightRows(n: n, k: k, values: wp.baseAddress!),
                                      bias: bias == nil ? nil : bp.baseAddress, backend: .native,
                                      preluAlpha: alpha == nil ? nil : ap.baseAddress, store: store, lanes: lanes,
                                      precision: precision)
                }
            }
        }
    }

    /// Every binary16 bit pattern but the NaNs packs as half panels; every NaN, and a float that
    /// is not exactly a half, keeps float32 panels.
    func testPrecisionFollowsExactness() {
        let n = 16, k = 256
        for start in stride(from: 0, to: 65536, by: n * k) {
            let bits = (start..<(start + n * k)).map { UInt16($0) }
            let finite = bits.filter { !Float16(bitPattern: $0).isNaN }
            var w = finite.map { Float(Float16(bitPattern: $0)) }
            w += [Float](repeating: 0, count: n * k - w.count)
            XCTAssertEqual(packed(w, n: n, k: k, precision: .float16WhenExact).precision, .float16WhenExact,
                           "halves \(start)..<\(start + n * k)")
        }
        var w = [Float](repeating: 0.5, count: 16 * 3)
        for bad: Float in [0.1, .nan, 1e-30, 70000, 1 + 1 / 4096] {
            w[37] = bad
            XCTAssertEqual(packed(w, n: 16, k: 3, precision: .float16WhenExact).precision, .float32, "weight \(bad)")
        }
        w[37] = Float(Float16(bitPattern: 0x7c00))   // +infinity is a half
        XCTAssertEqual(packed(w, n: 16, k: 3, precision: .float16WhenExact).precision, .float16WhenExact)
        // Only 16- and 32-wide panels (N > 8): N ≤ 8 stays float32 at both widths.
        for lanes in GemmLanes.allCases {
            for (n, half) in [(1, false), (8, false), (9, true), (16, true), (24, true), (25, true), (40, true), (195, true)] {
                let w = [Float](repeating: 0.25, count: n * 5)
                let p = packed(w, n: n, k: 5, precision: .float16WhenExact, lanes: lanes)
                XCTAssertEqual(p.precision == .float16WhenExact, half, "n \(n) \(lanes)")
                XCTAssertEqual(p.panelWidth, n == 1 ? 1 : n <= 8 ? 8 : lanes == .sixteen && n > 16 ? 32 : 16, "n \(n) \(lanes)")
            }
        }
        XCTAssertEqual(packed([Float](repeating: 0.25, count: 64), n: 16, k: 4, precision: .float32).precision, .float32)
    }

    /// Weights given as binary16 rows (`WeightRows(n:k:halves:reader:)`, a model's FLOAT16 data,
    /// here at an odd byte offset) pack into half panels without being widened: every bit pattern
    /// but the NaNs, and the GEMM gives the bits of float32 panels of the widened values, for
    /// panel edges (N = 9 … 195, k not a multiple of 8). A NaN anywhere keeps float32 panels.
    func testPanelsFromHalfRows() {
        func packedFromHalves(_ bits: [UInt16], n: Int, k: Int, lanes: GemmLanes = .eight) -> PackedGemmWeights {
            // One byte in, so the halves are not 2-byte aligned.
            var bytes = [UInt8](repeating: 0, count: 1 + 2 * bits.count)
            for (i, h) in bits.enumerated() { bytes[1 + 2 * i] = UInt8(h & 0xff); bytes[2 + 2 * i] = UInt8(h >> 8) }
            return bytes.withUnsafeBytes { raw in
                let halves = raw.baseAddress! + 1
                let rows = WeightRows(n: n, k: k, halves: halves) { first, count, into in
                    for i in 0..<(count * k) { into[i] = Float(Float16(bitPattern: bits[first * k + i])) }
                }
                return PackedGemmWeights(rows: rows, bias: nil, backend: .native, preluAlpha: nil, store: nil, lanes: lanes,
                                         precision: .float16WhenExact)
            }
        }
        let n = 16, k = 256
        for start in stride(from: 0, to: 65536, by: n * k) {
            var bits = (start..<(start + n * k)).map { UInt16($0) }.filter { !Float16(bitPattern: $0).isNaN }
            bits += [UInt16](repeating: 0, count: n * k - bits.count)
            XCTAssertEqual(packedFromHalves(bits, n: n, k: k).precision, .float16WhenExact, "halves \(start)..<\(start + n * k)")
        }
        var seed: UInt64 = 70_000
        for n in [9, 16, 17, 24, 40, 117, 195] {
            for k in [1, 5, 8, 16, 37, 64] {
                var rng = SeededGenerator(seed: seed)
                seed += 1
                let w = randomHalves(n * k, &rng), m = 13
                let a = randomFloats(m * k, &rng)
                var bits = w.map { Float16($0).bitPattern }
                let float = packed(w, n: n, k: k, precision: .float32)
                let expected = collect(m * n) { gemm(m: m, a: a, lda: k, weights: float, activation: .none, c: $0, ldc: n, pool: Pools.one) }
                for lanes in GemmLanes.allCases {
                    let half = packedFromHalves(bits, n: n, k: k, lanes: lanes)
                    XCTAssertEqual(half.precision, .float16WhenExact, "n \(n) k \(k) \(lanes)")
                    assertBitIdentical(collect(m * n) { gemm(m: m, a: a, lda: k, weights: half, activation: .none, c: $0, ldc: n,
                                                             pool: Pools.two) }, expected, "n \(n) k \(k) \(lanes)")
                }
                // A NaN (in a leftover column or k value, or a whole 8×8 block) keeps float32 panels.
                for at in [0, n * k - 1, (n / 2) * k + k / 2] {
                    var bad = bits
                    bad[at] = 0x7e01
                    XCTAssertEqual(packedFromHalves(bad, n: n, k: k).precision, .float32, "n \(n) k \(k) NaN at \(at)")
                }
                bits[0] = 0xfc00   // -infinity is a half
                XCTAssertEqual(packedFromHalves(bits, n: n, k: k).precision, .float16WhenExact, "n \(n) k \(k) -inf")
            }
        }
    }

    /// Half against float32 panels, direct GEMM calls: every epilogue (clamped, unclamped,
    /// residual with partial skip channels, fused PRELU), tile edges (m = 1…13, 5- and 7-row tails,
    /// block and panel-group splits), 8 and 16 lanes, 1 and 2 threads: bit-identical.
    func testHalfPanelsEqualFloat32Panels() {
        var seed: UInt64 = 50_000
        for n in [9, 16, 17, 24, 25, 32, 40, 48, 64, 96, 117, 144, 195, 288] {
            for m in Array(1...13) + [16, 48, 49, 64, 97, 200] {
                for k in [1, 5, 16, 37] {
                    var rng = SeededGenerator(seed: seed)
                    seed += 1
                    let a = randomFloats(m * (k + 1), &rng), w = randomHalves(n * k, &rng)
                    let bias = randomFloats(n, &rng), alpha = randomFloats(n, &rng, range: -2...2)
                    let skip = randomFloats(m * n, &rng, range: -3...3)
                    let activation = FusedActivation.allCases[Int(seed % 4)]
                    let prelu = seed % 3 == 0
                    let residual: FusedActivation? = seed % 2 == 0 ? nil : FusedActivation.allCases[Int(seed / 2 % 4)]
                    let skipChannels = seed % 5 == 0 ? n - 3 : Int.max
                    let float = packed(w, n: n, k: k, bias: bias, alpha: prelu ? alpha : nil, precision: .float32)
                    let label = "m \(m) n \(n) k \(k) \(activation) prelu \(prelu) residual \(String(describing: residual))"
                    func run(_ weights: PackedGemmWeights, _ pool: ThreadPool) -> [Float] {
                        skip.withUnsafeBufferPointer { sp in
                            collect(m * n) {
                                gemm(m: m, a: a, lda: k + 1, weights: weights, activation: activation, c: $0, ldc: n, pool: pool,
                                     residual: residual.map { GemmResidual(data: sp.baseAddress!, ld: n, activation: $0,
                                                                           channels: skipChannels) })
                            }
                        }
                    }
                    let expected = run(float, Pools.one)
                    for lanes in GemmLanes.allCases {
                        let half = packed(w, n: n, k: k, bias: bias, alpha: prelu ? alpha : nil, precision: .float16WhenExact,
                                          lanes: lanes)
                        XCTAssertEqual(half.precision, .float16WhenExact, "n \(n) k \(k) \(lanes)")
                        for pool in [Pools.one, Pools.two] {
                            assertBitIdentical(run(half, pool), expected, "\(label) \(lanes) threads \(pool.threadCount)")
                        }
                        if m < 6, !prelu, residual == nil {
                            // The few-row kernels (a conv with under 6 output pixels).
                            let rows = collect(m * n) { gemvRows(m: m, a: a, lda: k + 1, weights: half, activation: activation,
                                                                 c: $0, ldc: n, pool: Pools.two) }
                            assertBitIdentical(rows, expected, "\(label) \(lanes) gemvRows")
                        }
                    }
                }
            }
        }
    }

    /// A store hands back the half panels of a matrix that turns out inexact, and the float32
    /// panels packed instead (and the next matrix's) hold the right values.
    func testInexactMatrixInAStore() {
        let store = WeightStore()
        var rng = SeededGenerator(seed: 7)
        let exact = randomHalves(48 * 40, &rng), inexact = randomFloats(48 * 40, &rng)
        let a = randomFloats(7 * 40, &rng)
        let first = packed(inexact, n: 48, k: 40, precision: .float16WhenExact, store: store)
        let second = packed(exact, n: 48, k: 40, precision: .float16WhenExact, store: store)
        XCTAssertEqual(first.precision, .float32)
        XCTAssertEqual(second.precision, .float16WhenExact)
        for (w, p) in [(inexact, first), (exact, second)] {
            let expected = collect(7 * 48) {
                Reference.gemm(m: 7, n: 48, k: 40, a: a, lda: 40, weights: w, bias: nil, activation: .none, c: $0, ldc: 48,
                               residual: nil)
            }
            let out = collect(7 * 48) { gemm(m: 7, a: a, lda: 40, weights: p, activation: .none, c: $0, ldc: 48, pool: Pools.one) }
            assertClose(out, expected, "store, \(p.precision)")
        }
        store.finish()
    }

    /// The real conv layers of every model (`LayerShapes.swift`) with binary16 weights: half panels
    /// forced (8 and 16 lanes), float32 panels, and the default (half on 8×8 maps and smaller when
    /// the build has F16C): all bit-identical, at 1 and 2 threads.
    func testRealLayerShapes() throws {
        var checked = 0
        for (n, s) in realConvShapes.enumerated() where s.output.dropLast().reduce(1, *) <= 1024 {
            var rng = SeededGenerator(seed: UInt64(60_000 + n))
            let input = randomFloats(s.input.reduce(1, *), &rng)
            let weights = randomHalves(s.weights.reduce(1, *), &rng), bias = randomFloats(s.weights[0], &rng)
            func conv(_ panels: PanelPrecision?, _ lanes: GemmLanes = .eight) throws -> Conv2DOperator {
                try Conv2DOperator(inputShape: s.input, weights: weights, weightsShape: s.weights, bias: bias,
                                   strideHeight: s.stride.0, strideWidth: s.stride.1, dilationHeight: s.dilation.0,
                                   dilationWidth: s.dilation.1, padding: s.padding, activation: s.activation,
                                   backend: .native, lanes: lanes, panels: panels)
            }
            let float = try conv(.float32), half = try conv(.float16WhenExact), automatic = try conv(nil)
            let half16 = try conv(.float16WhenExact, .sixteen)
            let expected = runConv(float, input, pool: Pools.one)
            let label = "\(s.model) conv \(n) \(s.input) w\(s.weights)"
            let pixels = s.output.dropLast().reduce(1, *)
            // 16-wide panels only (N > 8).
            let wide = s.weights[0] > 8
            XCTAssertEqual(half.panelPrecision == .float16WhenExact, wide, label)
            XCTAssertEqual(half16.panelPrecision == .float16WhenExact, wide, label)
            let automaticHalf = PanelPrecision.buildWidensHalves && wide && pixels <= Conv2DOperator.halfPanelPixels
                && s.weights[3] != 3
            XCTAssertEqual(automatic.panelPrecision == .float16WhenExact, automaticHalf, label)
            for pool in [Pools.one, Pools.two] {
                assertBitIdentical(runConv(half, input, pool: pool), expected, "\(label) half threads \(pool.threadCount)")
                assertBitIdentical(runConv(half16, input, pool: pool), expected, "\(label) 16-lane half threads \(pool.threadCount)")
                assertBitIdentical(runConv(automatic, input, pool: pool), expected, "\(label) default threads \(pool.threadCount)")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 100)
    }
}
