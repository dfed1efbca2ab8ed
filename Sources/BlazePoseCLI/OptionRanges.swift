import ArgumentParser

/// The numeric options' valid ranges of the model commands and `track --fps`, in one place, so the
/// same option gets the same range and the same message (which states the range) in every command.
/// The pipeline options of `detect` and `track` (`PipelineOptions`) are checked by the library's
/// `PoseLandmarkerOptions.validate()` instead.
///
/// Options that take numbers are declared with `parsing: .unconditional`, so a negative value
/// (`--threads -1`) is parsed as the value and rejected here with its range, instead of being
/// taken for an option name ("Missing value").
enum OptionRanges {
    /// `--threads` of the model commands (run, compare, bench, profile).
    static let threads = 1...1024
    /// `--fps`, frames per second: [0.001, 1000], the range `VideoFrameSource` accepts (a frame step
    /// of 1 ms to 1000 s, so every timestamp fits an Int64 of microseconds).
    static let fps = 0.001...1000.0
    /// `--iterations` of bench and profile.
    static let iterations = 1...1_000_000
    /// `--warmup` of bench.
    static let warmup = 0...1_000_000
    /// `--top` of profile.
    static let top = 1...1_000_000

    /// Throws unless `value` is in `range`: "--name must be in 1...1024, got -1".
    static func check(_ name: String, _ value: Int, in range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }

    /// Frames per second: finite, in ``fps``.
    static func checkFPS(_ name: String, _ value: Double) throws {
        guard value.isFinite, fps.contains(value) else {
            throw ValidationError("\(name) must be in [\(fps.lowerBound), \(Int(fps.upperBound))] frames per second, got \(value)")
        }
    }

    /// A comparison tolerance: finite and ≥ 0.
    static func checkTolerance(_ name: String, _ value: Float) throws {
        guard value.isFinite, value >= 0 else {
            throw ValidationError("\(name) must be a finite number ≥ 0, got \(value)")
        }
    }

    /// Any finite number (e.g. `--scale`, `--offset`).
    static func checkFinite(_ name: String, _ value: Float) throws {
        guard value.isFinite else { throw ValidationError("\(name) must be a finite number, got \(value)") }
    }
}
