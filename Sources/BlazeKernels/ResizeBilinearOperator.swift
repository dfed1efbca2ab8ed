#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RESIZE_BILINEAR on NHWC float32, bit-identical to TFLite's `reference_ops::ResizeBilinear`.
///
/// Source coordinate per output index `v`: `(v + 0.5) * scale - 0.5` with half-pixel centres,
/// else `v * scale`; `scale = in / out`, or `(in - 1) / (out - 1)` with align_corners (out > 1).
/// `lower = max(Int(floor(s)), 0)`, `upper = min(Int(ceil(s)), in - 1)`, and the value is
/// `((x00·(1-dy))·(1-dx) + (x10·dy)·(1-dx)) + (x01·(1-dy))·dx + (x11·dy)·dx` with `dy = s_y - y0`
/// (note: `lower` may differ from `floor` when `s < 0`, which TFLite keeps, so the weights can exceed 1).
public final class ResizeBilinearOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let alignCorners: Bool
    public let halfPixelCenters: Bool
    /// Per output row: (y0, y1, dy).
    let rowsTable: [(Int, Int, Float)]
    /// `[OW]`: per output column the float offsets `x0·C`, `x1·C` of its two input columns and its
    /// weights `dx`, `1 − dx`; read in the pixel loop without bounds checks or tuple unpacking.
    let columns: UnsafeMutablePointer<ResizeColumn>

    /// One output column's interpolation (see `columns`).
    struct ResizeColumn {
        var offset0: Int, offset1: Int
        var dx: Float, oneMinusDx: Float
    }

    public init(inputShape: [Int], outputHeight: Int, outputWidth: Int,
                alignCorners: Bool, halfPixelCenters: Bool) throws {
        let op = "RESIZE_BILINEAR"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard outputHeight > 0 && outputHeight <= maxDimension else { throw KernelError.invalidParameter(op: op, name: "output height", value: outputHeight) }
        guard outputWidth > 0 && outputWidth <= maxDimension else { throw KernelError.invalidParameter(op: op, name: "output width", value: outputWidth) }
        if alignCorners && halfPixelCenters {
            throw KernelError.invalidParameter(op: op, name: "align_corners with half_pixel_centers", value: 1)
        }
        self.inputShape = input
        outputShape = try NHWCShape([input.batch, outputHeight, outputWidth, input.channels], op: op, what: "output")
        self.alignCorners = alignCorners
        self.halfPixelCenters = halfPixelCenters
        let hs = resizeScale(input.height, outputHeight, alignCorners)
        let ws = resizeScale(input.width, outputWidth, alignCorners)
        rowsTable = (0..<outputHeight).map { resizeInterpolation($0, hs, halfPixelCenters, input.height) }
        columns = .allocate(capacity: outputWidth)
        for x in 0..<outputWidth {
            let (x0, x1, dx) = resizeInterpolation(x, ws, halfPixelCenters, input.width)
            (columns + x).initialize(to: ResizeColumn(offset0: x0 * input.channels, offset1: x1 * input.channels,
                                                      dx: dx, oneMinusDx: 1 - dx))
        }
    }

    deinit { columns.deallocate() }

    /// `input` NHWC `inputShape` → `output` NHWC `outputShape`; SIMD over channels, same float
    /// operations in the same order as the reference (so results are bit-identical to it).
    /// With `residual` (NHWC `outputShape`, `ld` = C, every channel): a fused ADD,
    /// `output = act(resize + residual)` with the ADD's activation, applied to each finished row
    /// while it is in L1 — the float operations of the two ops in sequence.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool,
                    residual: GemmResidual? = nil) {
        let c = inputShape.channels, ih = inputShape.height, iw = inputShape.width
        let oh = outputShape.height, ow = outputShape.width
        pool.parallelFor(outputShape.batch * oh) { row, _ in
            let b = row / oh, y = row % oh
            let (y0, y1, dy) = rowsTable[y]
            let oneMinusDy = 1 - dy
            let r0 = input + (b * ih + y0) * iw * c, r1 = input + (b * ih + y1) * iw * c
            let out = output + row * ow * c
            let vdy = SIMD8<Float>(repeating: dy), v1dy = SIMD8<Float>(repeating: oneMinusDy)
            if c == 8 {
                // One vector per pixel (the segmentation heads' 8-channel maps, up to 256×256).
                for x in 0..<ow {
                    let col = columns[x]
                    let vdx = SIMD8<Float>(repeating: col.dx), v1dx = SIMD8<Float>(repeating: col.oneMinusDx)
                    let t0 = loadVector(r0 + col.offset0) * v1dy * v1dx
                    let t1 = loadVector(r1 + col.offset0) * vdy * v1dx
                    let t2 = loadVector(r0 + col.offset1) * v1dy * vdx
                    let t3 = loadVector(r1 + col.offset1) * vdy * vdx
                    storeVector(((t0 + t1) + t2) + t3, out + x &* 8)
                }
                if let residual { addResidual(residual, row: row, to: out, count: ow * c) }
                return
            }
            for x in 0..<ow {
                Self.interpolate(row0: r0, row1: r1, column: columns[x], dy: dy, channels: c, into: out + x * c)
            }
            if let residual { addResidual(residual, row: row, to: out, count: ow * c) }
        }
    }

    /// One output pixel: its `channels` values from the input rows `row0` (y0) and `row1` (y1),
    /// each addressed at the pixel's first channel, its column's interpolation and `dy`, into `out`:
    /// `((t0 + t1) + t2) + t3` with `t0 = x00·(1−dy)·(1−dx)`, `t1 = x10·dy·(1−dx)`,
    /// `t2 = x01·(1−dy)·dx`, `t3 = x11·dy·dx` (the reference's operations in its order), 8 channels
    /// at a time, then one at a time. Also what `SparseConv1x1Operator` runs for a fused resize.
    @inline(__always)
    static func interpolate(row0 r0: UnsafePointer<Float>, row1 r1: UnsafePointer<Float>, column col: ResizeColumn, dy: Float,
                            channels c: Int, into o: UnsafeMutablePointer<Float>) {
        let oneMinusDy = 1 - dy, dx = col.dx, oneMinusDx = col.oneMinusDx
        let p00 = r0 + col.offset0, p10 = r1 + col.offset0, p01 = r0 + col.offset1, p11 = r1 + col.offset1
        let vdy = SIMD8<Float>(repeating: dy), v1dy = SIMD8<Float>(repeating: oneMinusDy)
        let vdx = SIMD8<Float>(repeating: dx), v1dx = SIMD8<Float>(repeating: oneMinusDx)
        var ch = 0
        while ch + 8 <= c {
            let t0 = loadVector(p00 + ch) * v1dy * v1dx
            let t1 = loadVector(p10 + ch) * vdy * v1dx
            let t2 = loadVector(p01 + ch) * v1dy * vdx
            let t3 = loadVector(p11 + ch) * vdy * vdx
            storeVector(((t0 + t1) + t2) + t3, o + ch)
            ch += 8
        }
        while ch < c {
            let t0 = p00[ch] * oneMinusDy * oneMinusDx
            let t1 = p10[ch] * dy * oneMinusDx
            let t2 = p01[ch] * oneMinusDy * dx
            let t3 = p11[ch] * dy * dx
            o[ch] = ((t0 + t1) + t2) + t3
            ch += 1
        }
    }

    /// The fused ADD on one finished output row (`count` = OW·C floats): `act(out + skip)` with the
    /// clamp the ADD kernel gives each element: its vector selects (`clampVector`) on the elements
    /// before the tensor's last partial 8-block, `FusedActivation.apply` on that block (they differ
    /// only for −0 against a zero bound).
    @inline(__always)
    private func addResidual(_ residual: GemmResidual, row: Int, to out: UnsafeMutablePointer<Float>, count: Int) {
        let skip = residual.data + row * count
        let act = residual.activation
        let lo = SIMD8<Float>(repeating: act.lowerBound), hi = SIMD8<Float>(repeating: act.upperBound)
        let vectorEnd = Swift.min(count, Swift.max(0, (outputShape.elementCount & ~7) - row * count))
        var j = 0
        while j + 8 <= vectorEnd {
            storeVector(clampVector(loadVector(out + j) + loadVector(skip + j), lo, hi), out + j)
            j += 8
        }
        while j < vectorEnd {
            // The vector selects, one lane: `x < lo ? lo : x`, then `r > hi ? hi : r`.
            let x = out[j] + skip[j]
            let r = x < act.lowerBound ? act.lowerBound : x
            out[j] = r > act.upperBound ? act.upperBound : r
            j += 1
        }
        while j < count {
            out[j] = act.apply(out[j] + skip[j])
            j += 1
        }
    }
}

