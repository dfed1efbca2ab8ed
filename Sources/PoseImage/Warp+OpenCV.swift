import CBlazeTarget
import Foundation
import PoseGeometry

// Bit-exact re-implementation of the OpenCV 4.x arithmetic (identical in 4.10 and 4.12; 5.0 differs) that MediaPipe's CPU
// ImageToTensor and mask warp-back use: RotatedRect::points, getPerspectiveTransform (8×8 LU with
// partial pivoting), invert (3×3 by cofactors), warpPerspective / warpAffine with INTER_LINEAR
// (sub-pixel positions quantised to 1/32 px) and remapBilinear (fixed-point weights for 8-bit,
// float weights for 32-bit). Written from the algorithm, validated byte-for-byte against
// opencv-python-headless 4.10.0 by Tests/ImageTests/WarpOpenCVTests.swift.

/// How `warp*` functions fill taps that fall outside the source image.
public enum WarpBorder: Sendable, Equatable {
    /// `cv::BORDER_CONSTANT` with value 0 (MediaPipe `BORDER_ZERO`).
    case zero
    /// `cv::BORDER_REPLICATE`: coordinates are clamped to the nearest edge pixel.
    case replicate
}


/// OpenCV's sub-pixel grid: positions are quantised to 1/`interTabSize` px (`INTER_BITS = 5`).
private let interBits = 5
private let interTabSize = 1 << interBits
/// Fixed-point weight scale for 8-bit bilinear remap (`INTER_REMAP_COEF_BITS = 15`).
private let remapCoefBits = 15

/// Bilinear weights for each of the 32×32 sub-pixel offsets, `[fy * 32 + fx][4]` in tap order
/// (x0,y0), (x1,y0), (x0,y1), (x1,y1). Every product of two multiples of 1/32 is exact in Float, so
/// the float table is exact and the fixed-point table sums to exactly 32768 without correction.
private let bilinearWeightsFloat: [Float] = {
    var table = [Float](repeating: 0, count: interTabSize * interTabSize * 4)
    let step = 1 / Float(interTabSize)
    for fy in 0..<interTabSize {
        let wy1 = Float(fy) * step, wy0 = 1 - wy1
        for fx in 0..<interTabSize {
            let wx1 = Float(fx) * step, wx0 = 1 - wx1
            let base = (fy * interTabSize + fx) * 4
            table[base] = wy0 * wx0
            table[base + 1] = wy0 * wx1
            table[base + 2] = wy1 * wx0
            table[base + 3] = wy1 * wx1
        }
    }
    return table
}()

private let bilinearWeightsFixed: [Int32] = bilinearWeightsFloat.map {
    Int32(($0 * Float(1 << remapCoefBits)).rounded(.toNearestOrEven))
}

// MARK: - Matrices

/// The 4 corners of a rotated rect, exactly as `cv::RotatedRect::points` computes them in Float:
/// bottom-left, top-left, top-right, bottom-right (for angle 0, y down).
/// - Parameter angleDegrees: OpenCV's angle in degrees.
public func openCVBoxPoints(centerX cx: Float, centerY cy: Float, width w: Float, height h: Float,
                            angleDegrees: Float) -> [SIMD2<Float>] {
    let angle = Double(angleDegrees) * Double.pi / 180.0
    let b = Float(cos(angle)) * 0.5
    let a = Float(sin(angle)) * 0.5
    let p0 = SIMD2<Float>(cx - a * h - b * w, cy + b * h - a * w)
    let p1 = SIMD2<Float>(cx + a * h - b * w, cy - b * h - a * w)
    let p2 = SIMD2<Float>(2 * cx - p0.x, 2 * cy - p0.y)
    let p3 = SIMD2<Float>(2 * cx - p1.x, 2 * cy - p1.y)
    return [p0, p1, p2, p3]
}

/// `cv::getPerspectiveTransform(src, dst, DECOMP_LU)`: the 3×3 homography (row-major, Double,
/// `m[8] = 1`) mapping the 4 `source` points onto the 4 `destination` points. Returns `nil` when the
/// 8×8 system is singular (OpenCV would return a matrix of zeros).
public func openCVPerspectiveTransform(source: [SIMD2<Float>], destination: [SIMD2<Float>]) -> [Double]? {
    precondition(source.count == 4 && destination.count == 4, "exactly 4 point pairs")
    // System A·x = b, A: [8, 8] row-major, b: [8].
    var a = [Double](repeating: 0, count: 64)
    var b = [Double](repeating: 0, count: 8)
    for i in 0..<4 {
        let s = source[i], d = destination[i]
        a[i * 8 + 0] = Double(s.x); a[(i + 4) * 8 + 3] = Double(s.x)
        a[i * 8 + 1] = Double(s.y); a[(i + 4) * 8 + 4] = Double(s.y)
        a[i * 8 + 2] = 1; a[(i + 4) * 8 + 5] = 1
        // OpenCV multiplies the Point2f coordinates in Float before widening to Double.
        a[i * 8 + 6] = Double(-s.x * d.x)
        a[i * 8 + 7] = Double(-s.y * d.x)
        a[(i + 4) * 8 + 6] = Double(-s.x * d.y)
        a[(i + 4) * 8 + 7] = Double(-s.y * d.y)
        b[i] = Double(d.x)
        b[i + 4] = Double(d.y)
    }
    guard solveLUInPlace(&a, &b, n: 8) else { return nil }
    return b + [1]
}

