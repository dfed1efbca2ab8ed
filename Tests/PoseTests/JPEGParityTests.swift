import BlazePose
import Foundation
import XCTest

/// The pipeline on JPEG input vs `mp.solutions.pose` 0.10.14 run on `cv2.imread` of the same file
/// (`Tests/Fixtures/mediapipe-jpeg/<model>/<image>.json`, Tools/mediapipe/make_jpeg_fixtures.py):
/// the PNG bars — landmarks mean ≤ 0.5 px and max ≤ 2 px, world landmarks mean ≤ 5 mm, visibility
/// within 0.01 — on every fixture saved as JPEG quality 90, and on an EXIF-rotated JPEG.
final class JPEGParityTests: XCTestCase {
    static var landmarkers: [ModelComplexity: PoseLandmarker] = [:]

    func landmarker(_ model: ModelComplexity) throws -> PoseLandmarker {
        if let l = Self.landmarkers[model] { return l }
        let l = try makeLandmarker(model)
        Self.landmarkers[model] = l
        return l
    }

    private var jpegDirectory: URL { fixturesDirectory.appendingPathComponent("jpeg") }

    private func jpegNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: jpegDirectory.path)
            .filter { $0.hasSuffix(".jpg") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// Landmark errors of `pose` against a reference, in pixels of a `width × height` image and metres.
    private func errors(_ pose: Pose, _ landmarks: [[Double]], _ world: [[Double]]?, width: Int, height: Int,
                        excluding excluded: Int? = nil)
        -> (meanPx: Double, maxPx: Double, meanWorld: Double, maxVisibility: Double) {
        let w = Double(width), h = Double(height)
        var pixel: [Double] = [], worldErrors: [Double] = [], visibility: [Double] = []
        for i in 0..<33 where i != excluded {
            let a = pose.landmarks[i], b = landmarks[i]
            pixel.append(((Double(a.x) - b[0]) * w).hypot((Double(a.y) - b[1]) * h))
            visibility.append(abs(Double(a.visibility) - b[3]))
            if let world {
                let c = pose.worldLandmarks[i], d = world[i]
                let dx = Double(c.x) - d[0], dy = Double(c.y) - d[1], dz = Double(c.z) - d[2]
                worldErrors.append((dx * dx + dy * dy + dz * dz).squareRoot())
            }
        }
        return (pixel.reduce(0, +) / Double(pixel.count), pixel.max() ?? 0,
                worldErrors.isEmpty ? 0 : worldErrors.reduce(0, +) / Double(worldErrors.count), visibility.max() ?? 0)
    }

    /// The PNG bars: landmarks mean ≤ 0.5 px and max ≤ 2 px, world mean ≤ 5 mm, visibility within 0.01.
    private func assertWithinBars(_ e: (meanPx: Double, maxPx: Double, meanWorld: Double, maxVisibility: Double),
                                  _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(e.meanPx, 0.5, "\(label): mean landmark error (px)", file: file, line: line)
        XCTAssertLessThanOrEqual(e.maxPx, 2, "\(label): max landmark error (px)", file: file, line: line)
        XCTAssertLessThanOrEqual(e.meanWorld, 0.005, "\(label): mean world landmark error (m)", file: file, line: line)
        XCTAssertLessThanOrEqual(e.maxVisibility, 0.01, "\(label): visibility difference", file: file, line: line)
    }

    /// Runs where one landmark may miss the bar, for a reason that is not JPEG decoding: the decoded
    /// pixels and the detector input are byte-identical to MediaPipe's, but our ROI differs from
    /// MediaPipe's at float32 rounding (~1e-7: the detector's accumulation order differs from
    /// XNNPACK's), which changes a few dozen of the 196,608 crop samples by one level; on these two
    /// images that moves the landmark model's raw output by up to 0.65 crop px, and one landmark's
    /// heatmap-refinement window centre crosses a cell boundary (lite astronaut_rot90cw, landmark 17:
    /// MediaPipe at heatmap row 23.96 is refined, ours at 24.05 is not), so that landmark jumps by
    /// 7–19 px. Which side a run lands on depends on rounding alone: the plain build misses on
    /// astronaut_padded (landmark 23, 7.1 px) while the FMA build (`Tools/build.sh`), whose ROI
    /// differs from the plain build's by 2e-7, meets the bar there. The proof that nothing else is
    /// off is `testLandmarkStageOnMediaPipesROIMeetsTheBarEverywhere`: on MediaPipe's own ROI both
    /// runs meet the bar on all 33 landmarks. Here, every other landmark is held to the bars.
    static let knownRefinementFlips: [String: Int] = ["lite/astronaut_padded": 23, "lite/astronaut_rot90cw": 17]

    func testLiteMatchesMediaPipeOnJPEG() throws { try checkAll(.lite) }
    func testFullMatchesMediaPipeOnJPEG() throws { try checkAll(.full) }

    private func checkAll(_ model: ModelComplexity) throws {
        let landmarker = try landmarker(model)
        let names = try jpegNames()
        XCTAssertEqual(names.count, 14, "JPEG fixtures (13 images + the EXIF-rotated astronaut)")
        var withPose = 0
        for name in names {
            let reference = try loadReference("mediapipe-jpeg", model, name)
            let result = try landmarker.detect(imageFile: jpegDirectory.appendingPathComponent("\(name).jpg").path)
            XCTAssertEqual(result.imageWidth, reference.image_size[0], name)
            XCTAssertEqual(result.imageHeight, reference.image_size[1], name)
            guard reference.pose_found, let refLandmarks = reference.landmarks else {
                XCTAssertEqual(result.poses.count, 0, "\(model)/\(name).jpg: MediaPipe finds no pose")
                continue
            }
            guard let pose = result.poses.first else { XCTFail("\(model)/\(name).jpg: MediaPipe finds a pose, we found none"); continue }
            withPose += 1
            let e = errors(pose, refLandmarks, reference.world_landmarks, width: result.imageWidth, height: result.imageHeight)
            if let flipped = Self.knownRefinementFlips["\(model.rawValue)/\(name)"], e.maxPx > 2 {
                // A known flip (see knownRefinementFlips): only that landmark may be off; every
                // other landmark must still be within the bars.
                let rest = errors(pose, refLandmarks, reference.world_landmarks, width: result.imageWidth,
                                  height: result.imageHeight, excluding: flipped)
                print("KNOWN FLIP \(model)/\(name).jpg: all 33 landmarks mean \(fmt(e.meanPx)) px max \(fmt(e.maxPx)) px; without landmark \(flipped): mean \(fmt(rest.meanPx)) px max \(fmt(rest.maxPx)) px, world mean \(fmt(rest.meanWorld * 1000)) mm")
                XCTAssertLessThanOrEqual(rest.meanPx, 0.5, "\(model)/\(name).jpg (without landmark \(flipped)): mean px")
                XCTAssertLessThanOrEqual(rest.maxPx, 2, "\(model)/\(name).jpg (without landmark \(flipped)): max px")
                XCTAssertLessThanOrEqual(rest.meanWorld, 0.005, "\(model)/\(name).jpg: world")
                XCTAssertLessThanOrEqual(e.maxVisibility, 0.01, "\(model)/\(name).jpg: visibility")
                continue
            }
            print("\(model)/\(name).jpg: landmarks mean \(fmt(e.meanPx)) px max \(fmt(e.maxPx)) px, world mean \(fmt(e.meanWorld * 1000)) mm, visibility max diff \(fmt(e.maxVisibility, 5))")
            assertWithinBars(e, "\(model)/\(name).jpg")
        }
        XCTAssertEqual(withPose, 12, "\(model): JPEG fixtures where MediaPipe finds a pose")
    }

    /// Everything after the detector, on MediaPipe's own ROI (`<name>.roi.json`, the graph's
    /// `pose_rect_from_detection` stream captured by `Tools/mediapipe/stages.py --cv2`): crop,
    /// landmark model, decoding, heatmap refinement, projection. Every JPEG run with a pose meets
    /// the bars on all 33 landmarks, the two known flips included: what flips them is the ROI's
    /// float32 rounding, not our landmark stage.
    func testLandmarkStageOnMediaPipesROIMeetsTheBarEverywhere() throws {
        for model in [ModelComplexity.lite, .full] {
            let landmarker = try landmarker(model)
            var checked = 0
            for name in try jpegNames() {
                let reference = try loadReference("mediapipe-jpeg", model, name)
                guard reference.pose_found, let refLandmarks = reference.landmarks else { continue }
                let roiFile = fixturesDirectory.appendingPathComponent("mediapipe-jpeg/\(model.rawValue)/\(name).roi.json")
                let roi = try JSONDecoder().decode(RectJSON.self, from: Data(contentsOf: roiFile)).rect
                let image = try RGBImage(contentsOfFile: jpegDirectory.appendingPathComponent("\(name).jpg").path)
                guard let pose = try landmarker.landmarks(in: image, roi: roi).pose else {
                    XCTFail("\(model)/\(name).jpg: no pose on MediaPipe's ROI"); continue
                }
                checked += 1
                let e = errors(pose, refLandmarks, reference.world_landmarks, width: image.width, height: image.height)
                print("\(model)/\(name).jpg on MediaPipe's ROI: mean \(fmt(e.meanPx)) px max \(fmt(e.maxPx)) px, world mean \(fmt(e.meanWorld * 1000)) mm")
                assertWithinBars(e, "\(model)/\(name).jpg on MediaPipe's ROI")
            }
            XCTAssertEqual(checked, 12, "\(model): JPEG runs with a pose and a MediaPipe ROI")
        }
    }

    /// `astronaut_exif6.jpg` stores the astronaut turned 90° counter-clockwise with EXIF orientation 6.
    /// Applied, the image is upright (the pixels are `cv2.imread`'s, see ImageTests), and our landmarks,
    /// in upright coordinates, are within the PNG bars of MediaPipe run on `cv2.imread` of that file.
    /// (Against the upright *PNG* no JPEG can meet those bars: MediaPipe's own landmarks on
    /// astronaut.jpg and astronaut.png differ by 11–19 px on average. The PNG test below is exact.)
    func testEXIFRotatedJPEGGivesTheUprightLandmarks() throws {
        for model in [ModelComplexity.lite, .full] {
            let landmarker = try landmarker(model)
            let path = jpegDirectory.appendingPathComponent("astronaut_exif6.jpg").path
            let rotated = try landmarker.detect(imageFile: path)
            let reference = try loadReference("mediapipe-jpeg", model, "astronaut_exif6")
            XCTAssertEqual([rotated.imageWidth, rotated.imageHeight], reference.image_size)
            guard let pose = rotated.poses.first, let refLandmarks = reference.landmarks else {
                XCTFail("\(model): no pose on the EXIF-rotated astronaut"); continue
            }
            let e = errors(pose, refLandmarks, reference.world_landmarks, width: rotated.imageWidth, height: rotated.imageHeight)
            print("\(model)/astronaut_exif6.jpg (upright): mean \(fmt(e.meanPx)) px max \(fmt(e.maxPx)) px world \(fmt(e.meanWorld * 1000)) mm")
            XCTAssertLessThanOrEqual(e.meanPx, 0.5, "\(model): mean px")
            XCTAssertLessThanOrEqual(e.maxPx, 2, "\(model): max px")
            XCTAssertLessThanOrEqual(e.meanWorld, 0.005, "\(model): world")
            // The stored grid (.ignore) is the sideways image: the nose is elsewhere.
            let raw = try landmarker.detect(imageFile: path, orientation: .ignore)
            if let rawPose = raw.poses.first {
                XCTAssertGreaterThan(abs(rawPose[.nose].x - pose[.nose].x) + abs(rawPose[.nose].y - pose[.nose].y), 0.05,
                                     "\(model): .ignore must see the stored (rotated) grid")
            }
        }
    }

    /// Lossless, so exact: astronaut.png turned 90° counter-clockwise, saved as PNG with an `eXIf`
    /// chunk "orientation 6" (which `cv2.imread` applies too), gives exactly the landmarks of the
    /// upright astronaut.png, in its coordinates; 640×416 → 416×640 shows the axes are swapped.
    func testEXIFRotatedPNGGivesExactlyTheUprightLandmarks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jpegparity-exif-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for name in ["astronaut", "astronaut_padded"] {
            let upright = try fixtureImage(name)
            // Stored grid = upright turned 90° counter-clockwise: stored(x, y) = upright(W-1-y, x).
            let (w, h) = (upright.height, upright.width)
            var pixels = [UInt8](repeating: 0, count: upright.pixels.count)  // [h, w, 3] HWC
            for y in 0..<h {
                for x in 0..<w {
                    let s = (x * upright.width + (upright.width - 1 - y)) * 3, d = (y * w + x) * 3
                    pixels[d..<(d + 3)] = upright.pixels[s..<(s + 3)]
                }
            }
            let stored = try RGBImage(width: w, height: h, pixels: pixels)
            XCTAssertEqual(stored.oriented(.right), upright)
            var png = try stored.pngData()
            // TIFF: II, 42, IFD at 8; one entry: Orientation (0x0112) SHORT 1 = 6; no next IFD.
            let tiff: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]
            let type = Array("eXIf".utf8)
            let crc = crc32(type + tiff)
            let chunk = [0, 0, 0, UInt8(tiff.count)] + type + tiff
                + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
            png.insert(contentsOf: chunk, at: 33)  // after the signature and IHDR
            let path = dir.appendingPathComponent("\(name)_exif6.png").path
            try Data(png).write(to: URL(fileURLWithPath: path))
            for model in [ModelComplexity.lite, .full] {
                let landmarker = try landmarker(model)
                let fromFile = try landmarker.detect(imageFile: path)
                let expected = try landmarker.detect(image: upright)
                XCTAssertEqual(fromFile.imageWidth, upright.width)
                XCTAssertEqual(fromFile.imageHeight, upright.height)
                XCTAssertFalse(expected.poses.isEmpty, "\(model)/\(name)")
                XCTAssertEqual(fromFile.poses, expected.poses, "\(model)/\(name): EXIF-rotated PNG vs upright PNG")
                let sideways = try landmarker.detect(imageFile: path, orientation: .ignore)
                XCTAssertEqual(sideways.imageWidth, w)
                XCTAssertEqual(sideways.poses, try landmarker.detect(image: stored).poses)
            }
        }
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// `detect(imageFile:)` reports bad files with the file's name; PNG input still works through it.
    func testDetectImageFileErrorsAndPNG() throws {
        let landmarker = try landmarker(.lite)
        let png = fixturesDirectory.appendingPathComponent("images/astronaut.png").path
        XCTAssertEqual(try landmarker.detect(imageFile: png).poses, try landmarker.detect(pngFile: png).poses)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jpegparity-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let good = [UInt8](try Data(contentsOf: jpegDirectory.appendingPathComponent("astronaut.jpg")))
        let cases: [(String, [UInt8], String)] = [
            ("truncated.jpg", Array(good.prefix(good.count / 2)), "cannot decode JPEG"),
            ("text.jpg", Array("hello\n".utf8), "not a PNG, JPEG or YUV4MPEG2 image"),
        ]
        for (name, bytes, expected) in cases {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try landmarker.detect(imageFile: path)) { error in
                XCTAssertTrue("\(error)".contains(path) && "\(error)".contains(expected), "\(name): \(error)")
            }
        }
    }
}
