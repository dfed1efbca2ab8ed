import BlazeRuntime
import Foundation
import TFLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// MediaPipe Pose (BlazePose) on still images: detector → ROI → landmark model → projection.
///
/// Loads `pose_detection.tflite` and the chosen landmark model once. Not thread-safe: one
/// landmarker runs one image at a time (the interpreters own their activation memory).
///
/// The per-stage entry points ``detectROIs(in:)`` and ``landmarks(in:roi:detectionScore:)`` are
/// public so a video tracker can skip the detector when it has a ROI from the previous frame.
public final class PoseLandmarker {
    public let options: PoseLandmarkerOptions
    private let detector: Interpreter
    private let landmarkModel: Interpreter
    private let anchors: [Anchor]
    // Output indices, found by shape so a model with a different output order still works.
    private let boxesOutput: Int, scoresOutput: Int
    private let landmarksOutput: Int, flagOutput: Int, segmentationOutput: Int, heatmapOutput: Int, worldOutput: Int
    private let segmentationWidth: Int, segmentationHeight: Int

    static let detectorSize = 224
    static let cropSize = 256

    /// The directory the models were loaded from (nil for ``ModelSource/data(detector:landmark:)``
    /// and ``ModelSource/files(detector:landmark:)``).
    public let weightsDirectory: URL?

    /// Loads the models from `options.models`: by default the first directory of the
    /// ``WeightsLocator`` search order that holds both files.
    /// - Throws: ``BlazePoseError/weightsNotFound(files:searched:install:)`` when no searched
    ///   directory holds both files (listing each place and the install command; for heavy also how
    ///   to install it), ``BlazePoseError/missingWeights(path:hint:)`` for a missing
    ///   ``ModelSource/files(detector:landmark:)`` file, ``BlazePoseError/invalidModel(path:reason:)``
    ///   when a model cannot be loaded or its inputs/outputs are not BlazePose's,
    ///   ``BlazePoseError/invalidOption(name:value:reason:)``.
    public init(options: PoseLandmarkerOptions = .init()) throws {
        try options.validate()
        self.options = options
        // The detector and the landmark model run one after the other, each reading its outputs
        // before the other runs: one activation arena serves both (the larger need, not the sum).
        let runtimeOptions = InterpreterOptions(threads: options.threads, sharedArena: ActivationArena(),
                                                weightCache: options.weightCacheDirectory.map { WeightCache(directory: $0) })
        let detectorName = "pose_detection.tflite", landmarkName = options.modelComplexity.landmarkModelFileName
        // Names used in errors: the file path, or "<name> (Data)".
        let detectorLabel: String, landmarkLabel: String
        switch options.models {
        case .searchPath, .directory:
            let directory = try WeightsLocator().locate(files: [detectorName, landmarkName],
                                                        explicit: options.weightsDirectory)
            weightsDirectory = directory
            detectorLabel = directory.appendingPathComponent(detectorName).path
            landmarkLabel = directory.appendingPathComponent(landmarkName).path
            let (detectorURL, landmarkURL) = (directory.appendingPathComponent(detectorName), directory.appendingPathComponent(landmarkName))
            (detector, landmarkModel) = try Self.loadPair(threads: options.threads, { try Self.load(detectorURL, runtimeOptions) },
                                                          { try Self.load(landmarkURL, runtimeOptions, partialHeatmap: true) })
        case let .files(detectorFile, landmarkFile):
            weightsDirectory = nil
            (detectorLabel, landmarkLabel) = (detectorFile.path, landmarkFile.path)
            (detector, landmarkModel) = try Self.loadPair(threads: options.threads, { try Self.load(detectorFile, runtimeOptions) },
                                                          { try Self.load(landmarkFile, runtimeOptions, partialHeatmap: true) })
        case let .data(detectorData, landmarkData):
            weightsDirectory = nil
            (detectorLabel, landmarkLabel) = ("\(detectorName) (Data)", "\(landmarkName) (Data)")
            (detector, landmarkModel) = try Self.loadPair(threads: options.threads,
                                                          { try Self.load(detectorData, name: detectorName, runtimeOptions) },
                                                          { try Self.load(landmarkData, name: landmarkName, runtimeOptions,
                                                                          partialHeatmap: true) })
        }
        anchors = try SSDAnchors.generate(.poseDetector)
        Self.trimHeap()

        func index(_ interpreter: Interpreter, _ path: String, _ what: String, _ match: ([Int]) -> Bool) throws -> Int {
            guard let i = interpreter.outputs.firstIndex(where: { match($0.shape) }) else {
                throw BlazePoseError.invalidModel(path: path, reason: "no output that looks like the \(what); outputs are \(interpreter.outputs.map { "\($0.name) \($0.shape)" })")
            }
            return i
        }
        guard detector.inputs.count == 1, detector.inputs[0].shape == [1, 224, 224, 3] else {
            throw BlazePoseError.invalidModel(path: detectorLabel, reason: "expected one input [1, 224, 224, 3], got \(detector.inputs.map(\.shape))")
        }
        boxesOutput = try index(detector, detectorLabel, "box tensor [1, 2254, 12]") { $0 == [1, 2254, 12] }
        scoresOutput = try index(detector, detectorLabel, "score tensor [1, 2254, 1]") { $0 == [1, 2254, 1] }
        guard landmarkModel.inputs.count == 1, landmarkModel.inputs[0].shape == [1, 256, 256, 3] else {
            throw BlazePoseError.invalidModel(path: landmarkLabel, reason: "expected one input [1, 256, 256, 3], got \(landmarkModel.inputs.map(\.shape))")
        }
        landmarksOutput = try index(landmarkModel, landmarkLabel, "landmark tensor [1, 195]") { $0 == [1, 195] }
        flagOutput = try index(landmarkModel, landmarkLabel, "pose flag [1, 1]") { $0 == [1, 1] }
        worldOutput = try index(landmarkModel, landmarkLabel, "world landmarks [1, 117]") { $0 == [1, 117] }
        heatmapOutput = try index(landmarkModel, landmarkLabel, "heatmap [1, 64, 64, 39]") { $0 == Self.heatmapShape }
        segmentationOutput = try index(landmarkModel, landmarkLabel, "segmentation [1, H, W, 1]") {
            $0.count == 4 && $0[0] == 1 && $0[3] == 1 && $0[1] > 0 && $0[2] > 0
        }
        let segShape = landmarkModel.outputs[segmentationOutput].shape
        segmentationHeight = segShape[1]
        segmentationWidth = segShape[2]
    }