/// Gaussian elimination with partial pivoting on `a` ([n, n] row-major), solving for `b` in place,
/// in OpenCV's `LUImpl` operation order (eps = 100·DBL_EPSILON).
private func solveLUInPlace(_ a: inout [Double], _ b: inout [Double], n: Int) -> Bool {
    let eps = Double.ulpOfOne * 100
    for i in 0..<n {
        var pivot = i
        for j in (i + 1)..<max(n, i + 1) where abs(a[j * n + i]) > abs(a[pivot * n + i]) { pivot = j }
        if abs(a[pivot * n + i]) < eps { return false }
        if pivot != i {
            for j in i..<n { a.swapAt(i * n + j, pivot * n + j) }
            b.swapAt(i, pivot)
        }
        let d = -1 / a[i * n + i]
        for j in (i + 1)..<max(n, i + 1) {
            let alpha = a[j * n + i] * d
            for k in (i + 1)..<n { a[j * n + k] += alpha * a[i * n + k] }
            b[j] += alpha * b[i]
        }
    }
    for i in stride(from: n - 1, through: 0, by: -1) {
        var s = b[i]
        for k in (i + 1)..<max(n, i + 1) { s -= a[i * n + k] * b[k] }
        b[i] = s / a[i * n + i]
    }
    return true
}

/// `cv::invert(m, DECOMP_LU)` for a 3×3 Double matrix (row-major): OpenCV inverts matrices up to
/// 3×3 by cofactors and the determinant. Returns `nil` if the determinant is exactly 0.
public func openCVInvert3x3(_ m: [Double]) -> [Double]? {
    precondition(m.count == 9)
    func s(_ r: Int, _ c: Int) -> Double { m[r * 3 + c] }
    let det = s(0, 0) * (s(1, 1) * s(2, 2) - s(1, 2) * s(2, 1))
        - s(0, 1) * (s(1, 0) * s(2, 2) - s(1, 2) * s(2, 0))
        + s(0, 2) * (s(1, 0) * s(2, 1) - s(1, 1) * s(2, 0))
    guard det != 0 else { return nil }
    let d = 1 / det
    return [
        (s(1, 1) * s(2, 2) - s(1, 2) * s(2, 1)) * d,
        (s(0, 2) * s(2, 1) - s(0, 1) * s(2, 2)) * d,
        (s(0, 1) * s(1, 2) - s(0, 2) * s(1, 1)) * d,
        (s(1, 2) * s(2, 0) - s(1, 0) * s(2, 2)) * d,
        (s(0, 0) * s(2, 2) - s(0, 2) * s(2, 0)) * d,
        (s(0, 2) * s(1, 0) - s(0, 0) * s(1, 2)) * d,
        (s(1, 0) * s(2, 1) - s(1, 1) * s(2, 0)) * d,
        (s(0, 1) * s(2, 0) - s(0, 0) * s(2, 1)) * d,
        (s(0, 0) * s(1, 1) - s(0, 1) * s(1, 0)) * d,
    ]
}

// MARK: - Sampling positions

/// `saturate_cast<int>(double)`: round half to even, clamp to the Int32 range (NaN → Int32.max,
/// like OpenCV's scalar path which clamps with std::min/std::max before rounding).
@inline(__always)
public func openCVSaturateToInt32(_ v: Double) -> Int32 {
    let upper = Double(Int32.max), lower = Double(Int32.min)
    let clampedHigh = v < upper ? v : upper   // std::min(INT_MAX, v)
    let clamped = lower < clampedHigh ? clampedHigh : lower  // std::max(INT_MIN, ·)
    // Round half to even without a libm call (baseline x86-64 has no rounding instruction): with
    // |clamped| ≤ 2^31, `clamped + 1.5·2^52` lies in [2^52, 2^53), where the spacing of doubles
    // is 1, so the addition itself rounds to the nearest integer, ties to even (the default
    // mode); the low 32 bits of the sum's pattern are that integer in two's complement.
    let shifted = clamped + 6_755_399_441_055_744.0
    return Int32(truncatingIfNeeded: shifted.bitPattern)
}

/// ``openCVSaturateToInt32(_:)`` lane by lane: the same clamps (NaN → Int32.max) and the same
/// round-half-to-even addition, as vector operations.
@inline(__always)
public func openCVSaturateToInt32(vector v: SIMD4<Double>) -> SIMD4<Int32> {
    let upper = SIMD4<Double>(repeating: Double(Int32.max)), lower = SIMD4<Double>(repeating: Double(Int32.min))
    let clampedHigh = upper.replacing(with: v, where: v .< upper)          // v < upper ? v : upper
    let clamped = lower.replacing(with: clampedHigh, where: lower .< clampedHigh)   // lower < c ? c : lower
    let shifted = clamped + SIMD4<Double>(repeating: 6_755_399_441_055_744.0)
    let bits = unsafeBitCast(shifted, to: SIMD4<UInt64>.self)
    return SIMD4<Int32>(truncatingIfNeeded: bits)
}

@inline(__always)
private func saturateToInt16(_ v: Int32) -> Int16 {
    Int16(clamping: v)
}

/// Sampling position of one destination pixel: integer tap `(x, y)` (top-left of the 2×2 block)
/// and 1/32 sub-pixel index `fy * 32 + fx`.
private struct SamplePosition {
    var x: Int16
    var y: Int16
    var fraction: Int16
}

