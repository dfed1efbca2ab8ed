import BlazeKernels
import TFLite

/// Operator fusions decided once at load, before any step is built. Every fusion is
/// bit-identical to running the operators one after the other (same float operations in
/// the same order); it only saves passes over memory and per-op dispatch:
///
/// - a spatial `PAD` (zeros, only H/W padded) whose single consumer is a VALID `CONV_2D` or
///   `DEPTHWISE_CONV_2D` becomes explicit padding of that conv: taps on the zero border
///   are skipped, which adds exactly `+0` to a sum that is never `-0`;
/// - a `CONV_2D` (or a `RESIZE_BILINEAR`, a decoder's upsampling) whose output's single consumer
///   is a same-shape `ADD` adds the other ADD operand (the skip connection) in its epilogue:
///   `act2(act(acc + bias) + skip)`;
///   when that operand is a `PAD` that only appends zero channels (BlazeFace's `PAD → ADD`
///   shortcut) and is read by nothing else, the PAD is absorbed too: the epilogue reads the
///   PAD's input and adds `+0` to the padded channels, as the ADD did;
/// - a standalone `RELU` whose input comes from a conv, depthwise conv or ADD with no fused
///   activation (and has no other consumer) becomes that producer's fused activation;
/// - a `PRELU` with a constant alpha of one value per channel (shape `[…, 1, C]`) whose input
///   comes from a conv (possibly with a fused ADD) or a depthwise conv (and has no other
///   consumer) becomes the last stage of that producer's epilogue: `x < 0 ? x·alpha : x`;
/// - a `DEPTHWISE_CONV_2D` whose input is a large map (≥ `pointwiseDepthwiseMinBytes`) written
///   by a pointwise `CONV_2D` (1×1, stride 1, no padding, no fused ADD, native GEMM or the sparse
///   kernel, as that conv's own step would choose) for it alone — directly or through a PAD folded
///   into the depthwise conv — runs inside that conv's step, in row bands
///   (`PointwiseDepthwiseOperator`): the expanded map never goes to memory whole. Both keep their
///   own folded RELU/PRELU (and the depthwise its folded PAD). Decided after the others, so it
///   never changes them. The 1×1 conv that alone reads the depthwise output (MobileNetV2's
///   projection, with its fused ADD; native GEMM or sparse, no PRELU) runs in that step too, on
///   the depthwise rows as they are made, so the depthwise output is not stored either;
/// - a `RESIZE_BILINEAR` whose output only a 1×1 stride-1 `CONV_2D` on the native GEMM (or the
///   sparse kernel) reads runs in that conv's step, so the resized map (the detector's
///   14×14×1152 and 28×28×192) never goes to memory. By default
///   (`InterpreterOptions.convolveBeforeResize`) the step runs the conv on the
///   resize's input and then the resize (`ResizedPointwiseOperator`: equal in exact arithmetic,
///   other roundings). Otherwise it keeps the graph's order and bits: the sparse kernel computes
///   the resized pixels while it transposes its input tiles (`SparseConv1x1Operator.resize`), and
///   the dense GEMM reads the resize from scratch.
///
/// Tensors that are fused away are never materialized: they get no arena offset, so
/// `compare` reports them as skipped instead of comparing stale memory.
struct FusionPlan {
    /// Operators whose work another step does; they get no step of their own.
    var absorbed: Set<Int> = []
    /// conv / depthwise op → the PAD's input tensor and the padding it adds.
    var paddedInput: [Int: (tensor: Int, top: Int, bottom: Int, left: Int, right: Int)] = [:]
    /// op → the tensor it writes instead of its own output (the last absorbed op's output).
    var output: [Int: Int] = [:]
    /// op → activation replacing its own fused activation NONE (a folded RELU).
    var activation: [Int: BlazeKernels.FusedActivation] = [:]
    /// conv op → skip tensor, the ADD's activation (possibly a folded RELU), and the skip's channel
    /// count when a folded channel PAD made it narrower than the conv's output (nil: same shape).
    var residual: [Int: (tensor: Int, activation: BlazeKernels.FusedActivation, channels: Int?)] = [:]
    /// conv / depthwise op → the constant alpha tensor of a folded PRELU (applied last).
    var prelu: [Int: Int] = [:]
    /// pointwise conv op → the depthwise op its step also runs, and the intermediate tensor
    /// between them (the conv's own output, or its folded RELU/PRELU's), which is never stored.
    var depthwiseAfter: [Int: (op: Int, intermediate: Int)] = [:]
    /// pointwise conv op of a `depthwiseAfter` pair → the 1×1 conv op its step runs on the
    /// depthwise output, and that output (never stored); the projection's fused ADD (`residual` of
    /// that op) is read by the step.
    var projectionAfter: [Int: (op: Int, intermediate: Int)] = [:]
    /// 1×1 conv op → the RESIZE_BILINEAR op whose output only it reads, and that op's input, which
    /// the conv reads instead (the resized map is computed while the conv reads it, never stored).
    var resizedInput: [Int: (op: Int, tensor: Int)] = [:]

