import BlazePose
import Foundation

// `consumer IMAGE.png`: default options, so the weights come from the library's search order
// ($BLAZEPOSE_WEIGHTS, ./weights, next to the executable, ~/.local/share/blazepose/weights,
// /usr/local/share/blazepose/weights).
guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: consumer IMAGE.png\n".utf8))
    exit(2)
}
do {
    let landmarker = try PoseLandmarker(options: .init())
    let result = try landmarker.detect(pngFile: CommandLine.arguments[1])
    print("weights: \(landmarker.weightsDirectory?.path ?? "-")")
    print("poses: \(result.poses.count)")
    for pose in result.poses {
        print("nose: \(pose[.nose].x) \(pose[.nose].y)")
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
