/// MediaPipe's exponential low-pass filter (`util/filtering/low_pass_filter.cc`).
///
/// The state is Float, as in MediaPipe. The first sample passes through;
/// afterwards `out = α·v + (1 − α)·previousOut`. MediaPipe evaluates
/// `(1.0 − α)` in double (a double literal), so the blend is computed in
/// Double from the Float product `α·v` and rounded once, to match bit for bit.
public struct LowPassFilter: Equatable, Sendable {
    public private(set) var alpha: Float
    /// Last input value (the "raw" value). Meaningful only when ``hasLastRawValue``.
    public private(set) var lastRawValue: Float = 0
    /// Last output value. Meaningful only when ``hasLastRawValue``.
    public private(set) var lastValue: Float = 0
    /// True once a sample has been applied (and until ``reset()``).
    public private(set) var hasLastRawValue = false

    /// - Parameter alpha: weight of the new sample, in `[0, 1]`; an
    ///   out-of-range value is ignored (alpha stays 0 then, i.e. hold).
    public init(alpha: Float) {
        self.alpha = 0
        setAlpha(alpha)
    }

    /// Sets alpha if it is in `[0, 1]`; otherwise keeps the previous one
    /// (MediaPipe logs and ignores it).
    public mutating func setAlpha(_ newAlpha: Float) {
        if newAlpha < 0 || newAlpha > 1 { return }
        alpha = newAlpha
    }

    /// Filters one sample.
    public mutating func apply(_ value: Float) -> Float {
        let result: Float
        if hasLastRawValue {
            result = Float(Double(alpha * value) + (1.0 - Double(alpha)) * Double(lastValue))
        } else {
            result = value
            hasLastRawValue = true
        }
        lastRawValue = value
        lastValue = result
        return result
    }

    /// Sets alpha (subject to the `[0, 1]` rule) and filters one sample.
    public mutating func apply(_ value: Float, alpha newAlpha: Float) -> Float {
        setAlpha(newAlpha)
        return apply(value)
    }

    /// Forgets the history: the next sample passes through.
    public mutating func reset() {
        hasLastRawValue = false
        lastRawValue = 0
        lastValue = 0
    }
}
