import BlazeKernels
import BlazeTestSupport
import XCTest

// Row types of the generated table `LayerShapes.swift` (shapes NHWC; conv weights OHWI).
struct ConvShape {
    let model: String, count: Int, input: [Int], weights: [Int], output: [Int]
    let stride: (Int, Int), dilation: (Int, Int), padding: Padding, activation: FusedActivation
}
struct DepthwiseShape {
    let model: String, count: Int, input: [Int], weights: [Int], output: [Int]
    let stride: (Int, Int), dilation: (Int, Int), padding: Padding, activation: FusedActivation, depthMultiplier: Int
}
struct AddShape { let model: String, count: Int, a: [Int], b: [Int], output: [Int], activation: FusedActivation }
struct PadShape { let model: String, count: Int, input: [Int], paddings: [[Int]], output: [Int] }
struct PoolShape {
    let model: String, count: Int, input: [Int], output: [Int]
    let filter: (Int, Int), stride: (Int, Int), padding: Padding, activation: FusedActivation
}
struct ResizeShape { let model: String, count: Int, input: [Int], output: [Int], alignCorners: Bool, halfPixelCenters: Bool }
struct DepthToSpaceShape { let model: String, count: Int, input: [Int], output: [Int], blockSize: Int }
struct ConcatShape { let model: String, count: Int, inputs: [[Int]], output: [Int], axis: Int, activation: FusedActivation }
struct UnaryShape { let model: String, count: Int, op: UnaryKind, shape: [Int] }


/// The shared seeded generator.
typealias SeededGenerator = SplitMix64

func randomFloats(_ count: Int, _ rng: inout SeededGenerator, range: ClosedRange<Float> = -1...1) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Asserts `max|a - b| <= tolerance · max|b|` (b is the reference) and returns that relative error.
@discardableResult
func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Float {
    XCTAssertEqual(a.count, b.count, label, file: file, line: line)
    var maxRef: Float = 0, maxDiff: Float = 0
    for i in 0..<min(a.count, b.count) {
        maxRef = max(maxRef, abs(b[i]))
        let d = abs(a[i] - b[i])
        if !(d <= maxDiff) { maxDiff = d.isNaN ? .infinity : d }
    }
    let rel = maxRef > 0 ? maxDiff / maxRef : maxDiff
    XCTAssertLessThanOrEqual(rel, tolerance, "\(label): max diff \(maxDiff), max |ref| \(maxRef)", file: file, line: line)
    return rel
}

/// Bitwise equality (NaN-safe, -0 vs +0 distinguished).
func assertBitIdentical(_ a: [Float], _ b: [Float], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, label, file: file, line: line)
    let mismatches = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    XCTAssertEqual(mismatches, 0, "\(label): \(mismatches) elements differ bitwise", file: file, line: line)
}

/// Pools shared by the tests (creating threads per test is wasteful).
enum Pools {
    static let one = ThreadPool(threads: 1)
    static let two = ThreadPool(threads: 2)
    static let three = ThreadPool(threads: 3)
    static let all = [one, two, three]
}

/// Runs a conv operator and returns its output.
func runConv(_ op: Conv2DOperator, _ input: [Float], pool: ThreadPool) -> [Float] {
    var out = [Float](repeating: .nan, count: op.outputShape.elementCount)
    var scratch = [Float](repeating: 0, count: max(1, op.scratchCount(threads: pool.threadCount)))
    input.withUnsafeBufferPointer { ip in
        out.withUnsafeMutableBufferPointer { op2 in
            scratch.withUnsafeMutableBufferPointer { sp in
                op.run(input: ip.baseAddress!, output: op2.baseAddress!, scratch: sp.baseAddress!, pool: pool)
            }
        }
    }
    return out
}

func referenceConv(input: [Float], inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                   geometry: WindowGeometry, activation: FusedActivation) -> [Float] {
    let o = weightsShape[0]
    var out = [Float](repeating: .nan, count: inputShape[0] * geometry.outputHeight * geometry.outputWidth * o)
    input.withUnsafeBufferPointer { ip in
        weights.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    Reference.conv2D(input: ip.baseAddress!, batch: inputShape[0], inputChannels: inputShape[3],
                                     weights: wp.baseAddress!, bias: bias.isEmpty ? nil : bp.baseAddress,
                                     outputChannels: o, geometry: geometry, activation: activation,
                                     output: op.baseAddress!)
                }
            }
        }
    }
    return out
}

// Row types of the wheel models' ops in `LayerShapes.swift`.
struct PReluShape { let model: String, count: Int, input: [Int], alpha: [Int], output: [Int] }
struct MeanShape { let model: String, count: Int, input: [Int], axes: [Int], keepDims: Bool, output: [Int] }
struct FullyConnectedShape {
    let model: String, count: Int, input: [Int], weights: [Int], hasBias: Bool, output: [Int]
    let activation: FusedActivation, keepNumDims: Bool
}
struct StridedSliceShape {
    let model: String, count: Int, input: [Int], begin: [Int], end: [Int], strides: [Int]
    let beginMask: Int, endMask: Int, shrinkAxisMask: Int, output: [Int]
}
/// MediaPipe's `Convolution2DTransposeBias`: weights `[O, KH, KW, I]`, bias `[O]`.
struct TransposeConvShape {
    let model: String, count: Int, input: [Int], weights: [Int], output: [Int], stride: (Int, Int), padding: Padding
}

/// Runs `body` on a fresh NaN-filled buffer of `count` floats and returns it.
func collect(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    return out
}

/// One GEMM implementation a conv can run on: a backend and, for the native one, the micro-kernels'
/// vector width. Both widths are compiled on every target, so every machine tests both.
struct GemmVariant: CustomStringConvertible {
    let backend: GemmBackend
    let lanes: GemmLanes
    var description: String { backend == .native ? "native \(lanes.rawValue)-lane" : "\(backend)" }
    /// The native kernels at 8 and 16 lanes, and OpenBLAS.
    static let all = [GemmVariant(backend: .native, lanes: .eight), GemmVariant(backend: .native, lanes: .sixteen),
                      GemmVariant(backend: .openBLAS, lanes: .eight)]
}
