#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors thrown by PoseGeometry when its inputs (raw model tensors, options,
/// image sizes) are not what the pipeline expects.
///
/// Every case names *what* was wrong and *where*, so a caller can report it
/// without guessing. PoseGeometry never traps on bad input.
public enum PoseGeometryError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A flat buffer did not hold the number of elements its shape requires.
    case bufferSizeMismatch(what: String, expected: Int, actual: Int)
    /// An option or argument is outside its allowed range.
    case invalidArgument(what: String, reason: String)
    /// An image size that cannot be used (non-positive width or height).
    case invalidImageSize(width: Int, height: Int)

    public var description: String {
        switch self {
        case let .bufferSizeMismatch(what, expected, actual):
            return "\(what): expected \(expected) elements, got \(actual)"
        case let .invalidArgument(what, reason):
            return "\(what): \(reason)"
        case let .invalidImageSize(width, height):
            return "image size \(width)x\(height): width and height must both be > 0"
        }
    }
}

/// `wrap(a) = a − 2π·floor((a + π)/2π)`, mapping to `[−π, π)`.
///
/// MediaPipe's `NormalizeRadians` takes a float but evaluates in double
/// (because `M_PI` is a double) and rounds back once; we do the same.
@inline(__always)
func normalizeRadians(_ angle: Float) -> Float {
    let a = Double(angle)
    return Float(a - 2 * Double.pi * (((a - (-Double.pi)) / (2 * Double.pi))).rounded(.down))
}

/// Validates an image size and returns it as Float (MediaPipe multiplies
/// float coordinates by the int size, which promotes the int to float).
func imageSizeAsFloat(_ width: Int, _ height: Int) throws -> (Float, Float) {
    guard width > 0, height > 0 else {
        throw PoseGeometryError.invalidImageSize(width: width, height: height)
    }
    return (Float(width), Float(height))
}

/// Multiplies buffer dimensions, throwing instead of trapping on overflow
/// (sizes can come from a model file or a caller's options).
func checkedElementCount(_ dimensions: [Int], what: String) throws -> Int {
    var product = 1
    for d in dimensions {
        guard d >= 0 else {
            throw PoseGeometryError.invalidArgument(what: what, reason: "dimension \(d) is negative")
        }
        let (p, overflow) = product.multipliedReportingOverflow(by: d)
        guard !overflow else {
            throw PoseGeometryError.invalidArgument(what: what, reason: "element count \(dimensions) overflows Int")
        }
        product = p
    }
    return product
}
