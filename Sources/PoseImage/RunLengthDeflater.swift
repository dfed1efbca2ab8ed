/// A small, fast zlib (RFC 1950) / deflate (RFC 1951) compressor for filtered PNG rows: every
/// byte is a literal except runs of a repeated byte, which become length/distance-1 matches (what
/// zlib's `Z_RLE` strategy finds), and each block of rows gets its own dynamic Huffman code.
///
/// Written for `blazepose track`'s per-frame PNGs: one pass to tokenise and count (8 bytes at a
/// time where no run can start), one to emit (branch-free bit packing), both over raw pointers,
/// with no hash table and no match search: ~3× less CPU than libpng with zlib at level 1 and
/// `Z_RLE` for the same runs, so the same size with the same filter (`PNGEncodeBenchmarkTests`).
///
/// Usage: ``begin()``, then ``compress(_:count:final:)`` with consecutive slices of the
/// (filtered) data, the last one with `final: true`; the stream is in ``bytes``. Not thread-safe;
/// one instance per stream.
final class RunLengthDeflater {
    /// The zlib stream so far: `output[0..<count]`.
    private(set) var output: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int
    /// Tokens of the current block: `< 256` a literal byte, `256 + L` a run of length `L` (3…258).
    private var tokens: UnsafeMutablePointer<UInt16>
    private var tokenCapacity: Int
    private var adlerA: UInt32 = 1, adlerB: UInt32 = 0
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0

    init() {
        capacity = 1 << 16
        output = .allocate(capacity: capacity)
        tokenCapacity = 1 << 16
        tokens = .allocate(capacity: tokenCapacity)
    }

    deinit {
        output.deallocate()
        tokens.deallocate()
    }

