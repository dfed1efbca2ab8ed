// libFuzzer entry for image decoding: magic-byte dispatch, the JPEG marker scan, the EXIF
// orientation parser (JPEG APP1 and PNG eXIf), TurboJPEG decoding and the orientation transform.
// Compiled *together with* the image-reading files of Sources/PoseImage into one module by
// Tools/fuzz/run-jpeg.sh (so there is no `import PoseImage`); never part of the SwiftPM build.
// Errors are the expected outcome; a crash, trap, hang or ASan report is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The EXIF parser on the raw input (as a TIFF block) and on every suffix start a JPEG would give it.
    _ = EXIFOrientation.parse(tiff: bytes[...])
    if bytes.count > 6 { _ = EXIFOrientation.parse(tiff: bytes[6...]) }
    _ = PNGHeader.exifPayload(bytes)
    // The incremental marker scan on a prefix, as the bounded file reader runs it.
    _ = try? JPEGHeader.scan(Array(bytes.prefix(bytes.count / 2)), isComplete: false, source: "fuzz")
    // Full decoding, both orientation modes. Frames above 4 Mpx are skipped to keep executions
    // fast (their header checks still run above and in validate()).
    if case let .header(header)? = try? JPEGHeader.scan(bytes, isComplete: true, source: "fuzz") {
        guard (try? header.validate(source: "fuzz")) != nil else { return 0 }
        guard header.width * header.height <= 4 << 20 else { return 0 }
    }
    if let image = try? RGBImage.decodeImage(bytes, source: "fuzz", orientation: .apply) {
        precondition(image.pixels.count == image.width * image.height * 3)
    }
    _ = try? RGBImage.decodeImage(bytes, source: "fuzz", orientation: .ignore)
    return 0
}
