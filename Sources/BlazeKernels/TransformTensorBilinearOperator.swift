import Foundation

/// MediaPipe's `TransformTensorBilinear` custom operator, version 2 (face landmark with attention),
/// as `mediapipe/util/tflite/operations/transform_tensor_bilinear.cc` defines it: samples an
/// `[1, H, W, C]` feature map at the points a 4×4 matrix maps each output pixel to.
///
/// - input: NHWC `[1, H, W, C]`; matrix: `[1, 4, 4]` row-major (rows 0 and 1 are used);
///   output: NHWC `[1, OH, OW, C]`.
/// - Align-corners correction (version 2): `m[3] += m[0]·0.5 + m[1]·0.5 − 0.5` (and row 1 alike),
///   evaluated in double and stored as float.
/// - Output pixel `(x, y)` samples at `(tx, ty) = (m0·x + m1·y + m2·0 + m3·1, …)` (float32, in that
///   order); outside `[0, W−1] × [0, H−1]` the value is 0, else the bilinear blend of the four
///   neighbours (a neighbour past the edge reads 0) with MediaPipe's mixed float/double arithmetic:
///   `upper = (1.0 − dx)·q11 + dx·q21`, `result = dy·lower + (1.0 − dy)·upper`.
///
/// `run` computes each pixel's sample position and weights once for all channels and splits rows
/// across threads; `Reference.transformTensorBilinear` recomputes them per channel. Bit-identical.
public struct TransformTensorBilinearOperator: Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape

    public init(inputShape: [Int], outputHeight: Int, outputWidth: Int) throws {
        let op = "TransformTensorBilinear"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard input.batch == 1 else { throw KernelError.invalidShape(op: op, what: "input (batch must be 1)", shape: inputShape) }
        self.inputShape = input
        outputShape = try NHWCShape([1, outputHeight, outputWidth, input.channels], op: op, what: "output")
    }

    /// The first two matrix rows with the version-2 align-corners correction.
    static func correctedRows(_ m: UnsafePointer<Float>) -> ([Float], [Float]) {
        var x = [m[0], m[1], m[2], m[3]], y = [m[4], m[5], m[6], m[7]]
        x[3] = Float(Double(x[3]) + (Double(x[0]) * 0.5 + Double(x[1]) * 0.5 - 0.5))
        y[3] = Float(Double(y[3]) + (Double(y[0]) * 0.5 + Double(y[1]) * 0.5 - 0.5))
        return (x, y)
    }

    /// `l · (x, y, 0, 1)` summed left to right in float32.
    @inline(__always)
    static func dot(_ l: [Float], _ x: Float, _ y: Float) -> Float {
        var s = l[0] * x
        s = s + l[1] * y
        s = s + l[2] * Float(0)
        s = s + l[3] * Float(1)
        return s
    }

    /// The bilinear blend of MediaPipe's kernel (mixed float/double exactly as its C++ promotes).
    @inline(__always)
    static func blend(_ q11: Float, _ q21: Float, _ q12: Float, _ q22: Float, dx: Float, dy: Float) -> Float {
        let upper = Float((1.0 - Double(dx)) * Double(q11) + Double(dx * q21))
        let lower = Float((1.0 - Double(dx)) * Double(q12) + Double(dx * q22))
        return Float(Double(dy * lower) + (1.0 - Double(dy)) * Double(upper))
    }

    /// `input` `[1, H, W, C]`, `matrix` 16 floats → `output` `[1, OH, OW, C]`.
    public func run(input: UnsafePointer<Float>, matrix: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (xr, yr) = Self.correctedRows(matrix)
        let ih = inputShape.height, iw = inputShape.width, c = inputShape.channels
        let ow = outputShape.width
        // [C] zeros: the neighbour read past the right or bottom edge.
        let zero = [Float](repeating: 0, count: c)
        zero.withUnsafeBufferPointer { zp in
          guard let z = zp.baseAddress else { return }
          pool.parallelFor(outputShape.height) { oy, _ in
            for ox in 0..<ow {
                let out = output + (oy * ow + ox) * c
                let tx = Self.dot(xr, Float(ox), Float(oy)), ty = Self.dot(yr, Float(ox), Float(oy))
                guard tx >= 0, tx <= Float(iw - 1), ty >= 0, ty <= Float(ih - 1) else {
                    out.update(repeating: 0, count: c)
                    continue
                }
                let fx = tx.rounded(.down), fy = ty.rounded(.down)
                let x0 = Int(fx), y0 = Int(fy), x1 = x0 + 1, y1 = y0 + 1
                let dx = tx - fx, dy = ty - fy
                let p11 = input + (y0 * iw + x0) * c
                let p21 = x1 < iw ? input + (y0 * iw + x1) * c : z
                let p12 = y1 < ih ? input + (y1 * iw + x0) * c : z
                let p22 = x1 < iw && y1 < ih ? input + (y1 * iw + x1) * c : z
                for ch in 0..<c { out[ch] = Self.blend(p11[ch], p21[ch], p12[ch], p22[ch], dx: dx, dy: dy) }
            }
          }
        }
    }
}

extension Reference {
    /// `TransformTensorBilinear` v2, a literal per-element transcription (sample position and
    /// neighbour reads recomputed for every channel). input `[1, H, W, C]`, matrix 16 floats,
    /// output `[1, OH, OW, C]`.
    public static func transformTensorBilinear(input: UnsafePointer<Float>, height: Int, width: Int, channels: Int,
                                               matrix: UnsafePointer<Float>, outputHeight: Int, outputWidth: Int,
                                               output: UnsafeMutablePointer<Float>) {
        let (xr, yr) = TransformTensorBilinearOperator.correctedRows(matrix)
        func read(_ h: Int, _ w: Int, _ ch: Int) -> Float {
            h < 0 || w < 0 || h >= height || w >= width ? 0 : input[(h * width + w) * channels + ch]
        }
        for oy in 0..<outputHeight {
            for ox in 0..<outputWidth {
                let tx = TransformTensorBilinearOperator.dot(xr, Float(ox), Float(oy))
                let ty = TransformTensorBilinearOperator.dot(yr, Float(ox), Float(oy))
                // MediaPipe tests `tx < 0 || tx > W − 1 || …`; a NaN position (which it would turn into an
                // undefined integer conversion) counts as outside here, as in the operator.
                let outside = !(tx >= 0 && tx <= Float(width - 1) && ty >= 0 && ty <= Float(height - 1))
                for ch in 0..<channels {
                    var result: Float = 0
                    if !outside {
                        let q11 = read(Int(floor(ty)), Int(floor(tx)), ch)
                        let q21 = read(Int(floor(ty)), Int(floor(tx)) + 1, ch)
                        let q12 = read(Int(floor(ty)) + 1, Int(floor(tx)), ch)
                        let q22 = read(Int(floor(ty)) + 1, Int(floor(tx)) + 1, ch)
                        result = TransformTensorBilinearOperator.blend(q11, q21, q12, q22,
                                                                       dx: tx - floor(tx), dy: ty - floor(ty))
                    }
                    output[(oy * outputWidth + ox) * channels + ch] = result
                }
            }
        }
    }
}
