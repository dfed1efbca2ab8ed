import Foundation

/// A stream of RGB frames for ``PoseTracker``: a folder of PNGs or a Y4M file / pipe.
///
/// Timestamps follow MediaPipe's Python solution API: frame `k` (0-based) is stamped
/// `(k + 1) · step` µs with `step = ⌊10⁶ / fps⌋` (33333 µs at 30 fps, exactly the solution API's
/// stamping), so the first frame is not at 0 (the one-euro filter treats a 0 timestamp specially,
/// docs/pipeline.md §2.17).
public protocol VideoFrameSource: AnyObject {
    /// What the frames come from, for messages (a path or "stdin").
    var name: String { get }
    /// Number of frames when known in advance (PNG folder, regular Y4M file), else nil.
    var frameCount: Int? { get }
    /// Distance between consecutive frame timestamps, µs (≥ 1).
    var timestampStepMicroseconds: Int64 { get }
    /// The next frame, or nil at the clean end of the stream.
    /// - Throws: ``PoseTrackerError/frameUnreadable(index:source:reason:)`` when the stream breaks
    ///   (truncated Y4M, corrupt PNG); every frame returned before stays valid.
    func nextFrame() throws -> RGBImage?
}

extension VideoFrameSource {
    /// The timestamp (µs) of frame `index` (0-based): `(index + 1) · step`, saturating at
    /// `Int64.max` (reached only after 2⁶³ µs ≈ 292,000 years of video, where the tracker then
    /// reports a non-increasing timestamp instead of the process trapping on overflow).
    public func timestampMicroseconds(ofFrame index: Int) -> Int64 {
        let (frame, overflow1) = Int64(clamping: index).addingReportingOverflow(1)
        let (product, overflow2) = frame.multipliedReportingOverflow(by: timestampStepMicroseconds)
        return overflow1 || overflow2 || index < 0 ? Int64.max : product
    }
}

/// Frame rates a ``VideoFrameSource`` accepts, frames per second: 0.001 to 1000, i.e. a frame step
/// of 1 ms to 1000 s (the step is a whole number of microseconds; slower rates would make
/// `⌊10⁶ / fps⌋` and the timestamps overflow an `Int64`).
public let videoFrameRateRange: ClosedRange<Double> = 0.001...1000

/// `⌊10⁶ / fps⌋` µs, validated (`what` names the rate's origin in the error).
func timestampStep(fps: Double, what: String) throws -> Int64 {
    guard fps.isFinite, videoFrameRateRange.contains(fps) else {
        throw PoseTrackerError.invalidSource("\(what) is \(fps) frames/s; it must be in "
            + "[\(videoFrameRateRange.lowerBound), \(Int(videoFrameRateRange.upperBound))] frames/s")
    }
    return max(1, Int64((1_000_000 / fps).rounded(.down)))
}

/// The PNG files of a folder, sorted by file name (byte order: zero-pad frame numbers).
public final class PNGFolderSource: VideoFrameSource {
    public let name: String
    public let timestampStepMicroseconds: Int64
    /// Full paths of the frames, in order.
    public let paths: [String]
    public var frameCount: Int? { paths.count }
    private var position = 0

    /// - Parameters:
    ///   - directory: folder holding `*.png` (case-insensitive extension) frames; other files are ignored.
    ///   - fps: frame rate that drives the timestamps (default 30).
    /// - Throws: ``PoseTrackerError/invalidSource(_:)`` when the folder cannot be listed or has no PNG.
    public init(directory: String, fps: Double = 30) throws {
        name = directory
        timestampStepMicroseconds = try timestampStep(fps: fps, what: "the frame rate for \(directory)")
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw PoseTrackerError.invalidSource("cannot list folder \(directory): \(error.localizedDescription)")
        }
        let names = entries.filter { $0.lowercased().hasSuffix(".png") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        guard !names.isEmpty else { throw PoseTrackerError.invalidSource("folder \(directory) contains no .png files") }
        paths = names.map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
    }

    public func nextFrame() throws -> RGBImage? {
        guard position < paths.count else { return nil }
        let index = position
        position += 1
        do {
            return try RGBImage(pngFile: paths[index])
        } catch {
            throw PoseTrackerError.frameUnreadable(index: index, source: paths[index], reason: "\(error)")
        }
    }
}

