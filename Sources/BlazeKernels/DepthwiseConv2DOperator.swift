import CBlazeTarget

/// max-then-min clamp of 8 lanes (TFLite's `ActivationFunctionWithMinMax` order):
/// `v < lo ? lo : v`, then `r > hi ? hi : r` (CBlazeTarget's selects, which keep the kernels
/// small enough to be inlined; see `blaze_max8`).
@inline(__always)
func clampVector(_ v: SIMD8<Float>, _ lo: SIMD8<Float>, _ hi: SIMD8<Float>) -> SIMD8<Float> {
    blaze_min8(hi, blaze_max8(lo, v))
}

/// DEPTHWISE_CONV_2D on NHWC float32 tensors.
///
/// Layouts: input NHWC `[N, H, W, I]`, weights `[1, KH, KW, I·M]`, bias `[I·M]`, output NHWC
/// `[N, OH, OW, I·M]` with output channel `ic·M + m` (TFLite's `reference_ops::DepthwiseConv`).
///
/// Depth multiplier 1 (all BlazePose layers) runs a SIMD kernel vectorized over channels
/// (8 per register, scalar tail); other multipliers run a scalar loop with the same semantics.
/// Per output element the taps are summed in (ky, kx) order with separate multiply and add,
/// then bias, then the activation — the same arithmetic in every position and for any thread count.
public final class DepthwiseConv2DOperator: @unchecked Sendable {
    public let inputShape: NHWCShape
    public let outputShape: NHWCShape
    public let geometry: WindowGeometry
    public let depthMultiplier: Int
    public let activation: FusedActivation
    /// `[KH·KW][C]` (C = I·M), the weights as given.
    let weights: UnsafeMutablePointer<Float>
    /// `[C]`, zeros when there is no bias.
    let bias: UnsafeMutablePointer<Float>
    /// Width of the padded channel-block plane of the small-map path (0: path not used).
    ///
    /// Small maps with 5×5 windows (7×7 … 16×16, stride 1) lose on the NHWC row path twice:
    /// most columns are border or tail columns (a 7-wide row has 3 interior columns), and with
    /// C = 1152 the input columns a block reads are 4608 bytes apart, which maps them onto a few
    /// L1 sets. The small-map path runs one 8-channel block at a time: it gathers the block's
    /// input into a worker-local plane `[H][paddedWidth][8]` with explicit zero columns (a few
    /// KB, stays in L1), then every output column runs the 7- or 8-pixel kernels (7·k-wide SAME
    /// layers skip the gather: `readsInputDirectly`). A zero tap adds
    /// `0·w = ±0` to a sum that is never −0, which leaves it unchanged, so the result is
    /// bit-identical to skipping the tap (TFLite's reference), given finite weights.
    /// Measured per layer (`GemmBenchTests/testDepthwiseBench`): 7×7×1152 0.67×, 14×14×672
    /// 0.88×, 16×16×384 0.8× the row path's time; 3×3 windows, stride 2 and wider maps were
    /// slower this way (the gather costs more than the border saves), so they keep the row path.
    let paddedWidth: Int
    /// `[C/8][KH·KW][8]`: the weights regrouped per channel block for the small-map path.
    let blockWeights: UnsafeMutablePointer<Float>?
    /// Small-map path without the plane: 5×5, stride 1, SAME-like padding of 2 columns on each
    /// side and a width that is a multiple of 7. The 7-pixel blocks (`runSevens`) then skip
    /// exactly the taps that fall outside the input (the first two columns of a row's first block,
    /// the last two of its last), so each channel block reads the NHWC input directly: no gather,
    /// no zero columns, no scratch. Same per-output arithmetic as the reference.
    let readsInputDirectly: Bool
    /// Row path: the whole row in blocks that skip the taps outside the input
    /// (`DepthwiseInterior.runWholeRow`), no border-column or leftover-pixel loops; nil: interior
    /// blocks and border columns. `.unitStride5x7` also lets the small-map path read its input in
    /// place (`readsInputDirectly`).
    let wholeRow: DepthwiseWholeRow?
    /// `[C]`: a fused PRELU's per-channel alpha, or nil. Applied to each finished output row
    /// (or channel block) while it is still in L1, after bias and activation.
    let preluAlpha: UnsafeMutablePointer<Float>?

    /// The store `weights`, `bias`, `blockWeights` and `preluAlpha` were taken from (kept alive
    /// with them); nil: they are ours to free.
    private let store: WeightStore?

    /// True when a PRELU is fused into the op (`preluAlpha` of `init`).
    public var hasFusedPrelu: Bool { preluAlpha != nil }

    /// Validates and copies `weights` (`weightsShape` = `[1, KH, KW, I·M]`) and `bias` (`[I·M]` or empty).
    /// `preluAlpha` (`[I·M]`, one alpha per output channel) fuses a following PRELU, applied after
    /// the activation: bit-identical to this op followed by TFLite's PRELU with that alpha
    /// broadcast over N, H and W. `rowPathOnly` keeps every layer on the row path (`usesRowPath`;
    /// same bits, see `paddedWidth`), as `PointwiseDepthwiseOperator` needs. With a `store`, the
    /// copies go to its huge-page chunks, as packed conv weights do.
    public init(inputShape: [Int], weights: [Float], weightsShape: [Int], bias: [Float],
                depthMultiplier: Int, strideHeight: Int, strideWidth: Int,
                dilationHeight: Int = 1, dilationWidth: Int = 1,
                padding: Padding, activation: FusedActivation, preluAlpha: [Float]? = nil,
                rowPathOnly: Bool = false, store: WeightStore? = nil) throws {
        let op = "DEPTHWISE_CONV_2D"
        let input = try NHWCShape(inputShape, op: op, what: "input")
        guard depthMultiplier > 0 && depthMultiplier <= maxDimension else {
            throw KernelError.invalidParameter(op: op, name: "depth multiplier", value: depthMultiplier)
        }
        guard weightsShape.count == 4, weightsShape[0] == 1, validDimensions(weightsShape) else {
            throw KernelError.invalidShape(op: op, what: "weights ([1, KH, KW, C])", shape: weightsShape)
        }
        let (kh, kw, c) = (weightsShape[1], weightsShape[2], weightsShape[3])
        guard c == input.channels * depthMultiplier else {
            throw KernelError.shapeMismatch(op: op, detail: "weights depth \(c) != input channels \(input.channels) × multiplier \(depthMultiplier)")
        }
        guard weights.count == kh * kw * c else {
            throw KernelError.bufferTooSmall(op: op, what: "weights", needed: kh * kw * c, got: weights.count)
        }
        guard bias.isEmpty || bias.count == c else {
            throw KernelError.shapeMismatch(op: op, detail: "bias has \(bias.count) values, output channels \(c)")
        }
        if let preluAlpha, preluAlpha.count != c {
            throw KernelError.shapeMismatch(op: op, detail: "fused PRELU alpha has \(preluAlpha.count) values, output channels \(c)")
        }
        let g = try WindowGeometry(op: op, inputHeight: input.height, inputWidth: input.width,
                                   kernelHeight: kh, kernelWidth: kw, strideHeight: strideHeight,
                                   strideWidth: strideWidth, dilationHeight: dilationHeight,
                                   dilationWidth: dilationWidth, padding: padding)
        self.inputShape = input
        outputShape = NHWCShape(batch: input.batch, height: g.outputHeight, width: g.outputWidth, channels: c)
        geometry = g
        self.depthMultiplier = depthMultiplier
        self.activation = activation
        // With a store, the copies live in its huge-page chunks (a heap block of fresh 4 KiB pages
        // per layer cost ~2/3 of a depthwise layer's preparation in page faults).
        self.store = store
        // (`cached`: a piece replayed from a packed-weight cache, which holds the copy already.)
        let take: (WeightPieceKind, Int) -> (pointer: UnsafeMutablePointer<Float>, cached: Bool) = { kind, count in
            store?.allocate(kind, floats: count) ?? (.allocate(capacity: count), false)
        }
        let taps = take(.depthwiseTaps, kh * kw * c)
        self.weights = taps.pointer
        if !taps.cached { self.weights.initialize(from: weights, count: kh * kw * c) }
        let biasPiece = take(.depthwiseBias, c)
        self.bias = biasPiece.pointer
        if !biasPiece.cached {
            self.bias.initialize(repeating: 0, count: c)
            if !bias.isEmpty { self.bias.update(from: bias, count: c) }
        }
        if let preluAlpha {
            let alpha = take(.depthwiseAlpha, c)
            if !alpha.cached { alpha.pointer.initialize(from: preluAlpha, count: c) }
            self.preluAlpha = alpha.pointer
        } else {
            self.preluAlpha = nil
        }
        wholeRow = DepthwiseWholeRow(g, channels: c, depthMultiplier: depthMultiplier)
        // Plane rows hold the last 8-pixel block whole (its extra pixels are discarded).
        let blockedWidth = (g.outputWidth + 7) / 8 * 8
        let planeWidth = Swift.max(g.padLeft + input.width, (blockedWidth - 1) * g.strideWidth + kw)
        if !rowPathOnly && depthMultiplier == 1 && c % 8 == 0 && g.dilationWidth == 1 && kw >= 5 && strideWidth == 1
            && g.outputWidth <= 16 && weights.allSatisfy({ $0.isFinite }) {
            paddedWidth = planeWidth
            let (packed, cached) = take(.depthwiseBlocks, kh * kw * c)
            if !cached {
                for block in 0..<(c / 8) {
                    for tap in 0..<(kh * kw) {
                        for lane in 0..<8 { packed[(block * kh * kw + tap) * 8 + lane] = weights[tap * c + block * 8 + lane] }
                    }
                }
            }
            blockWeights = packed
            readsInputDirectly = wholeRow == .unitStride5x7
        } else {
            paddedWidth = 0
            blockWeights = nil
            readsInputDirectly = false
        }
    }