    /// Smallest intermediate map (bytes, float32) whose pair is fused. Measured per pair
    /// (`blazepose profile --threads 1`, per-layer minima of 10–12 interleaved runs, Zen 3 with a
    /// 512 KiB L2 and 32 MiB L3): hand_landmark_lite's and hand_landmark_full's 112×112×64 pair
    /// (3.2 MB, K = 16, stride-2 depthwise) 0.621 → 0.542 and 0.604 → 0.548 ms (at 2 threads 0.669 →
    /// 0.571); the smaller maps, which a round trip through L3 serves well, were even or slower:
    /// 56×56×96 0.297 → 0.304 and 0.259 → 0.269, pose_landmark_full's 64×64×144 (K = 24) 0.707 →
    /// 0.733, 32×32×192 0.413 → 0.439, two 16×16×528 pairs 0.906 → 0.991 ms (small GEMM calls
    /// re-stream those layers' larger weights). The same bound holds with the sparse kernel
    /// (pose_detection on Zen 4, 1 MiB L2 per core, `profile` totals, sums of per-layer minima over 8–10
    /// alternating runs): its sparse 16 → 64 pair on 112×112 (3.2 MB, PAD-fed stride-2 depthwise)
    /// fused makes the model 5.59 → 5.52 ms at 1 thread and 3.13 → 3.05 at 2; fusing its two
    /// 56×56×144 pairs (1.8 MB) as well gave 5.55 and 3.12 (the round trip through L3 is cheap
    /// there too). pose_landmark_full's PAD-fed 128×128×64 pair (4 MB): 0.570 → 0.516 ms at 1 thread,
    /// 0.282 → 0.278 at 2.
    static let pointwiseDepthwiseMinBytes = 3 * 1024 * 1024
    /// The same bound for a stride-1 depthwise conv, whose window rows overlap by all but one: its
    /// band keeps at least `3·(window − 1)` rows (`PointwiseDepthwiseOperator.bandRows`), so the
    /// rows moved to a band's front are at most half the rows computed. Measured per pair on Zen 4
    /// (`profile`, per-layer minima of 10–12 alternating rounds; pair apart → fused): the detector's
    /// sparse 56×56×144 pair (1.8 MB, 5×5) 0.361 → 0.300 ms at 1 thread, 0.203 → 0.179 at 2;
    /// pose_landmark_full's dense 64×64×144 pair (2.4 MB, 3×3) 0.567 → 0.523 at 1 thread. The
    /// smaller stride-1 maps were even or slower fused: full's 32×32×192 (786 KB) 0.308 → 0.311, its
    /// 16×16×528 ones (540 KB) 0.355 → 0.380 and 0.351 → 0.374, the detector's 28×28×240 (750 KB)
    /// 0.230 → 0.244; so were the stride-2 maps under 3 MiB (the detector's 56×56×144 one 0.277 →
    /// 0.276 at 1 thread, 0.159 → 0.170 at 2). Before the band bound (at most 96 KiB of rows, the
    /// window's at least: 6 rows for the 5×5 window, 4 of them moved for every 2 computed) the
    /// detector's pair fused was 0.327 ms.
    static let unitStridePointwiseDepthwiseMinBytes = 3 * 512 * 1024

