import CBlazeTarget

/// MAX_POOL_2D on NHWC float32 (TFLite `reference_ops::MaxPool`): the window is clipped to
/// the input (padding cells are ignored, not zeros), max starts at `-Float.greatestFiniteMagnitude`
/// (C++ `numeric_limits<float>::lowest()`), then the fused activation.
public final class MaxPool2DOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let geometry: WindowGeometry
    public let activation: FusedActivation

    public init(inputShape: [Int], filterHeight: Int, filterWidth: Int, strideHeight: Int, strideWidth: Int,
                padding: Padding, activation: FusedActivation) throws {
        let op = "MAX_POOL_2D"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        let g = try WindowGeometry(op: op, inputHeight: input.height, inputWidth: input.width,
                                   kernelHeight: filterHeight, kernelWidth: filterWidth,
                                   strideHeight: strideHeight, strideWidth: strideWidth, padding: padding)
        self.inputShape = input
        outputShape = NHWCShape(batch: input.batch, height: g.outputHeight, width: g.outputWidth, channels: input.channels)
        geometry = g
        self.activation = activation
    }

    /// `input` NHWC `inputShape` → `output` NHWC `outputShape`; SIMD over channels, parallel over output rows.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let g = geometry, c = inputShape.channels
        let lo = activation.lowerBound, hi = activation.upperBound
        pool.parallelFor(outputShape.batch * g.outputHeight) { row, _ in
            let b = row / g.outputHeight, oy = row % g.outputHeight
            let yOrigin = oy * g.strideHeight - g.padTop
            let fyStart = Swift.max(0, -yOrigin), fyEnd = Swift.min(g.kernelHeight, g.inputHeight - yOrigin)
            let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
            for ox in 0..<g.outputWidth {
                let xOrigin = ox * g.strideWidth - g.padLeft
                let fxStart = Swift.max(0, -xOrigin), fxEnd = Swift.min(g.kernelWidth, g.inputWidth - xOrigin)
                let out = output + ((row * g.outputWidth) + ox) * c
                var ch = 0
                if g.kernelHeight == 2 && g.kernelWidth == 2 && fyStart == 0 && fyEnd == 2 && fxStart == 0 && fxEnd == 2 {
                    // A whole 2×2 window (every BlazeFace/iris/hand pooling layer): the same four
                    // compares in the same (fy, fx) order, unrolled, without the per-tap bounds.
                    let p00 = input + ((b * g.inputHeight + yOrigin) * g.inputWidth + xOrigin) * c
                    let p01 = p00 + c, p10 = p00 + g.inputWidth * c, p11 = p10 + c
                    while ch + 8 <= c {
                        var m = SIMD8<Float>(repeating: -.greatestFiniteMagnitude)
                        var v = loadVector(p00 + ch)
                        m = blaze_max8(v, m)
                        v = loadVector(p01 + ch)
                        m = blaze_max8(v, m)
                        v = loadVector(p10 + ch)
                        m = blaze_max8(v, m)
                        v = loadVector(p11 + ch)
                        m = blaze_max8(v, m)
                        m = blaze_max8(lov, m)
                        m = blaze_min8(hiv, m)
                        storeVector(m, out + ch)
                        ch += 8
                    }
                }
                while ch + 8 <= c {
                    var m = SIMD8<Float>(repeating: -.greatestFiniteMagnitude)
                    for fy in fyStart..<Swift.max(fyStart, fyEnd) {
                        for fx in fxStart..<Swift.max(fxStart, fxEnd) {
                            let v = loadVector(input + ((b * g.inputHeight + yOrigin + fy) * g.inputWidth + xOrigin + fx) * c + ch)
                            m = blaze_max8(v, m)
                        }
                    }
                    m = blaze_max8(lov, m)
                    m = blaze_min8(hiv, m)
                    storeVector(m, out + ch)
                    ch += 8
                }
                while ch < c {
                    var m: Float = -.greatestFiniteMagnitude
                    for fy in fyStart..<Swift.max(fyStart, fyEnd) {
                        for fx in fxStart..<Swift.max(fxStart, fxEnd) {
                            m = Swift.max(m, input[((b * g.inputHeight + yOrigin + fy) * g.inputWidth + xOrigin + fx) * c + ch])
                        }
                    }
                    out[ch] = Swift.min(Swift.max(m, lo), hi)
                    ch += 1
                }
            }
        }
    }
}

extension Reference {
    /// TFLite `reference_ops::MaxPool` (float). input/output NHWC.
    public static func maxPool2D(input: UnsafePointer<Float>, batch: Int, channels: Int, geometry g: WindowGeometry,
                                 activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        for b in 0..<batch { for oy in 0..<g.outputHeight { for ox in 0..<g.outputWidth { for c in 0..<channels {
            let inX = ox * g.strideWidth - g.padLeft, inY = oy * g.strideHeight - g.padTop
            let fxStart = Swift.max(0, -inX), fxEnd = Swift.min(g.kernelWidth, g.inputWidth - inX)
            let fyStart = Swift.max(0, -inY), fyEnd = Swift.min(g.kernelHeight, g.inputHeight - inY)
            var m: Float = -.greatestFiniteMagnitude
            var fy = fyStart
            while fy < fyEnd {
                var fx = fxStart
                while fx < fxEnd {
                    m = Swift.max(m, input[((b * g.inputHeight + inY + fy) * g.inputWidth + inX + fx) * channels + c])
                    fx += 1
                }
                fy += 1
            }
            output[((b * g.outputHeight + oy) * g.outputWidth + ox) * channels + c] = activation.apply(m)
        } } } }
    }
}
