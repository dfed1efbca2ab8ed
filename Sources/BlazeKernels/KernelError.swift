/// A shape, layout or parameter problem found by an operator wrapper before any kernel runs.
///
/// Kernels never validate (they take raw pointers and trust their caller); the wrappers
/// (`Conv2DOperator`, `DepthwiseConv2DOperator`, ...) check everything and throw this.
public enum KernelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A tensor has the wrong rank or a non-positive dimension. `what` names the tensor.
    case invalidShape(op: String, what: String, shape: [Int])
    /// Two tensors disagree; `detail` says which dimensions.
    case shapeMismatch(op: String, detail: String)
    /// A scalar parameter (stride, dilation, block size, axis, ...) is out of range.
    case invalidParameter(op: String, name: String, value: Int)
    /// A buffer handed to a wrapper holds fewer elements than the shape needs.
    case bufferTooSmall(op: String, what: String, needed: Int, got: Int)

    public var description: String {
        switch self {
        case let .invalidShape(op, what, shape):
            return "\(op): \(what) has invalid shape \(shape)"
        case let .shapeMismatch(op, detail):
            return "\(op): shape mismatch: \(detail)"
        case let .invalidParameter(op, name, value):
            return "\(op): invalid \(name) = \(value)"
        case let .bufferTooSmall(op, what, needed, got):
            return "\(op): \(what) holds \(got) floats, needs \(needed)"
        }
    }
}
