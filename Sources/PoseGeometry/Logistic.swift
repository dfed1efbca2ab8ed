#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The logistic sigmoid in Float, `1 / (1 + expf(-v))`, written the way MediaPipe's calculators
/// write it, so results match bit for bit where libm agrees. The pipeline's one sigmoid (detector
/// scores, presence and visibility, the segmentation mask); the LOGISTIC kernel computes the same
/// expression over raw buffers.
@inlinable
public func logistic(_ value: Float) -> Float {
    1.0 / (1.0 + expf(-value))
}