/// A YUV4MPEG2 stream (file or standard input) decoded with `PoseImage.Y4MReader` (4:2:0 variants,
/// 4:4:4, mono; BT.601 to RGB; interlaced or unsupported headers are rejected with a clear error).
public final class Y4MFrameSource: VideoFrameSource {
    public let name: String
    public let timestampStepMicroseconds: Int64
    public let frameCount: Int?
    /// The stream header (size, chroma, frame rate).
    public var header: Y4MHeader { reader.header }
    private let reader: Y4MReader
    private let handle: FileHandle

    /// Opens `path` (`"-"` = standard input).
    /// - Parameter fps: frame rate for the timestamps; nil = the header's `F` rate, or 30 without one.
    /// - Throws: ``PoseTrackerError/invalidSource(_:)`` when the file cannot be opened or its header
    ///   is not a supported YUV4MPEG2 header.
    public init(path: String, fps: Double? = nil) throws {
        let isStdin = path == "-"
        name = isStdin ? "stdin" : path
        if isStdin {
            handle = FileHandle.standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: path) else {
                throw PoseTrackerError.invalidSource("cannot open \(path) for reading")
            }
            handle = opened
        }
        do {
            reader = try Y4MReader(fileHandle: handle)
        } catch {
            throw PoseTrackerError.invalidSource("\(isStdin ? "stdin" : path): \(error)")
        }
        let rate: Double, origin: String
        if let fps {
            (rate, origin) = (fps, "the frame rate for \(name)")
        } else if let f = reader.header.frameRate, f.numerator > 0, f.denominator > 0 {
            rate = Double(f.numerator) / Double(f.denominator)
            origin = "the frame rate F\(f.numerator):\(f.denominator) of \(name)'s Y4M header (an explicit frame rate overrides it)"
        } else {
            (rate, origin) = (30, "the default frame rate")
        }
        timestampStepMicroseconds = try timestampStep(fps: rate, what: origin)
        frameCount = isStdin ? nil : Self.estimateFrameCount(path: path, header: reader.header)
    }

    public func nextFrame() throws -> RGBImage? {
        let index = reader.framesRead
        do {
            return try reader.nextFrame()
        } catch {
            throw PoseTrackerError.frameUnreadable(index: index, source: name, reason: "\(error)")
        }
    }

    /// From the file size, assuming bare `FRAME\n` lines (for progress / ETA only).
    private static func estimateFrameCount(path: String, header: Y4MHeader) -> Int? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              (attributes[.type] as? FileAttributeType) == .typeRegular,
              let size = (attributes[.size] as? NSNumber)?.intValue,
              let probe = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? probe.close() }
        let start = [UInt8]((try? probe.read(upToCount: 4096)) ?? Data())
        guard let newline = start.firstIndex(of: 0x0A) else { return nil }
        let luma = header.width * header.height
        let chroma: Int
        switch header.chroma {
        case .yuv444: chroma = 2 * luma
        case .mono: chroma = 0
        default: chroma = 2 * ((header.width + 1) / 2) * ((header.height + 1) / 2)
        }
        let frameBytes = 6 + luma + chroma
        return (size - newline - 1) / frameBytes
    }
}

/// Opens `input` as a frame source: `"-"` or a path ending in `.y4m` → ``Y4MFrameSource``,
/// a directory → ``PNGFolderSource``.
/// - Parameter fps: explicit frame rate; nil = the Y4M header's rate, or 30.
public func openVideoFrameSource(_ input: String, fps: Double?) throws -> VideoFrameSource {
    if input == "-" || input.lowercased().hasSuffix(".y4m") {
        return try Y4MFrameSource(path: input, fps: fps)
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
        throw PoseTrackerError.invalidSource("\(input) does not exist (expected a folder of PNG frames, a .y4m file or - for Y4M on stdin)")
    }
    guard isDirectory.boolValue else {
        throw PoseTrackerError.invalidSource(
            "\(input) is neither a folder of PNG frames nor a .y4m file. For a video, pipe it through ffmpeg as Y4M: "
            + "ffmpeg -i \(input) -f yuv4mpegpipe - | blazepose track - …, or convert it once: "
            + "ffmpeg -i \(input) -pix_fmt yuv420p video.y4m")
    }
    return try PNGFolderSource(directory: input, fps: fps ?? 30)
}
