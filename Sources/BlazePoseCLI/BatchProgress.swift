import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `image done/total, images/s, ETA` on one stderr line, only when stderr is a terminal. Rate and
/// ETA come from wall time since the batch started (decoding, inference and writing included).
final class BatchProgress {
    private let total: Int
    private let enabled = isatty(STDERR_FILENO) != 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastPrint: UInt64 = 0
    private var printed = false

    init(total: Int) { self.total = total }

    /// Seconds since the batch started.
    var elapsedSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    func update(done: Int) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastPrint > 200_000_000 || done == total else { return }
        lastPrint = now
        let seconds = elapsedSeconds
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "\r\u{1B}[Kimage \(done)/\(total)" + String(format: "  %.1f images/s", rate)
        if rate > 0 { text += String(format: "  ETA %.1f s", Double(total - done) / rate) }
        printError(text)
        printed = true
    }

    /// Erases the progress line so another message can be printed (it comes back on the next update).
    func clear() {
        guard printed else { return }
        printError("\r\u{1B}[K")
        printed = false
    }

    func finish() {
        if printed { printError("\n") }
        printed = false
    }
}