/// `WarpPerspectiveInvoker` with INTER_LINEAR: positions of every destination pixel of a
/// `width × height` output, for the inverse (destination → source) homography `m` (row-major).
/// OpenCV evaluates `M·(x, y, 1)` per 32×32-pixel block as `X0 + M0·x1` with `X0` taken at the
/// block's first column, so the block layout is reproduced to get the same Double rounding.
private func perspectivePositions(inverse m: [Double], width: Int, height: Int) -> [SamplePosition] {
    var out = [SamplePosition](repeating: SamplePosition(x: 0, y: 0, fraction: 0), count: width * height)
    let blockSize = 32
    var bh0 = min(blockSize / 2, height)
    let bw0 = min(blockSize * blockSize / bh0, width)
    bh0 = min(blockSize * blockSize / bw0, height)
    let tab = Double(interTabSize)
    let mask = Int32(interTabSize - 1)
    var y = 0
    while y < height {
        let bh = min(bh0, height - y)
        var x = 0
        while x < width {
            let bw = min(bw0, width - x)
            for y1 in 0..<bh {
                let row = Double(y + y1), col = Double(x)
                let x0 = m[0] * col + m[1] * row + m[2]
                let y0 = m[3] * col + m[4] * row + m[5]
                let w0 = m[6] * col + m[7] * row + m[8]
                for x1 in 0..<bw {
                    let dx1 = Double(x1)
                    var w = w0 + m[6] * dx1
                    w = w != 0 ? tab / w : 0
                    let ix = openCVSaturateToInt32((x0 + m[0] * dx1) * w)
                    let iy = openCVSaturateToInt32((y0 + m[3] * dx1) * w)
                    out[(y + y1) * width + x + x1] = SamplePosition(
                        x: saturateToInt16(ix >> Int32(interBits)),
                        y: saturateToInt16(iy >> Int32(interBits)),
                        fraction: Int16((iy & mask) * Int32(interTabSize) + (ix & mask)))
                }
            }
            x += bw0
        }
        y += bh0
    }
    return out
}

// MARK: - Bilinear remap

/// `remapBilinear` for 8-bit RGB: fixed-point weights summing to 2^15, `(sum + 2^14) >> 15`.
/// The 2×2 tap columns `x0, x1` and rows `y0, y1` of a sample whose block is not wholly inside
/// the image, as OpenCV's remap treats borders: `.replicate` clamps to the edge; `.zero` marks
/// a tap outside with -1 (it reads 0) and returns nil when all four taps are outside.
@inline(__always)
private func borderTaps(_ sx: Int, _ sy: Int, _ width: Int, _ height: Int,
                        _ border: WarpBorder) -> (Int, Int, Int, Int)? {
    switch border {
    case .zero:
        if sx >= width || sx + 1 < 0 || sy >= height || sy + 1 < 0 { return nil }
        return (sx >= 0 && sx < width ? sx : -1, sx + 1 >= 0 && sx + 1 < width ? sx + 1 : -1,
                sy >= 0 && sy < height ? sy : -1, sy + 1 >= 0 && sy + 1 < height ? sy + 1 : -1)
    case .replicate:
        return (min(max(sx, 0), width - 1), min(max(sx + 1, 0), width - 1),
                min(max(sy, 0), height - 1), min(max(sy + 1, 0), height - 1))
    }
}

/// - source: `[sourceHeight, sourceWidth, 3]` HWC RGB8. Output: `[positions.count, 3]` RGB8.
private func remapBilinearRGB8(source: UnsafeBufferPointer<UInt8>, sourceWidth: Int, sourceHeight: Int,
                               positions: [SamplePosition], border: WarpBorder) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: positions.count * 3)
    let rowStride = sourceWidth * 3
    // A pixel is an "inlier" when its whole 2×2 block is inside: 0 ≤ x ≤ W-2, 0 ≤ y ≤ H-2.
    let innerWidth = max(sourceWidth - 1, 0), innerHeight = max(sourceHeight - 1, 0)
    let round = Int32(1 << (remapCoefBits - 1))
    bilinearWeightsFixed.withUnsafeBufferPointer { weights in
        out.withUnsafeMutableBufferPointer { dst in
            for (i, p) in positions.enumerated() {
                let sx = Int(p.x), sy = Int(p.y)
                let w = 4 * Int(p.fraction)
                let w0 = weights[w], w1 = weights[w + 1], w2 = weights[w + 2], w3 = weights[w + 3]
                if sx >= 0, sx < innerWidth, sy >= 0, sy < innerHeight {
                    let o = sy * rowStride + sx * 3
                    for c in 0..<3 {
                        let sum = Int32(source[o + c]) * w0 + Int32(source[o + 3 + c]) * w1
                            + Int32(source[o + rowStride + c]) * w2 + Int32(source[o + rowStride + 3 + c]) * w3
                        dst[i * 3 + c] = UInt8(clamping: (sum + round) >> Int32(remapCoefBits))
                    }
                    continue
                }
                guard let (x0, x1, y0, y1) = borderTaps(sx, sy, sourceWidth, sourceHeight, border) else {
                    continue  // all four taps outside: border value 0 (already zero)
                }
                for c in 0..<3 {
                    func tap(_ x: Int, _ y: Int) -> Int32 {
                        x >= 0 && y >= 0 ? Int32(source[y * rowStride + x * 3 + c]) : 0
                    }
                    let sum = tap(x0, y0) * w0 + tap(x1, y0) * w1 + tap(x0, y1) * w2 + tap(x1, y1) * w3
                    dst[i * 3 + c] = UInt8(clamping: (sum + round) >> Int32(remapCoefBits))
                }
            }
        }
    }
    return out
}

