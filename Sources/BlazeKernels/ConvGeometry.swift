/// TFLite's two padding schemes (`Padding` in the schema), plus explicit zero padding.
public enum Padding: Sendable, Equatable {
    /// Output size `ceil(in / stride)`; the total padding is split with the odd pixel at the bottom/right.
    case same
    /// No padding; output size `floor((in - effectiveKernel) / stride) + 1`.
    case valid
    /// Explicit zero rows/columns around the input: what a spatial `PAD` feeding a VALID conv
    /// means, folded into the conv by the interpreter (no padded copy). Output size
    /// `floor((in + before + after - effectiveKernel) / stride) + 1`. All values ≥ 0.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
}

/// Spatial geometry of a windowed op (conv, depthwise conv, pooling) on an NHWC input.
///
/// Output size and padding follow TFLite's `ComputeOutSize` and `ComputePaddingHeightWidth`
/// (tensorflow/lite/kernels/padding.h): `effective = (k - 1) * dilation + 1`,
/// `totalPad = max(0, (out - 1) * stride + effective - in)`, `padBefore = totalPad / 2`.
public struct WindowGeometry: Sendable, Equatable {
    public let inputHeight: Int, inputWidth: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let dilationHeight: Int, dilationWidth: Int
    public let padding: Padding
    public let outputHeight: Int, outputWidth: Int
    /// Rows of implicit zeros (or ignored cells, for pooling) above the input.
    public let padTop: Int
    /// Columns of implicit zeros left of the input.
    public let padLeft: Int

    /// Computes output size and padding; throws `KernelError.invalidParameter` for
    /// non-positive sizes/strides/dilations or a window larger than a VALID input.
    public init(op: String, inputHeight: Int, inputWidth: Int, kernelHeight: Int, kernelWidth: Int,
                strideHeight: Int, strideWidth: Int, dilationHeight: Int = 1, dilationWidth: Int = 1,
                padding: Padding) throws {
        for (name, v) in [("input height", inputHeight), ("input width", inputWidth),
                          ("kernel height", kernelHeight), ("kernel width", kernelWidth),
                          ("stride height", strideHeight), ("stride width", strideWidth),
                          ("dilation height", dilationHeight), ("dilation width", dilationWidth)]
        where v <= 0 || v > maxDimension {
            throw KernelError.invalidParameter(op: op, name: name, value: v)
        }
        self.inputHeight = inputHeight; self.inputWidth = inputWidth
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight; self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight; self.dilationWidth = dilationWidth
        self.padding = padding
        let effH = (kernelHeight - 1) * dilationHeight + 1
        let effW = (kernelWidth - 1) * dilationWidth + 1
        switch padding {
        case .same:
            outputHeight = (inputHeight + strideHeight - 1) / strideHeight
            outputWidth = (inputWidth + strideWidth - 1) / strideWidth
        case .valid:
            outputHeight = (inputHeight + strideHeight - effH) / strideHeight
            outputWidth = (inputWidth + strideWidth - effW) / strideWidth
        case let .explicit(top, bottom, left, right):
            for (name, v) in [("padding top", top), ("padding bottom", bottom), ("padding left", left),
                              ("padding right", right)] where v < 0 || v > maxDimension {
                throw KernelError.invalidParameter(op: op, name: name, value: v)
            }
            outputHeight = (inputHeight + top + bottom + strideHeight - effH) / strideHeight
            outputWidth = (inputWidth + left + right + strideWidth - effW) / strideWidth
        }
        if outputHeight <= 0 { throw KernelError.invalidParameter(op: op, name: "output height", value: outputHeight) }
        if outputWidth <= 0 { throw KernelError.invalidParameter(op: op, name: "output width", value: outputWidth) }
        if case let .explicit(top, _, left, _) = padding {
            // Bottom/right padding only changes the output size: taps past the input are skipped.
            padTop = top
            padLeft = left
        } else {
            padTop = Swift.max(0, (outputHeight - 1) * strideHeight + effH - inputHeight) / 2
            padLeft = Swift.max(0, (outputWidth - 1) * strideWidth + effW - inputWidth) / 2
        }
    }
}

/// Largest accepted size of any single dimension or window parameter (2^24). Larger values
/// come only from corrupt model files, and rejecting them keeps all index arithmetic far from
/// `Int` overflow.
public let maxDimension = 1 << 24

/// Largest accepted element count of one tensor (2^32 floats = 16 GiB).
public let maxElementCount = 1 << 32

/// Shape of an NHWC float32 tensor.
public struct NHWCShape: Sendable, Equatable, CustomStringConvertible {
    public var batch: Int, height: Int, width: Int, channels: Int
    public init(batch: Int = 1, height: Int, width: Int, channels: Int) {
        self.batch = batch; self.height = height; self.width = width; self.channels = channels
    }
    /// Builds from a rank-4 dimension list `[N, H, W, C]`; throws on wrong rank, non-positive
    /// dims, or sizes beyond `maxDimension` / `maxElementCount`.
    public init(_ dims: [Int], op: String, what: String) throws {
        guard dims.count == 4, validDimensions(dims) else {
            throw KernelError.invalidShape(op: op, what: what, shape: dims)
        }
        self.init(batch: dims[0], height: dims[1], width: dims[2], channels: dims[3])
    }
    public var elementCount: Int { batch * height * width * channels }
    public var dims: [Int] { [batch, height, width, channels] }
    public var description: String { "\(dims)" }
}

/// True when every dim is in `1...maxDimension` and the product stays within `maxElementCount`.
public func validDimensions(_ dims: [Int]) -> Bool {
    var count = 1
    for d in dims {
        if d <= 0 || d > maxDimension { return false }
        count *= d  // cannot overflow: count ≤ 2^32 and d ≤ 2^24 before the check below
        if count > maxElementCount { return false }
    }
    return true
}

extension WindowGeometry {
    /// Kernel rows `ky` whose input row `oy·strideH − padTop + ky·dilationH` lies inside the
    /// input for output row `oy`; the others contribute nothing (TFLite skips them).
    @inline(__always)
    func validKernelRows(outputRow oy: Int) -> Range<Int> {
        let origin = oy * strideHeight - padTop
        var start = 0, end = kernelHeight
        while start < end && origin + start * dilationHeight < 0 { start += 1 }
        while end > start && origin + (end - 1) * dilationHeight >= inputHeight { end -= 1 }
        return start..<end
    }
}
