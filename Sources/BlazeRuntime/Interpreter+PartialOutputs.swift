import BlazeKernels

extension Interpreter {
    /// Calls `body` with output `i`'s storage (NHWC `[N, H, W, C]`, `elementCount` floats) after
    /// computing its pixels inside `regions` (all channels), for a partial output
    /// (``InterpreterOptions/partialOutputs``) that the last ``invoke(computing:profiler:)`` left
    /// out. The values there are bit-identical to a full ``invoke(profiler:)``'s; elsewhere the
    /// storage holds whatever it held (read only the regions). When the last `invoke` computed the
    /// output whole, `body` gets it as it is. Valid only inside `body`, and only until another
    /// interpreter on a shared arena runs (as for every output).
    ///
    /// The step that writes the output computes only the regions' pixels when its kernel can (a
    /// dense CONV_2D on the native GEMM, e.g. the pose landmark models' heatmap convs); any other
    /// runs whole.
    /// - Throws: ``RuntimeError/outputIndex(_:count:)`` for an `i` the model does not have,
    ///   ``RuntimeError/partialOutput(output:detail:)`` when `i` is not a partial output, no
    ///   `invoke` has run yet, or a region is not inside the output; or what `body` throws.
    public func withOutput<R>(_ i: Int, computingRegions regions: [OutputRegion],
                              _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        guard outputs.indices.contains(i) else { throw RuntimeError.outputIndex(i, count: outputs.count) }
        guard let stepIndex = partialSteps[i] else {
            throw RuntimeError.partialOutput(output: i, detail: "is not one of InterpreterOptions.partialOutputs \(options.partialOutputs)")
        }
        guard hasInvoked else {
            throw RuntimeError.partialOutput(output: i, detail: "no invoke has run yet, so there is nothing to compute regions from")
        }
        let shape = outputs[i].shape   // [N, H, W, C], checked at load
        let (n, h, w) = (shape[0], shape[1], shape[2])
        for (k, r) in regions.enumerated() {
            guard (0..<n).contains(r.batch), r.rows.lowerBound >= 0, r.rows.upperBound <= h,
                  r.columns.lowerBound >= 0, r.columns.upperBound <= w else {
                throw RuntimeError.partialOutput(output: i, detail: "region \(k) (image \(r.batch), rows \(r.rows), columns \(r.columns)) is not inside the output's \(n) image(s) of \(h)×\(w) pixels")
            }
        }
        if !isComputed(output: i) {
            let step = steps[stepIndex]
            if let runPixels = step.runPixels {
                collectPixelRuns(regions, batch: n, height: h, width: w)
                pixelRuns.withUnsafeBufferPointer { runPixels(arena, scratch, pool, $0) }
            } else {
                step.run(arena, scratch, pool)
            }
        }
        let offset = plan.offsets[outputs[i].index] ?? 0
        return try body(UnsafeBufferPointer(start: arena + offset, count: outputs[i].elementCount))
    }

    /// Whether ``withOutput(_:computingRegions:_:)`` computes only the regions' pixels of output `i`
    /// (a partial output whose step can: a dense CONV_2D on the native GEMM); false when its step
    /// runs whole, or `i` is not a partial output.
    public func computesInParts(output i: Int) -> Bool {
        partialSteps[i].map { steps[$0].runPixels != nil } ?? false
    }

    /// Fills ``pixelRuns`` with the pixels of `regions` (checked to be inside `[n, h, w]`), each
    /// pixel once: runs along output rows, split at `Conv2DOperator.pixelRunLimit` pixels.
    private func collectPixelRuns(_ regions: [OutputRegion], batch n: Int, height h: Int, width w: Int) {
        let pixels = n * h * w
        if pixelMask.count != pixels { pixelMask = [Bool](repeating: false, count: pixels) }
        var rowsTouched: [Int] = []   // b·H + y of every row some region covers (may repeat)
        for r in regions where !r.columns.isEmpty {
            for y in r.rows {
                let row = r.batch * h + y
                rowsTouched.append(row)
                for x in r.columns { pixelMask[row * w + x] = true }
            }
        }
        rowsTouched.sort()
        pixelRuns.removeAll(keepingCapacity: true)
        var previous = -1
        for row in rowsTouched where row != previous {
            previous = row
            var x = 0
            while x < w {
                guard pixelMask[row * w + x] else { x += 1; continue }
                let start = x
                while x < w && pixelMask[row * w + x] && x - start < Conv2DOperator.pixelRunLimit {
                    pixelMask[row * w + x] = false
                    x += 1
                }
                pixelRuns.append(PixelRun(start: row * w + start, count: x - start))
            }
        }
    }

    /// Output position → the step that writes it, for each of `positions` (in range, checked before
    /// the build): an NHWC output written by a step of its own (not a view or a constant).
    static func partialOutputSteps(_ positions: [Int], outputs: [TensorInfo], steps: [Step]) throws -> [Int: Int] {
        var result: [Int: Int] = [:]
        for i in positions {
            let info = outputs[i]
            guard info.shape.count == 4 else {
                throw RuntimeError.partialOutput(output: i, detail: "has shape \(info.shape); a partial output must be NHWC [N, H, W, C]")
            }
            guard let step = steps.firstIndex(where: { $0.writes.contains(info.index) }) else {
                throw RuntimeError.partialOutput(output: i, detail: "tensor \(info.index) '\(info.name)' is not written by a step of its own (a view or a constant cannot be computed in parts)")
            }
            result[i] = step
        }
        return result
    }
}
