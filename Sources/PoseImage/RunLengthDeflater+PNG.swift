import CPNG

extension RunLengthDeflater {
    /// An 8-bit gray (`channels` 1) or RGB (3) PNG: signature, IHDR, IDAT chunk(s) holding the zlib
    /// stream of ``RunLengthDeflater``, IEND. Rows are filtered with `filter` into a block buffer of
    /// about 64 KB (`[rows, 1 + width * channels]`, filter byte first), one deflate block per buffer.
    /// Dimensions are validated by the caller (1…1,000,000 a side, `pixels.count` = `h * w * c`).
    static func encodePNG(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int,
                          filter: PNGRowFilter) -> [UInt8] {
        let rowBytes = width * channels, lineBytes = rowBytes + 1
        let rowsPerBlock = max(1, min(height, (1 << 16) / lineBytes))
        let block = UnsafeMutablePointer<UInt8>.allocate(capacity: rowsPerBlock * lineBytes)   // [rows, 1 + W·C]
        defer { block.deallocate() }
        let deflater = RunLengthDeflater()
        deflater.begin()
        if let src = pixels.baseAddress {
            var y = 0
            while y < height {
                let rows = min(rowsPerBlock, height - y)
                for r in 0..<rows {
                    let row = src + (y + r) * rowBytes
                    let line = block + r * lineBytes
                    line[0] = filter.rawValue
                    let out = line + 1
                    switch filter {
                    case .none:
                        out.update(from: row, count: rowBytes)
                    case .sub:
                        for x in 0..<channels { out[x] = row[x] }
                        for x in channels..<rowBytes { out[x] = row[x] &- row[x - channels] }
                    case .up:
                        if y + r == 0 {
                            out.update(from: row, count: rowBytes)
                        } else {
                            let above = row - rowBytes
                            for x in 0..<rowBytes { out[x] = row[x] &- above[x] }
                        }
                    }
                }
                deflater.compress(block, count: rows * lineBytes, final: y + rows == height)
                y += rows
            }
        }
        let stream = deflater.bytes
        // IDAT chunks of at most 2^30 bytes (a chunk length must stay below 2^31).
        let chunkLimit = 1 << 30
        let idatCount = max(1, (stream.count + chunkLimit - 1) / chunkLimit)
        var png: [UInt8] = []
        png.reserveCapacity(8 + 25 + stream.count + 12 * idatCount + 12)
        png += [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func bigEndian(_ value: Int) -> [UInt8] {
            [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
             UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        }
        func appendChunk(_ type: String, _ data: UnsafeBufferPointer<UInt8>) {
            let typeBytes = Array(type.utf8)
            png += bigEndian(data.count)
            let start = png.count
            png += typeBytes
            png.append(contentsOf: data)
            let crc = png.withUnsafeBufferPointer { all -> UInt in
                // CRC over type + data (zlib's crc32, lengths below 2^31).
                crc32(0, all.baseAddress.map { $0 + start }, UInt32(all.count - start))
            }
            png += bigEndian(Int(crc))
        }
        var header = bigEndian(width) + bigEndian(height)
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]   // bit depth 8, gray/RGB, deflate, adaptive filters, no interlace
        header.withUnsafeBufferPointer { appendChunk("IHDR", $0) }
        var offset = 0
        repeat {
            let n = min(chunkLimit, stream.count - offset)
            appendChunk("IDAT", UnsafeBufferPointer(rebasing: stream[offset..<(offset + n)]))
            offset += n
        } while offset < stream.count
        appendChunk("IEND", UnsafeBufferPointer(start: nil, count: 0))
        return png
    }
}
