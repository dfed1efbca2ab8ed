/// The 33 BlazePose landmarks in MediaPipe's order (`rawValue` = index in
/// the output list). "left"/"right" are the person's own sides.
public enum PoseLandmark: Int, CaseIterable, Sendable {
    case nose = 0
    case leftEyeInner, leftEye, leftEyeOuter
    case rightEyeInner, rightEye, rightEyeOuter
    case leftEar, rightEar
    case mouthLeft, mouthRight
    case leftShoulder, rightShoulder
    case leftElbow, rightElbow
    case leftWrist, rightWrist
    case leftPinky, rightPinky
    case leftIndex, rightIndex
    case leftThumb, rightThumb
    case leftHip, rightHip
    case leftKnee, rightKnee
    case leftAnkle, rightAnkle
    case leftHeel, rightHeel
    case leftFootIndex, rightFootIndex

    /// MediaPipe's snake_case name, e.g. `"left_eye_inner"`.
    public var name: String {
        switch self {
        case .nose: return "nose"
        case .leftEyeInner: return "left_eye_inner"
        case .leftEye: return "left_eye"
        case .leftEyeOuter: return "left_eye_outer"
        case .rightEyeInner: return "right_eye_inner"
        case .rightEye: return "right_eye"
        case .rightEyeOuter: return "right_eye_outer"
        case .leftEar: return "left_ear"
        case .rightEar: return "right_ear"
        case .mouthLeft: return "mouth_left"
        case .mouthRight: return "mouth_right"
        case .leftShoulder: return "left_shoulder"
        case .rightShoulder: return "right_shoulder"
        case .leftElbow: return "left_elbow"
        case .rightElbow: return "right_elbow"
        case .leftWrist: return "left_wrist"
        case .rightWrist: return "right_wrist"
        case .leftPinky: return "left_pinky"
        case .rightPinky: return "right_pinky"
        case .leftIndex: return "left_index"
        case .rightIndex: return "right_index"
        case .leftThumb: return "left_thumb"
        case .rightThumb: return "right_thumb"
        case .leftHip: return "left_hip"
        case .rightHip: return "right_hip"
        case .leftKnee: return "left_knee"
        case .rightKnee: return "right_knee"
        case .leftAnkle: return "left_ankle"
        case .rightAnkle: return "right_ankle"
        case .leftHeel: return "left_heel"
        case .rightHeel: return "right_heel"
        case .leftFootIndex: return "left_foot_index"
        case .rightFootIndex: return "right_foot_index"
        }
    }
}

/// The 35 undirected skeleton edges of `POSE_CONNECTIONS`
/// (`mediapipe/python/solutions/pose_connections.py`), as landmark index pairs.
public let poseConnections: [(Int, Int)] = [
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12),
    (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20),
    (16, 22), (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29),
    (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
]
