/// CONV_2D 1×1, stride 1, unpadded, on NHWC float32, with mostly-zero weights kept sparse:
/// a sparse (weights) × dense (pixels) product that never multiplies a zero weight.
///
/// Layouts: input NHWC `[N, H, W, I]`, weights OHWI `[O, 1, 1, I]` given dense (a DENSIFY'd
/// TFLite tensor, or any weights), bias `[O]`, output NHWC `[N, H, W, O]`.
///
/// Storage, built once at load: compressed sparse rows, one row per output channel —
/// `rowStart[O+1]`, and for each nonzero weight (input channels in increasing order) its value and
/// its input channel `i` (stored as the float offset `8·i` into a transposed pixel group).
///
/// Strategy (the SpMM idea of XNNPACK's NCHW kernels, on an NHWC input): the pixels are taken in
/// tiles of 64; each tile is transposed (8×8 blocks) into the worker's scratch as 8 groups of 8
/// pixels, `[8][I][8]` (channel-major inside a group, zero past the last pixel). For every output
/// channel, each nonzero weight `w` at input channel `i` adds `w · xT[g][i][0..<8]` to one SIMD8
/// accumulator per group: 8 multiply-adds over 64 pixels per nonzero, the zeros are skipped. The
/// last tile of a map runs the 4-, 2- or 1-group specialization that covers its pixels. Raw sums
/// of 8 output channels go to a small `[8][64]` block, which is transposed back to NHWC and gets the
/// GEMM's epilogue (bias, clamp, optional residual ADD and its clamp) on each pixel's 8 channels.
///
/// Numerics: each output is `sum` over the nonzero weights in increasing input-channel order, from
/// `+0`, with the same multiply-add as the dense GEMM micro-kernel (`SIMD8.multiplyAdd`: FMA when
/// ``gemmUsesFMA``), then `+ bias`, the clamp, the residual. The dense native GEMM sums all K terms
/// in that same order in one accumulator; a zero weight adds `±0` to an accumulator that is never
/// `-0`, which leaves it unchanged. So for finite inputs the result is bit-identical to
/// `Conv2DOperator` with the `.native` backend and more than one output channel (an infinite or NaN
/// input times a skipped zero weight would have made the dense sum NaN). Every pixel's arithmetic
/// is independent of its tile and of the work split, so results are identical for every thread count.
public final class SparseConv1x1Operator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let activation: FusedActivation
    /// Nonzero weights kept (of `O·I`).
    public let nonzeroCount: Int
    /// Pixel groups (of 8) per tile: 8, 4, 2 or 1 (64 to 8 pixels). Fewer groups keep the
    /// transposed tile (`8·groups·I` floats) in L1, more groups reuse each nonzero over more pixels;
    /// the default is the most whose tile fits 24 KiB, and the interpreter times the four at load.
    /// Every value gives the same bits (each output's sum does not depend on the tiling).
    public var tileGroups: Int {
        get { groupsPerTile }
        set { groupsPerTile = newValue >= 8 ? 8 : (newValue >= 4 ? 4 : (newValue >= 2 ? 2 : 1)) }
    }
    private var groupsPerTile: Int
    /// Largest tile: `[8][64]` raw-sum blocks are sized for it.
    static let tilePixels = 64
    /// `[O + 1]`: nonzeros of output channel `o` are `rowStart[o] ..< rowStart[o+1]`.
    let rowStart: UnsafeMutablePointer<Int32>
    /// `[nonzeroCount]`: `8 · input channel` of each nonzero (its row in a transposed group).
    let offsets: UnsafeMutablePointer<Int32>
    /// `[nonzeroCount]`: the nonzero weight values, row by row.
    let values: UnsafeMutablePointer<Float>
    /// `[O + 8]`: bias, zeros when there is none and past O (8-channel blocks load 8).
    let bias: UnsafeMutablePointer<Float>

    /// Fraction of the weights that are exactly zero (`±0`), 0...1.
    public var zeroFraction: Double {
        let total = outputShape.channels * inputShape.channels
        return total == 0 ? 0 : Double(total - nonzeroCount) / Double(total)
    }

    /// Validates the shapes and builds the sparse rows from `weights` (OHWI, `weightsShape` =
    /// `[O, 1, 1, I]`, dense) and `bias` (`[O]`, or empty for none). Throws `KernelError` when the
    /// buffers do not fit the shapes or the weights are not 1×1.
    public init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias biasIn: [Float],
                activation: FusedActivation) throws {
        let op = "CONV_2D (sparse 1x1)"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard weightsShape.count == 4, validDimensions(weightsShape), weightsShape[1] == 1, weightsShape[2] == 1 else {
            throw KernelError.invalidShape(op: op, what: "weights (OHWI, 1x1)", shape: weightsShape)
        }
        let o = weightsShape[0], i = weightsShape[3]
        guard i == input.channels else {
            throw KernelError.shapeMismatch(op: op, detail: "weights input depth \(i) != input channels \(input.channels)")
        }
        guard weights.count == o * i else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: o * i, got: weights.count)
        }
        guard biasIn.isEmpty || biasIn.count == o else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(biasIn.count) values, output channels \(o)")
        }
        // Offsets are stored as Int32 (8·I must fit).
        guard i <= Int(Int32.max) / 8, o * i <= Int(Int32.max) else {
            throw KernelError.invalidShape(op: op, what: "weights (too large for 32-bit sparse indices)", shape: weightsShape)
        }
        self.inputShape = input
        self.outputShape = NHWCShape(batch: input.batch, height: input.height, width: input.width, channels: o)
        self.activation = activation
        let tileBytes = { (groups: Int) in groups * 8 * i * 4 }
        groupsPerTile = tileBytes(8) <= 24 << 10 ? 8 : (tileBytes(4) <= 24 << 10 ? 4 : (tileBytes(2) <= 24 << 10 ? 2 : 1))
        let nnz = weights.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
        nonzeroCount = nnz
        rowStart = .allocate(capacity: o + 1)
        offsets = .allocate(capacity: Swift.max(1, nnz))
        values = .allocate(capacity: Swift.max(1, nnz))
        bias = .allocate(capacity: o + 8)
        bias.initialize(repeating: 0, count: o + 8)
        if !biasIn.isEmpty { for j in 0..<o { bias[j] = biasIn[j] } }
        var at = 0
        for row in 0..<o {
            rowStart[row] = Int32(at)
            for kk in 0..<i {
                let w = weights[row * i + kk]
                if w != 0 {
                    offsets[at] = Int32(8 * kk)
                    values[at] = w
                    at += 1
                }
            }
        }
        rowStart[o] = Int32(at)
    }

    deinit {
        rowStart.deallocate()
        offsets.deallocate()
        values.deallocate()
        bias.deallocate()
    }

    /// Floats of scratch `run` needs for a pool of `threads` threads: per worker one transposed
    /// tile `[8][I][8]` and one output block `[8][64]`.
    public func scratchCount(threads: Int) -> Int {
        Swift.max(1, threads) * Self.tilePixels * (inputShape.channels + 8)
    }

    /// Runs the conv. `input` holds `inputShape.elementCount` floats (NHWC), `output`
    /// `outputShape.elementCount` (NHWC), `scratch` at least `scratchCount(threads: pool.threadCount)`.
    /// With `residual` (NHWC `outputShape`, `ld` ≥ O): `output = act2(act(conv + bias) + residual)`,
    /// a fused ADD, as `Conv2DOperator.run`. Does not validate the pointers.
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, residual: GemmResidual? = nil) {
        let m = outputShape.batch * outputShape.height * outputShape.width
        let k = inputShape.channels, n = outputShape.channels
        if m == 0 || n == 0 { return }
        let tilePixels = 8 * tileGroups
        let tiles = (m + tilePixels - 1) / tilePixels
        let blocks = (n + 7) / 8
        // Few tiles (deep 7×7 / 14×14 layers): split the 8-channel blocks too, so every thread gets
        // work (each group transposes its tile itself). Any split gives the same bits: every output's
        // arithmetic depends only on its position.
        let want = pool.threadCount == 1 ? 1 : 2 * pool.threadCount
        let groups = tiles >= want ? 1 : Swift.max(1, Swift.min(blocks, (want + tiles - 1) / tiles))
        let lo = activation.lowerBound, hi = activation.upperBound
        let perWorker = Self.tilePixels * (k + 8)
        pool.parallelFor(tiles * groups) { unit, worker in
            let tile = unit / groups, g = unit % groups
            let b0 = blocks * g / groups, b1 = blocks * (g + 1) / groups
            // xt: [8][k][8], the transposed pixel tile; ot: [8][64], one block of raw sums.
            let xt = scratch + worker * perWorker
            let ot = xt + Self.tilePixels * k
            let p0 = tile * tilePixels
            let count = Swift.min(tilePixels, m - p0)
            let used = (count + 7) / 8
            // Group count of the kernel: the power of two covering the tile's pixels.
            let kernelGroups = used > 4 ? 8 : (used > 2 ? 4 : used)
            transposeTile(input + p0 * k, pixels: count, groups: kernelGroups, k: k, to: xt)
            let e = GemmEpilogue(lo: lo, hi: hi, residual: residual?.offset(rows: p0, cols: 0))
            for block in b0..<b1 {
                let cb = block * 8, cn = Swift.min(8, n - cb)
                switch (kernelGroups, cn) {
                case (8, _): sums(Groups8.self, xt: xt, k: k, channels: cb..<(cb + cn), to: ot)
                case (4, 8):
                    for c in stride(from: 0, to: 8, by: 2) { sums4x2(xt: xt, k: k, o0: cb + c, row0: c, to: ot) }
                case (2, 8):
                    sums2x4(xt: xt, k: k, o0: cb, row0: 0, to: ot); sums2x4(xt: xt, k: k, o0: cb + 4, row0: 4, to: ot)
                case (1, 8): sums1x8(xt: xt, k: k, o0: cb, row0: 0, to: ot)
                // The last block of a layer whose O is not a multiple of 8: one channel at a time.
                case (4, _): sums(Groups4.self, xt: xt, k: k, channels: cb..<(cb + cn), to: ot)
                case (2, _): sums(Groups2.self, xt: xt, k: k, channels: cb..<(cb + cn), to: ot)
                default: sums(Groups1.self, xt: xt, k: k, channels: cb..<(cb + cn), to: ot)
                }
                store(ot, pixels: count, channel0: cb, channels: cn, n: n, epilogue: e, lo: lo, hi: hi,
                      residual: residual?.offset(rows: p0, cols: 0), out: output + p0 * n)
            }
        }
    }

    /// Transposes `pixels` ≤ 64 NHWC pixel rows (`src`: `[pixels][k]`) into `dst`: `[groups][k][8]`,
    /// group `g` holding pixels `8g ..< 8g+8`, zeros past `pixels`.
    @inline(__always)
    func transposeTile(_ src: UnsafePointer<Float>, pixels: Int, groups: Int, k: Int, to dst: UnsafeMutablePointer<Float>) {
        for group in 0..<groups {
            let rows = Swift.max(0, Swift.min(8, pixels - group * 8))
            let s = src + group * 8 * k
            let d = dst + group * k * 8
            if rows == 8 {
                var c = 0
                while c + 8 <= k {
                    // One 8×8 block: pixel rows in, channel rows out.
                    let t = transpose8x8(loadVector(s + c), loadVector(s + k + c), loadVector(s + 2 * k + c),
                                         loadVector(s + 3 * k + c), loadVector(s + 4 * k + c), loadVector(s + 5 * k + c),
                                         loadVector(s + 6 * k + c), loadVector(s + 7 * k + c))
                    storeVector(t.0, d + c * 8); storeVector(t.1, d + (c + 1) * 8)
                    storeVector(t.2, d + (c + 2) * 8); storeVector(t.3, d + (c + 3) * 8)
                    storeVector(t.4, d + (c + 4) * 8); storeVector(t.5, d + (c + 5) * 8)
                    storeVector(t.6, d + (c + 6) * 8); storeVector(t.7, d + (c + 7) * 8)
                    c += 8
                }
                while c < k {
                    for j in 0..<8 { d[c * 8 + j] = s[j * k + c] }
                    c += 1
                }
            } else {
                for c in 0..<k {
                    for j in 0..<8 { d[c * 8 + j] = j < rows ? s[j * k + c] : 0 }
                }
            }
        }
    }

    /// Raw sums of output channels `channels` (at most 8) over `G.count` pixel groups of `xt`
    /// (`[G][k][8]`), into `ot`: `[8][64]`, row `o - channels.lowerBound`, pixels along the row.
    @inline(__always)
    func sums<G: SparseGroupCount>(_: G.Type, xt: UnsafePointer<Float>, k: Int, channels: Range<Int>,
                                   to ot: UnsafeMutablePointer<Float>) {
        let x0 = xt, x1 = xt + 8 * k, x2 = xt + 16 * k, x3 = xt + 24 * k
        let x4 = xt + 32 * k, x5 = xt + 40 * k, x6 = xt + 48 * k, x7 = xt + 56 * k
        for o in channels {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
            var j = Int(rowStart[o])
            let end = Int(rowStart[o + 1])
            while j < end {
                let w = SIMD8<Float>(repeating: values[j])
                let off = Int(offsets[j])
                a0.multiplyAdd(loadVector(x0 + off), w)
                if G.count > 1 { a1.multiplyAdd(loadVector(x1 + off), w) }
                if G.count > 2 {
                    a2.multiplyAdd(loadVector(x2 + off), w)
                    a3.multiplyAdd(loadVector(x3 + off), w)
                }
                if G.count > 4 {
                    a4.multiplyAdd(loadVector(x4 + off), w)
                    a5.multiplyAdd(loadVector(x5 + off), w)
                    a6.multiplyAdd(loadVector(x6 + off), w)
                    a7.multiplyAdd(loadVector(x7 + off), w)
                }
                j &+= 1
            }
            let row = ot + (o - channels.lowerBound) * Self.tilePixels
            storeVector(a0, row)
            if G.count > 1 { storeVector(a1, row + 8) }
            if G.count > 2 { storeVector(a2, row + 16); storeVector(a3, row + 24) }
            if G.count > 4 {
                storeVector(a4, row + 32); storeVector(a5, row + 40)
                storeVector(a6, row + 48); storeVector(a7, row + 56)
            }
        }
    }

    /// Raw sums of the 2 output channels `o0 ..< o0+2` over 4 pixel groups of `xt` (`[4][k][8]`)
    /// into `ot` rows `o0 - block0 ...`: the 2 channels' nonzeros are taken in lockstep so 8 accumulator
    /// chains are in flight (one channel with 4 chains is bound by the multiply-add latency);
    /// each channel still adds its own nonzeros in increasing input channel.
    @inline(__always)
    func sums4x2(xt: UnsafePointer<Float>, k: Int, o0: Int, row0: Int, to ot: UnsafeMutablePointer<Float>) {
        let x0 = xt + 0 * k; let x1 = xt + 8 * k; let x2 = xt + 16 * k; let x3 = xt + 24 * k
        var j0 = Int(rowStart[o0 + 0]); let e0 = Int(rowStart[o0 + 1])
        var a00 = SIMD8<Float>(); var a01 = SIMD8<Float>(); var a02 = SIMD8<Float>(); var a03 = SIMD8<Float>()
        var j1 = Int(rowStart[o0 + 1]); let e1 = Int(rowStart[o0 + 2])
        var a10 = SIMD8<Float>(); var a11 = SIMD8<Float>(); var a12 = SIMD8<Float>(); var a13 = SIMD8<Float>()
        let common = Swift.min(e0 - j0, e1 - j1)
        for _ in 0..<common {
            let w0 = SIMD8<Float>(repeating: values[j0]), f0 = Int(offsets[j0])
            a00.multiplyAdd(loadVector(x0 + f0), w0)
            a01.multiplyAdd(loadVector(x1 + f0), w0)
            a02.multiplyAdd(loadVector(x2 + f0), w0)
            a03.multiplyAdd(loadVector(x3 + f0), w0)
            j0 &+= 1
            let w1 = SIMD8<Float>(repeating: values[j1]), f1 = Int(offsets[j1])
            a10.multiplyAdd(loadVector(x0 + f1), w1)
            a11.multiplyAdd(loadVector(x1 + f1), w1)
            a12.multiplyAdd(loadVector(x2 + f1), w1)
            a13.multiplyAdd(loadVector(x3 + f1), w1)
            j1 &+= 1
        }
        while j0 < e0 {
            let w = SIMD8<Float>(repeating: values[j0]), f = Int(offsets[j0])
            a00.multiplyAdd(loadVector(x0 + f), w)
            a01.multiplyAdd(loadVector(x1 + f), w)
            a02.multiplyAdd(loadVector(x2 + f), w)
            a03.multiplyAdd(loadVector(x3 + f), w)
            j0 &+= 1
        }
        let r0 = ot + (row0 + 0) * Self.tilePixels
        storeVector(a00, r0 + 0); storeVector(a01, r0 + 8); storeVector(a02, r0 + 16); storeVector(a03, r0 + 24)
        while j1 < e1 {
            let w = SIMD8<Float>(repeating: values[j1]), f = Int(offsets[j1])
            a10.multiplyAdd(loadVector(x0 + f), w)
            a11.multiplyAdd(loadVector(x1 + f), w)
            a12.multiplyAdd(loadVector(x2 + f), w)
            a13.multiplyAdd(loadVector(x3 + f), w)
            j1 &+= 1
        }
        let r1 = ot + (row0 + 1) * Self.tilePixels
        storeVector(a10, r1 + 0); storeVector(a11, r1 + 8); storeVector(a12, r1 + 16); storeVector(a13, r1 + 24)
    }

    /// Raw sums of the 4 output channels `o0 ..< o0+4` over 2 pixel groups of `xt` (`[2][k][8]`)
    /// into `ot` rows `o0 - block0 ...`: the 4 channels' nonzeros are taken in lockstep so 8 accumulator
    /// chains are in flight (one channel with 2 chains is bound by the multiply-add latency);
    /// each channel still adds its own nonzeros in increasing input channel.
    @inline(__always)
    func sums2x4(xt: UnsafePointer<Float>, k: Int, o0: Int, row0: Int, to ot: UnsafeMutablePointer<Float>) {
        let x0 = xt + 0 * k; let x1 = xt + 8 * k
        var j0 = Int(rowStart[o0 + 0]); let e0 = Int(rowStart[o0 + 1])
        var a00 = SIMD8<Float>(); var a01 = SIMD8<Float>()
        var j1 = Int(rowStart[o0 + 1]); let e1 = Int(rowStart[o0 + 2])
        var a10 = SIMD8<Float>(); var a11 = SIMD8<Float>()
        var j2 = Int(rowStart[o0 + 2]); let e2 = Int(rowStart[o0 + 3])
        var a20 = SIMD8<Float>(); var a21 = SIMD8<Float>()
        var j3 = Int(rowStart[o0 + 3]); let e3 = Int(rowStart[o0 + 4])
        var a30 = SIMD8<Float>(); var a31 = SIMD8<Float>()
        let common = Swift.min(e0 - j0, e1 - j1, e2 - j2, e3 - j3)
        for _ in 0..<common {
            let w0 = SIMD8<Float>(repeating: values[j0]), f0 = Int(offsets[j0])
            a00.multiplyAdd(loadVector(x0 + f0), w0)
            a01.multiplyAdd(loadVector(x1 + f0), w0)
            j0 &+= 1
            let w1 = SIMD8<Float>(repeating: values[j1]), f1 = Int(offsets[j1])
            a10.multiplyAdd(loadVector(x0 + f1), w1)
            a11.multiplyAdd(loadVector(x1 + f1), w1)
            j1 &+= 1
            let w2 = SIMD8<Float>(repeating: values[j2]), f2 = Int(offsets[j2])
            a20.multiplyAdd(loadVector(x0 + f2), w2)
            a21.multiplyAdd(loadVector(x1 + f2), w2)
            j2 &+= 1
            let w3 = SIMD8<Float>(repeating: values[j3]), f3 = Int(offsets[j3])
            a30.multiplyAdd(loadVector(x0 + f3), w3)
            a31.multiplyAdd(loadVector(x1 + f3), w3)
            j3 &+= 1
        }
        while j0 < e0 {
            let w = SIMD8<Float>(repeating: values[j0]), f = Int(offsets[j0])
            a00.multiplyAdd(loadVector(x0 + f), w)
            a01.multiplyAdd(loadVector(x1 + f), w)
            j0 &+= 1
        }
        let r0 = ot + (row0 + 0) * Self.tilePixels
        storeVector(a00, r0 + 0); storeVector(a01, r0 + 8)
        while j1 < e1 {
            let w = SIMD8<Float>(repeating: values[j1]), f = Int(offsets[j1])
            a10.multiplyAdd(loadVector(x0 + f), w)
            a11.multiplyAdd(loadVector(x1 + f), w)
            j1 &+= 1
        }
        let r1 = ot + (row0 + 1) * Self.tilePixels
        storeVector(a10, r1 + 0); storeVector(a11, r1 + 8)
        while j2 < e2 {
            let w = SIMD8<Float>(repeating: values[j2]), f = Int(offsets[j2])
            a20.multiplyAdd(loadVector(x0 + f), w)
            a21.multiplyAdd(loadVector(x1 + f), w)
            j2 &+= 1
        }
        let r2 = ot + (row0 + 2) * Self.tilePixels
        storeVector(a20, r2 + 0); storeVector(a21, r2 + 8)
        while j3 < e3 {
            let w = SIMD8<Float>(repeating: values[j3]), f = Int(offsets[j3])
            a30.multiplyAdd(loadVector(x0 + f), w)
            a31.multiplyAdd(loadVector(x1 + f), w)
            j3 &+= 1
        }
        let r3 = ot + (row0 + 3) * Self.tilePixels
        storeVector(a30, r3 + 0); storeVector(a31, r3 + 8)
    }

    /// Raw sums of the 8 output channels `o0 ..< o0+8` over 1 pixel group of `xt` (`[1][k][8]`)
    /// into `ot` rows `o0 - block0 ...`: the 8 channels' nonzeros are taken in lockstep so 8 accumulator
    /// chains are in flight (one channel with 1 chain is bound by the multiply-add latency);
    /// each channel still adds its own nonzeros in increasing input channel.
    @inline(__always)
    func sums1x8(xt: UnsafePointer<Float>, k: Int, o0: Int, row0: Int, to ot: UnsafeMutablePointer<Float>) {
        let x0 = xt + 0 * k
        var j0 = Int(rowStart[o0 + 0]); let e0 = Int(rowStart[o0 + 1])
        var a00 = SIMD8<Float>()
        var j1 = Int(rowStart[o0 + 1]); let e1 = Int(rowStart[o0 + 2])
        var a10 = SIMD8<Float>()
        var j2 = Int(rowStart[o0 + 2]); let e2 = Int(rowStart[o0 + 3])
        var a20 = SIMD8<Float>()
        var j3 = Int(rowStart[o0 + 3]); let e3 = Int(rowStart[o0 + 4])
        var a30 = SIMD8<Float>()
        var j4 = Int(rowStart[o0 + 4]); let e4 = Int(rowStart[o0 + 5])
        var a40 = SIMD8<Float>()
        var j5 = Int(rowStart[o0 + 5]); let e5 = Int(rowStart[o0 + 6])
        var a50 = SIMD8<Float>()
        var j6 = Int(rowStart[o0 + 6]); let e6 = Int(rowStart[o0 + 7])
        var a60 = SIMD8<Float>()
        var j7 = Int(rowStart[o0 + 7]); let e7 = Int(rowStart[o0 + 8])
        var a70 = SIMD8<Float>()
        let common = Swift.min(e0 - j0, e1 - j1, e2 - j2, e3 - j3, e4 - j4, e5 - j5, e6 - j6, e7 - j7)
        for _ in 0..<common {
            let w0 = SIMD8<Float>(repeating: values[j0]), f0 = Int(offsets[j0])
            a00.multiplyAdd(loadVector(x0 + f0), w0)
            j0 &+= 1
            let w1 = SIMD8<Float>(repeating: values[j1]), f1 = Int(offsets[j1])
            a10.multiplyAdd(loadVector(x0 + f1), w1)
            j1 &+= 1
            let w2 = SIMD8<Float>(repeating: values[j2]), f2 = Int(offsets[j2])
            a20.multiplyAdd(loadVector(x0 + f2), w2)
            j2 &+= 1
            let w3 = SIMD8<Float>(repeating: values[j3]), f3 = Int(offsets[j3])
            a30.multiplyAdd(loadVector(x0 + f3), w3)
            j3 &+= 1
            let w4 = SIMD8<Float>(repeating: values[j4]), f4 = Int(offsets[j4])
            a40.multiplyAdd(loadVector(x0 + f4), w4)
            j4 &+= 1
            let w5 = SIMD8<Float>(repeating: values[j5]), f5 = Int(offsets[j5])
            a50.multiplyAdd(loadVector(x0 + f5), w5)
            j5 &+= 1
            let w6 = SIMD8<Float>(repeating: values[j6]), f6 = Int(offsets[j6])
            a60.multiplyAdd(loadVector(x0 + f6), w6)
            j6 &+= 1
            let w7 = SIMD8<Float>(repeating: values[j7]), f7 = Int(offsets[j7])
            a70.multiplyAdd(loadVector(x0 + f7), w7)
            j7 &+= 1
        }
        while j0 < e0 {
            let w = SIMD8<Float>(repeating: values[j0]), f = Int(offsets[j0])
            a00.multiplyAdd(loadVector(x0 + f), w)
            j0 &+= 1
        }
        let r0 = ot + (row0 + 0) * Self.tilePixels
        storeVector(a00, r0 + 0)
        while j1 < e1 {
            let w = SIMD8<Float>(repeating: values[j1]), f = Int(offsets[j1])
            a10.multiplyAdd(loadVector(x0 + f), w)
            j1 &+= 1
        }
        let r1 = ot + (row0 + 1) * Self.tilePixels
        storeVector(a10, r1 + 0)
        while j2 < e2 {
            let w = SIMD8<Float>(repeating: values[j2]), f = Int(offsets[j2])
            a20.multiplyAdd(loadVector(x0 + f), w)
            j2 &+= 1
        }
        let r2 = ot + (row0 + 2) * Self.tilePixels
        storeVector(a20, r2 + 0)
        while j3 < e3 {
            let w = SIMD8<Float>(repeating: values[j3]), f = Int(offsets[j3])
            a30.multiplyAdd(loadVector(x0 + f), w)
            j3 &+= 1
        }
        let r3 = ot + (row0 + 3) * Self.tilePixels
        storeVector(a30, r3 + 0)
        while j4 < e4 {
            let w = SIMD8<Float>(repeating: values[j4]), f = Int(offsets[j4])
            a40.multiplyAdd(loadVector(x0 + f), w)
            j4 &+= 1
        }
        let r4 = ot + (row0 + 4) * Self.tilePixels
        storeVector(a40, r4 + 0)
        while j5 < e5 {
            let w = SIMD8<Float>(repeating: values[j5]), f = Int(offsets[j5])
            a50.multiplyAdd(loadVector(x0 + f), w)
            j5 &+= 1
        }
        let r5 = ot + (row0 + 5) * Self.tilePixels
        storeVector(a50, r5 + 0)
        while j6 < e6 {
            let w = SIMD8<Float>(repeating: values[j6]), f = Int(offsets[j6])
            a60.multiplyAdd(loadVector(x0 + f), w)
            j6 &+= 1
        }
        let r6 = ot + (row0 + 6) * Self.tilePixels
        storeVector(a60, r6 + 0)
        while j7 < e7 {
            let w = SIMD8<Float>(repeating: values[j7]), f = Int(offsets[j7])
            a70.multiplyAdd(loadVector(x0 + f), w)
            j7 &+= 1
        }
        let r7 = ot + (row0 + 7) * Self.tilePixels
        storeVector(a70, r7 + 0)
    }

    /// Writes one block of raw sums (`ot`: `[8][64]`, `channels` ≤ 8 rows) to the NHWC output after
    /// the epilogue: full 8×8 blocks are transposed and run `GemmEpilogue.apply` on each pixel's 8
    /// channels; partial blocks run the same operations one value at a time.
    @inline(__always)
    func store(_ ot: UnsafePointer<Float>, pixels: Int, channel0 cb: Int, channels cn: Int, n: Int,
               epilogue e: GemmEpilogue, lo: Float, hi: Float, residual: GemmResidual?,
               out: UnsafeMutablePointer<Float>) {
        let stride = Self.tilePixels
        var p = 0
        if cn == 8 {
            let biasVector = loadVector(bias + cb)
            while p + 8 <= pixels {
                let t = transpose8x8(loadVector(ot + p), loadVector(ot + stride + p), loadVector(ot + 2 * stride + p),
                                     loadVector(ot + 3 * stride + p), loadVector(ot + 4 * stride + p),
                                     loadVector(ot + 5 * stride + p), loadVector(ot + 6 * stride + p),
                                     loadVector(ot + 7 * stride + p))
                let c = out + p * n + cb
                storeVector(e.apply(t.0, bias: biasVector, row: p, col0: cb, cols: 8), c)
                storeVector(e.apply(t.1, bias: biasVector, row: p + 1, col0: cb, cols: 8), c + n)
                storeVector(e.apply(t.2, bias: biasVector, row: p + 2, col0: cb, cols: 8), c + 2 * n)
                storeVector(e.apply(t.3, bias: biasVector, row: p + 3, col0: cb, cols: 8), c + 3 * n)
                storeVector(e.apply(t.4, bias: biasVector, row: p + 4, col0: cb, cols: 8), c + 4 * n)
                storeVector(e.apply(t.5, bias: biasVector, row: p + 5, col0: cb, cols: 8), c + 5 * n)
                storeVector(e.apply(t.6, bias: biasVector, row: p + 6, col0: cb, cols: 8), c + 6 * n)
                storeVector(e.apply(t.7, bias: biasVector, row: p + 7, col0: cb, cols: 8), c + 7 * n)
                p += 8
            }
        }
        while p < pixels {
            for c in 0..<cn {
                // The scalar form of `GemmEpilogue.apply`: bias, max then min, skip, max then min.
                var r = ot[c * stride + p] + bias[cb + c]
                if r < lo { r = lo }
                if r > hi { r = hi }
                if let residual {
                    r = r + residual.value(row: p, col: cb + c)
                    if r < residual.activation.lowerBound { r = residual.activation.lowerBound }
                    if r > residual.activation.upperBound { r = residual.activation.upperBound }
                }
                out[p * n + cb + c] = r
            }
            p += 1
        }
    }
}

/// Pixel groups (of 8) a sparse kernel specialization handles: 8, 4, 2 or 1, fixed at compile time.
protocol SparseGroupCount { static var count: Int { get } }
enum Groups8: SparseGroupCount { static var count: Int { 8 } }
enum Groups4: SparseGroupCount { static var count: Int { 4 } }
enum Groups2: SparseGroupCount { static var count: Int { 2 } }
enum Groups1: SparseGroupCount { static var count: Int { 1 } }

/// Transposes the 8×8 block whose rows are `r0 … r7`: result `i` holds element `i` of every row.
@inline(__always)
func transpose8x8(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
                  _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    @inline(__always) func column(_ i: Int) -> SIMD8<Float> {
        SIMD8(r0[i], r1[i], r2[i], r3[i], r4[i], r5[i], r6[i], r7[i])
    }
    return (column(0), column(1), column(2), column(3), column(4), column(5), column(6), column(7))
}