    /// Floats of scratch `run` needs: one channel-block plane `[H][paddedWidth][8]` per thread
    /// on the small-map path, else 0.
    public func scratchCount(threads: Int) -> Int {
        paddedWidth == 0 || readsInputDirectly ? 0 : Swift.max(1, threads) * inputShape.height * paddedWidth * 8
    }

    deinit {
        guard store == nil else { return }
        weights.deallocate()
        bias.deallocate()
        blockWeights?.deallocate()
        preluAlpha?.deallocate()
    }

    /// Runs the op: `input` NHWC `inputShape`, `output` NHWC `outputShape`, `scratch` at least
    /// `scratchCount(threads:)` floats (may be nil when that is 0). Parallel over output rows,
    /// or over 8-channel blocks on the small-map path (see `paddedWidth`).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        let rows = outputShape.batch * geometry.outputHeight
        if paddedWidth > 0, let blockWeights {
            let blocks = outputShape.channels / 8
            if readsInputDirectly {
                pool.parallelFor(outputShape.batch * blocks) { unit, _ in
                    runChannelBlock(input: input, b: unit / blocks, block: unit % blocks, weights: blockWeights,
                                    plane: nil, output: output)
                }
                return
            }
            // A missing scratch buffer is a programming error of the caller, not a data problem.
            guard let scratch else { preconditionFailure("DepthwiseConv2DOperator.run: scratch buffer required (scratchCount > 0)") }
            let planeSize = inputShape.height * paddedWidth * 8
            pool.parallelFor(outputShape.batch * blocks) { unit, worker in
                runChannelBlock(input: input, b: unit / blocks, block: unit % blocks, weights: blockWeights,
                                plane: scratch + worker * planeSize, output: output)
            }
            return
        }
        pool.parallelFor(rows) { row, _ in
            runRow(input: input, b: row / geometry.outputHeight, oy: row % geometry.outputHeight, output: output)
        }
    }

    /// True when `run` computes output rows independently with `runRow` (every layer but the
    /// small-map path's, see `paddedWidth`; always with `rowPathOnly`).
    public var usesRowPath: Bool { paddedWidth == 0 }

    /// Output row `oy` of image `b` on the row path (`usesRowPath`), fused PRELU included: what
    /// `run` does for one row. `input` addresses image 0, row 0 of the NHWC input; only the input
    /// rows under the window of `oy` (`geometry.validKernelRows(outputRow: oy)`) are read, so a
    /// caller may pass a base from which only those rows are backed by memory
    /// (`PointwiseDepthwiseOperator`'s band of intermediate rows).
    @inline(__always)
    func runRow(input: UnsafePointer<Float>, b: Int, oy: Int, output: UnsafeMutablePointer<Float>) {
        if depthMultiplier == 1 {
            depthwiseRowMultiplier1(input: input, b: b, oy: oy, output: output)
        } else {
            depthwiseRowGeneric(input: input, b: b, oy: oy, output: output)
        }
        if let preluAlpha {
            let c = outputShape.channels
            applyPrelu(output + (b * geometry.outputHeight + oy) * geometry.outputWidth * c,
                       pixels: geometry.outputWidth, pixelStride: c, channels: c, alpha: preluAlpha)
        }
    }

    /// The fused PRELU, `x < 0 ? x · alpha[ch] : x` (TFLite's PRELU, `BinaryOperator`'s vector
    /// form), in place on `pixels` output pixels `pixelStride` floats apart, `channels` channels
    /// each; `alpha` is for the first of those channels.
    @inline(__always)
    private func applyPrelu(_ out: UnsafeMutablePointer<Float>, pixels: Int, pixelStride: Int, channels: Int,
                            alpha: UnsafePointer<Float>) {
        let vectorChannels = channels & ~7
        for p in 0..<pixels {
            let px = out + p * pixelStride
            var ch = 0
            while ch < vectorChannels {
                let v = loadVector(px + ch)
                storeVector(blaze_prelu8(v, loadVector(alpha + ch)), px + ch)
                ch += 8
            }
            while ch < channels {
                let v = px[ch]
                px[ch] = v < 0 ? v * alpha[ch] : v
                ch += 1
            }
        }
    }

    /// Small-map path, one image and one 8-channel block. With a `plane` (`[H][paddedWidth][8]`),
    /// gathers the block into it (input column `x` at plane column `padLeft + x`, zeros in the
    /// other columns), then computes every output row of the block from it with the 7- or 8-pixel
    /// kernels (the last 8-pixel block of a row may overrun into zero columns; only real pixels are
    /// stored). Without (`readsInputDirectly`), the 7-pixel blocks read the NHWC input in place and
    /// skip the taps outside it. Rows above and below the input are skipped by clipping the ky
    /// range, as in the reference.
    private func runChannelBlock(input: UnsafePointer<Float>, b: Int, block: Int, weights: UnsafePointer<Float>,
                                 plane: UnsafeMutablePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let g = geometry
        let c = inputShape.channels, w = inputShape.width, pw = paddedWidth, left = g.padLeft
        let image = input + b * g.inputHeight * w * c + block * 8
        if let plane {
            for y in 0..<g.inputHeight {
                let dst = plane + y * pw * 8
                let src = image + y * w * c
                fillZero(dst, left * 8)
                for x in 0..<w { storeVector(loadVector(src + x * c), dst + (left + x) * 8) }
                fillZero(dst + (left + w) * 8, (pw - left - w) * 8)
            }
        }
        let lo = SIMD8<Float>(repeating: activation.lowerBound), hi = SIMD8<Float>(repeating: activation.upperBound)
        let taps = g.kernelHeight * g.kernelWidth
        for oy in 0..<g.outputHeight {
            let inYOrigin = oy * g.strideHeight - g.padTop
            let kyRows = g.validKernelRows(outputRow: oy)
            let out = output + ((b * g.outputHeight + oy) * g.outputWidth) * c + block * 8
            if let plane {
                let rows = DepthwiseInterior(
                    source: plane + inYOrigin * pw * 8, weights: weights + block * taps * 8, bias: bias + block * 8,
                    output: out, channels: 8, columnStride: 8, weightStride: 8, outputStride: c,
                    pixelStride: g.strideWidth * 8, tapStride: 8, kyStride: g.dilationHeight * pw * 8,
                    kyStart: kyRows.lowerBound, kyEnd: kyRows.upperBound, kernelWidth: g.kernelWidth, lo: lo, hi: hi)
                rows.run(from: 0, to: g.outputWidth, overrun: true, inputColumns: left..<(left + w))
            } else {
                // Source column j is input column j − padLeft (the pointer may lie before the row;
                // the skipped columns are never dereferenced).
                let rows = DepthwiseInterior(
                    source: image + (inYOrigin * w - left) * c, weights: weights + block * taps * 8, bias: bias + block * 8,
                    output: out, channels: 8, columnStride: c, weightStride: 8, outputStride: c,
                    pixelStride: c, tapStride: c, kyStride: g.dilationHeight * w * c,
                    kyStart: kyRows.lowerBound, kyEnd: kyRows.upperBound, kernelWidth: 5, lo: lo, hi: hi)
                rows.runSmallRow(width: g.outputWidth)
            }
            if let preluAlpha {
                applyPrelu(out, pixels: g.outputWidth, pixelStride: c, channels: 8, alpha: preluAlpha + block * 8)
            }
        }
    }

    /// One output row for depth multiplier 1: channels in SIMD8 blocks, then a scalar tail.
    private func depthwiseRowMultiplier1(input: UnsafePointer<Float>, b: Int, oy: Int,
                                         output: UnsafeMutablePointer<Float>) {
        let g = geometry
        let c = outputShape.channels
        let lo = activation.lowerBound, hi = activation.upperBound
        let lov = SIMD8<Float>(repeating: lo), hiv = SIMD8<Float>(repeating: hi)
        let inYOrigin = oy * g.strideHeight - g.padTop
        let kyRows = g.validKernelRows(outputRow: oy)
        let kyStart = kyRows.lowerBound, kyEnd = kyRows.upperBound
        let inImage = input + b * g.inputHeight * g.inputWidth * c
        let outRow = output + ((b * g.outputHeight + oy) * g.outputWidth) * c
        let vectorChannels = c & ~7
        // The interior kernels cover every channel when there are at least 8: a last partial block
        // is computed as the 8 channels ending at C, overlapping the block before (those channels
        // get the same arithmetic twice, so the same bits), instead of a scalar tail per pixel.
        let interiorChannels = c >= 8 ? c : vectorChannels
        // Interior columns: every kx tap inside the input, so no per-tap checks are needed.
        var oxLo = 0
        while oxLo < g.outputWidth && oxLo * g.strideWidth - g.padLeft < 0 { oxLo += 1 }
        var oxHi = g.outputWidth
        while oxHi > oxLo && (oxHi - 1) * g.strideWidth - g.padLeft + (g.kernelWidth - 1) * g.dilationWidth >= g.inputWidth {
            oxHi -= 1
        }
        // Interior columns, all SIMD channel blocks: kernel widths 3 and 5 (every BlazePose
        // depthwise layer) get a specialization with the kx loop unrolled at compile time.
        let interior = DepthwiseInterior(
            source: inImage + (inYOrigin * g.inputWidth - g.padLeft) * c, weights: weights, bias: bias,
            output: outRow, channels: interiorChannels, columnStride: c, weightStride: c, outputStride: c,
            pixelStride: g.strideWidth * c,
            tapStride: g.dilationWidth * c, kyStride: g.dilationHeight * g.inputWidth * c,
            kyStart: kyStart, kyEnd: kyEnd, kernelWidth: g.kernelWidth, lo: lov, hi: hiv)
        if let wholeRow {
            // Every column and channel (C ≥ 8: overlapping last block), border taps skipped.
            interior.runWholeRow(wholeRow, width: g.outputWidth)
            return
        }
        // Border columns (all channels) and the channel tail of interior columns. Interior
        // columns are visited only when there is a channel tail: for wide maps with few
        // channels (256×256×8) an empty visit per column costs as much as the work itself.
        // Columns run left to right: the left border before the interior, which starts on the same
        // input columns (run after the interior, a wide row had pushed them out of L1).
        let tailOnly = interiorChannels == c
        var ox = 0
        while true {
            // oxLo ≤ outputWidth, and ox passes every value up to oxLo: the interior runs once.
            if ox == oxLo { interior.run(from: oxLo, to: oxHi) }
            if ox >= g.outputWidth { break }
            defer { ox += 1 }
            let inInterior = ox >= oxLo && ox < oxHi
            if inInterior && tailOnly { ox = oxHi - 1; continue }
            let inXOrigin = ox * g.strideWidth - g.padLeft
            var kxStart = 0, kxEnd = g.kernelWidth
            while kxStart < kxEnd && inXOrigin + kxStart * g.dilationWidth < 0 { kxStart += 1 }
            while kxEnd > kxStart && inXOrigin + (kxEnd - 1) * g.dilationWidth >= g.inputWidth { kxEnd -= 1 }
            let out = outRow + ox * c
            var ch = inInterior ? vectorChannels : 0
            // Four channel blocks at a time: independent accumulator chains (one chain per block
            // is bound by the add latency); per output the taps keep their (ky, kx) order.
            while ch + 32 <= vectorChannels {
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                for ky in kyStart..<kyEnd {
                    let inRow = inImage + ((inYOrigin + ky * g.dilationHeight) * g.inputWidth) * c + ch
                    let wRow = weights + ky * g.kernelWidth * c + ch
                    for kx in kxStart..<kxEnd {
                        let x = inRow + (inXOrigin + kx * g.dilationWidth) * c
                        let w = wRow + kx * c
                        a0 = a0 + loadVector(x) * loadVector(w)
                        a1 = a1 + loadVector(x + 8) * loadVector(w + 8)
                        a2 = a2 + loadVector(x + 16) * loadVector(w + 16)
                        a3 = a3 + loadVector(x + 24) * loadVector(w + 24)
                    }
                }
                storeVector(clampVector(a0 + loadVector(bias + ch), lov, hiv), out + ch)
                storeVector(clampVector(a1 + loadVector(bias + ch + 8), lov, hiv), out + ch + 8)
                storeVector(clampVector(a2 + loadVector(bias + ch + 16), lov, hiv), out + ch + 16)
                storeVector(clampVector(a3 + loadVector(bias + ch + 24), lov, hiv), out + ch + 24)
                ch += 32
            }
            while ch < vectorChannels {
                var acc = SIMD8<Float>()
                for ky in kyStart..<kyEnd {
                    let inRow = inImage + ((inYOrigin + ky * g.dilationHeight) * g.inputWidth) * c + ch
                    let wRow = weights + ky * g.kernelWidth * c + ch
                    for kx in kxStart..<kxEnd {
                        let x = loadVector(inRow + (inXOrigin + kx * g.dilationWidth) * c)
                        let w = loadVector(wRow + kx * c)
                        acc = acc + x * w
                    }
                }
                storeVector(clampVector(acc + loadVector(bias + ch), lov, hiv), out + ch)
                ch += 8
            }
            // Four channels at a time (layers with C < 8, e.g. face_detection_full_range_sparse's
            // 4-channel head, and channel tails of 4 or more): the same per-channel arithmetic as
            // the scalar loop below, each lane summing its taps in (ky, kx) order.
            while ch + 4 <= c {
                var acc = SIMD4<Float>()
                for ky in kyStart..<kyEnd {
                    let inRow = inImage + ((inYOrigin + ky * g.dilationHeight) * g.inputWidth) * c + ch
                    let wRow = weights + ky * g.kernelWidth * c + ch
                    for kx in kxStart..<kxEnd {
                        let x = UnsafeRawPointer(inRow + (inXOrigin + kx * g.dilationWidth) * c).loadUnaligned(as: SIMD4<Float>.self)
                        let w = UnsafeRawPointer(wRow + kx * c).loadUnaligned(as: SIMD4<Float>.self)
                        acc = acc + x * w
                    }
                }
                for j in 0..<4 { out[ch + j] = Swift.min(Swift.max(acc[j] + bias[ch + j], lo), hi) }
                ch += 4
            }
            while ch < c {
                var acc: Float = 0
                for ky in kyStart..<kyEnd {
                    let inRow = inImage + ((inYOrigin + ky * g.dilationHeight) * g.inputWidth) * c + ch
                    let wRow = weights + ky * g.kernelWidth * c + ch
                    for kx in kxStart..<kxEnd {
                        acc = acc + inRow[(inXOrigin + kx * g.dilationWidth) * c] * wRow[kx * c]
                    }
                }
                out[ch] = Swift.min(Swift.max(acc + bias[ch], lo), hi)
                ch += 1
            }
        }
    }

    /// One output row for any depth multiplier (scalar; not used by the BlazePose models).
    private func depthwiseRowGeneric(input: UnsafePointer<Float>, b: Int, oy: Int,
                                     output: UnsafeMutablePointer<Float>) {
        let g = geometry
        let ic = inputShape.channels, oc = outputShape.channels, mult = depthMultiplier
        for ox in 0..<g.outputWidth {
            for c in 0..<ic {
                for m in 0..<mult {
                    let o = c * mult + m
                    var total: Float = 0
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideHeight - g.padTop + g.dilationHeight * ky
                        if iy < 0 || iy >= g.inputHeight { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideWidth - g.padLeft + g.dilationWidth * kx
                            if ix < 0 || ix >= g.inputWidth { continue }
                            total = total + input[((b * g.inputHeight + iy) * g.inputWidth + ix) * ic + c]
                                * weights[(ky * g.kernelWidth + kx) * oc + o]
                        }
                    }
                    output[((b * g.outputHeight + oy) * g.outputWidth + ox) * oc + o] =
                        activation.apply(total + bias[o])
                }
            }
        }
    }
}

