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
    private func errors(_ pose: Pose, _ landmarks: [[Double]], _ world: [[Double]]?, width: Int, height: Int)
        -> (meanPx: Double, maxPx: Double, meanWorld: Double, maxVisibility: Double) {
        let w = Double(width), h = Double(height)
        var pixel: [Double] = [], worldErrors: [Double] = [], visibility: [Double] = []
        for i in 0..<33 {
            let a = pose.landmarks[i], b = landmarks[i]
            pixel.append(((Double(a.x) - b[0]) * w).hypot((Double(a.y) - b[1]) * h))
            visibility.append(abs(Double(a.visibility) - b[3]))
            if let world {
                let c = pose.worldLandmarks[i], d = world[i]
                let dx = Double(c.x) - d[0], dy = Double(c.y) - d[1], dz = Double(c.z) - d[2]
                worldErrors.append((dx * dx + dy * dy + dz * dz).squareRoot())
            }
        }
        return (pixel.reduce(0, +) / 33, pixel.max() ?? 0,
                worldErrors.isEmpty ? 0 : worldErrors.reduce(0, +) / 33, visibility.max() ?? 0)
    }

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
            print("\(model)/\(name).jpg: landmarks mean \(fmt(e.meanPx)) px max \(fmt(e.maxPx)) px, world mean \(fmt(e.meanWorld * 1000)) mm, visibility max diff \(fmt(e.maxVisibility, 5))")
            XCTAssertLessThanOrEqual(e.meanPx, 0.5, "\(model)/\(name).jpg: mean landmark error (px)")
            XCTAssertLessThanOrEqual(e.maxPx, 2, "\(model)/\(name).jpg: max landmark error (px)")
            XCTAssertLessThanOrEqual(e.meanWorld, 0.005, "\(model)/\(name).jpg: mean world landmark error (m)")
            XCTAssertLessThanOrEqual(e.maxVisibility, 0.01, "\(model)/\(name).jpg: visibility difference")
        }
        XCTAssertEqual(withPose, 12, "\(model): JPEG fixtures where MediaPipe finds a pose")
    }

    /// `astronaut_exif6.jpg` stores the astronaut turned 90° counter-clockwise with EXIF orientation 6:
    /// the result is upright, in upright coordinates, and within the PNG bars of the upright PNG
    /// (MediaPipe's reference for astronaut.png, and our own result on it). `.ignore` sees the stored grid.
    func testEXIFRotatedJPEGGivesTheUprightLandmarks() throws {
        for model in [ModelComplexity.lite, .full] {
            let landmarker = try landmarker(model)
            let path = jpegDirectory.appendingPathComponent("astronaut_exif6.jpg").path
            let rotated = try landmarker.detect(imageFile: path)
            let uprightImage = try fixtureImage("astronaut")
            let upright = try landmarker.detect(image: uprightImage)
            XCTAssertEqual(rotated.imageWidth, uprightImage.width)
            XCTAssertEqual(rotated.imageHeight, uprightImage.height)
            guard let pose = rotated.poses.first, let ours = upright.poses.first else {
                XCTFail("\(model): no pose on the EXIF-rotated or upright astronaut"); continue
            }
            let pngReference = try loadReference("mediapipe", model, "astronaut")
            guard let refLandmarks = pngReference.landmarks else { XCTFail("no PNG reference pose"); continue }
            let vsMediaPipe = errors(pose, refLandmarks, pngReference.world_landmarks,
                                     width: uprightImage.width, height: uprightImage.height)
            let oursAsReference = ours.landmarks.map { [Double($0.x), Double($0.y), Double($0.z), Double($0.visibility)] }
            let oursWorld = ours.worldLandmarks.map { [Double($0.x), Double($0.y), Double($0.z), Double($0.visibility)] }
            let vsOurPNG = errors(pose, oursAsReference, oursWorld, width: uprightImage.width, height: uprightImage.height)
            print("\(model)/astronaut_exif6.jpg vs astronaut.png: MediaPipe-on-PNG mean \(fmt(vsMediaPipe.meanPx)) px max \(fmt(vsMediaPipe.maxPx)) px world \(fmt(vsMediaPipe.meanWorld * 1000)) mm; ours-on-PNG mean \(fmt(vsOurPNG.meanPx)) px max \(fmt(vsOurPNG.maxPx)) px world \(fmt(vsOurPNG.meanWorld * 1000)) mm")
            for (what, e) in [("MediaPipe on astronaut.png", vsMediaPipe), ("ours on astronaut.png", vsOurPNG)] {
                XCTAssertLessThanOrEqual(e.meanPx, 0.5, "\(model): EXIF JPEG vs \(what): mean px")
                XCTAssertLessThanOrEqual(e.maxPx, 2, "\(model): EXIF JPEG vs \(what): max px")
                XCTAssertLessThanOrEqual(e.meanWorld, 0.005, "\(model): EXIF JPEG vs \(what): world")
            }
            // The stored grid: 384×384 too (square), but the person lies on its side.
            let raw = try landmarker.detect(imageFile: path, orientation: .ignore)
            if let rawPose = raw.poses.first {
                XCTAssertGreaterThan(abs(rawPose[.nose].x - pose[.nose].x) + abs(rawPose[.nose].y - pose[.nose].y), 0.05,
                                     "\(model): .ignore must see the stored (rotated) grid")
            }
        }
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