    /// The zlib stream written so far (valid until the next call).
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: output, count: count) }

    /// Starts a new stream (the zlib header: deflate, 32 KB window, no dictionary).
    func begin() {
        count = 0
        bitBuffer = 0
        bitCount = 0
        adlerA = 1
        adlerB = 0
        reserve(2)
        output[0] = 0x78
        output[1] = 0x01
        count = 2
    }

    /// Compresses `data[0..<n]` as one deflate block (runs do not reach back into earlier blocks).
    /// With `final`, also ends the stream (last-block bit, byte alignment, Adler-32).
    func compress(_ data: UnsafePointer<UInt8>, count n: Int, final: Bool) {
        updateAdler(data, n)
        if tokenCapacity < n + 1 {
            tokens.deallocate()
            tokenCapacity = n + 1
            tokens = .allocate(capacity: tokenCapacity)
        }
        // Pass 1: tokens and symbol counts.
        var literalCounts = [Int](repeating: 0, count: 286)   // [symbol] lit/len alphabet
        var tokenCount = 0
        let tokens = self.tokens
        literalCounts.withUnsafeMutableBufferPointer { countsBuffer in
            guard let counts = countsBuffer.baseAddress else { return }
            Self.lengthSymbol.withUnsafeBufferPointer { lengthSymbolBuffer in
                guard let lengthSymbol = lengthSymbolBuffer.baseAddress else { return }
                var i = 0
                while i < n {
                    // Fast path: 8 bytes at i without 4 equal bytes in a row starting at i…i+4
                    // (which is what a match needs: a literal and ≥ 3 repeats) give 5 literals.
                    if i &+ 8 <= n {
                        let word = UnsafeRawPointer(data + i).loadUnaligned(as: UInt64.self)
                        // Byte k of `pairs` is 0 when bytes k and k+1 are equal (k = 0…6).
                        let pairs = word ^ (word &>> 8)
                        let low7 = (pairs & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F
                        let zero = ~(low7 | pairs | 0x7F7F_7F7F_7F7F_7F7F) & 0x0080_8080_8080_8080
                        if zero & (zero &>> 8) & (zero &>> 16) == 0 {
                            for k in 0..<5 {
                                let byte = data[i &+ k]
                                tokens[tokenCount &+ k] = UInt16(byte)
                                counts[Int(byte)] &+= 1
                            }
                            tokenCount &+= 5
                            i &+= 5
                            continue
                        }
                    }
                    let byte = data[i]
                    tokens[tokenCount] = UInt16(byte)
                    tokenCount &+= 1
                    counts[Int(byte)] &+= 1
                    i &+= 1
                    // A run of `byte` after this literal: a match at distance 1 when ≥ 3 long.
                    var run = 0
                    let limit = min(258, n &- i)
                    while run < limit && data[i &+ run] == byte { run &+= 1 }
                    if run >= 3 {
                        tokens[tokenCount] = UInt16(256 &+ run)
                        tokenCount &+= 1
                        counts[Int(lengthSymbol[run])] &+= 1
                        i &+= run
                    }
                }
            }
            counts[256] += 1   // end of block
        }
        let hasRuns = literalCounts[257...].contains { $0 > 0 }
        // Code lengths: literal/length alphabet ≤ 15 bits; one distance code (distance 1), 1 bit.
        let literalLengths = Self.huffmanLengths(literalCounts, limit: 15)
        let literalCodes = Self.canonicalCodes(literalLengths)
        // Worst case: header (< 400 bytes) plus 15 + 5 + 1 bits per token, plus the trailer.
        reserve(tokenCount * 3 + 520)
        writeBits(final ? 1 : 0, 1)
        writeBits(2, 2)   // dynamic Huffman
        writeCodeLengths(literalLengths)
        // Token table: code bits (LSB first) and bit count for every token value.
        var tableBits = [UInt32](repeating: 0, count: 256 + 259)
        var tableCounts = [UInt8](repeating: 0, count: 256 + 259)
        for symbol in 0..<256 {
            tableBits[symbol] = UInt32(literalCodes[symbol])
            tableCounts[symbol] = literalLengths[symbol]
        }
        if hasRuns {
            for run in 3...258 {
                let symbol = Int(Self.lengthSymbol[run])
                let extraCount = Int(Self.lengthExtraBits[symbol - 257])
                let extra = UInt32(run - Int(Self.lengthBase[symbol - 257]))
                let codeLength = Int(literalLengths[symbol])
                // length code, its extra bits, then the distance code (0, one bit).
                tableBits[256 + run] = UInt32(literalCodes[symbol]) | extra << UInt32(codeLength)
                tableCounts[256 + run] = UInt8(codeLength + extraCount + 1)
            }
        }
        // Pass 2: emit.
        tableBits.withUnsafeBufferPointer { bits in
            tableCounts.withUnsafeBufferPointer { counts in
                var buffer = bitBuffer, filled = bitCount
                var out = output + count
                // Branch-free: ≤ 7 + 21 bits pending, store 8 bytes, advance by the whole ones.
                for t in 0..<tokenCount {
                    let token = Int(tokens[t])
                    buffer |= UInt64(bits[token]) &<< UInt64(filled)
                    filled &+= Int(counts[token])
                    UnsafeMutableRawPointer(out).storeBytes(of: buffer.littleEndian, as: UInt64.self)
                    let whole = filled &>> 3
                    out += whole
                    buffer = buffer &>> UInt64(whole &<< 3)
                    filled &= 7
                }
                bitBuffer = buffer
                bitCount = filled
                count = out - output
            }
        }
        writeBits(UInt32(literalCodes[256]), Int(literalLengths[256]))
        if final {
            flushToByte()
            reserve(4)
            let adler = adlerB << 16 | adlerA
            for shift in [24, 16, 8, 0] { output[count] = UInt8(truncatingIfNeeded: adler >> UInt32(shift)); count += 1 }
        }
    }

    // MARK: Bits

    private func reserve(_ extra: Int) {
        guard count + extra + 8 > capacity else { return }
        var grown = capacity
        while count + extra + 8 > grown { grown *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        bigger.update(from: output, count: count)
        output.deallocate()
        output = bigger
        capacity = grown
    }

    /// Appends the low `n` bits of `value` (n ≤ 32), least significant first.
    private func writeBits(_ value: UInt32, _ n: Int) {
        bitBuffer |= UInt64(value) << UInt64(bitCount)
        bitCount += n
        while bitCount >= 8 {
            output[count] = UInt8(truncatingIfNeeded: bitBuffer)
            count += 1
            bitBuffer >>= 8
            bitCount -= 8
        }
    }

    private func flushToByte() {
        reserve(8)
        while bitCount > 0 {
            output[count] = UInt8(truncatingIfNeeded: bitBuffer)
            count += 1
            bitBuffer >>= 8
            bitCount = max(0, bitCount - 8)
        }
        bitBuffer = 0
    }

    /// The dynamic block header: HLIT, HDIST, HCLEN, the code-length code, then the literal/length
    /// and distance code lengths (one distance code of 1 bit) with it, without repeat codes.
    private func writeCodeLengths(_ literalLengths: [UInt8]) {
        var literalCount = 286
        while literalCount > 257 && literalLengths[literalCount - 1] == 0 { literalCount -= 1 }
        let sequence = Array(literalLengths[0..<literalCount]) + [1]   // + the one distance code
        var clCounts = [Int](repeating: 0, count: 19)
        for length in sequence { clCounts[Int(length)] += 1 }
        let clLengths = Self.huffmanLengths(clCounts, limit: 7)
        let clCodes = Self.canonicalCodes(clLengths)
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var clCount = 19
        while clCount > 4 && clLengths[order[clCount - 1]] == 0 { clCount -= 1 }
        writeBits(UInt32(literalCount - 257), 5)
        writeBits(0, 5)   // HDIST: 1 distance code
        writeBits(UInt32(clCount - 4), 4)
        for k in 0..<clCount { writeBits(UInt32(clLengths[order[k]]), 3) }
        for length in sequence { writeBits(UInt32(clCodes[Int(length)]), Int(clLengths[Int(length)])) }
    }

    // MARK: Adler-32

    private func updateAdler(_ data: UnsafePointer<UInt8>, _ n: Int) {
        var a = adlerA, b = adlerB
        var i = 0
        while i < n {
            // 5552 bytes keep b below 2^32 before the modulo (zlib's NMAX).
            let end = min(n, i + 5552)
            while i < end {
                a &+= UInt32(data[i])
                b &+= a
                i &+= 1
            }
            a %= 65521
            b %= 65521
        }
        adlerA = a
        adlerB = b
    }

    // MARK: Huffman codes

    /// Huffman code lengths for `counts` (0 = unused symbol), none longer than `limit`: the
    /// counts are halved (keeping used symbols at ≥ 1) until the code fits. At least two symbols
    /// get a length (a lone used symbol is paired with an unused one), so the code is complete.
    static func huffmanLengths(_ counts: [Int], limit: Int) -> [UInt8] {
        var weights = counts
        var used = weights.indices.filter { weights[$0] > 0 }
        if used.count < 2 {
            let spare = weights.indices.first { !used.contains($0) } ?? 0
            weights[spare] = 1
            if used.isEmpty { weights[spare == 0 ? 1 : 0] = 1 }
            used = weights.indices.filter { weights[$0] > 0 }
        }
        while true {
            let lengths = unlimitedLengths(weights, used: used)
            if lengths.max() ?? 0 <= UInt8(limit) { return lengths }
            for s in used { weights[s] = max(1, weights[s] >> 1) }
        }
    }

    /// Plain Huffman code lengths (two-queue construction over the used symbols, ≥ 2 of them).
    private static func unlimitedLengths(_ weights: [Int], used: [Int]) -> [UInt8] {
        let leaves = used.sorted { (weights[$0], $0) < (weights[$1], $1) }
        let n = leaves.count
        // Nodes 0..<n are the leaves in order, n..<2n-1 the internal nodes in creation order.
        var weight = leaves.map { weights[$0] } + [Int](repeating: 0, count: n - 1)
        var parent = [Int](repeating: -1, count: 2 * n - 1)
        var nextLeaf = 0, nextInternal = n
        func takeSmallest(_ created: Int) -> Int {
            if nextLeaf < n && (nextInternal >= created || weight[nextLeaf] <= weight[nextInternal]) {
                nextLeaf += 1
                return nextLeaf - 1
            }
            nextInternal += 1
            return nextInternal - 1
        }
        for node in n..<(2 * n - 1) {
            let a = takeSmallest(node), b = takeSmallest(node)
            weight[node] = weight[a] + weight[b]
            parent[a] = node
            parent[b] = node
        }
        // Depths from the root (the last node) down: a parent is always created after its children.
        var depth = [Int](repeating: 0, count: 2 * n - 1)
        for node in stride(from: 2 * n - 3, through: 0, by: -1) { depth[node] = depth[parent[node]] + 1 }
        var lengths = [UInt8](repeating: 0, count: weights.count)
        for (k, symbol) in leaves.enumerated() { lengths[symbol] = UInt8(depth[k]) }
        return lengths
    }

    /// Canonical codes (RFC 1951 §3.2.2) for `lengths`, bit-reversed for LSB-first output.
    static func canonicalCodes(_ lengths: [UInt8]) -> [UInt16] {
        var lengthCounts = [Int](repeating: 0, count: 16)
        for length in lengths where length > 0 { lengthCounts[Int(length)] += 1 }
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for bits in 1..<16 {
            code = (code + lengthCounts[bits - 1]) << 1
            next[bits] = code
        }
        var codes = [UInt16](repeating: 0, count: lengths.count)
        for (symbol, length) in lengths.enumerated() where length > 0 {
            var value = next[Int(length)], reversed = 0
            next[Int(length)] += 1
            for _ in 0..<Int(length) {
                reversed = reversed << 1 | value & 1
                value >>= 1
            }
            codes[symbol] = UInt16(reversed)
        }
        return codes
    }

    // MARK: Length alphabet (RFC 1951 §3.2.5)

    /// Base length of symbols 257…285.
    static let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                       67, 83, 99, 115, 131, 163, 195, 227, 258]
    /// Extra bits of symbols 257…285.
    static let lengthExtraBits: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                                           4, 4, 4, 4, 5, 5, 5, 5, 0]
    /// Symbol (257…285) of each length 0…258 (entries below 3 unused).
    static let lengthSymbol: [UInt16] = {
        var table = [UInt16](repeating: 257, count: 259)
        for length in 3...258 {
            var symbol = 28
            while Int(lengthBase[symbol]) > length { symbol -= 1 }
            table[length] = UInt16(257 + symbol)
        }
        return table
    }()
}
