/// Escapes `s` for the inside of a JSON string literal (RFC 8259 §7): `"` and `\\` are
/// backslash-escaped, newline, carriage return and tab get their short escapes, every other
/// control character below U+0020 becomes `\\u00XX`; everything else is kept as is.
public func jsonEscape(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out
}
