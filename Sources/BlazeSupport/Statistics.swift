/// The median of `values`: the middle element of the sorted values, or the mean of the two
/// middle ones for an even count (integer division for integers); 0 for no values. The one
/// median of the package (benchmarks, profiles, reports).
public func median<T: BinaryInteger>(_ values: [T]) -> T {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The median of `values`, as ``median(_:)-(_)`` for integers; 0 for no values.
public func median<T: BinaryFloatingPoint>(_ values: [T]) -> T {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The nearest-rank `p`-th percentile of `values`: the element at 1-based rank
/// `max(1, ⌈p/100 · n⌉)` of the `n` sorted values, so always one of the values (never an
/// interpolation); `p` is clamped to 0...100 (p 0 is the minimum, p 100 the maximum); 0 for no values.
/// E.g. for 20 values the 5th percentile is the smallest, the 50th the 10th smallest and the
/// 95th the 19th smallest. The one percentile of the package.
public func percentile<T: BinaryFloatingPoint>(_ values: [T], _ p: Double) -> T {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted()
    let q = p.isNaN ? 0 : min(100, max(0, p))
    let rank = Int((q * Double(s.count) / 100).rounded(.up))   // q·n first: exact for whole p and n
    return s[min(s.count, max(1, rank)) - 1]
}