/// `WarpAffineInvoker` with INTER_LINEAR for the inverse (destination → source) 2×3 matrix `m`
/// (row-major, Double), fused with `remapBilinear` for one Float channel, row by row (no position
/// array in between). Coordinates go through 10-bit fixed point (`AB_BITS`) with a rounding delta
/// of half a 1/32 step, then are split into integer tap and 1/32 fraction; taps are weighted with
/// the float table and summed in tap order in Float.
/// - source: `[sourceHeight, sourceWidth]` Float. Output: `[outputHeight, outputWidth]` Float.
private func warpAffineBilinearF32(source: UnsafeBufferPointer<Float>, sourceWidth: Int, sourceHeight: Int,
                                   inverse m: [Double], outputWidth width: Int, outputHeight height: Int,
                                   border: WarpBorder) -> [Float] {
    let abBits = max(10, interBits)
    let abScale = Double(1 << abBits)
    let roundDelta = Int32((1 << abBits) / interTabSize / 2)
    let shift = Int32(abBits - interBits)
    let mask = Int32(interTabSize - 1)
    // Per-column increments, computed once as OpenCV does: saturate_cast<int>(M0·x·AB_SCALE).
    let aDelta = (0..<width).map { openCVSaturateToInt32(m[0] * Double($0) * abScale) }   // [width]
    let bDelta = (0..<width).map { openCVSaturateToInt32(m[3] * Double($0) * abScale) }   // [width]
    let innerWidth = max(sourceWidth - 1, 0), innerHeight = max(sourceHeight - 1, 0)
    guard let src = source.baseAddress else { return [Float](repeating: 0, count: width * height) }
    return [Float](unsafeUninitializedCapacity: width * height) { out, initialized in
        bilinearWeightsFloat.withUnsafeBufferPointer { weightsBuffer in
            aDelta.withUnsafeBufferPointer { aBuffer in
                bDelta.withUnsafeBufferPointer { bBuffer in
                    guard let dst = out.baseAddress, let weights = weightsBuffer.baseAddress,
                          let a = aBuffer.baseAddress, let b = bBuffer.baseAddress else { return }
                    for y in 0..<height {
                        let x0 = openCVSaturateToInt32((m[1] * Double(y) + m[2]) * abScale) &+ roundDelta
                        let y0 = openCVSaturateToInt32((m[4] * Double(y) + m[5]) * abScale) &+ roundDelta
                        let row = dst + y * width
                        for x in 0..<width {
                            let ix = (x0 &+ a[x]) >> shift
                            let iy = (y0 &+ b[x]) >> shift
                            let sx = Int(saturateToInt16(ix >> Int32(interBits)))
                            let sy = Int(saturateToInt16(iy >> Int32(interBits)))
                            let w = 4 * Int((iy & mask) * Int32(interTabSize) + (ix & mask))
                            let w0 = weights[w], w1 = weights[w + 1], w2 = weights[w + 2], w3 = weights[w + 3]
                            if sx >= 0, sx < innerWidth, sy >= 0, sy < innerHeight {
                                let o = sy * sourceWidth + sx
                                var sum = src[o] * w0
                                sum += src[o + 1] * w1
                                sum += src[o + sourceWidth] * w2
                                sum += src[o + sourceWidth + 1] * w3
                                row[x] = sum
                                continue
                            }
                            guard let (tx0, tx1, ty0, ty1) = borderTaps(sx, sy, sourceWidth, sourceHeight, border) else {
                                row[x] = 0
                                continue
                            }
                            func tap(_ x: Int, _ y: Int) -> Float { x >= 0 && y >= 0 ? src[y * sourceWidth + x] : 0 }
                            var sum = tap(tx0, ty0) * w0
                            sum += tap(tx1, ty0) * w1
                            sum += tap(tx0, ty1) * w2
                            sum += tap(tx1, ty1) * w3
                            row[x] = sum
                        }
                    }
                }
            }
        }
        initialized = width * height
    }
}

// MARK: - Public warps

private func validateOutputSize(_ width: Int, _ height: Int) throws {
    guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15, width * height <= PNGLimits.maxPixels else {
        throw PoseImageError.invalidWarp(
            "output size \(width)x\(height) must be in 1...32768 per side and at most \(PNGLimits.maxPixels) pixels")
    }
}

/// Runs `body(band)` for every band in `0..<count`, possibly several at once on other threads
/// (e.g. `Interpreter.parallelFor`). A warp gives each band its own output rows, so the result is
/// the same for any schedule and thread count.
public typealias WarpParallelFor = (_ count: Int, _ body: (_ band: Int) -> Void) -> Void

/// `cv::warpPerspective(src, dst, M, Size(outputWidth, outputHeight), INTER_LINEAR, border)` on an
/// RGB8 image. `forward` maps source pixels to destination pixels (row-major 3×3 Double); it is
/// inverted with `openCVInvert3x3` like OpenCV does without `WARP_INVERSE_MAP`.
/// - Parameter parallelFor: when given, the output rows are split into bands run through it.
/// - Returns: `[outputHeight, outputWidth, 3]` HWC RGB8.
public func warpPerspectiveRGB8(image: RGBImage, forward: [Double], outputWidth: Int, outputHeight: Int,
                                border: WarpBorder, parallelFor: WarpParallelFor? = nil) throws -> [UInt8] {
    let inverse = try perspectiveInverse(forward, outputWidth: outputWidth, outputHeight: outputHeight)
    let count = outputWidth * outputHeight * 3
    return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
        image.pixels.withUnsafeBufferPointer { source in
            bilinearWeightsFixed.withUnsafeBufferPointer { weights in
                guard let src = source.baseAddress, let dst = out.baseAddress, let table = weights.baseAddress else { return }
                let layout = PerspectiveWarpLayout(inverse: inverse, outputWidth: outputWidth, outputHeight: outputHeight,
                                                   sourceWidth: image.width, sourceHeight: image.height, border: border)
                guard let parallelFor, outputHeight >= 2 * warpBandRows else {
                    layout.warpRowsRGB8(0..<outputHeight, source: src, weights: table, output: dst)
                    return
                }
                let bands = outputHeight / warpBandRows
                parallelFor(bands) { band in
                    let rows = (outputHeight * band / bands)..<(outputHeight * (band + 1) / bands)
                    layout.warpRowsRGB8(rows, source: src, weights: table, output: dst)
                }
            }
        }
        initialized = count
    }
}