/// Rows a depthwise layer (multiplier 1, C ≥ 8, undilated columns) computes whole in blocks that
/// skip the taps outside the input (`DepthwiseInterior.runWholeRow`) instead of interior blocks,
/// leftover-pixel loops and border columns. Each case needs the padding and width for which the
/// first block's skipped columns are exactly those left of the input and the last block's exactly
/// those right of it, so every output sums the same taps in the same order as the reference.
enum DepthwiseWholeRow {
    /// 5×5, stride 1, 2 padding columns each side (output width = input width), width 7·k.
    case unitStride5x7
    /// 3×3, stride 1, 1 padding column each side, width 8·k.
    case unitStride3x8
    /// 3×3, stride 1, 1 padding column each side, width 7·k (not 8·k).
    case unitStride3x7
    /// 5×5, stride 2, 2 padding columns on the left, input width = 2 · output width, output 7·k.
    case stride2Width5x7

    /// The case for this geometry, or nil.
    init?(_ g: WindowGeometry, channels: Int, depthMultiplier: Int) {
        guard depthMultiplier == 1, channels >= 8, g.dilationWidth == 1, g.outputWidth > 0 else { return nil }
        let w = g.outputWidth
        switch (g.kernelWidth, g.strideWidth) {
        case (5, 1) where g.padLeft == 2 && w == g.inputWidth && w % 7 == 0: self = .unitStride5x7
        case (3, 1) where g.padLeft == 1 && w == g.inputWidth && w % 8 == 0: self = .unitStride3x8
        case (3, 1) where g.padLeft == 1 && w == g.inputWidth && w % 7 == 0: self = .unitStride3x7
        case (5, 2) where g.padLeft == 2 && g.inputWidth == 2 * w && w % 7 == 0: self = .stride2Width5x7
        default: return nil
        }
    }
}