    /// Loading freed float constants, decode temporaries and file bookkeeping in the middle of the
    /// heap; glibc keeps such pages resident until `malloc_trim` hands them back (looked up at run
    /// time: other C libraries have no such call, and need none).
    private static func trimHeap() {
        #if canImport(Glibc)
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }

    /// Builds the detector and the landmark model: at once, on two threads, when `threads` > 1 and
    /// the machine has more than one core (each load is mostly single-threaded work: reading,
    /// decoding, widening and packing weights), else one after the other. The two interpreters are
    /// the same either way (they share only the activation arena, which is built for that). When
    /// both fail, the detector's error is the one thrown, as in a sequential load.
    private static func loadPair(threads: Int, _ loadDetector: () throws -> Interpreter,
                                 _ loadLandmark: () throws -> Interpreter) throws -> (Interpreter, Interpreter) {
        guard threads > 1, ProcessInfo.processInfo.activeProcessorCount > 1 else {
            return (try loadDetector(), try loadLandmark())
        }
        let results = LoadResults()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let result = Result { try (i == 0 ? loadDetector : loadLandmark)() }
            results.set(i, result)
        }
        let (detector, landmark) = results.both
        return (try detector.get(), try landmark.get())
    }

    /// The two results of ``loadPair(threads:_:_:)``, each written once by its own thread.
    private final class LoadResults: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<Interpreter, Error>?] = [nil, nil]
        func set(_ i: Int, _ result: Result<Interpreter, Error>) { lock.lock(); results[i] = result; lock.unlock() }
        /// Both results (after `concurrentPerform` returned, so both are set).
        var both: (Result<Interpreter, Error>, Result<Interpreter, Error>) {
            lock.lock()
            defer { lock.unlock() }
            let missing = Result<Interpreter, Error>.failure(BlazePoseError.invalidOption(name: "models", value: "", reason: "a model load did not finish"))
            return (results[0] ?? missing, results[1] ?? missing)
        }
    }

    /// With `partialHeatmap`, the model's `[1, 64, 64, 39]` heatmap outputs (a landmark model's) are
    /// ``InterpreterOptions/partialOutputs``: the refinement computes only the windows it reads.
    private static func load(_ url: URL, _ options: InterpreterOptions, partialHeatmap: Bool = false) throws -> Interpreter {
        guard WeightsLocator.isFile(url) else {
            throw BlazePoseError.missingWeights(path: url.path, hint: WeightsLocator.installInstructions(for: [url.lastPathComponent]))
        }
        do {
            let model = try Model(contentsOf: url)
            return try Interpreter(owning: model, options: partialHeatmap ? withPartialHeatmap(options, model) : options)
        } catch {
            throw BlazePoseError.invalidModel(path: url.path, reason: "cannot load: \(error)")
        }
    }

    private static func load(_ data: Data, name: String, _ options: InterpreterOptions, partialHeatmap: Bool = false) throws -> Interpreter {
        do {
            let model = try Model(data: data)
            return try Interpreter(model: model, options: partialHeatmap ? withPartialHeatmap(options, model) : options)
        } catch {
            throw BlazePoseError.invalidModel(path: "\(name) (\(data.count) bytes of Data)", reason: "cannot load: \(error)")
        }
    }

    /// `options` with the `[1, 64, 64, 39]` outputs of `model`'s first subgraph as partial outputs.
    private static func withPartialHeatmap(_ options: InterpreterOptions, _ model: Model) -> InterpreterOptions {
        guard let graph = model.subgraphs.first else { return options }
        var options = options
        options.partialOutputs = graph.outputs.indices.filter { position in
            let t = graph.outputs[position]
            return graph.tensors.indices.contains(t) && graph.tensors[t].shape == heatmapShape
        }
        return options
    }

    /// The landmark models' heatmap: `[1, 64, 64, 39]` logits, NHWC.
    static let heatmapShape = [1, 64, 64, 39]

    // MARK: - Whole pipeline

    /// Runs the static-image pipeline: detector, then the landmark model on the best
    /// `maxPoses` detections (MediaPipe: 1).
    /// - Returns: the poses whose presence passed `minTrackingConfidence`, best detection first;
    ///   empty when nobody was found (not an error).
    public func detect(image: RGBImage) throws -> PoseResult {
        let (result, _, _) = try detectWithStages(image: image, keepingRawTensors: false)
        return result
    }

    /// Decodes the PNG at `path` (any PNG kind, see `RGBImage.decodePNG`) and runs ``detect(image:)``.
    /// - Throws: `PoseImageError` naming the file for a missing, non-PNG, corrupt, truncated,
    ///   zero-size or oversized image.
    public func detect(pngFile path: String) throws -> PoseResult {
        try detect(image: RGBImage(pngFile: path))
    }

    /// Reads the image file at `path` — PNG, JPEG or a single-frame YUV4MPEG2 still, told apart by
    /// its first bytes — with bounded reads, and runs ``detect(image:)``. Pixels are those of
    /// `cv2.imread` (BGR→RGB), so results match MediaPipe run on `cv2.imread` of the same file.
    /// - Parameter orientation: `.apply` (default) turns the image upright by its EXIF orientation,
    ///   as `cv2.imread` does; landmarks are then in upright coordinates. `.ignore` keeps the stored grid.
    /// - Throws: `PoseImageError` naming the file and the reason (missing, not a regular file,
    ///   unknown format, corrupt, truncated, unsupported JPEG kind, zero size, oversized).
    public func detect(imageFile path: String, orientation: EXIFOrientationHandling = .apply) throws -> PoseResult {
        try detect(image: RGBImage(contentsOfFile: path, orientation: orientation))
    }

    /// ``detect(image:)`` that also returns the detector stages and, per tried ROI, the landmark
    /// stages (used by `--dump-stages`).
    public func detectWithStages(image: RGBImage) throws -> (PoseResult, DetectorStages, [LandmarkStages]) {
        try detectWithStages(image: image, keepingRawTensors: true)
    }

    /// ``detectWithStages(image:)``; without `keepingRawTensors` the stages' model inputs, heatmaps
    /// and segmentation logits are empty (see ``landmarks(in:roi:detectionScore:keepingRawTensors:)``).
    private func detectWithStages(image: RGBImage, keepingRawTensors keep: Bool) throws
        -> (PoseResult, DetectorStages, [LandmarkStages]) {
        var timing = PoseTiming()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let detectorStages = try detectROIs(in: image, keepingInput: keep)
        let t1 = DispatchTime.now().uptimeNanoseconds
        timing.detectorMilliseconds = Double(t1 - t0) / 1e6
        var poses: [Pose] = []
        var landmarkStages: [LandmarkStages] = []
        for candidate in detectorStages.candidates.prefix(options.maxPoses) {
            let stages = try landmarks(in: image, roi: candidate.roi, detectionScore: candidate.detection.score,
                                       keepingRawTensors: keep)
            landmarkStages.append(stages)
            if let pose = stages.pose { poses.append(pose) }
        }
        timing.landmarkMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e6
        return (PoseResult(imageWidth: image.width, imageHeight: image.height, poses: poses, timing: timing),
                detectorStages, landmarkStages)
    }

    // MARK: - Detector stage

    /// Runs the detector on the whole image (docs/pipeline.md §2.2–§2.8): letterbox to 224×224 (zero border,
    /// range [−1, 1]), model, decode against the 2254 anchors, threshold, weighted NMS, letterbox
    /// removal, and the ROI of every NMS cluster.
    public func detectROIs(in image: RGBImage) throws -> DetectorStages {
        try detectROIs(in: image, keepingInput: true)
    }

    /// ``detectROIs(in:)``; without `keepingInput` the stages' ``DetectorStages/input`` is empty
    /// (the model input is written straight into the interpreter's memory, not kept).
    func detectROIs(in image: RGBImage, keepingInput: Bool) throws -> DetectorStages {
        let size = Self.detectorSize
        let whole = try PixelRect.wholeImage(width: image.width, height: image.height)
        let (padded, padding) = try whole.paddedToAspectRatio(tensorWidth: size, tensorHeight: size)
        let bytes = try warpRotatedRectRGB8(image: image, roi: padded, outputWidth: size, outputHeight: size,
                                            border: .zero, parallelFor: detector.parallelFor)   // [224, 224, 3] HWC
        let input = try Self.setInput(of: detector, from: bytes, rangeMin: -1, rangeMax: 1,
                                      keeping: keepingInput)   // [1, 224, 224, 3] NHWC, or [] when not kept
        detector.invoke()
        let boxes = detector.output(boxesOutput)     // [1, 2254, 12]
        let scores = detector.output(scoresOutput)   // [1, 2254, 1]
        let before = try DetectionDecoder.decode(
            boxes: boxes, scores: scores, anchors: anchors,
            options: .poseDetector(minScoreThreshold: options.minDetectionConfidence))
        let after = before.weightedNonMaxSuppression(iouThreshold: 0.3)
        let detections = after.map { $0.removingLetterbox(padding) }
        var candidates: [PoseCandidate] = []
        for detection in detections {
            guard detection.keypoints.count >= 2 else { continue }
            let alignment = try RegionOfInterest.alignmentRect(start: detection.keypoints[0], end: detection.keypoints[1],
                                                              imageWidth: image.width, imageHeight: image.height)
            // A zero-size or NaN ROI is MediaPipe's "no tensor": no landmarks for this detection.
            guard let roi = try RegionOfInterest.poseROI(from: detection, imageWidth: image.width,
                                                         imageHeight: image.height),
                  roi.xCenter.isFinite, roi.yCenter.isFinite, roi.width.isFinite, roi.rotation.isFinite else { continue }
            candidates.append(PoseCandidate(detection: detection, alignmentRect: alignment, roi: roi))
        }
        return DetectorStages(inputBytes: bytes, input: input, padding: padding, rawBoxes: boxes, rawScores: scores,
                              detectionsBeforeNMS: before, detectionsAfterNMS: after, detections: detections,
                              candidates: candidates)
    }

    /// Writes `bytes` (HWC RGB8, the model input's element count) into `interpreter`'s input 0 as
    /// MediaPipe's value range transform maps them to [`rangeMin`, `rangeMax`]
    /// (``applyValueTransform(_:scale:offset:)``), in place. Returns a copy of that input when
    /// `keeping`, else `[]`.
    private static func setInput(of interpreter: Interpreter, from bytes: [UInt8], rangeMin: Float, rangeMax: Float,
                                 keeping: Bool) throws -> [Float] {
        let (scale, offset) = mediaPipeValueTransform(rangeMin: rangeMin, rangeMax: rangeMax)
        return try interpreter.withInput(0) { input in
            guard input.count == bytes.count else {
                throw BlazePoseError.invalidImage("the crop has \(bytes.count) values, the model input \(input.count)")
            }
            for (k, byte) in bytes.enumerated() { input[k] = applyValueTransform(byte, scale: scale, offset: offset) }
            return keeping ? Array(input) : []
        }
    }

    // MARK: - Landmark stage

    /// Runs the landmark model on `roi` (docs/pipeline.md §2.9–§2.16): rotated crop to 256×256 (replicate
    /// border, range [0, 1]), model, presence gate, decode, heatmap refinement, projection to the
    /// image, world rotation, and the mask warped back to the image.
    ///
    /// - Parameters:
    ///   - roi: image-normalized rect, square in pixels (from ``detectROIs(in:)`` or a tracker).
    ///   - detectionScore: stored in the returned ``Pose`` (nil for a tracked ROI).
    /// - Returns: all stages; ``LandmarkStages/pose`` is nil when presence ≤ `minTrackingConfidence`.
    /// - Throws: ``BlazePoseError/invalidImage(_:)`` for a ROI that is not finite and positive.
    public func landmarks(in image: RGBImage, roi: NormalizedRect, detectionScore: Float? = nil) throws -> LandmarkStages {
        try landmarks(in: image, roi: roi, detectionScore: detectionScore, keepingRawTensors: true)
    }

    /// ``landmarks(in:roi:detectionScore:)``; without `keepingRawTensors` the stages' large arrays
    /// (``LandmarkStages/input``, ``LandmarkStages/rawSegmentation``, ``LandmarkStages/rawHeatmap``)
    /// are empty: the input is written straight into the model's memory, the heatmap is computed
    /// only in the windows the refinement reads (a partial output, see docs/pipeline.md §2.12) and
    /// read there, and the segmentation is read where the model left it (a video frame then copies
    /// none of the 256×256×3 input, the 64×64×39 heatmap or the mask logits).
    func landmarks(in image: RGBImage, roi: NormalizedRect, detectionScore: Float?,
                   keepingRawTensors keep: Bool) throws -> LandmarkStages {
        guard roi.isUsableCropRegion, roi.xCenter.isFinite, roi.yCenter.isFinite, roi.width.isFinite,
              roi.height.isFinite, roi.rotation.isFinite else {
            throw BlazePoseError.invalidImage("ROI \(roi) must be finite with positive width and height")
        }
        let size = Self.cropSize
        let pixelROI = try roi.pixelRect(imageWidth: image.width, imageHeight: image.height)
        let (padded, padding) = try pixelROI.paddedToAspectRatio(tensorWidth: size, tensorHeight: size)
        let bytes = try warpRotatedRectRGB8(image: image, roi: padded, outputWidth: size, outputHeight: size,
                                            border: .replicate, parallelFor: landmarkModel.parallelFor)   // [256, 256, 3] HWC
        let input = try Self.setInput(of: landmarkModel, from: bytes, rangeMin: 0, rangeMax: 1,
                                      keeping: keep)   // [1, 256, 256, 3] NHWC, or [] when not kept
        if keep {
            landmarkModel.invoke()
        } else {
            // No mask wanted: the layers that only the segmentation output reads are skipped. The
            // heatmap, a partial output, is computed below in the windows the refinement reads.
            // (The landmark model is always loaded with its heatmap as a partial output.)
            var wanted = [landmarksOutput, flagOutput, worldOutput]
            if options.enableSegmentation { wanted.append(segmentationOutput) }
            try landmarkModel.invoke(computing: wanted)
        }
        let rawLandmarks = landmarkModel.output(landmarksOutput)        // [1, 195]
        let rawFlag = landmarkModel.output(flagOutput).first ?? 0      // [1, 1]
        let rawWorld = landmarkModel.output(worldOutput)               // [1, 117]
        // [1, Hm, Wm, 1] and [1, 64, 64, 39]: copied only to be kept; else read in place below.
        let rawSegmentation = keep ? landmarkModel.output(segmentationOutput) : []
        let rawHeatmap = keep ? landmarkModel.output(heatmapOutput) : []
        var stages = LandmarkStages(
            roi: roi, padding: padding, inputBytes: bytes, input: input, rawLandmarks: rawLandmarks,
            rawPoseFlag: rawFlag, rawSegmentation: rawSegmentation,
            segmentationSize: (segmentationWidth, segmentationHeight), rawHeatmap: rawHeatmap, rawWorld: rawWorld,
            present: rawFlag > options.minTrackingConfidence, decoded: nil, refined: nil, maskROI: nil, pose: nil)
        // Strict `>`, and NaN fails: docs/pipeline.md §2.10.
        guard stages.present else { return stages }

        let decoded = try rawLandmarks.withUnsafeBufferPointer { try LandmarkDecoder.decode(raw: $0) }
        var refined = decoded
        // The heatmap pixels the refinement reads (all of them when the model computed it whole).
        let regions = decoded.compactMap {
            LandmarkDecoder.refinementWindow($0, heatmapHeight: 64, heatmapWidth: 64, kernelSize: options.heatmapKernelSize)
                .map { OutputRegion(rows: $0.rows, columns: $0.columns) }
        }
        try landmarkModel.withOutput(heatmapOutput, computingRegions: regions) {
            try LandmarkDecoder.refine(&refined, heatmap: $0, heatmapHeight: 64, heatmapWidth: 64,
                                       kernelSize: options.heatmapKernelSize)
        }
        let (poseCrop, auxCrop) = try LandmarkDecoder.split(refined)
        let project = { (l: Landmark) in l.removingLetterbox(padding).projected(onto: roi) }
        let poseLandmarks = poseCrop.map(project)
        let auxiliary = auxCrop.map(project)
        let worldRaw = try rawWorld.withUnsafeBufferPointer {
            try LandmarkDecoder.decodeWorld(raw: $0, count: LandmarkDecoder.poseLandmarkCount)
        }
        let world = LandmarkDecoder.rotatingWorld(worldRaw, rotation: roi.rotation, copyingScoresFrom: poseLandmarks)

        var mask: SegmentationMask?
        if options.enableSegmentation {
            // σ on the model grid, [Hm, Wm]: LOGISTIC's kernel, `logistic(_:)`'s bits 8 at a time.
            let maskROI = landmarkModel.withOutput(segmentationOutput) { logits in
                [Float](unsafeUninitializedCapacity: logits.count) { values, count in
                    count = 0
                    if let from = logits.baseAddress, let to = values.baseAddress {
                        UnaryOperator.logistic(from, to, count: logits.count)
                        count = logits.count
                    }
                }
            }
            stages.maskROI = maskROI
            let matrix = mediaPipeMaskMatrix(padded: padded, imageWidth: image.width, imageHeight: image.height)
            let values = try warpMaskBack(mask: maskROI, maskWidth: segmentationWidth, maskHeight: segmentationHeight,
                                          matrix: matrix, outputWidth: image.width, outputHeight: image.height)
            mask = SegmentationMask(width: image.width, height: image.height, values: values)
        }
        stages.decoded = decoded
        stages.refined = refined
        stages.pose = Pose(landmarks: poseLandmarks, worldLandmarks: world, auxiliaryLandmarks: auxiliary, roi: roi,
                           detectionScore: detectionScore, presence: rawFlag, mask: mask)
        return stages
    }
}
