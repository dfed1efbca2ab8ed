import BlazePose
import Foundation

/// What one input of a batch gave: the result with its decode and total (decode + pipeline) time,
/// or the error that stopped it.
struct BatchItem {
    var path: String
    var outcome: Result<(result: PoseResult, decodeMilliseconds: Double, totalMilliseconds: Double), Error>
}

/// Runs the static-image pipeline over many files: `landmarkers.count` images at a time, each on
/// its own landmarker (models loaded once per job, single-threaded or as configured), while
/// decoder threads read the next images ahead of inference. Items are delivered in input order.
///
/// Every image goes through the same code as a single-image run (`PoseLandmarker.detect(image:)`
/// on a freshly decoded image), so results are bit-identical to one `detect IMAGE` per file.
/// Memory is bounded: at most `lookahead` decoded images wait for a job.
final class BatchDetector {
    let paths: [String]
    private let landmarkers: [PoseLandmarker]
    private let decoderCount: Int
    private let lookahead: Int
    private let orientation: EXIFOrientationHandling

    // Shared state, guarded by `condition`.
    private let condition = NSCondition()
    private var nextToDecode = 0
    private var nextToRun = 0
    private var decoded: [Int: Result<(RGBImage, Double), Error>] = [:]
    private var finished: [Int: BatchItem] = [:]
    private var cancelled = false

    /// - Parameters:
    ///   - decoders: threads decoding ahead (at least 1).
    ///   - orientation: whether a file's EXIF orientation is applied (`detect --ignore-orientation`).
    init(paths: [String], landmarkers: [PoseLandmarker], decoders: Int, orientation: EXIFOrientationHandling = .apply) {
        self.paths = paths
        self.orientation = orientation
        self.landmarkers = landmarkers
        decoderCount = max(1, decoders)
        lookahead = landmarkers.count + decoderCount
    }

    /// Processes every path; calls `deliver` on the calling thread for item 0, 1, … in order, as
    /// soon as each is done. An error thrown by `deliver` stops the batch and is rethrown.
    func run(deliver: (Int, BatchItem) throws -> Void) throws {
        let group = DispatchGroup()
        func spawn(_ body: @escaping () -> Void) {
            group.enter()
            let thread = Thread { body(); group.leave() }
            thread.stackSize = imageDecoderStackSize
            thread.start()
        }
        for _ in 0..<decoderCount { spawn { [self] in decodeLoop() } }
        for landmarker in landmarkers { spawn { [self] in runLoop(landmarker) } }
        defer {
            condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
            group.wait()
        }
        for index in paths.indices {
            condition.lock()
            while finished[index] == nil { condition.wait() }
            let item = finished.removeValue(forKey: index)
            condition.unlock()
            if let item { try deliver(index, item) }
        }
    }

    private func decodeLoop() {
        condition.lock()
        while true {
            while !cancelled, nextToDecode < paths.count, nextToDecode >= nextToRun + lookahead { condition.wait() }
            guard !cancelled, nextToDecode < paths.count else { break }
            let index = nextToDecode
            nextToDecode += 1
            condition.unlock()
            let result = loadImageTimed(paths[index], orientation: orientation)
            condition.lock()
            decoded[index] = result
            condition.broadcast()
        }
        condition.unlock()
    }

    private func runLoop(_ landmarker: PoseLandmarker) {
        condition.lock()
        while !cancelled, nextToRun < paths.count {
            let index = nextToRun
            nextToRun += 1
            condition.broadcast()   // the decode window moved
            while !cancelled, decoded[index] == nil { condition.wait() }
            guard let image = decoded.removeValue(forKey: index) else { break }
            condition.unlock()
            let item = BatchItem(path: paths[index], outcome: image.flatMap { picture, decodeMilliseconds in
                Result {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let result = try landmarker.detect(image: picture)
                    let pipeline = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    return (result, decodeMilliseconds, decodeMilliseconds + pipeline)
                }
            })
            condition.lock()
            finished[index] = item
            condition.broadcast()
        }
        condition.unlock()
    }
}