/// Compile-time kernel width for the depthwise interior loop (`dynamic` reads it at run time).
protocol DepthwiseKernelWidth { static var value: Int { get } }
enum KernelWidth3: DepthwiseKernelWidth { static var value: Int { 3 } }
enum KernelWidth5: DepthwiseKernelWidth { static var value: Int { 5 } }
enum KernelWidthDynamic: DepthwiseKernelWidth { static var value: Int { 0 } }

/// The interior of one depthwise output row (depth multiplier 1): output columns whose whole
/// kx window is inside the input, channels `0..<channels` (8 or more; when not a multiple of 8
/// the last 8-channel block ends at `channels` and overlaps the block before it). Computes 4 output
/// pixels × 8 channels at a time so each weight vector load serves four pixels; pixels outer,
/// channels inner, so the few input rows in use stay in L1. Per output, taps are summed in
/// (ky, kx) order with separate multiply and add — the reference's arithmetic exactly.
struct DepthwiseInterior {
    /// Input pointer for output column 0, ky = 0, channel 0 (may point before the row; only
    /// interior columns are dereferenced).
    let source: UnsafePointer<Float>
    /// `[KH][KW][C]`.
    let weights: UnsafePointer<Float>
    let bias: UnsafePointer<Float>
    /// Output row, NHWC `[OW][C]`.
    let output: UnsafeMutablePointer<Float>
    let channels: Int
    /// Floats between neighbouring input columns (C for NHWC; 8 for a channel-block plane).
    let columnStride: Int
    /// Floats between the weights of neighbouring taps (C as given; 8 when packed per block).
    let weightStride: Int
    /// Floats between neighbouring output pixels (C).
    let outputStride: Int
    /// strideWidth · columnStride, dilationWidth · columnStride, dilationHeight · (row of input).
    let pixelStride: Int, tapStride: Int, kyStride: Int
    let kyStart: Int, kyEnd: Int, kernelWidth: Int
    let lo: SIMD8<Float>, hi: SIMD8<Float>