/// Checks a warp's output size and forward homography (row-major 3×3) and returns its inverse,
/// computed as OpenCV does without `WARP_INVERSE_MAP` (`openCVInvert3x3`).
private func perspectiveInverse(_ forward: [Double], outputWidth: Int, outputHeight: Int) throws -> [Double] {
    try validateOutputSize(outputWidth, outputHeight)
    guard forward.count == 9, forward.allSatisfy({ $0.isFinite }) else {
        throw PoseImageError.invalidWarp("perspective matrix must be 9 finite numbers")
    }
    guard let inverse = openCVInvert3x3(forward) else {
        throw PoseImageError.invalidWarp("perspective matrix is singular")
    }
    return inverse
}

/// Rows per band (at least) when a warp is split over threads.
private let warpBandRows = 16

/// The reference twin of ``warpPerspectiveRGB8(image:forward:outputWidth:outputHeight:border:)``: the
/// same OpenCV arithmetic written plainly (a position array, then a per-tap remap with a border
/// function), kept to test the fast row kernel against. Same validation, same result bytes.
public func referenceWarpPerspectiveRGB8(image: RGBImage, forward: [Double], outputWidth: Int, outputHeight: Int,
                                         border: WarpBorder) throws -> [UInt8] {
    let inverse = try perspectiveInverse(forward, outputWidth: outputWidth, outputHeight: outputHeight)
    let positions = perspectivePositions(inverse: inverse, width: outputWidth, height: outputHeight)
    return image.pixels.withUnsafeBufferPointer {
        remapBilinearRGB8(source: $0, sourceWidth: image.width, sourceHeight: image.height,
                          positions: positions, border: border)
    }
}

/// `WarpPerspectiveInvoker` + `remapBilinear` (INTER_LINEAR, 8-bit, 3 channels) fused row by row:
/// each destination pixel's position is computed and sampled at once, with no position array and
/// no per-tap border function on the inside of the image. The arithmetic is the reference's
/// (``referenceWarpPerspectiveRGB8(image:forward:outputWidth:outputHeight:border:)``) step for step:
/// the homography per 32×32-block column start in Double, `saturate_cast<int>`, the 1/32 grid, the
/// fixed-point weights and `(sum + 2^14) >> 15`. A tap outside the image under `.zero` reads 0 in
/// the reference; here its weight is 0 and it reads a clamped (valid) pixel: the same sum exactly.
/// Rows are independent (a row's result does not depend on which rows are computed with it).
struct PerspectiveWarpLayout {
    /// Inverse homography (destination → source), row-major `[9]`.
    let m: (Double, Double, Double, Double, Double, Double, Double, Double, Double)
    let outputWidth: Int
    let sourceWidth: Int
    let sourceHeight: Int
    let border: WarpBorder
    /// OpenCV's block width: positions are evaluated as `X0 + M0·x1` with `X0` at each block's first column.
    let blockWidth: Int

    init(inverse: [Double], outputWidth: Int, outputHeight: Int, sourceWidth: Int, sourceHeight: Int, border: WarpBorder) {
        m = (inverse[0], inverse[1], inverse[2], inverse[3], inverse[4], inverse[5], inverse[6], inverse[7], inverse[8])
        self.outputWidth = outputWidth
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.border = border
        let blockSize = 32
        let bh0 = min(blockSize / 2, outputHeight)
        blockWidth = min(blockSize * blockSize / bh0, outputWidth)
    }

    /// Pixels per chunk: positions are computed (and their source lines prefetched) for a chunk,
    /// then the chunk is sampled, so the sampling loads mostly hit the cache.
    static let chunkPixels = 128

