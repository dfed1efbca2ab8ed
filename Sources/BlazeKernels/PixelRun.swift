/// A run of consecutive output pixels of one output row of an NHWC map: pixels `start ..< start +
/// count`, numbered over the whole batch (`(b·OH + oy)·OW + ox`). What a kernel that computes only
/// part of its output (``Conv2DOperator/run(input:output:scratch:pool:pixelRuns:)``) is given.
public struct PixelRun: Sendable, Equatable {
    /// The first pixel, `(b·OH + oy)·OW + ox`.
    public var start: Int
    /// Pixels in the run, at least 1; the run does not cross the end of its output row.
    public var count: Int

    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }
}
