/// MediaPipe's `TransformLandmarks` custom operator, version 2 (face landmark with attention), as
/// `mediapipe/util/tflite/operations/transform_landmarks.cc` defines it: maps landmarks through the
/// first two rows of a 4×4 matrix.
///
/// - input: `[1, N, D]` landmarks, `D` = 2 (x, y) or 3 (x, y, z); matrix: `[1, 4, 4]` row-major;
///   output: `[1, N, D]`.
/// - `x' = m0·x + m1·y + m2·0 + m3·1`, `y' = m4·x + m5·y + m6·0 + m7·1` (float32, summed left to
///   right); `z` is copied.
public struct TransformLandmarksOperator: Sendable {
    public let landmarkCount: Int
    public let dimensions: Int

    public init(inputShape: [Int]) throws {
        let op = "TransformLandmarks"
        guard inputShape.count == 3, validDimensions(inputShape), inputShape[0] == 1,
              inputShape[2] == 2 || inputShape[2] == 3 else {
            throw KernelError.invalidShape(op: op, what: "landmarks (expected [1, N, 2] or [1, N, 3])", shape: inputShape)
        }
        landmarkCount = inputShape[1]
        dimensions = inputShape[2]
    }

    public var shape: [Int] { [1, landmarkCount, dimensions] }

    @inline(__always)
    static func dot(_ m: UnsafePointer<Float>, _ x: Float, _ y: Float) -> Float {
        var s = m[0] * x
        s = s + m[1] * y
        s = s + m[2] * Float(0)
        s = s + m[3] * Float(1)
        return s
    }

    /// `landmarks` `[1, N, D]`, `matrix` 16 floats → `output` `[1, N, D]` (may not alias `landmarks`).
    public func run(landmarks: UnsafePointer<Float>, matrix: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let d = dimensions
        for i in 0..<landmarkCount {
            let x = landmarks[i * d], y = landmarks[i * d + 1]
            output[i * d] = Self.dot(matrix, x, y)
            output[i * d + 1] = Self.dot(matrix + 4, x, y)
            if d == 3 { output[i * d + 2] = landmarks[i * d + 2] }
        }
    }
}

extension Reference {
    /// `TransformLandmarks` v2 as a plain matrix–vector product of the 4×4 matrix with `(x, y, 0, 1)`
    /// over all four rows (rows 2 and 3 discarded), in float64, rounded once: agrees with the operator
    /// to float32 rounding. landmarks/output `[N, D]`, matrix 16 floats.
    public static func transformLandmarks(landmarks: UnsafePointer<Float>, count: Int, dimensions: Int,
                                          matrix: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            let v: [Double] = [Double(landmarks[i * dimensions]), Double(landmarks[i * dimensions + 1]), 0, 1]
            var r = [Double](repeating: 0, count: 4)
            for row in 0..<4 { for k in 0..<4 { r[row] += Double(matrix[row * 4 + k]) * v[k] } }
            output[i * dimensions] = Float(r[0])
            output[i * dimensions + 1] = Float(r[1])
            if dimensions == 3 { output[i * dimensions + 2] = landmarks[i * dimensions + 2] }
        }
    }
}
