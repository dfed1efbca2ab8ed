#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// MediaPipe's `Landmarks2TransformMatrix` custom operator, version 2 (face landmark with
/// attention), as `mediapipe/util/tflite/operations/landmarks_to_transform_matrix.cc` defines it:
/// from 3-D landmarks, the 4×4 matrix that maps an `outputWidth × outputHeight` crop's pixel
/// coordinates into landmark coordinates. The crop is centred on the subset's rotated bounding box,
/// rotated so the left→right landmark line has angle `targetRotation`, scaled by `scaleX/Y`.
///
/// - input: `[1, N, 3]` landmarks (x, y, z); output: `[1, 4, 4]` row-major.
/// - `r = targetRotation − atan2(y_R − y_L, x_R − x_L)`; the subset (pairs; the file stores a flat
///   list, an odd last index is paired with itself) is rotated by `r`, its box gives the centre
///   (rotated back by `−r`) and size `w, h`; the matrix is
///   `T(centre) · R(−r) · S(scaleX·w/outputWidth, scaleY·h/outputHeight) · T(−outputWidth/2, −outputHeight/2)`.
///
/// All arithmetic is float32 with MediaPipe's evaluation order (products accumulated from 0 in
/// index order), so the result matches its CPU kernel bit for bit given the same libm.
public struct Landmarks2TransformMatrixOperator: Sendable {
    public let landmarkCount: Int
    /// Landmark index pairs of the subset whose box is cropped.
    public let subset: [(Int, Int)]
    public let leftIndex: Int, rightIndex: Int
    public let targetRotation: Float
    public let outputHeight: Int, outputWidth: Int
    public let scaleX: Float, scaleY: Float

    /// - Parameters:
    ///   - inputShape: `[1, N, 3]`.
    ///   - subsetIndices: the flat `subset_idxs` list (pairs; an odd last one pairs with itself).
    public init(inputShape: [Int], subsetIndices: [Int], leftIndex: Int, rightIndex: Int, targetRotation: Float,
                outputHeight: Int, outputWidth: Int, scaleX: Float, scaleY: Float) throws {
        let op = "Landmarks2TransformMatrix"
        guard inputShape.count == 3, validDimensions(inputShape), inputShape[0] == 1, inputShape[2] == 3 else {
            throw KernelError.invalidShape(op: op, what: "landmarks (expected [1, N, 3])", shape: inputShape)
        }
        let n = inputShape[1]
        guard !subsetIndices.isEmpty else { throw KernelError.invalidParameter(op: op, name: "subset_idxs count", value: 0) }
        for i in subsetIndices where i < 0 || i >= n { throw KernelError.invalidParameter(op: op, name: "subset_idxs entry", value: i) }
        guard leftIndex >= 0, leftIndex < n else { throw KernelError.invalidParameter(op: op, name: "left_rotation_idx", value: leftIndex) }
        guard rightIndex >= 0, rightIndex < n else { throw KernelError.invalidParameter(op: op, name: "right_rotation_idx", value: rightIndex) }
        guard outputHeight > 0, outputHeight <= maxDimension else { throw KernelError.invalidParameter(op: op, name: "output_height", value: outputHeight) }
        guard outputWidth > 0, outputWidth <= maxDimension else { throw KernelError.invalidParameter(op: op, name: "output_width", value: outputWidth) }
        guard scaleX > 0, scaleX.isFinite else { throw KernelError.invalidParameter(op: op, name: "scale_x (float bits)", value: Int(scaleX.bitPattern)) }
        guard scaleY > 0, scaleY.isFinite else { throw KernelError.invalidParameter(op: op, name: "scale_y (float bits)", value: Int(scaleY.bitPattern)) }
        guard targetRotation.isFinite else { throw KernelError.invalidParameter(op: op, name: "target_rotation_radians (float bits)", value: Int(targetRotation.bitPattern)) }
        landmarkCount = n
        var pairs: [(Int, Int)] = []
        for i in 0..<(subsetIndices.count / 2) { pairs.append((subsetIndices[2 * i], subsetIndices[2 * i + 1])) }
        if subsetIndices.count % 2 != 0, let last = subsetIndices.last { pairs.append((last, last)) }
        subset = pairs
        self.leftIndex = leftIndex; self.rightIndex = rightIndex
        self.targetRotation = targetRotation
        self.outputHeight = outputHeight; self.outputWidth = outputWidth
        self.scaleX = scaleX; self.scaleY = scaleY
    }

    public var outputShape: [Int] { [1, 4, 4] }

