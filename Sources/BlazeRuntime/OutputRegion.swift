/// A rectangle of pixels of one image of an NHWC output `[N, H, W, C]`, all channels: what
/// ``Interpreter/withOutput(_:computingRegions:_:)`` computes.
public struct OutputRegion: Sendable, Equatable {
    /// The image, `0 ..< N`.
    public var batch: Int
    /// Rows, within `0 ... H` (may be empty).
    public var rows: Range<Int>
    /// Columns, within `0 ... W` (may be empty).
    public var columns: Range<Int>

    public init(batch: Int = 0, rows: Range<Int>, columns: Range<Int>) {
        self.batch = batch
        self.rows = rows
        self.columns = columns
    }
}
