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
    func check(m: Int, n: Int, k: Int, backend: GemmBackend, activation: FusedActivation, bias: Bool,
               residual: FusedActivation? = nil, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        // Padded leading dimensions: A rows and C rows are wider than k and n.
        let lda = k + 3, ldc = n + 5, ldr = n + 2
        let a = randomFloats(m * lda, &rng), w = randomFloats(n * k, &rng)
        let b = bias ? randomFloats(n, &rng) : []
        let r = randomFloats(m * ldr, &rng)
        let packed = b.withUnsafeBufferPointer { bp in
            PackedGemmWeights(weights: w, bias: bias ? bp.baseAddress : nil, n: n, k: k, backend: backend)
        }
        let label = "gemm m \(m) n \(n) k \(k) \(backend) \(activation) bias \(bias) residual \(String(describing: residual))"
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
        for backend in GemmBackend.allCases {
            for n in [1, 3, 8, 9, 16, 17, 23, 24, 25, 39, 40, 48, 64, 65] {
                for m in Array(1...13) + [48, 49, 97] {
                    for k in [1, 8, 9, 33] {
                        check(m: m, n: n, k: k, backend: backend, activation: FusedActivation.allCases[(m + n + k) % 4],
                              bias: (m + k) % 3 != 0, seed: seed)
                        seed += 1
                    }
                }
            }
        }
    }

    func testLongSumsAndLargeM() {
        var seed: UInt64 = 10_000
        for backend in GemmBackend.allCases {
            for (m, n, k) in [(49, 24, 1153), (5, 40, 1153), (1, 1, 1153), (200, 40, 7), (200, 64, 12), (800, 24, 9), (800, 17, 5),
                              (97, 1, 7), (7, 195, 768)] {
                check(m: m, n: n, k: k, backend: backend, activation: .relu6, bias: true, seed: seed)
                seed += 1
            }
        }
    }

    /// The fused residual epilogue (`act2(act(acc + bias) + R)`) on every tile kind.
    func testResidualEpilogue() {
        var seed: UInt64 = 20_000
        for backend in GemmBackend.allCases {
            for n in [1, 8, 17, 24, 32] {
                for m in [1, 5, 6, 49, 130] {
                    check(m: m, n: n, k: 19, backend: backend, activation: .relu6, bias: true, residual: .relu, seed: seed)
                    check(m: m, n: n, k: 19, backend: backend, activation: .none, bias: false, residual: FusedActivation.none, seed: seed + 1)
                    seed += 2
                }
            }
        }
    }
}
