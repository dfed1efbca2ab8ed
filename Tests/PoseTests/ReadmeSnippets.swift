import BlazePose
import Foundation

// The ```swift blocks of README.md, verbatim (imports aside), wrapped in functions so the test
// target compiles them; `OutputTests.testReadmeSwiftSnippetsAreCompiled` checks the text matches.
// They are compiled, not run (they read files relative to the working directory).

enum ReadmeSnippets {
    /// README "Swift API".
    static func swiftAPI() throws {
        // Weights: the search order above (or weightsDirectory: / models: .data(…), see "Using BlazePose as a library").
        let landmarker = try PoseLandmarker(options: .init(modelComplexity: .full, enableSegmentation: true))
        let result = try landmarker.detect(pngFile: "Samples/astronaut.png")   // or detect(image: RGBImage)
        for pose in result.poses {
            print(pose[.leftWrist].x, pose[.leftWrist].y, pose.worldLandmarks[PoseLandmark.leftWrist.rawValue])
        }
        var annotated = try RGBImage(pngFile: "Samples/astronaut.png")
        for pose in result.poses { annotated.drawPose(pose) }                 // MediaPipe's drawing rules
        try annotated.writePNG(to: "annotated.png")
        let json = try JSONEncoder().encode(result)                           // the keys of "JSON format"
        let decoded = try JSONDecoder().decode(PoseResult.self, from: json)   // == result
        _ = decoded
    }

    /// README "Using BlazePose as a library": models from memory or files.
    static func modelSources(detectorURL: URL, landmarkURL: URL) throws {
        let options = PoseLandmarkerOptions(modelComplexity: .lite, models: .data(
            detector: try Data(contentsOf: detectorURL), landmark: try Data(contentsOf: landmarkURL)))
        // or models: .files(detector: detectorURL, landmark: landmarkURL), or weightsDirectory: dir
        let landmarker = try PoseLandmarker(options: options)
        _ = landmarker
    }

    /// README "blazepose track": the Swift API.
    static func tracking(frames: [RGBImage]) throws {
        let tracker = try PoseTracker(options: .init(landmarker: .init(modelComplexity: .lite)))
        for (k, image) in frames.enumerated() {          // RGBImage
            let frame = try tracker.process(image, timestampMicroseconds: 33_333 * Int64(k + 1))
            for person in frame.poses { print(person.id, person.pose[.nose].x, frame.detectorRan) }
        }
    }

    /// README "blazepose track": live stream.
    static func liveStream(cameraFrames: [RGBImage]) async throws {
        let (live, events) = try LivePoseTracker.makeStream(options: .init(landmarker: .init(modelComplexity: .lite)))
        let consumer = Task {
            for await event in events {
                switch event {
                case .processed(let frame): print(frame.timestampMicroseconds, frame.poses.first?.pose[.nose].x ?? .nan)
                case .dropped(let microseconds): print("dropped", microseconds)
                case .failed(_, let message): print("error", message)
                }
            }
        }
        for (k, image) in cameraFrames.enumerated() {    // as they arrive
            try live.submit(image, timestampMicroseconds: 33_333 * Int64(k + 1))
        }
        live.finish()                                      // waits for the last frame, ends `events`
        await consumer.value
    }
}
