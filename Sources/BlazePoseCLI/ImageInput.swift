import BlazePose
import Foundation

/// Decodes the image file at `path` (PNG, JPEG or a one-frame Y4M, told apart by its magic
/// bytes): the one place the CLI's `detect` reads an image.
/// - Throws: the decoder's error, which names the file and the reason.
func loadImage(_ path: String, orientation: EXIFOrientationHandling) throws -> RGBImage {
    try RGBImage(contentsOfFile: path, orientation: orientation)
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
