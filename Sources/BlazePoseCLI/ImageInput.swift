import BlazePose
import Foundation

/// Decodes the image file at `path` (PNG, JPEG or a one-frame Y4M, told apart by its magic
/// bytes): the one place the CLI's `detect` reads an image.
/// - Throws: the decoder's error, which names the file and the reason.
func loadImage(_ path: String, orientation: EXIFOrientationHandling) throws -> RGBImage {
    try RGBImage(contentsOfFile: path, orientation: orientation)
}

/// ``loadImage(_:orientation:)`` with the decode's wall time in milliseconds.
func loadImageTimed(_ path: String, orientation: EXIFOrientationHandling) -> Result<(RGBImage, Double), Error> {
    let start = DispatchTime.now().uptimeNanoseconds
    return Result { try loadImage(path, orientation: orientation) }
        .map { ($0, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
}

/// Stack of a thread that decodes images (libpng and libjpeg-turbo run on it).
let imageDecoderStackSize = 16 << 20

/// One image decoded on a thread of its own while the caller does other work, e.g. loads the
/// models; or at once, on the caller's thread.
final class ImageDecoding: @unchecked Sendable {
    private let path: String
    private let orientation: EXIFOrientationHandling
    private let finished = DispatchSemaphore(value: 0)
    /// Decoded on a thread of its own.
    let concurrent: Bool
    /// The image and its decode's wall time in milliseconds; set once, before `finished` is signalled.
    private var decoded: Result<(RGBImage, Double), Error>?

    /// Starts decoding `path` on a new thread when `concurrently`; otherwise decodes it now.
    init(path: String, orientation: EXIFOrientationHandling, concurrently: Bool) {
        self.path = path
        self.orientation = orientation
        concurrent = concurrently
        guard concurrently else {
            decoded = loadImageTimed(path, orientation: orientation)
            return
        }
        let thread = Thread { [self] in
            decoded = loadImageTimed(path, orientation: orientation)
            finished.signal()
        }
        thread.stackSize = imageDecoderStackSize
        thread.start()
    }

    /// The image and its decode's own wall time (ms), once it is decoded; throws the decode's error.
    func result() throws -> (image: RGBImage, milliseconds: Double) {
        if concurrent { finished.wait() }
        guard let decoded else { throw CLIError("cannot read \(path): the decoding thread gave no result") }
        return try decoded.get()
    }
}

/// File name extensions (lower case) `detect DIR` takes from a directory. The format itself is
/// decided by the decoder, not by the name.
let imageFileExtensions: Set<String> = ["png", "jpg", "jpeg", "y4m"]

/// The inputs of `detect`, expanded in order: a directory gives its image files (by extension,
/// sorted by name in byte order, not recursive), `-` the non-empty lines of stdin (read once), any
/// other argument is taken as a file (a missing one fails later, as that input's error).
/// - Throws: `CLIError` for an unreadable directory or `-` given twice.
func expandInputs(_ arguments: [String], readStandardInput: () -> String = {
    String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
}) throws -> [String] {
    var paths: [String] = []
    var stdinUsed = false
    for argument in arguments {
        if argument == "-" {
            guard !stdinUsed else { throw CLIError("'-' (paths on stdin) can be given only once") }
            stdinUsed = true
            paths += readStandardInput().split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                .map(String.init).filter { !$0.isEmpty }
            continue
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: argument) } catch {
                throw CLIError("cannot list directory \(argument): \(error.localizedDescription)")
            }
            let images = names.filter { imageFileExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let base = argument.hasSuffix("/") ? argument : argument + "/"
            paths += images.map { base + $0 }
        } else {
            paths.append(argument)
        }
    }
    return paths
}