    /// Writes rows `rows` of the `[outputHeight, outputWidth, 3]` output.
    /// - source: `[sourceHeight, sourceWidth, 3]` HWC RGB8. weights: `bilinearWeightsFixed`, `[32·32][4]`.
    func warpRowsRGB8(_ rows: Range<Int>, source: UnsafePointer<UInt8>, weights: UnsafePointer<Int32>,
                      output: UnsafeMutablePointer<UInt8>) {
        // Per chunk pixel: tap byte offsets `[chunkPixels][4]` (x0y0, x1y0, x0y1, x1y1) and tap weights
        // `[chunkPixels][4]` (fixed point; 0 for a tap outside under `.zero`).
        let taps = UnsafeMutablePointer<Int>.allocate(capacity: Self.chunkPixels * 4)
        let tapWeights = UnsafeMutablePointer<Int32>.allocate(capacity: Self.chunkPixels * 4)
        // Per chunk pixel: the fixed-point source position (1/32 px) `[chunkPixels]` each.
        let positionsX = UnsafeMutablePointer<Int32>.allocate(capacity: Self.chunkPixels)
        let positionsY = UnsafeMutablePointer<Int32>.allocate(capacity: Self.chunkPixels)
        defer { taps.deallocate(); tapWeights.deallocate(); positionsX.deallocate(); positionsY.deallocate() }
        let mask = Int32(interTabSize - 1)
        let rowStride = sourceWidth * 3, sourceBytes = rowStride * sourceHeight
        let innerWidth = UInt(max(sourceWidth - 1, 0)), innerHeight = UInt(max(sourceHeight - 1, 0))
        let lastX = sourceWidth - 1, lastY = sourceHeight - 1
        let round = Int32(1 << (remapCoefBits - 1))
        let zeroBorder = border == .zero
        for y in rows {
            let row = Double(y)
            var dst = output + y * outputWidth * 3
            var x = 0
            while x < outputWidth {
                let bw = min(blockWidth, outputWidth - x)
                let col = Double(x)
                let x0 = m.0 * col + m.1 * row + m.2
                let y0 = m.3 * col + m.4 * row + m.5
                let w0 = m.6 * col + m.7 * row + m.8
                var chunkStart = 0
                while chunkStart < bw {
                    let chunk = min(Self.chunkPixels, bw - chunkStart)
                    // Pass 1a: the positions, four pixels at a time (the scalar steps lane by lane).
                    positions(count: chunk, from: chunkStart, x0: x0, y0: y0, w0: w0, x: positionsX, y: positionsY)
                    // Pass 1b: taps and weights of the chunk; prefetch the two source rows.
                    for i in 0..<chunk {
                        let ix = positionsX[i], iy = positionsY[i]
                        let sx = Int(saturateToInt16(ix >> Int32(interBits)))
                        let sy = Int(saturateToInt16(iy >> Int32(interBits)))
                        // (Wrapping arithmetic: the table index is below 32·32, and inside the image
                        // the offsets are below its byte count.)
                        let table = weights + 4 &* Int((iy & mask) &* Int32(interTabSize) &+ (ix & mask))
                        let t = taps + 4 &* i, k = tapWeights + 4 &* i
                        k[0] = table[0]; k[1] = table[1]; k[2] = table[2]; k[3] = table[3]
                        if UInt(bitPattern: sx) < innerWidth, UInt(bitPattern: sy) < innerHeight {
                            let p00 = sy &* rowStride &+ sx &* 3
                            t[0] = p00; t[1] = p00 &+ 3; t[2] = p00 &+ rowStride; t[3] = p00 &+ rowStride &+ 3
                        } else {
                            let inX0 = sx >= 0 && sx <= lastX, inX1 = sx + 1 >= 0 && sx + 1 <= lastX
                            let inY0 = sy >= 0 && sy <= lastY, inY1 = sy + 1 >= 0 && sy + 1 <= lastY
                            if zeroBorder {
                                // All four outside: every weight 0 gives the border value 0.
                                if !(inX0 && inY0) { k[0] = 0 }
                                if !(inX1 && inY0) { k[1] = 0 }
                                if !(inX0 && inY1) { k[2] = 0 }
                                if !(inX1 && inY1) { k[3] = 0 }
                            }
                            let cx0 = min(max(sx, 0), lastX) * 3, cx1 = min(max(sx + 1, 0), lastX) * 3
                            let cy0 = min(max(sy, 0), lastY) * rowStride, cy1 = min(max(sy + 1, 0), lastY) * rowStride
                            t[0] = cy0 + cx0; t[1] = cy0 + cx1; t[2] = cy1 + cx0; t[3] = cy1 + cx1
                        }
                        blaze_prefetch_read(source + t[0])
                        blaze_prefetch_read(source + t[2])
                    }
                    // Pass 2: the weighted sums, `(sum + 2^14) >> 15` per channel: the three channels
                    // at once (`blaze_bilinear_rgb8`, 4-byte loads) when the last tap's 4 bytes lie
                    // inside the image (all but a tap on its very last pixel), else one at a time.
                    for i in 0..<chunk {
                        let t = taps + 4 * i, k = tapWeights + 4 * i
                        if t[3] &+ 4 <= sourceBytes {
                            blaze_bilinear_rgb8(source, t, k, round, Int32(remapCoefBits), dst)
                            dst += 3
                            continue
                        }
                        let p00 = source + t[0], p01 = source + t[1], p10 = source + t[2], p11 = source + t[3]
                        let k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3]
                        for c in 0..<3 {
                            // Bytes times weights summing to at most 2^15: no overflow, wrapping ops are exact.
                            let sum = Int32(p00[c]) &* k0 &+ Int32(p01[c]) &* k1 &+ Int32(p10[c]) &* k2 &+ Int32(p11[c]) &* k3
                            dst[c] = UInt8(clamping: (sum &+ round) >> Int32(remapCoefBits))
                        }
                        dst += 3
                    }
                    chunkStart += chunk
                }
                x += bw
            }
        }
    }

    /// The fixed-point positions (`saturate_cast<int>` of the source coordinate × 32) of `count`
    /// pixels at block offsets `first ..< first + count`, into `x[0 ..< count]`, `y[0 ..< count]`:
    /// `w = w0 + M6·dx`, `w = w ≠ 0 ? 32 / w : 0`, `X = (x0 + M0·dx)·w`, `Y = (y0 + M3·dx)·w`, each step
    /// one IEEE Double operation as in the scalar formula (no fused multiply-add), four lanes at a time,
    /// so every lane's bits are the scalar's. A last partial group computes lanes past `count` and
    /// stores only the first ones.
    @inline(__always)
    private func positions(count: Int, from first: Int, x0: Double, y0: Double, w0: Double,
                           x: UnsafeMutablePointer<Int32>, y: UnsafeMutablePointer<Int32>) {
        let tab = SIMD4<Double>(repeating: Double(interTabSize))
        let m0 = SIMD4<Double>(repeating: m.0), m3 = SIMD4<Double>(repeating: m.3), m6 = SIMD4<Double>(repeating: m.6)
        let vx0 = SIMD4<Double>(repeating: x0), vy0 = SIMD4<Double>(repeating: y0), vw0 = SIMD4<Double>(repeating: w0)
        var i = 0
        while i < count {
            let dx = SIMD4<Double>(repeating: Double(first + i)) + SIMD4<Double>(0, 1, 2, 3)   // small integers: exact
            var w = vw0 + m6 * dx
            w = (tab / w).replacing(with: 0, where: w .== 0)
            let ix = openCVSaturateToInt32(vector: (vx0 + m0 * dx) * w)
            let iy = openCVSaturateToInt32(vector: (vy0 + m3 * dx) * w)
            let lanes = Swift.min(4, count - i)
            for lane in 0..<lanes { x[i + lane] = ix[lane]; y[i + lane] = iy[lane] }
            i += 4
        }
    }
}

