/// MediaPipe's one-euro filter (`util/filtering/one_euro_filter.cc`).
///
/// Arithmetic is Double, the two inner low-pass filters keep Float state
/// (exactly as MediaPipe). Timestamps are given in **microseconds** (packet
/// timestamps) and converted to nanoseconds internally.
///
/// `apply(value, timestampMicroseconds:, valueScale:)`:
/// 1. `t = µs·1000`. If a previous timestamp exists and is `≥ t`, return the
///    input unchanged and update **no** state.
/// 2. If the previous timestamp exists and neither it nor `t` is 0:
///    `frequency = 1 / ((t − last)·1e-9)`. Remember `t`.
/// 3. `dv = (v − previous raw v)·valueScale·frequency` (0 for the first
///    sample). Note: the previous **raw** input, not the previous output.
/// 4. `edv = DX(dv, α(derivativeCutoff))`; `cutoff = minCutoff + beta·|edv|`.
/// 5. return `X(v, α(cutoff))`, with `α(fc) = 1/(1 + (1/(2π·fc)) · frequency)`.
///
/// The first sample after creation or ``reset()`` passes through unchanged.
/// Initial state: no previous timestamp (MediaPipe v0.10.14 starts from
/// INT64_MIN, which behaves the same for timestamps > 0); frequency starts at
/// the configured value (30 Hz in the pose graph) and is only replaced from
/// timestamp deltas. Keep timestamps > 0: a timestamp of exactly 0 never
/// updates the frequency (MediaPipe's rule).
public struct OneEuroFilter: Equatable, Sendable {
    public let minCutoff: Double
    public let beta: Double
    public let derivativeCutoff: Double
    /// Frequency the filter was created with; restored by ``reset()``.
    public let initialFrequency: Double
    /// Current sampling frequency in Hz.
    public private(set) var frequency: Double
    private var lastTimeNanoseconds: Int64?
    private var x: LowPassFilter
    private var dx: LowPassFilter

    /// - Parameters: `frequency` Hz (> 0), `minCutoff` Hz (> 0), `beta`,
    ///   `derivativeCutoff` Hz (> 0). Non-positive frequency/cutoffs are rejected.
    public init(frequency: Double = 30, minCutoff: Double, beta: Double, derivativeCutoff: Double = 1.0) throws {
        let epsilon = 0.000001
        guard frequency > epsilon, minCutoff > epsilon, derivativeCutoff > epsilon, beta.isFinite else {
            throw PoseGeometryError.invalidArgument(
                what: "OneEuroFilter",
                reason: "frequency (\(frequency)), minCutoff (\(minCutoff)) and derivativeCutoff (\(derivativeCutoff)) must be > 1e-6, beta finite")
        }
        self.initialFrequency = frequency
        self.frequency = frequency
        self.minCutoff = minCutoff
        self.beta = beta
        self.derivativeCutoff = derivativeCutoff
        // MediaPipe seeds the inner filters with α(minCutoff) / α(dCutoff);
        // those alphas are overwritten before first use, but keep them alike.
        self.x = LowPassFilter(alpha: 0)
        self.dx = LowPassFilter(alpha: 0)
        self.x = LowPassFilter(alpha: Float(alpha(cutoff: minCutoff)))
        self.dx = LowPassFilter(alpha: Float(alpha(cutoff: derivativeCutoff)))
    }

    /// `α = 1/(1 + τ/Te)`, `Te = 1/frequency`, `τ = 1/(2π·cutoff)`.
    public func alpha(cutoff: Double) -> Double {
        let te = 1.0 / frequency
        let tau = 1.0 / (2 * Double.pi * cutoff)
        return 1.0 / (1.0 + tau / te)
    }

    /// Filters one value. See the type documentation for the exact rule.
    /// - Parameters:
    ///   - timestampMicroseconds: packet time in µs; should strictly increase.
    ///   - valueScale: multiplies the derivative (1/object scale for image
    ///     landmarks in pixels; 1 for world landmarks).
    public mutating func apply(_ value: Double, timestampMicroseconds: Int64, valueScale: Double = 1) -> Double {
        // absl::Duration saturates instead of overflowing; so do we.
        let (product, overflow) = timestampMicroseconds.multipliedReportingOverflow(by: 1000)
        let t = overflow ? (timestampMicroseconds < 0 ? Int64.min : Int64.max) : product
        if let last = lastTimeNanoseconds {
            if last >= t { return value }
            if last != 0 && t != 0 {
                frequency = 1.0 / (Double(t &- last) * 1e-9)
            }
        }
        lastTimeNanoseconds = t

        let dvalue = x.hasLastRawValue ? (value - Double(x.lastRawValue)) * valueScale * frequency : 0.0
        let edvalue = Double(dx.apply(Float(dvalue), alpha: Float(alpha(cutoff: derivativeCutoff))))
        let cutoff = minCutoff + beta * abs(edvalue)
        return Double(x.apply(Float(value), alpha: Float(alpha(cutoff: cutoff))))
    }

    /// Forgets all history (as if newly created): next sample passes through.
    public mutating func reset() {
        frequency = initialFrequency
        lastTimeNanoseconds = nil
        x = LowPassFilter(alpha: Float(alpha(cutoff: minCutoff)))
        dx = LowPassFilter(alpha: Float(alpha(cutoff: derivativeCutoff)))
    }
}
