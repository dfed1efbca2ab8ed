extension RGBImage {
    /// Reads an image file — PNG, JPEG or a single-frame YUV4MPEG2 still — chosen by its first
    /// bytes, never by its name, with bounded reads (see ``ImageFileLimits``):
    /// 1. `open(O_NONBLOCK)` + `fstat`: FIFOs, devices, directories, empty files and files larger
    ///    than ``ImageFileLimits/maxFileBytes`` are rejected before anything is read;
    /// 2. the signature and header are read and checked (format, size within ``PNGLimits``);
    /// 3. the file is read whole only if its size is within ``ImageFileLimits/maxFileBytes(width:height:)``.
    ///
    /// Decoding: PNG as ``decodePNG(_:source:)``, JPEG as ``decodeJPEG(_:source:orientation:)``
    /// (both identical to `cv2.imread`), YUV4MPEG2 as ``Y4MReader`` (exactly one frame).
    /// With `orientation: .apply` the EXIF orientation of a JPEG (first APP1) or PNG (`eXIf`
    /// chunk) is applied as `cv2.imread` does; `.ignore` keeps the stored pixel grid.
    /// - Returns: `[height, width, 3]` HWC RGB8.
    /// - Throws: `PoseImageError` naming `path` and the reason (I/O, not a regular file, too
    ///   large, unknown format, decoder error).
    public init(contentsOfFile path: String, orientation: EXIFOrientationHandling = .apply) throws {
        self = try RGBImage.readImageFile(path, formats: ImageFileFormat.allCases, orientation: orientation)
    }

    /// Decodes an image held in memory, the format chosen by its first bytes; see
    /// ``init(contentsOfFile:orientation:)``.
    public static func decodeImage(_ data: [UInt8], source: String = "<memory>",
                                   orientation: EXIFOrientationHandling = .apply) throws -> RGBImage {
        switch ImageFileFormat.detect(data) {
        case .png?:
            return try decodePNGApplyingEXIF(data, source: source, orientation: orientation)
        case .jpeg?:
            return try decodeJPEG(data, source: source, orientation: orientation)
        case .y4m?:
            return try decodeY4MStill(data, source: source)
        case nil:
            throw unknownFormat(data, source: source)
        }
    }

    /// The bounded reader behind ``init(contentsOfFile:orientation:)`` and ``init(pngFile:)``.
    static func readImageFile(_ path: String, formats: [ImageFileFormat],
                              orientation: EXIFOrientationHandling) throws -> RGBImage {
        let file = try ImageFileReader(path: path)
        let head = try file.prefix(10)
        guard let format = ImageFileFormat.detect(head), formats.contains(format) else {
            if formats == [.png] {
                throw PoseImageError.pngDecodeFailed(source: path, message: "not a PNG file (bad signature)")
            }
            throw unknownFormat(head, source: path)
        }
        switch format {
        case .png:
            let header = try file.prefix(PNGHeader.sizeBytes)
            var limit = ImageFileLimits.maxFileBytes, what = "an image within the pixel limits"
            if let (width, height) = PNGHeader.size(header) {
                try checkPixelLimits(width: width, height: height, source: path)
                (limit, what) = (ImageFileLimits.maxFileBytes(width: width, height: height), "a \(width)x\(height) PNG")
            }
            let data = try file.readAll(limit: limit, what: what)
            return try decodePNGApplyingEXIF(data, source: path, orientation: orientation)
        case .jpeg:
            var wanted = 4096
            while true {
                let prefix = try file.prefix(wanted)
                let complete = prefix.count == file.fileSize || file.endedEarly
                switch try JPEGHeader.scan(prefix, isComplete: complete, source: path) {
                case let .header(header):
                    try header.validate(source: path)
                    let data = try file.readAll(limit: ImageFileLimits.maxFileBytes(width: header.width, height: header.height),
                                                what: "a \(header.width)x\(header.height) JPEG")
                    return try decodeJPEG(data, source: path, orientation: orientation)
                case let .needBytes(count):
                    guard count <= ImageFileLimits.maxHeaderBytes else {
                        throw PoseImageError.jpegDecodeFailed(
                            source: path, message: "no frame header and first scan within the first \(ImageFileLimits.maxHeaderBytes) bytes")
                    }
                    wanted = max(count, min(2 * wanted, ImageFileLimits.maxHeaderBytes))
                }
            }
        case .y4m:
            let header = try file.prefix(4096)
            guard let newline = header.firstIndex(of: 0x0A) else {
                throw PoseImageError.y4m("\(path): no end of the stream header line within the first \(header.count) bytes")
            }
            let parsed: Y4MHeader
            do {
                parsed = try Y4MReader.parseHeader(Array(header[0..<newline]))
            } catch let PoseImageError.y4m(message) {
                throw PoseImageError.y4m("\(path): \(message)")
            }
            let chroma = parsed.chroma.chromaSize(width: parsed.width, height: parsed.height)
            let frameBytes = parsed.width * parsed.height + 2 * chroma.width * chroma.height
            let data = try file.readAll(limit: newline + 1 + 4096 + frameBytes,
                                        what: "a single \(parsed.width)x\(parsed.height) YUV4MPEG2 frame")
            return try decodeY4MStill(data, source: path)
        }
    }

    /// PNG decoding plus the `eXIf` orientation, as `cv2.imread` applies it.
    private static func decodePNGApplyingEXIF(_ data: [UInt8], source: String,
                                              orientation: EXIFOrientationHandling) throws -> RGBImage {
        let image = try decodePNG(data, source: source)
        guard orientation == .apply, let tiff = PNGHeader.exifPayload(data),
              let exif = EXIFOrientation.parse(tiff: tiff) else { return image }
        return image.oriented(exif)
    }

    /// Exactly one frame of a YUV4MPEG2 stream held in memory.
    private static func decodeY4MStill(_ data: [UInt8], source: String) throws -> RGBImage {
        func fail(_ error: Error) -> PoseImageError {
            if case let PoseImageError.y4m(message) = error { return .y4m("\(source): \(message)") }
            return .y4m("\(source): \(error)")
        }
        var delivered = false
        do {
            let reader = try Y4MReader(chunks: {
                if delivered { return [] }
                delivered = true
                return data
            })
            guard let frame = try reader.nextFrame() else {
                throw PoseImageError.y4m("the stream has a header but no frame")
            }
            if try reader.nextFrame() != nil {
                throw PoseImageError.y4m("more than one frame: detect reads single-frame stills (use `track` for video)")
            }
            return frame
        } catch {
            throw fail(error)
        }
    }

    private static func checkPixelLimits(width: Int, height: Int, source: String) throws {
        guard width > 0, height > 0 else {
            throw PoseImageError.pngDecodeFailed(source: source, message: "image has zero size \(width)x\(height)")
        }
        guard width <= PNGLimits.maxSide, height <= PNGLimits.maxSide, width * height <= PNGLimits.maxPixels else {
            throw PoseImageError.imageTooLarge(
                source: source, width: width, height: height,
                limit: "max side \(PNGLimits.maxSide), max \(PNGLimits.maxPixels) pixels")
        }
    }

    private static func unknownFormat<C: Collection>(_ head: C, source: String) -> PoseImageError where C.Element == UInt8 {
        let shown = head.prefix(8).map { byte -> String in
            let hex = "0123456789ABCDEF".map { $0 }
            return String([hex[Int(byte >> 4)], hex[Int(byte & 15)]])
        }.joined(separator: " ")
        return PoseImageError.unknownImageFormat(
            source: source, detail: head.isEmpty ? "empty data" : "it starts with \(shown)")
    }
}