/// The homography MediaPipe's `ImageToTensorConverter` (OpenCV backend) builds for `roi`: the
/// rect's `cv::boxPoints` mapped to the output corners (0,H), (0,0), (W,0), (W,H).
/// The angle is converted like MediaPipe: `Float(Double(rotation · 180) / π)`.
public func mediaPipeRoiTransform(roi: PixelRect, outputWidth: Int, outputHeight: Int) throws -> [Double] {
    let values = [roi.centerX, roi.centerY, roi.width, roi.height, roi.rotation]
    guard values.allSatisfy({ $0.isFinite }), roi.width > 0, roi.height > 0 else {
        throw PoseImageError.invalidWarp(
            "ROI must be finite with positive size, got center (\(roi.centerX), \(roi.centerY)) "
                + "size \(roi.width)x\(roi.height) rotation \(roi.rotation)")
    }
    try validateOutputSize(outputWidth, outputHeight)
    let angleDegrees = Float(Double(roi.rotation * 180) / Double.pi)
    let corners = openCVBoxPoints(centerX: roi.centerX, centerY: roi.centerY, width: roi.width,
                                  height: roi.height, angleDegrees: angleDegrees)
    let w = Float(outputWidth), h = Float(outputHeight)
    let destination: [SIMD2<Float>] = [.init(0, h), .init(0, 0), .init(w, 0), .init(w, h)]
    guard let m = openCVPerspectiveTransform(source: corners, destination: destination) else {
        throw PoseImageError.invalidWarp("ROI corners are degenerate (singular perspective system)")
    }
    return m
}

/// The 8-bit crop of MediaPipe's ImageToTensor (OpenCV backend): `roi` resampled to
/// `outputWidth × outputHeight` with bilinear INTER_LINEAR and the given border, bit-exact with
/// OpenCV's `warpPerspective`.
/// - Returns: `[outputHeight, outputWidth, 3]` HWC RGB8.
/// - Throws: `PoseImageError.invalidWarp` for a non-finite or non-positive ROI (MediaPipe treats a
///   0×0 ROI as "no tensor"; callers should check that case first) or a bad output size.
public func warpRotatedRectRGB8(image: RGBImage, roi: PixelRect, outputWidth: Int, outputHeight: Int,
                                border: WarpBorder, parallelFor: WarpParallelFor? = nil) throws -> [UInt8] {
    let forward = try mediaPipeRoiTransform(roi: roi, outputWidth: outputWidth, outputHeight: outputHeight)
    return try warpPerspectiveRGB8(image: image, forward: forward, outputWidth: outputWidth,
                                   outputHeight: outputHeight, border: border, parallelFor: parallelFor)
}

/// MediaPipe's `GetValueRangeTransformation(0, 255, rangeMin, rangeMax)`:
/// `scale = (max − min) / 255`, `offset = min − 0 · scale`, in Float.
public func mediaPipeValueTransform(rangeMin: Float, rangeMax: Float) -> (scale: Float, offset: Float) {
    let scale = (rangeMax - rangeMin) / (255 - 0)
    let offset = rangeMin - 0 * scale
    return (scale, offset)
}

/// `cv::Mat::convertTo(CV_32F, scale, offset)` of one byte: `fma(Float(p), scale, offset)`.
/// OpenCV 4.x runs this loop with its AVX2 dispatch (`v_fma`), i.e. a *fused* multiply-add; an
/// unfused `p·scale + offset` differs by 1 ulp for 158 of the 256 byte values when the range is
/// [-1, 1] (none for [0, 1]). Verified against opencv-python-headless 4.10 on an AVX2 CPU.
@inline(__always)
public func applyValueTransform(_ p: UInt8, scale: Float, offset: Float) -> Float {
    offset.addingProduct(Float(p), scale)
}

