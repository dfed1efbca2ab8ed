/// The PNG row filters ``RunLengthDeflater/encodePNG(_:width:height:channels:filter:)`` writes
/// (the raw value is the PNG filter-type byte that starts each row).
enum PNGRowFilter: UInt8 {
    case none = 0, sub = 1, up = 2

    /// The filter of a one-filter `PNG_FILTER_*` mask, nil for any other mask.
    init?(mask: Int32) {
        switch mask {
        case 0x08: self = .none
        case 0x10: self = .sub
        case 0x20: self = .up
        default: return nil
        }
    }
}
