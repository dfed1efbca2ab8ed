extension Conv2DOperator {
    /// Most pixels in one run given to ``run(input:output:scratch:pool:pixelRuns:)``: the rows of one
    /// worker's im2col scratch.
    public static let pixelRunLimit = gemmRowsPerUnit

    /// Whether ``run(input:output:scratch:pool:pixelRuns:)`` can compute parts of this conv's output:
    /// the native GEMM on panels wider than one channel (the dense GEMM paths, whose every output
    /// element's arithmetic depends only on its pixel and channel), not the stem kernel, and a map of
    /// at least one tile of pixels (smaller ones take the matrix-vector path).
    public var computesPixelRuns: Bool {
        backend == .native && packed.panelWidth > 1 && !usesStemKernel
            && outputShape.batch * outputShape.height * outputShape.width >= gemmTileRows
    }

    /// Computes only the output pixels of `runs`, all channels, with the conv's activation and fused
    /// PRELU (no fused ADD); bit-identical to the same pixels of
    /// ``run(input:output:scratch:pool:residual:)``: each run goes through the same native GEMM tiles
    /// (each element summed from 0 in k order, then the same epilogue), reading its A rows in place
    /// (pointwise) or from im2col rows in the worker's scratch. Other output pixels are not written.
    ///
    /// - input: NHWC ``inputShape``; output: NHWC ``outputShape``; scratch: at least
    ///   `scratchCount(threads: pool.threadCount)` floats (nil only for a pointwise conv).
    /// - runs: each inside one output row, `1 ... pixelRunLimit` pixels; runs may repeat pixels
    ///   (they are computed again, with the same bits).
    /// Only where ``computesPixelRuns``; never validates (the caller builds the runs).
    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?,
                    pool: ThreadPool, pixelRuns runs: UnsafeBufferPointer<PixelRun>) {
        let g = geometry, ic = inputShape.channels, oc = outputShape.channels
        let lo = activation.lowerBound, hi = activation.upperBound
        let k = patchSize, pixelsPerImage = g.outputHeight * g.outputWidth
        let packed = self.packed, pointwise = isPointwise
        guard let base = runs.baseAddress else { return }
        pool.parallelFor(runs.count) { unit, worker in
            let run = base[unit]
            let a: UnsafePointer<Float>, lda: Int
            if pointwise {
                a = input + run.start * ic
                lda = ic
            } else {
                // cols: [count][KH·KW·I] im2col rows of the run's pixels (zeros outside the input).
                // A missing scratch buffer is a programming error of the caller, not a data problem.
                guard let scratch else { preconditionFailure("Conv2DOperator.run(pixelRuns:): scratch buffer required") }
                let cols = scratch + worker * gemmRowsPerUnit * k
                let b = run.start / pixelsPerImage, oy = (run.start % pixelsPerImage) / g.outputWidth
                let ox0 = run.start % g.outputWidth
                let image = input + b * g.inputHeight * g.inputWidth * ic
                for r in 0..<run.count { im2colRow(input: image, oy: oy, ox: ox0 + r, row: cols + r * k) }
                a = UnsafePointer(cols)
                lda = k
            }
            gemmNativeBlock(rowStart: 0, rowEnd: run.count, panelStart: 0, panelEnd: packed.panelCount, a: a, lda: lda,
                            weights: packed, lo: lo, hi: hi, c: output + run.start * oc, ldc: oc)
        }
    }
}
