import CBlazeTarget

/// AVERAGE_POOL_2D on NHWC float32 (TFLite `reference_ops::AveragePool`, float): the window is
/// clipped to the input; the average is `total / count` of the cells inside it (padding cells
/// are not counted), with `total` summed from 0 over the window rows, then columns; then the
/// fused activation.
public final class AveragePool2DOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let geometry: WindowGeometry
    public let activation: FusedActivation

    /// Validates the shape and window; throws if a window would hold no input cell (possible
    /// only with explicit padding), where the reference kernel fails.
    public init(inputShape: [Int], filterHeight: Int, filterWidth: Int, strideHeight: Int, strideWidth: Int,
                padding: Padding, activation: FusedActivation) throws {
        let op = "AVERAGE_POOL_2D"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        let g = try WindowGeometry(op: op, inputHeight: input.height, inputWidth: input.width,
                                   kernelHeight: filterHeight, kernelWidth: filterWidth,
                                   strideHeight: strideHeight, strideWidth: strideWidth, padding: padding)
        for oy in 0..<g.outputHeight where g.validKernelRows(outputRow: oy).isEmpty {
            throw KernelError.invalidParameter(op: op, name: "empty window at output row", value: oy)
        }
        for ox in 0..<g.outputWidth {
            let x = ox * g.strideWidth - g.padLeft
            if Swift.max(0, -x) >= Swift.min(g.kernelWidth, g.inputWidth - x) {
                throw KernelError.invalidParameter(op: op, name: "empty window at output column", value: ox)
            }
        }
        self.inputShape = input
        outputShape = NHWCShape(batch: input.batch, height: g.outputHeight, width: g.outputWidth, channels: input.channels)
        geometry = g
        self.activation = activation
    }

    /// `input` NHWC `inputShape` → `output` NHWC `outputShape`. SIMD over channels; parallel over
    /// output rows, and over 64-channel blocks when there are fewer than 8 rows (global pools).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let g = geometry, c = inputShape.channels
        let lo = activation.lowerBound, hi = activation.upperBound
        let rows = outputShape.batch * g.outputHeight
        let blockWidth = rows < 8 ? 64 : c
        let blocks = (c + blockWidth - 1) / blockWidth
        pool.parallelFor(rows * blocks) { unit, _ in
            let row = unit / blocks, c0 = (unit % blocks) * blockWidth, c1 = Swift.min(c, c0 + blockWidth)
            let b = row / g.outputHeight, oy = row % g.outputHeight
            let yOrigin = oy * g.strideHeight - g.padTop
            let fyStart = Swift.max(0, -yOrigin), fyEnd = Swift.min(g.kernelHeight, g.inputHeight - yOrigin)
            let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
            for ox in 0..<g.outputWidth {
                let xOrigin = ox * g.strideWidth - g.padLeft
                let fxStart = Swift.max(0, -xOrigin), fxEnd = Swift.min(g.kernelWidth, g.inputWidth - xOrigin)
                let count = Float((fyEnd - fyStart) * (fxEnd - fxStart))
                let countv = SIMD8<Float>(repeating: count)
                let out = output + ((row * g.outputWidth) + ox) * c
                // The window's first valid cell; rows `fyEnd - fyStart`, columns `fxEnd - fxStart`.
                let base = input + ((b * g.inputHeight + yOrigin + fyStart) * g.inputWidth + xOrigin + fxStart) * c
                let wh = fyEnd - fyStart, ww = fxEnd - fxStart
                var ch = c0
                while ch + 8 <= c1 {
                    var total = SIMD8<Float>()
                    for fy in 0..<wh {
                        for fx in 0..<ww { total = total + loadVector(base + (fy * g.inputWidth + fx) * c + ch) }
                    }
                    var m = total / countv
                    m = blaze_max8(lov, m)
                    m = blaze_min8(hiv, m)
                    storeVector(m, out + ch)
                    ch += 8
                }
                while ch < c1 {
                    var total: Float = 0
                    for fy in 0..<wh {
                        for fx in 0..<ww { total = total + base[(fy * g.inputWidth + fx) * c + ch] }
                    }
                    out[ch] = Swift.min(Swift.max(total / count, lo), hi)
                    ch += 1
                }
            }
        }
    }
}

extension Reference {
    /// TFLite `reference_ops::AveragePool` (float). input/output NHWC.
    public static func averagePool2D(input: UnsafePointer<Float>, batch: Int, channels: Int, geometry g: WindowGeometry,
                                     activation: FusedActivation, output: UnsafeMutablePointer<Float>) {
        for b in 0..<batch { for oy in 0..<g.outputHeight { for ox in 0..<g.outputWidth { for c in 0..<channels {
            let inX = ox * g.strideWidth - g.padLeft, inY = oy * g.strideHeight - g.padTop
            let fxStart = Swift.max(0, -inX), fxEnd = Swift.min(g.kernelWidth, g.inputWidth - inX)
            let fyStart = Swift.max(0, -inY), fyEnd = Swift.min(g.kernelHeight, g.inputHeight - inY)
            var total: Float = 0
            var filterCount: Float = 0
            var fy = fyStart
            while fy < fyEnd {
                var fx = fxStart
                while fx < fxEnd {
                    total += input[((b * g.inputHeight + inY + fy) * g.inputWidth + inX + fx) * channels + c]
                    filterCount += 1
                    fx += 1
                }
                fy += 1
            }
            output[((b * g.outputHeight + oy) * g.outputWidth + ox) * channels + c] = activation.apply(total / filterCount)
        } } } }
    }
}