/// TFLite's scale: `in / out` (float division), or `(in - 1) / (out - 1)` with align_corners and out > 1.
func resizeScale(_ input: Int, _ output: Int, _ alignCorners: Bool) -> Float {
    if alignCorners && output > 1 { return Float(input - 1) / Float(output - 1) }
    return Float(input) / Float(output)
}

/// TFLite's `ComputeInterpolationValues` (float): returns (lower, upper, scaled - lower).
func resizeInterpolation(_ value: Int, _ scale: Float, _ halfPixelCenters: Bool, _ inputSize: Int) -> (Int, Int, Float) {
    let scaled: Float = halfPixelCenters ? (Float(value) + 0.5) * scale - 0.5 : Float(value) * scale
    let lower = Swift.max(Int(Int32(floorf(scaled))), 0)
    let upper = Swift.min(Int(Int32(ceilf(scaled))), inputSize - 1)
    // `input_y - y0` in C++: float minus int converted to float.
    return (lower, upper, scaled - Float(lower))
}

extension Reference {
    /// TFLite `reference_ops::ResizeBilinear` (float), written as the C++ expression (left to right).
    public static func resizeBilinear(input: UnsafePointer<Float>, inputShape: NHWCShape, outputHeight: Int,
                                      outputWidth: Int, alignCorners: Bool, halfPixelCenters: Bool,
                                      output: UnsafeMutablePointer<Float>) {
        let (n, ih, iw, c) = (inputShape.batch, inputShape.height, inputShape.width, inputShape.channels)
        let hs = resizeScale(ih, outputHeight, alignCorners), ws = resizeScale(iw, outputWidth, alignCorners)
        for b in 0..<n { for y in 0..<outputHeight {
            let (y0, y1, _) = resizeInterpolation(y, hs, halfPixelCenters, ih)
            let inputY: Float = halfPixelCenters ? (Float(y) + 0.5) * hs - 0.5 : Float(y) * hs
            for x in 0..<outputWidth {
                let (x0, x1, _) = resizeInterpolation(x, ws, halfPixelCenters, iw)
                let inputX: Float = halfPixelCenters ? (Float(x) + 0.5) * ws - 0.5 : Float(x) * ws
                for ch in 0..<c {
                    func at(_ yy: Int, _ xx: Int) -> Float { input[((b * ih + yy) * iw + xx) * c + ch] }
                    let v: Float = at(y0, x0) * (1 - (inputY - Float(y0))) * (1 - (inputX - Float(x0)))
                        + at(y1, x0) * (inputY - Float(y0)) * (1 - (inputX - Float(x0)))
                        + at(y0, x1) * (1 - (inputY - Float(y0))) * (inputX - Float(x0))
                        + at(y1, x1) * (inputY - Float(y0)) * (inputX - Float(x0))
                    output[((b * outputHeight + y) * outputWidth + x) * c + ch] = v
                }
            }
        } }
    }
}