    /// `landmarks` `[1, N, 3]` → `output` `[1, 4, 4]` (16 floats, row-major).
    public func run(landmarks: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let l = landmarks
        let rotation = targetRotation - atan2f(l[rightIndex * 3 + 1] - l[leftIndex * 3 + 1],
                                               l[rightIndex * 3] - l[leftIndex * 3])
        let r = rotation
        let rot: [Float] = [cosf(r), -sinf(r), 0, sinf(r), cosf(r), 0, 0, 0, 1]
        let inv: [Float] = [cosf(-r), -sinf(-r), 0, sinf(-r), cosf(-r), 0, 0, 0, 1]
        var maxP: [Float] = [0, 0, 0], minP: [Float] = [0, 0, 0], first = true
        for (a, b) in subset {
            for idx in [a, b] {
                let p = Self.mul3(rot, [l[idx * 3], l[idx * 3 + 1], 1])
                if first { maxP = p; minP = p; first = false; continue }
                if maxP[0] < p[0] { maxP[0] = p[0] }
                if maxP[1] < p[1] { maxP[1] = p[1] }
                if minP[0] > p[0] { minP[0] = p[0] }
                if minP[1] > p[1] { minP[1] = p[1] }
            }
        }
        let cropWidth = maxP[0] - minP[0], cropHeight = maxP[1] - minP[1]
        var centre = minP
        centre[0] += maxP[0]; centre[1] += maxP[1]
        centre[0] /= 2; centre[1] /= 2
        centre = Self.mul3(inv, centre)

        var t: [Float] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
        t = Self.mul4(t, [1, 0, 0, centre[0], 0, 1, 0, centre[1], 0, 0, 1, 0, 0, 0, 0, 1])
        let nr = -rotation
        t = Self.mul4(t, [cosf(nr), -sinf(nr), 0, 0, sinf(nr), cosf(nr), 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        let sx = scaleX * cropWidth / Float(outputWidth), sy = scaleY * cropHeight / Float(outputHeight)
        t = Self.mul4(t, [sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
        // −1.0 · (size / 2.0) in double, stored as float (as the C++ does).
        let shiftX = Float(-1.0 * (Double(outputWidth) / 2.0)), shiftY = Float(-1.0 * (Double(outputHeight) / 2.0))
        t = Self.mul4(t, [1, 0, 0, shiftX, 0, 1, 0, shiftY, 0, 0, 1, 0, 0, 0, 0, 1])
        for i in 0..<16 { output[i] = t[i] }
    }

    /// 3×3 (row-major) times a 3-vector, each row summed from 0 in order.
    static func mul3(_ m: [Float], _ v: [Float]) -> [Float] {
        (0..<3).map { r in
            var s: Float = 0
            for k in 0..<3 { s += m[r * 3 + k] * v[k] }
            return s
        }
    }

    /// 4×4 (row-major) product, each element summed from 0 in order.
    static func mul4(_ a: [Float], _ b: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: 16)
        for r in 0..<4 {
            for c in 0..<4 {
                var s: Float = 0
                for k in 0..<4 { s += a[r * 4 + k] * b[k * 4 + c] }
                out[r * 4 + c] = s
            }
        }
        return out
    }
}

extension Reference {
    /// `Landmarks2TransformMatrix` v2 written independently of `Landmarks2TransformMatrixOperator`:
    /// float64 throughout and the matrix product expanded in closed form,
    /// `[[c·sx, −s·sy, 0, cx − (c·sx·W − s·sy·H)/2], [s·sx, c·sy, 0, cy − (s·sx·W + c·sy·H)/2], [0,0,1,0], [0,0,0,1]]`
    /// with `c = cos(−r)`, `s = sin(−r)`. Agrees with the operator to float32 rounding, not bit for bit.
    ///
    /// - landmarks: `[N, 3]`; subset: landmark indices (pairing does not change the box); output: 16 floats.
    public static func landmarks2TransformMatrix(landmarks: UnsafePointer<Float>, subset: [Int], left: Int, right: Int,
                                                 targetRotation: Double, outputHeight: Int, outputWidth: Int,
                                                 scaleX: Double, scaleY: Double, output: UnsafeMutablePointer<Float>) {
        func p(_ i: Int) -> (Double, Double) { (Double(landmarks[i * 3]), Double(landmarks[i * 3 + 1])) }
        let (lx, ly) = p(left), (rx, ry) = p(right)
        let r = targetRotation - atan2(ry - ly, rx - lx)
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        for i in subset {
            let (x, y) = p(i)
            let u = cos(r) * x - sin(r) * y, v = sin(r) * x + cos(r) * y
            minX = Swift.min(minX, u); maxX = Swift.max(maxX, u); minY = Swift.min(minY, v); maxY = Swift.max(maxY, v)
        }
        let mu = (minX + maxX) / 2, mv = (minY + maxY) / 2
        let cx = cos(-r) * mu - sin(-r) * mv, cy = sin(-r) * mu + cos(-r) * mv
        let sx = scaleX * (maxX - minX) / Double(outputWidth), sy = scaleY * (maxY - minY) / Double(outputHeight)
        let c = cos(-r), s = sin(-r), w = Double(outputWidth), h = Double(outputHeight)
        let m: [Double] = [c * sx, -s * sy, 0, cx - (c * sx * w - s * sy * h) / 2,
                           s * sx, c * sy, 0, cy - (s * sx * w + c * sy * h) / 2,
                           0, 0, 1, 0,
                           0, 0, 0, 1]
        for i in 0..<16 { output[i] = Float(m[i]) }
    }
}
