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