    /// Stride 1, undilated, KW = 3: 8 pixels × 8 channels per step, each input vector loaded once
    /// and used for every (pixel, kx) pair that reads it. Visiting inputs left to right gives each
    /// pixel its taps in kx order, so per output the arithmetic is the generic loop's exactly.
    @inline(__always)
    func blockUnitStride3(at ox: Int, count: Int) {
        let c = columnStride, wc = weightStride
        do {
            let base = source + ox * c
            let out = output + ox * outputStride
            var block = 0
            while block < channels {
                // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
                let ch = Swift.min(block, channels - 8)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * 3 * wc + ch
                    let w0 = loadVector(wp + 0 * wc)
                    let w1 = loadVector(wp + 1 * wc)
                    let w2 = loadVector(wp + 2 * wc)
                    do {
                        let x = loadVector(src + 0 * c)
                        a0 = a0 + x * w0
                    }
                    do {
                        let x = loadVector(src + 1 * c)
                        a1 = a1 + x * w0
                        a0 = a0 + x * w1
                    }
                    do {
                        let x = loadVector(src + 2 * c)
                        a2 = a2 + x * w0
                        a1 = a1 + x * w1
                        a0 = a0 + x * w2
                    }
                    do {
                        let x = loadVector(src + 3 * c)
                        a3 = a3 + x * w0
                        a2 = a2 + x * w1
                        a1 = a1 + x * w2
                    }
                    do {
                        let x = loadVector(src + 4 * c)
                        a4 = a4 + x * w0
                        a3 = a3 + x * w1
                        a2 = a2 + x * w2
                    }
                    do {
                        let x = loadVector(src + 5 * c)
                        a5 = a5 + x * w0
                        a4 = a4 + x * w1
                        a3 = a3 + x * w2
                    }
                    do {
                        let x = loadVector(src + 6 * c)
                        a6 = a6 + x * w0
                        a5 = a5 + x * w1
                        a4 = a4 + x * w2
                    }
                    do {
                        let x = loadVector(src + 7 * c)
                        a7 = a7 + x * w0
                        a6 = a6 + x * w1
                        a5 = a5 + x * w2
                    }
                    do {
                        let x = loadVector(src + 8 * c)
                        a7 = a7 + x * w1
                        a6 = a6 + x * w2
                    }
                    do {
                        let x = loadVector(src + 9 * c)
                        a7 = a7 + x * w2
                    }
                    ky += 1
                }
                storePixels(a0, a1, a2, a3, a4, a5, a6, a7, bias: loadVector(bias + ch), to: out + ch, count: count)
                block += 8
            }
        }
    }

    /// Stride 1, undilated, KW = 5: 8 pixels × 8 channels per step, each input vector loaded once
    /// and used for every (pixel, kx) pair that reads it. Visiting inputs left to right gives each
    /// pixel its taps in kx order, so per output the arithmetic is the generic loop's exactly.
    @inline(__always)
    func blockUnitStride5(at ox: Int, count: Int) {
        let c = columnStride, wc = weightStride
        do {
            let base = source + ox * c
            let out = output + ox * outputStride
            var block = 0
            while block < channels {
                // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
                let ch = Swift.min(block, channels - 8)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * 5 * wc + ch
                    let w0 = loadVector(wp + 0 * wc)
                    let w1 = loadVector(wp + 1 * wc)
                    let w2 = loadVector(wp + 2 * wc)
                    let w3 = loadVector(wp + 3 * wc)
                    let w4 = loadVector(wp + 4 * wc)
                    do {
                        let x = loadVector(src + 0 * c)
                        a0 = a0 + x * w0
                    }
                    do {
                        let x = loadVector(src + 1 * c)
                        a1 = a1 + x * w0
                        a0 = a0 + x * w1
                    }
                    do {
                        let x = loadVector(src + 2 * c)
                        a2 = a2 + x * w0
                        a1 = a1 + x * w1
                        a0 = a0 + x * w2
                    }
                    do {
                        let x = loadVector(src + 3 * c)
                        a3 = a3 + x * w0
                        a2 = a2 + x * w1
                        a1 = a1 + x * w2
                        a0 = a0 + x * w3
                    }
                    do {
                        let x = loadVector(src + 4 * c)
                        a4 = a4 + x * w0
                        a3 = a3 + x * w1
                        a2 = a2 + x * w2
                        a1 = a1 + x * w3
                        a0 = a0 + x * w4
                    }
                    do {
                        let x = loadVector(src + 5 * c)
                        a5 = a5 + x * w0
                        a4 = a4 + x * w1
                        a3 = a3 + x * w2
                        a2 = a2 + x * w3
                        a1 = a1 + x * w4
                    }
                    do {
                        let x = loadVector(src + 6 * c)
                        a6 = a6 + x * w0
                        a5 = a5 + x * w1
                        a4 = a4 + x * w2
                        a3 = a3 + x * w3
                        a2 = a2 + x * w4
                    }
                    do {
                        let x = loadVector(src + 7 * c)
                        a7 = a7 + x * w0
                        a6 = a6 + x * w1
                        a5 = a5 + x * w2
                        a4 = a4 + x * w3
                        a3 = a3 + x * w4
                    }
                    do {
                        let x = loadVector(src + 8 * c)
                        a7 = a7 + x * w1
                        a6 = a6 + x * w2
                        a5 = a5 + x * w3
                        a4 = a4 + x * w4
                    }
                    do {
                        let x = loadVector(src + 9 * c)
                        a7 = a7 + x * w2
                        a6 = a6 + x * w3
                        a5 = a5 + x * w4
                    }
                    do {
                        let x = loadVector(src + 10 * c)
                        a7 = a7 + x * w3
                        a6 = a6 + x * w4
                    }
                    do {
                        let x = loadVector(src + 11 * c)
                        a7 = a7 + x * w4
                    }
                    ky += 1
                }
                storePixels(a0, a1, a2, a3, a4, a5, a6, a7, bias: loadVector(bias + ch), to: out + ch, count: count)
                block += 8
            }
        }
    }

    /// Stride 2, undilated, KW = 3 (the stride-2 layers of the hand, face and palm models): 8
    /// pixels × 8 channels per step; the 17 input vectors of a kernel row are loaded once each,
    /// the one at an even offset serving two neighbouring pixels (kx = 2 of one, kx = 0 of the
    /// next), instead of 24 loads. Visiting inputs left to right gives each pixel its taps in kx
    /// order, so per output the arithmetic is the generic loop's exactly. All 8 pixels are computed.
    @inline(__always)
    func blockStride2Width3(at ox: Int) {
        let c = columnStride, wc = weightStride
        let base = source + ox * pixelStride
        let out = output + ox * outputStride
        var block = 0
        while block < channels {
            // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
            let ch = Swift.min(block, channels - 8)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + ch
                let wp = weights + ky * 3 * wc + ch
                let w0 = loadVector(wp), w1 = loadVector(wp + wc), w2 = loadVector(wp + 2 * wc)
                var x = loadVector(src)
                a0 = a0 + x * w0
                x = loadVector(src + c); a0 = a0 + x * w1
                x = loadVector(src + 2 * c); a0 = a0 + x * w2; a1 = a1 + x * w0
                x = loadVector(src + 3 * c); a1 = a1 + x * w1
                x = loadVector(src + 4 * c); a1 = a1 + x * w2; a2 = a2 + x * w0
                x = loadVector(src + 5 * c); a2 = a2 + x * w1
                x = loadVector(src + 6 * c); a2 = a2 + x * w2; a3 = a3 + x * w0
                x = loadVector(src + 7 * c); a3 = a3 + x * w1
                x = loadVector(src + 8 * c); a3 = a3 + x * w2; a4 = a4 + x * w0
                x = loadVector(src + 9 * c); a4 = a4 + x * w1
                x = loadVector(src + 10 * c); a4 = a4 + x * w2; a5 = a5 + x * w0
                x = loadVector(src + 11 * c); a5 = a5 + x * w1
                x = loadVector(src + 12 * c); a5 = a5 + x * w2; a6 = a6 + x * w0
                x = loadVector(src + 13 * c); a6 = a6 + x * w1
                x = loadVector(src + 14 * c); a6 = a6 + x * w2; a7 = a7 + x * w0
                x = loadVector(src + 15 * c); a7 = a7 + x * w1
                x = loadVector(src + 16 * c); a7 = a7 + x * w2
                ky += 1
            }
            storePixels(a0, a1, a2, a3, a4, a5, a6, a7, bias: loadVector(bias + ch), to: out + ch, count: 8)
            block += 8
        }
    }

    /// Stride 1, undilated, KW = 5, 7 pixels × 8 channels per step (the BlazePose maps are 7·2^k
    /// wide: 7- and 14-wide rows split into whole blocks, where 8-pixel blocks compute 1–2 pixels per
    /// row that are discarded). Each of a kernel row's 11 input vectors is loaded once and used for
    /// every (pixel, kx) pair that reads it; visiting inputs left to right gives each pixel its taps
    /// in kx order, so per output the arithmetic is the generic loop's exactly. `zeroLeft` /
    /// `zeroRight` (constants at the call sites): input columns 0–1 / 9–10 of the block are zero
    /// padding of a channel-block plane, and their taps are skipped, as the reference skips taps
    /// outside the input (same bits, and 6 of a 7-wide row's 35 taps per kernel row fewer).
    @inline(__always)
    func blockUnitStride5Seven(at ox: Int, zeroLeft: Bool, zeroRight: Bool) {
        let c = columnStride, wc = weightStride
        let base = source + ox * pixelStride
        let out = output + ox * outputStride
        var block = 0
        while block < channels {
            // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
            let ch = Swift.min(block, channels - 8)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + ch
                let wp = weights + ky * 5 * wc + ch
                let w0 = loadVector(wp), w1 = loadVector(wp + wc), w2 = loadVector(wp + 2 * wc)
                let w3 = loadVector(wp + 3 * wc), w4 = loadVector(wp + 4 * wc)
                var x: SIMD8<Float>
                if !zeroLeft { x = loadVector(src + 0 * c); a0 = a0 + x * w0 }
                if !zeroLeft { x = loadVector(src + 1 * c); a1 = a1 + x * w0; a0 = a0 + x * w1 }
                x = loadVector(src + 2 * c); a2 = a2 + x * w0; a1 = a1 + x * w1; a0 = a0 + x * w2
                x = loadVector(src + 3 * c); a3 = a3 + x * w0; a2 = a2 + x * w1; a1 = a1 + x * w2; a0 = a0 + x * w3
                x = loadVector(src + 4 * c); a4 = a4 + x * w0; a3 = a3 + x * w1; a2 = a2 + x * w2; a1 = a1 + x * w3; a0 = a0 + x * w4
                x = loadVector(src + 5 * c); a5 = a5 + x * w0; a4 = a4 + x * w1; a3 = a3 + x * w2; a2 = a2 + x * w3; a1 = a1 + x * w4
                x = loadVector(src + 6 * c); a6 = a6 + x * w0; a5 = a5 + x * w1; a4 = a4 + x * w2; a3 = a3 + x * w3; a2 = a2 + x * w4
                x = loadVector(src + 7 * c); a6 = a6 + x * w1; a5 = a5 + x * w2; a4 = a4 + x * w3; a3 = a3 + x * w4
                x = loadVector(src + 8 * c); a6 = a6 + x * w2; a5 = a5 + x * w3; a4 = a4 + x * w4
                if !zeroRight { x = loadVector(src + 9 * c); a6 = a6 + x * w3; a5 = a5 + x * w4 }
                if !zeroRight { x = loadVector(src + 10 * c); a6 = a6 + x * w4 }
                ky += 1
            }
            storePixels(a0, a1, a2, a3, a4, a5, a6, SIMD8<Float>(), bias: loadVector(bias + ch), to: out + ch, count: 7)
            block += 8
        }
    }

    /// Whole-row kernel (`runWholeRow`), stride 1, KW = 3, 8 pixels: `blockUnitStride3` with the
    /// taps of input column 0 (`zeroLeft`: left of the input) or 9 (`zeroRight`: right of it)
    /// skipped, as the reference skips them. Inputs visited left to right: taps in kx order.
    @inline(__always)
    func blockUnitStride3Eight(at ox: Int, zeroLeft: Bool, zeroRight: Bool) {
        let c = columnStride, wc = weightStride
        let base = source + ox * pixelStride
        let out = output + ox * outputStride
        var block = 0
        while block < channels {
            // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
            let ch = Swift.min(block, channels - 8)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>(), a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + ch
                let wp = weights + ky * 3 * wc + ch
                let w0 = loadVector(wp + 0 * wc), w1 = loadVector(wp + 1 * wc), w2 = loadVector(wp + 2 * wc)
                var x: SIMD8<Float>
                if !zeroLeft { x = loadVector(src + 0 * c); a0 = a0 + x * w0 }
                x = loadVector(src + 1 * c); a1 = a1 + x * w0; a0 = a0 + x * w1
                x = loadVector(src + 2 * c); a2 = a2 + x * w0; a1 = a1 + x * w1; a0 = a0 + x * w2
                x = loadVector(src + 3 * c); a3 = a3 + x * w0; a2 = a2 + x * w1; a1 = a1 + x * w2
                x = loadVector(src + 4 * c); a4 = a4 + x * w0; a3 = a3 + x * w1; a2 = a2 + x * w2
                x = loadVector(src + 5 * c); a5 = a5 + x * w0; a4 = a4 + x * w1; a3 = a3 + x * w2
                x = loadVector(src + 6 * c); a6 = a6 + x * w0; a5 = a5 + x * w1; a4 = a4 + x * w2
                x = loadVector(src + 7 * c); a7 = a7 + x * w0; a6 = a6 + x * w1; a5 = a5 + x * w2
                x = loadVector(src + 8 * c); a7 = a7 + x * w1; a6 = a6 + x * w2
                if !zeroRight { x = loadVector(src + 9 * c); a7 = a7 + x * w2 }
                ky += 1
            }
            storePixels(a0, a1, a2, a3, a4, a5, a6, a7, bias: loadVector(bias + ch), to: out + ch, count: 8)
            block += 8
        }
    }

    /// Whole-row kernel, stride 1, KW = 3, 7 pixels (rows 7·k wide): input column 0 (`zeroLeft`)
    /// or 8 (`zeroRight`) skipped. Inputs visited left to right: taps in kx order.
    @inline(__always)
    func blockUnitStride3Seven(at ox: Int, zeroLeft: Bool, zeroRight: Bool) {
        let c = columnStride, wc = weightStride
        let base = source + ox * pixelStride
        let out = output + ox * outputStride
        var block = 0
        while block < channels {
            // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
            let ch = Swift.min(block, channels - 8)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>(), a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + ch
                let wp = weights + ky * 3 * wc + ch
                let w0 = loadVector(wp + 0 * wc), w1 = loadVector(wp + 1 * wc), w2 = loadVector(wp + 2 * wc)
                var x: SIMD8<Float>
                if !zeroLeft { x = loadVector(src + 0 * c); a0 = a0 + x * w0 }
                x = loadVector(src + 1 * c); a1 = a1 + x * w0; a0 = a0 + x * w1
                x = loadVector(src + 2 * c); a2 = a2 + x * w0; a1 = a1 + x * w1; a0 = a0 + x * w2
                x = loadVector(src + 3 * c); a3 = a3 + x * w0; a2 = a2 + x * w1; a1 = a1 + x * w2
                x = loadVector(src + 4 * c); a4 = a4 + x * w0; a3 = a3 + x * w1; a2 = a2 + x * w2
                x = loadVector(src + 5 * c); a5 = a5 + x * w0; a4 = a4 + x * w1; a3 = a3 + x * w2
                x = loadVector(src + 6 * c); a6 = a6 + x * w0; a5 = a5 + x * w1; a4 = a4 + x * w2
                x = loadVector(src + 7 * c); a6 = a6 + x * w1; a5 = a5 + x * w2
                if !zeroRight { x = loadVector(src + 8 * c); a6 = a6 + x * w2 }
                ky += 1
            }
            storePixels(a0, a1, a2, a3, a4, a5, a6, SIMD8<Float>(), bias: loadVector(bias + ch), to: out + ch, count: 7)
            block += 8
        }
    }

    /// Whole-row kernel, stride 2, KW = 5, 7 pixels: each of a kernel row's 17 input vectors loaded
    /// once; input columns 0–1 (`zeroLeft`) or 16 (`zeroRight`) skipped. Inputs visited left to
    /// right: taps in kx order.
    @inline(__always)
    func blockStride2Width5Seven(at ox: Int, zeroLeft: Bool, zeroRight: Bool) {
        let c = columnStride, wc = weightStride
        let base = source + ox * pixelStride
        let out = output + ox * outputStride
        var block = 0
        while block < channels {
            // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
            let ch = Swift.min(block, channels - 8)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>(), a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + ch
                let wp = weights + ky * 5 * wc + ch
                let w0 = loadVector(wp + 0 * wc), w1 = loadVector(wp + 1 * wc), w2 = loadVector(wp + 2 * wc), w3 = loadVector(wp + 3 * wc), w4 = loadVector(wp + 4 * wc)
                var x: SIMD8<Float>
                if !zeroLeft { x = loadVector(src + 0 * c); a0 = a0 + x * w0 }
                if !zeroLeft { x = loadVector(src + 1 * c); a0 = a0 + x * w1 }
                x = loadVector(src + 2 * c); a1 = a1 + x * w0; a0 = a0 + x * w2
                x = loadVector(src + 3 * c); a1 = a1 + x * w1; a0 = a0 + x * w3
                x = loadVector(src + 4 * c); a2 = a2 + x * w0; a1 = a1 + x * w2; a0 = a0 + x * w4
                x = loadVector(src + 5 * c); a2 = a2 + x * w1; a1 = a1 + x * w3
                x = loadVector(src + 6 * c); a3 = a3 + x * w0; a2 = a2 + x * w2; a1 = a1 + x * w4
                x = loadVector(src + 7 * c); a3 = a3 + x * w1; a2 = a2 + x * w3
                x = loadVector(src + 8 * c); a4 = a4 + x * w0; a3 = a3 + x * w2; a2 = a2 + x * w4
                x = loadVector(src + 9 * c); a4 = a4 + x * w1; a3 = a3 + x * w3
                x = loadVector(src + 10 * c); a5 = a5 + x * w0; a4 = a4 + x * w2; a3 = a3 + x * w4
                x = loadVector(src + 11 * c); a5 = a5 + x * w1; a4 = a4 + x * w3
                x = loadVector(src + 12 * c); a6 = a6 + x * w0; a5 = a5 + x * w2; a4 = a4 + x * w4
                x = loadVector(src + 13 * c); a6 = a6 + x * w1; a5 = a5 + x * w3
                x = loadVector(src + 14 * c); a6 = a6 + x * w2; a5 = a5 + x * w4
                x = loadVector(src + 15 * c); a6 = a6 + x * w3
                if !zeroRight { x = loadVector(src + 16 * c); a6 = a6 + x * w4 }
                ky += 1
            }
            storePixels(a0, a1, a2, a3, a4, a5, a6, SIMD8<Float>(), bias: loadVector(bias + ch), to: out + ch, count: 7)
            block += 8
        }
    }

    /// Stores up to 8 output pixels `count` (1...8) of one channel block: `clamp(a + bias)`.
    @inline(__always)
    func storePixels(_ a0: SIMD8<Float>, _ a1: SIMD8<Float>, _ a2: SIMD8<Float>, _ a3: SIMD8<Float>,
                     _ a4: SIMD8<Float>, _ a5: SIMD8<Float>, _ a6: SIMD8<Float>, _ a7: SIMD8<Float>,
                     bias b: SIMD8<Float>, to out: UnsafeMutablePointer<Float>, count: Int) {
        let c = outputStride
        storeVector(clampVector(a0 + b, lo, hi), out)
        if count > 1 { storeVector(clampVector(a1 + b, lo, hi), out + c) }
        if count > 2 { storeVector(clampVector(a2 + b, lo, hi), out + 2 * c) }
        if count > 3 { storeVector(clampVector(a3 + b, lo, hi), out + 3 * c) }
        if count > 4 { storeVector(clampVector(a4 + b, lo, hi), out + 4 * c) }
        if count > 5 { storeVector(clampVector(a5 + b, lo, hi), out + 5 * c) }
        if count > 6 { storeVector(clampVector(a6 + b, lo, hi), out + 6 * c) }
        if count > 7 { storeVector(clampVector(a7 + b, lo, hi), out + 7 * c) }
    }

    /// One block of 8 output pixels starting at `ox`, any stride and kernel width: eight
    /// independent add chains (four left the adds latency-bound); stores the first `count`.
    @inline(__always)
    func block<KW: DepthwiseKernelWidth>(_: KW.Type, at ox: Int, count: Int) {
        let kw = KW.value == 0 ? kernelWidth : KW.value
        let c = outputStride, wc = weightStride, sx = pixelStride, dx = tapStride
        let base = source + ox * sx
        let out = output + ox * c
        var block = 0
        while block < channels {
            // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
            let ch = Swift.min(block, channels - 8)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + ch
                let wp = weights + ky * kw * wc + ch
                var kx = 0
                while kx < kw {
                    let w = loadVector(wp + kx * wc)
                    let p = src + kx * dx
                    a0 = a0 + loadVector(p) * w
                    a1 = a1 + loadVector(p + sx) * w
                    a2 = a2 + loadVector(p + 2 * sx) * w
                    a3 = a3 + loadVector(p + 3 * sx) * w
                    a4 = a4 + loadVector(p + 4 * sx) * w
                    a5 = a5 + loadVector(p + 5 * sx) * w
                    a6 = a6 + loadVector(p + 6 * sx) * w
                    a7 = a7 + loadVector(p + 7 * sx) * w
                    kx += 1
                }
                ky += 1
            }
            storePixels(a0, a1, a2, a3, a4, a5, a6, a7, bias: loadVector(bias + ch), to: out + ch, count: count)
            block += 8
        }
    }

    /// One 8-pixel block with the fastest kernel for this geometry.
    @inline(__always)
    func anyBlock<KW: DepthwiseKernelWidth>(_: KW.Type, at ox: Int, count: Int) {
        if pixelStride == columnStride && tapStride == columnStride && KW.value == 3 {
            blockUnitStride3(at: ox, count: count)
        } else if pixelStride == columnStride && tapStride == columnStride && KW.value == 5 {
            blockUnitStride5(at: ox, count: count)
        } else if pixelStride == 2 * columnStride && tapStride == columnStride && KW.value == 3 && count == 8 {
            blockStride2Width3(at: ox)
        } else {
            block(KW.self, at: ox, count: count)
        }
    }

    /// `run(_:from:to:overrun:)` specialized for the kernel width: 3 and 5 (every BlazePose
    /// depthwise layer) get the kx loop unrolled at compile time; 5-wide stride-1 ranges that are
    /// a multiple of 7 run 7-pixel blocks (`runSevens`, `inputColumns` passed on).
    @inline(__always)
    func run(from oxLo: Int, to oxHi: Int, overrun: Bool = false, inputColumns: Range<Int>? = nil) {
        switch kernelWidth {
        case 3: run(KernelWidth3.self, from: oxLo, to: oxHi, overrun: overrun)
        case 5:
            if tapStride == columnStride && pixelStride == columnStride && oxHi > oxLo && (oxHi - oxLo) % 7 == 0 {
                runSevens(from: oxLo, to: oxHi, inputColumns: inputColumns)
            } else {
                run(KernelWidth5.self, from: oxLo, to: oxHi, overrun: overrun)
            }
        default: run(KernelWidthDynamic.self, from: oxLo, to: oxHi, overrun: overrun)
        }
    }

    /// Calls `block(zeroLeft, zeroRight)` with the two flags as literals, one call per case, so
    /// that each inlined block kernel is compiled for its edge case (no flag test per tap).
    @inline(__always)
    func edgeCase(_ zeroLeft: Bool, _ zeroRight: Bool, _ block: (_ zeroLeft: Bool, _ zeroRight: Bool) -> Void) {
        switch (zeroLeft, zeroRight) {
        case (false, false): block(false, false)
        case (true, false): block(true, false)
        case (false, true): block(false, true)
        case (true, true): block(true, true)
        }
    }

    /// A whole output row of `width` columns (source column j = input column j − padLeft) in
    /// blocks of `kind`'s kernel, the first block skipping the taps left of the input and the
    /// last those right of it (see `DepthwiseWholeRow` for when that is exactly every tap outside
    /// the input).
    @inline(never)
    func runWholeRow(_ kind: DepthwiseWholeRow, width: Int) {
        var ox = 0
        switch kind {
        case .unitStride5x7:
            runSevens(from: 0, to: width, inputColumns: 2..<(2 + width))
        case .unitStride3x8:
            while ox < width {
                edgeCase(ox == 0, ox + 8 >= width) { blockUnitStride3Eight(at: ox, zeroLeft: $0, zeroRight: $1) }
                ox += 8
            }
        case .unitStride3x7:
            while ox < width {
                edgeCase(ox == 0, ox + 7 >= width) { blockUnitStride3Seven(at: ox, zeroLeft: $0, zeroRight: $1) }
                ox += 7
            }
        case .stride2Width5x7:
            while ox < width {
                edgeCase(ox == 0, ox + 7 >= width) { blockStride2Width5Seven(at: ox, zeroLeft: $0, zeroRight: $1) }
                ox += 7
            }
        }
    }

    /// One channel block's 7·k-wide row on the small-map path read in place (`readsInputDirectly`,
    /// 2 padding columns each side): `runSevens`, with the kernels of 7- and 14-wide rows inlined
    /// here, so the small maps pay no call per block row (a 7×7 block row is ~120 taps).
    @inline(__always)
    func runSmallRow(width: Int) {
        if width == 7 {
            blockUnitStride5Seven(at: 0, zeroLeft: true, zeroRight: true)
        } else if width == 14 {
            blockUnitStride5Seven(at: 0, zeroLeft: true, zeroRight: false)
            blockUnitStride5Seven(at: 7, zeroLeft: false, zeroRight: true)
        } else {
            runSevens(from: 0, to: width, inputColumns: 2..<(2 + width))
        }
    }

    /// Output columns `oxLo..<oxHi` in 7-pixel blocks (`(oxHi − oxLo) % 7 == 0`), stride 1, KW = 5,
    /// undilated: `blockUnitStride5Seven`. `inputColumns`: the source columns that hold input
    /// (the rest are zeros) on a channel-block plane, nil for NHWC rows; a block whose first or
    /// last two columns are all outside it skips their taps.
    @inline(never)
    func runSevens(from oxLo: Int, to oxHi: Int, inputColumns: Range<Int>?) {
        var ox = oxLo
        while ox < oxHi {
            let left = inputColumns.map { ox + 2 <= $0.lowerBound } ?? false
            let right = inputColumns.map { ox + 9 >= $0.upperBound } ?? false
            edgeCase(left, right) { blockUnitStride5Seven(at: ox, zeroLeft: $0, zeroRight: $1) }
            ox += 7
        }
    }

    /// Output columns `oxLo..<oxHi`. With `overrun`, the last partial block of 8 is computed
    /// whole (its extra pixels read inputs the caller guarantees exist, e.g. zero padding) and
    /// only its real pixels are stored; otherwise partial blocks run 4- and 1-pixel loops.
    @inline(__always)
    func run<KW: DepthwiseKernelWidth>(_: KW.Type, from oxLo: Int, to oxHi: Int, overrun: Bool = false) {
        let kw = KW.value == 0 ? kernelWidth : KW.value
        let c = outputStride, wc = weightStride, sx = pixelStride, dx = tapStride
        var ox = oxLo
        while ox + 8 <= oxHi {
            anyBlock(KW.self, at: ox, count: 8)
            ox += 8
        }
        if overrun && ox < oxHi {
            anyBlock(KW.self, at: ox, count: oxHi - ox)
            return
        }
        while ox + 4 <= oxHi {
            let base = source + ox * sx
            let out = output + ox * c
            var block = 0
            while block < channels {
                // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
                let ch = Swift.min(block, channels - 8)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var ky = kyStart
                while ky < kyEnd {
                    let src = base + ky * kyStride + ch
                    let wp = weights + ky * kw * wc + ch
                    var kx = 0
                    while kx < kw {
                        let w = loadVector(wp + kx * wc)
                        let p = src + kx * dx
                        a0 = a0 + loadVector(p) * w
                        a1 = a1 + loadVector(p + sx) * w
                        a2 = a2 + loadVector(p + 2 * sx) * w
                        a3 = a3 + loadVector(p + 3 * sx) * w
                        kx += 1
                    }
                    ky += 1
                }
                let b = loadVector(bias + ch)
                storeVector(clampVector(a0 + b, lo, hi), out + ch)
                storeVector(clampVector(a1 + b, lo, hi), out + c + ch)
                storeVector(clampVector(a2 + b, lo, hi), out + 2 * c + ch)
                storeVector(clampVector(a3 + b, lo, hi), out + 3 * c + ch)
                block += 8
            }
            ox += 4
        }
        while ox < oxHi {
            pixel(KW.self, at: ox)
            ox += 1
        }
    }

    /// One output pixel, all channel blocks: four whole blocks at a time (independent add chains;
    /// one chain is bound by the add latency), then single blocks. Out of line: the 1–3 leftover
    /// pixels of a row are cold, and inlined they made `run` big enough that the 8-pixel kernels
    /// went out of line (wide maps with 8–16 channels 1.1–1.2× slower).
    @inline(never)
    func pixel<KW: DepthwiseKernelWidth>(_: KW.Type, at ox: Int) {
        let kw = KW.value == 0 ? kernelWidth : KW.value
        let c = outputStride, wc = weightStride, sx = pixelStride, dx = tapStride
        let base = source + ox * sx
        var block = 0
        // Four channel blocks at a time when they are whole: independent add chains (one
        // chain is bound by the add latency); per output the taps keep their (ky, kx) order.
        while block + 32 <= channels {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + block
                let wp = weights + ky * kw * wc + block
                var kx = 0
                while kx < kw {
                    let p = src + kx * dx, w = wp + kx * wc
                    a0 = a0 + loadVector(p) * loadVector(w)
                    a1 = a1 + loadVector(p + 8) * loadVector(w + 8)
                    a2 = a2 + loadVector(p + 16) * loadVector(w + 16)
                    a3 = a3 + loadVector(p + 24) * loadVector(w + 24)
                    kx += 1
                }
                ky += 1
            }
            let out = output + ox * c + block
            storeVector(clampVector(a0 + loadVector(bias + block), lo, hi), out)
            storeVector(clampVector(a1 + loadVector(bias + block + 8), lo, hi), out + 8)
            storeVector(clampVector(a2 + loadVector(bias + block + 16), lo, hi), out + 16)
            storeVector(clampVector(a3 + loadVector(bias + block + 24), lo, hi), out + 24)
            block += 32
        }
        while block < channels {
            // The last block overlaps the one before when channels % 8 != 0 (same values rewritten).
            let ch = Swift.min(block, channels - 8)
            var acc = SIMD8<Float>()
            var ky = kyStart
            while ky < kyEnd {
                let src = base + ky * kyStride + ch
                let wp = weights + ky * kw * wc + ch
                var kx = 0
                while kx < kw {
                    acc = acc + loadVector(src + kx * dx) * loadVector(wp + kx * wc)
                    kx += 1
                }
                ky += 1
            }
            storeVector(clampVector(acc + loadVector(bias + ch), lo, hi), output + ox * c + ch)
            block += 8
        }
    }
}
