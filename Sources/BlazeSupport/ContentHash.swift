/// A fast 128-bit digest of a byte buffer, for telling whether bytes are the ones seen before
/// (the packed-weight cache keys a model file by it and checks its own payload with it). Not
/// cryptographic: it guards against changed or damaged bytes, not against someone who crafts a
/// collision on purpose ([SHA256] is the one for pinned hashes).
///
/// Four accumulators of eight 32-bit lanes each take 128 bytes per step (multiply, rotate,
/// multiply, as xxHash32 does per lane), so the loop runs on the vector unit (~7 GB/s on a 2 GHz
/// Zen 1 core, against ~0.3 GB/s for [SHA256]); the lanes, the length and the seed are then mixed
/// into two 64-bit words (splitmix64's finalizer). Bytes are read in the host's order: a digest
/// is only compared with digests made on the same kind of machine.
public enum ContentHash {
    /// The digest of `bytes` (any alignment), as two 64-bit words.
    public static func digest(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> (UInt64, UInt64) {
        let prime1 = SIMD8<UInt32>(repeating: 2_654_435_761), prime2 = SIMD8<UInt32>(repeating: 2_246_822_519)
        let lanes = SIMD8<UInt32>(0x9E37_79B9, 0x85EB_CA77, 0xC2B2_AE3D, 0x27D4_EB2F, 0x1656_67B1, 0xD3A2_646C, 0xFD70_46C5, 0xB55A_4F09)
        let s = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: seed) ^ UInt32(truncatingIfNeeded: seed >> 32))
        var a0 = lanes ^ s, a1 = lanes &+ prime1 ^ s, a2 = lanes &+ prime2 ^ s, a3 = lanes &* prime1 ^ s
        @inline(__always) func round(_ acc: SIMD8<UInt32>, _ v: SIMD8<UInt32>) -> SIMD8<UInt32> {
            let x = acc &+ v &* prime2
            return ((x &<< 13) | (x &>> 19)) &* prime1
        }
        let count = bytes.count
        var at = 0
        if let base = bytes.baseAddress {
            while at + 128 <= count {
                a0 = round(a0, (base + at).loadUnaligned(as: SIMD8<UInt32>.self))
                a1 = round(a1, (base + at + 32).loadUnaligned(as: SIMD8<UInt32>.self))
                a2 = round(a2, (base + at + 64).loadUnaligned(as: SIMD8<UInt32>.self))
                a3 = round(a3, (base + at + 96).loadUnaligned(as: SIMD8<UInt32>.self))
                at += 128
            }
            if at < count {
                // The tail, zero-padded to one more step (the length, mixed in below, tells a
                // buffer from the same buffer with zeros appended).
                var tail = [UInt8](repeating: 0, count: 128)
                tail.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[at...])) }
                tail.withUnsafeBytes { t in
                    guard let tb = t.baseAddress else { return }
                    a0 = round(a0, tb.loadUnaligned(as: SIMD8<UInt32>.self))
                    a1 = round(a1, (tb + 32).loadUnaligned(as: SIMD8<UInt32>.self))
                    a2 = round(a2, (tb + 64).loadUnaligned(as: SIMD8<UInt32>.self))
                    a3 = round(a3, (tb + 96).loadUnaligned(as: SIMD8<UInt32>.self))
                }
            }
        }
        @inline(__always) func mix(_ z0: UInt64) -> UInt64 {
            var z = z0 &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var h0 = mix(seed ^ UInt64(count)), h1 = mix(h0 ^ 0x6A09_E667_F3BC_C908)
        // The accumulators in order a0 … a3, two lanes per word. (Not a loop over `[a0, a1, a2,
        // a3]`: an array of SIMD8<UInt32> makes the runtime look up UInt32's SIMDScalar
        // conformance, a scan of every conformance record in the binary, ~0.15 ms the first time
        // in a process, on every model load.)
        @inline(__always) func fold(_ acc: SIMD8<UInt32>) {
            for lane in stride(from: 0, to: 8, by: 2) {
                let word = UInt64(acc[lane]) | UInt64(acc[lane + 1]) << 32
                h0 = mix(h0 ^ word)
                h1 = mix(h1 &+ word &+ h0)
            }
        }
        fold(a0)
        fold(a1)
        fold(a2)
        fold(a3)
        return (h0, h1)
    }

    /// The digest of `bytes` as 32 lower-case hex digits.
    public static func hex(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> String {
        let (h0, h1) = digest(bytes, seed: seed)
        return hex64(h0) + hex64(h1)
    }

    /// `value` as 16 lower-case hex digits.
    public static func hex64(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