    /// Tensors operator `index` reads and writes once fusions are applied (for lifetimes).
    func tensors(of index: Int, _ op: Operator) -> [Int] {
        if absorbed.contains(index) { return [] }
        var list = op.inputs
        if let padded = paddedInput[index], !list.isEmpty { list[0] = padded.tensor }
        if let resized = resizedInput[index], !list.isEmpty { list[0] = resized.tensor }
        // The op's own output is fused away: it writes the last absorbed op's output instead.
        list += output[index].map { [$0] } ?? op.outputs
        if let skip = residual[index] { list.append(skip.tensor) }
        if let projection = projectionAfter[index], let skip = residual[projection.op] { list.append(skip.tensor) }
        return list
    }
}

extension GraphBuilder {
    /// Finds the fusions described on `FusionPlan` from the operators' `FusionFacts`. Only
    /// operators whose structure is fully checked here are fused; anything unusual is left alone,
    /// so the normal per-operator validation still reports it with its own operator index.
    func planFusions() -> FusionPlan {
        var plan = FusionPlan()
        let ops = subgraph.operators
        var consumers: [Int: [Int]] = [:]
        var producer: [Int: Int] = [:]
        for (index, op) in ops.enumerated() {
            for t in op.inputs where t >= 0 { consumers[t, default: []].append(index) }
            for t in op.outputs where t >= 0 { producer[t] = index }
        }
        let facts = zip(units, sites).map { $0.fusionFacts(self, $1) }
        let graphOutputs = Set(subgraph.outputs)
        /// The single consumer of `t`, when `t` is an intermediate read by exactly one operator once.
        func soleConsumer(_ t: Int) -> Int? {
            guard !graphOutputs.contains(t), let list = consumers[t], list.count == 1 else { return nil }
            let op = ops[list[0]]
            guard op.inputs.filter({ $0 == t }).count == 1 else { return nil }
            return list[0]
        }
        func isFloatActivation(_ t: Int) -> Bool {
            isValidTensor(t) && !isConstant(t) && subgraph.tensors[t].type == .float32 && staticShape(t) != nil
        }
        /// A RELU reading `t` as its only consumer, with a well-formed output of `t`'s shape.
        func foldableRelu(after t: Int) -> Int? {
            guard let r = soleConsumer(t), facts[r].role == .relu else { return nil }
            let op = ops[r]
            guard op.inputs.count == 1, op.outputs.count == 1, isFloatActivation(op.outputs[0]),
                  staticShape(op.outputs[0]) == staticShape(t) else { return nil }
            return r
        }
        /// Absorbs a following RELU into `index`, which writes `t` with no activation of its own.
        func foldRelu(into index: Int, after t: Int) {
            guard let relu = foldableRelu(after: t) else { return }
            plan.absorbed.insert(relu)
            plan.activation[index] = .relu
            plan.output[index] = ops[relu].outputs[0]
        }
        /// Absorbs a PRELU reading `t` (the last tensor `index` writes) as its only consumer, when
        /// its alpha is a float constant with one value per channel of `t` (`[…, 1, C]`) and its
        /// output has `t`'s shape.
        func foldPrelu(into index: Int, after t: Int) {
            guard let p = soleConsumer(t), facts[p].role == .prelu else { return }
            let op = ops[p]
            guard op.inputs.count == 2, op.outputs.count == 1, op.inputs[0] == t, let tShape = staticShape(t),
                  let channels = tShape.last, isFloatActivation(op.outputs[0]), staticShape(op.outputs[0]) == tShape
            else { return }
            let alpha = op.inputs[1]
            guard isValidTensor(alpha), isConstant(alpha), subgraph.tensors[alpha].type == .float32,
                  let aShape = staticShape(alpha), aShape.count <= tShape.count, aShape.last == channels,
                  aShape.dropLast().allSatisfy({ $0 == 1 }), constants.sources[alpha]?.count == channels else { return }
            plan.absorbed.insert(p)
            plan.prelu[index] = alpha
            plan.output[index] = op.outputs[0]
        }

        /// The operator whose step writes `t` under the fusions planned so far: its producer, or
        /// the operator that absorbed the producer and writes `t` as its final output; nil when
        /// `t` is fused away (never stored) or has no producer.
        func writerStep(_ t: Int) -> Int? {
            guard let p = producer[t] else { return nil }
            if !plan.absorbed.contains(p) { return p }
            return plan.output.first(where: { $0.value == t && !plan.absorbed.contains($0.key) })?.key
        }

        /// When `pad` is a PAD whose output `t` is read only by one operator and that only appends
        /// zero channels (NHWC, `paddings` zero except the channels' "after"), its input and
        /// that input's channel count.
        func channelPaddedInput(_ pad: Int, output t: Int) -> (tensor: Int, channels: Int)? {
            let op = ops[pad]
            guard facts[pad].role == .padding, op.inputs.count == 2, op.outputs == [t], soleConsumer(t) != nil,
                  isFloatActivation(op.inputs[0]), isFloatActivation(t),
                  let xShape = staticShape(op.inputs[0]), xShape.count == 4, let tShape = staticShape(t),
                  let flat = try? constantInt32s(op.inputs[1], "paddings", sites[pad]), flat.count == 8,
                  flat.dropLast().allSatisfy({ $0 == 0 }), flat[7] > 0, flat[7] <= maxDimension,
                  tShape == Array(xShape.dropLast()) + [xShape[3] + flat[7]] else { return nil }
            return (op.inputs[0], xShape[3])
        }

        for (index, op) in ops.enumerated() where !plan.absorbed.contains(index) {
            let fact = facts[index]
            if fact.role == .padding {
                // PAD → a window op that reads it through explicit zero padding.
                guard op.inputs.count == 2, op.outputs.count == 1, isFloatActivation(op.inputs[0]),
                      let t = op.outputs.first, isFloatActivation(t), let consumer = soleConsumer(t),
                      ops[consumer].inputs.first == t, facts[consumer].acceptsExplicitPadding,
                      let xShape = staticShape(op.inputs[0]), xShape.count == 4, let tShape = staticShape(t),
                      let flat = try? constantInt32s(op.inputs[1], "paddings", sites[index]), flat.count == 8 else { continue }
                // Only zero padding of H and W (NHWC dims 1 and 2).
                guard flat[0] == 0, flat[1] == 0, flat[6] == 0, flat[7] == 0, flat.allSatisfy({ $0 >= 0 && $0 <= maxDimension }),
                      tShape == [xShape[0], xShape[1] + flat[2] + flat[3], xShape[2] + flat[4] + flat[5], xShape[3]]
                else { continue }
                plan.absorbed.insert(index)
                plan.paddedInput[consumer] = (op.inputs[0], flat[2], flat[3], flat[4], flat[5])
                continue
            }
            if fact.role == .bilinearResize, op.inputs.count == 2, op.outputs.count == 1, isFloatActivation(op.inputs[0]),
               let t = op.outputs.first, isFloatActivation(t), let consumer = soleConsumer(t), ops[consumer].inputs.first == t,
               facts[consumer].readsResizedInput, let xShape = staticShape(op.inputs[0]), xShape.count == 4,
               let tShape = staticShape(t), tShape.count == 4, tShape[0] == xShape[0], tShape[3] == xShape[3] {
                // RESIZE_BILINEAR → a conv that computes it while reading its input (the conv's unit
                // builds this op's kernel; anything this op's own checks reject fails there, named for it).
                plan.absorbed.insert(index)
                plan.resizedInput[consumer] = (index, op.inputs[0])
                continue
            }
            guard op.outputs.count == 1, let t = op.outputs.first, isFloatActivation(t) else { continue }
            // conv → ADD (skip connection) [→ RELU]
            if fact.acceptsResidual, let add = soleConsumer(t), case let .residualAdd(addAct)? = facts[add].role,
               ops[add].inputs.count == 2, ops[add].outputs.count == 1 {
                let addOp = ops[add]
                var skip = addOp.inputs[0] == t ? addOp.inputs[1] : addOp.inputs[0]
                let y = addOp.outputs[0]
                // A PAD that only appends zero channels to the skip: read its input instead.
                var skipChannels: Int?, channelPad: Int?
                if fact.acceptsChannelPaddedResidual, let pad = producer[skip], !plan.absorbed.contains(pad),
                   let narrow = channelPaddedInput(pad, output: skip) {
                    channelPad = pad
                    skipChannels = narrow.channels
                    skip = narrow.tensor
                }
                // The skip tensor must already exist when the conv runs: written by an earlier step,
                // possibly as the folded output of an earlier operator (a depthwise conv's RELU).
                let skipReady = subgraph.inputs.contains(skip) || (writerStep(skip).map { $0 < index } ?? false)
                if skip != t, isFloatActivation(skip), isFloatActivation(y), skipReady,
                   let tShape = staticShape(t), staticShape(y) == tShape,
                   staticShape(skip) == (skipChannels.map { Array(tShape.dropLast()) + [$0] } ?? tShape) {
                    plan.absorbed.insert(add)
                    if let channelPad { plan.absorbed.insert(channelPad) }
                    var out = y, act = addAct
                    if act == .none, let relu = foldableRelu(after: y) {
                        plan.absorbed.insert(relu)
                        out = ops[relu].outputs[0]
                        act = .relu
                    }
                    plan.residual[index] = (skip, act, skipChannels)
                    plan.output[index] = out
                    if fact.absorbsPrelu { foldPrelu(into: index, after: out) }
                    continue
                }
            }
            if fact.absorbsRelu { foldRelu(into: index, after: t) }
            if fact.absorbsPrelu { foldPrelu(into: index, after: plan.output[index] ?? t) }
        }

        // Pointwise conv → depthwise conv, on the plan the per-op fusions left: the tensor each
        // remaining operator finally writes, and who writes it.
        var writer: [Int: Int] = [:]
        for (index, op) in ops.enumerated() where !plan.absorbed.contains(index) && op.outputs.count == 1 {
            writer[plan.output[index] ?? op.outputs[0]] = index
        }
        for (d, op) in ops.enumerated() where !plan.absorbed.contains(d) && op.outputs.count == 1 {
            guard let minBytes = facts[d].pointwiseRowsMinBytes else { continue }
            // The depthwise conv reads the pointwise output directly, or through a folded PAD (then
            // the PAD, absorbed into it, must be that tensor's only reader).
            guard let first = op.inputs.first else { continue }
            let x = plan.paddedInput[d]?.tensor ?? first
            let reader = plan.paddedInput[d] == nil ? d : producer[first]
            guard let p = writer[x], p < d, !plan.absorbed.contains(p), facts[p].feedsDepthwise, plan.resizedInput[p] == nil,
                  plan.residual[p] == nil, plan.paddedInput[p] == nil, plan.depthwiseAfter[p] == nil,
                  let reader, soleConsumer(x) == reader, isFloatActivation(x), let xShape = staticShape(x), xShape.count == 4,
                  isFloatActivation(plan.output[d] ?? op.outputs[0]),
                  let floats = GraphValidation.checkedCount(xShape),
                  floats >= minBytes / 4 else { continue }
            plan.absorbed.insert(d)
            plan.depthwiseAfter[p] = (d, x)
            let z = plan.output[d] ?? op.outputs[0]
            plan.output[p] = z
            // The projection: a pointwise conv that alone reads the depthwise output, as its input,
            // without a folded PAD, resize or PRELU; its fused ADD's skip written before the pair's step.
            guard let q = soleConsumer(z), !plan.absorbed.contains(q), facts[q].feedsDepthwise, ops[q].inputs.first == z,
                  ops[q].outputs.count == 1, plan.paddedInput[q] == nil, plan.resizedInput[q] == nil,
                  plan.depthwiseAfter[q] == nil, plan.prelu[q] == nil, isFloatActivation(plan.output[q] ?? ops[q].outputs[0])
            else { continue }
            if let skip = plan.residual[q]?.tensor {
                guard subgraph.inputs.contains(skip) || (writerStep(skip).map { $0 < p } ?? false) else { continue }
            }
            plan.absorbed.insert(q)
            plan.projectionAfter[p] = (q, z)
            plan.output[p] = plan.output[q] ?? ops[q].outputs[0]
        }
        return plan
    }
}
