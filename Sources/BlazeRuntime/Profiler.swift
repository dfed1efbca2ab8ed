import BlazeSupport
import Foundation

/// Collects per-operator wall time over one or more inferences.
///
/// `Interpreter.invoke(profiler:)` reads the clock around each step and records one ``Event`` per
/// operator (`record(op:start:end:)`), then closes the run (`finishRun()`); without a profiler,
/// inference has no timing overhead.
public final class Profiler {
    /// One timed operator execution.
    public struct Event: Sendable {
        /// Operator index in the subgraph (file order).
        public var op: Int
        /// Start, in nanoseconds since the profiler was created.
        public var startNanos: UInt64
        /// Duration in nanoseconds.
        public var durationNanos: UInt64
        /// Inference number (0-based) this event belongs to.
        public var run: Int
    }

    public private(set) var events: [Event] = []
    public private(set) var runs = 0
    private let origin = DispatchTime.now().uptimeNanoseconds

    public init() {}

    @inline(__always) func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds - origin }

    func record(op: Int, start: UInt64, end: UInt64) {
        events.append(Event(op: op, startNanos: start, durationNanos: end &- start, run: runs))
    }

    func finishRun() { runs += 1 }

    /// Median duration in milliseconds of each operator over all recorded runs, by operator index.
    public func medianMilliseconds() -> [Int: Double] {
        var byOp: [Int: [UInt64]] = [:]
        for e in events { byOp[e.op, default: []].append(e.durationNanos) }
        return byOp.mapValues { Double(median($0)) / 1e6 }
    }

    /// Chrome trace-event JSON (the format Perfetto and chrome://tracing open):
    /// one complete event ("ph":"X") per operator execution, times in microseconds.
    public func chromeTrace(name: (Int) -> String) -> Data {
        var out = "{\"traceEvents\":[\n"
        for (i, e) in events.enumerated() {
            let ts = Double(e.startNanos) / 1000, dur = Double(e.durationNanos) / 1000
            out += "{\"name\":\"\(jsonEscape(name(e.op)))\",\"cat\":\"op\",\"ph\":\"X\",\"pid\":1,\"tid\":1,"
            out += "\"ts\":\(String(format: "%.3f", ts)),\"dur\":\(String(format: "%.3f", dur)),"
            out += "\"args\":{\"op_index\":\(e.op),\"run\":\(e.run)}}"
            out += i + 1 < events.count ? ",\n" : "\n"
        }
        out += "],\"displayTimeUnit\":\"ms\"}\n"
        return Data(out.utf8)
    }
}
