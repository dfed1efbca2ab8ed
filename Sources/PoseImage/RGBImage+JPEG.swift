import CTurboJPEG

extension RGBImage {
    /// Decodes a JPEG held in memory to 8-bit RGB, byte-identical to `cv2.imread` (BGR→RGB).
    ///
    /// libjpeg-turbo's TurboJPEG API, which reports errors by return code (no `longjmp` through
    /// Swift frames), with libjpeg's defaults — the accurate integer IDCT (`JDCT_ISLOW`) and fancy
    /// (triangle-filter) chroma upsampling — the settings OpenCV and Pillow use.
    /// * Baseline, extended-sequential and progressive JPEG; gray (replicated to R = G = B) and
    ///   YCbCr/RGB, any chroma subsampling; progressive files are limited to 500 scans.
    /// * The marker segments up to the first scan are checked first (bounded): a lossless,
    ///   hierarchical, 12-bit or CMYK/YCCK file, a 0×0 frame, or a frame beyond ``PNGLimits`` is
    ///   rejected before any pixel memory is allocated.
    /// * Any libjpeg warning is an error (truncated data, corrupt entropy-coded data, extraneous
    ///   bytes): where `cv2.imread` would return a partly grey image, this throws.
    /// * With `orientation: .apply` the EXIF orientation of the first APP1 segment is applied as
    ///   `cv2.imread` does (see ``EXIFOrientation/parse(tiff:)``); `.ignore` keeps the stored grid.
    /// - Parameter source: names the data in error messages (e.g. the file path).
    /// - Returns: `[height, width, 3]` HWC RGB8, upright when the orientation is applied.
    /// - Throws: `PoseImageError.jpegDecodeFailed` (not a JPEG, corrupt, truncated, unsupported
    ///   kind, zero size), `PoseImageError.imageTooLarge` (beyond ``PNGLimits``).
    public static func decodeJPEG(_ data: [UInt8], source: String = "<memory>",
                                  orientation: EXIFOrientationHandling = .apply) throws -> RGBImage {
        guard data.count >= 3, data[0] == 0xFF, data[1] == 0xD8, data[2] == 0xFF else {
            throw PoseImageError.jpegDecodeFailed(source: source, message: "not a JPEG file (bad signature)")
        }
        guard case let .header(header) = try JPEGHeader.scan(data, isComplete: true, source: source) else {
            // Unreachable: a complete scan either finds the header or throws.
            throw PoseImageError.jpegDecodeFailed(source: source, message: "incomplete header")
        }
        try header.validate(source: source)
        let decoded = try decodeValidatedJPEG(data, header: header, source: source)
        guard orientation == .apply, let app1 = header.firstAPP1, app1.count > 6,
              let exif = EXIFOrientation.parse(tiff: data[(app1.lowerBound + 6)..<app1.upperBound]) else {
            return decoded
        }
        return decoded.oriented(exif)
    }

    /// Runs TurboJPEG on a file whose header passed ``JPEGHeader/validate(source:)``.
    private static func decodeValidatedJPEG(_ data: [UInt8], header: JPEGHeader, source: String) throws -> RGBImage {
        guard let handle = tjInitDecompress() else {
            throw PoseImageError.jpegDecodeFailed(source: source, message: "cannot create a TurboJPEG decompressor")
        }
        defer { tjDestroy(handle) }
        func failure(_ what: String) -> PoseImageError {
            let text = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
            return PoseImageError.jpegDecodeFailed(source: source, message: "\(what): libjpeg-turbo: \(text)")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let headerStatus = data.withUnsafeBufferPointer { bytes in
            tjDecompressHeader3(handle, bytes.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard headerStatus == 0 else { throw failure("invalid header") }
        guard Int(width) == header.width, Int(height) == header.height else {
            throw PoseImageError.jpegDecodeFailed(
                source: source, message: "frame size \(width)x\(height) differs from the scanned header \(header.width)x\(header.height)")
        }
        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            throw PoseImageError.jpegDecodeFailed(source: source, message: "CMYK/YCCK JPEG is not supported")
        }
        let w = header.width, h = header.height
        var rgb = [UInt8](repeating: 0, count: w * h * 3)  // [H, W, 3] HWC RGB8
        // Flags: accurate DCT and fancy upsampling are the defaults (no FASTDCT / FASTUPSAMPLE).
        // STOPONWARNING turns truncated or corrupt data into an error; LIMITSCANS caps progressive
        // files at 500 scans (a pathological file cannot make decoding quadratic).
        let flags = Int32(TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)
        let status = rgb.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { bytes in
                tjDecompress2(handle, bytes.baseAddress, UInt(bytes.count), out.baseAddress, width, Int32(w * 3),
                              height, Int32(TJPF_RGB.rawValue), flags)
            }
        }
        guard status == 0 else { throw failure("corrupt or truncated data") }
        return try RGBImage(width: w, height: h, pixels: rgb)
    }
}