/// The full ImageToTensor step: `warpRotatedRectRGB8`, then `applyValueTransform` per sample
/// (`cv::Mat::convertTo(CV_32FC3, scale, offset)` with MediaPipe's `GetValueRangeTransformation`).
/// - Returns: NHWC `[1, outputHeight, outputWidth, 3]` Float32, RGB.
public func warpRotatedRectToTensor(image: RGBImage, roi: PixelRect, outputWidth: Int, outputHeight: Int,
                                    border: WarpBorder, rangeMin: Float, rangeMax: Float) throws -> [Float] {
    let bytes = try warpRotatedRectRGB8(image: image, roi: roi, outputWidth: outputWidth,
                                        outputHeight: outputHeight, border: border)
    let (scale, offset) = mediaPipeValueTransform(rangeMin: rangeMin, rangeMax: rangeMax)
    return bytes.map { applyValueTransform($0, scale: scale, offset: offset) }
}

/// `cv::warpAffine(src, dst, M, size, INTER_LINEAR | WARP_INVERSE_MAP, border)` on a one-channel
/// Float image. `inverse` maps destination pixels to source pixels (2×3 row-major, Double).
/// - source: `[sourceHeight, sourceWidth]` Float. Returns `[outputHeight, outputWidth]` Float.
public func warpAffineF32(source: [Float], sourceWidth: Int, sourceHeight: Int, inverse: [Double],
                          outputWidth: Int, outputHeight: Int, border: WarpBorder) throws -> [Float] {
    try validateDimensions(width: sourceWidth, height: sourceHeight, channels: 1, count: source.count)
    try validateOutputSize(outputWidth, outputHeight)
    guard inverse.count == 6, inverse.allSatisfy({ $0.isFinite }) else {
        throw PoseImageError.invalidWarp("affine matrix must be 6 finite numbers")
    }
    return source.withUnsafeBufferPointer {
        warpAffineBilinearF32(source: $0, sourceWidth: sourceWidth, sourceHeight: sourceHeight, inverse: inverse,
                              outputWidth: outputWidth, outputHeight: outputHeight, border: border)
    }
}

/// The 4×4 matrix (row-major) mapping image-normalized coordinates to crop-normalized ones:
/// the inverse of MediaPipe's `GetRotatedSubRectToRectTransformMatrix` for the padded ROI
/// (docs/pipeline.md §2.9, §2.16). MediaPipe builds the forward matrix in Float and inverts it with Eigen;
/// we build the forward matrix the same way and invert its affine 2×2 block in Double, so a
/// few entries can differ by an ulp (the mask tolerance in STAGES.md covers that). It is the
/// `matrix` ``warpMaskBack(mask:maskWidth:maskHeight:matrix:outputWidth:outputHeight:)`` takes.
public func mediaPipeMaskMatrix(padded: PixelRect, imageWidth: Int, imageHeight: Int) -> [Float] {
    let a = padded.width, b = padded.height
    let c = cosf(padded.rotation), d = sinf(padded.rotation)
    let e = padded.centerX, f = padded.centerY
    let g = 1 / Float(imageWidth), h = 1 / Float(imageHeight)
    // Forward: crop-normalized (u, v) → image-normalized (X, Y).
    let m0 = a * c * g, m1 = -b * d * g, m3 = (-0.5 * a * c + 0.5 * b * d + e) * g
    let m4 = a * d * h, m5 = b * c * h, m7 = (-0.5 * b * c - 0.5 * a * d + f) * h
    let m10 = a * g
    let (p0, p1, p3, p4, p5, p7) = (Double(m0), Double(m1), Double(m3), Double(m4), Double(m5), Double(m7))
    let det = p0 * p5 - p1 * p4
    let i0 = p5 / det, i1 = -p1 / det, i4 = -p4 / det, i5 = p0 / det
    let i3 = -(i0 * p3 + i1 * p7), i7 = -(i4 * p3 + i5 * p7)
    return [Float(i0), Float(i1), 0, Float(i3),
            Float(i4), Float(i5), 0, Float(i7),
            0, 0, Float(1 / Double(m10)), 0,
            0, 0, 0, 1]
}

/// MediaPipe's segmentation-mask warp-back (`AffineTransformation` OpenCV runner, kOpenCvCompatibility):
/// the 4×4 `matrix` (row-major Float, maps output-normalized to mask-normalized coordinates) is
/// turned into absolute pixels as `diag(maskW, maskH, 1, 1) · matrix · diag(1/outW, 1/outH, 1, 1)` in
/// Float, and `cv::warpAffine(INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT 0)` is applied.
/// - mask: `[maskHeight, maskWidth]` Float. Returns `[outputHeight, outputWidth]` Float.
public func warpMaskBack(mask: [Float], maskWidth: Int, maskHeight: Int, matrix: [Float],
                         outputWidth: Int, outputHeight: Int) throws -> [Float] {
    guard matrix.count == 16 else { throw PoseImageError.invalidWarp("mask matrix must have 16 entries") }
    try validateOutputSize(outputWidth, outputHeight)
    let sx = 1 * Float(maskWidth), sy = 1 * Float(maskHeight)
    let nx = 1 / Float(outputWidth), ny = 1 / Float(outputHeight)
    // Matx44f products with diagonal factors: the zero terms add exactly, leaving one product each.
    func entry(_ r: Int, _ c: Int) -> Float {
        let rowScale: Float = r == 0 ? sx : (r == 1 ? sy : 1)
        let colScale: Float = c == 0 ? nx : (c == 1 ? ny : 1)
        return (rowScale * matrix[r * 4 + c]) * colScale
    }
    let inverse = [entry(0, 0), entry(0, 1), entry(0, 3), entry(1, 0), entry(1, 1), entry(1, 3)].map(Double.init)
    return try warpAffineF32(source: mask, sourceWidth: maskWidth, sourceHeight: maskHeight, inverse: inverse,
                             outputWidth: outputWidth, outputHeight: outputHeight, border: .zero)
}
