#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The peak resident set size of this process so far, in bytes, from
/// `getrusage(RUSAGE_SELF).ru_maxrss` (which counts KiB on Linux and bytes on macOS; both are
/// converted here); nil when `getrusage` fails.
public func peakResidentSetBytes() -> Int? {
    var usage = rusage()
    #if os(Linux)
    let who = __rusage_who_t(RUSAGE_SELF.rawValue)   // Glibc imports RUSAGE_SELF as an enum case
    #else
    let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &usage) == 0 else { return nil }
    let maxrss = Int(usage.ru_maxrss)
    #if os(Linux)
    return maxrss.multipliedReportingOverflow(by: 1024).partialValue   // KiB on Linux
    #else
    return maxrss                                                      // bytes on macOS
    #endif
}
