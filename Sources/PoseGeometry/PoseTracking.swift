/// Helpers for multi-person tracking: ROI overlap and stable ID assignment.
///
/// Not part of MediaPipe's legacy single-pose graph; designed for the
/// multi-person extension.
public enum PoseTracking {
    /// Intersection over union of two rotated rects, computed **exactly in
    /// pixels** as convex-polygon intersection (Sutherland–Hodgman clipping of
    /// one rect's corners by the other's edges, then the shoelace area).
    ///
    /// We use the true rotated polygons rather than axis-aligned bounds
    /// because pose ROIs are often rotated, and the bounding boxes of two
    /// rotated squares overlap much more than the squares themselves.
    /// Pixels (not normalized units) are used so that the result does not
    /// depend on the image aspect ratio.
    ///
    /// - Returns: a value in `[0, 1]`; 0 when either rect has zero/NaN area
    ///   or they do not overlap.
    public static func intersectionOverUnion(_ a: NormalizedRect, _ b: NormalizedRect,
                                             imageWidth: Int, imageHeight: Int) throws -> Float {
        let pa = try a.pixelCorners(imageWidth: imageWidth, imageHeight: imageHeight)
        let pb = try b.pixelCorners(imageWidth: imageWidth, imageHeight: imageHeight)
        let areaA = abs(polygonArea(pa)), areaB = abs(polygonArea(pb))
        guard areaA > 0, areaB > 0 else { return 0 }
        let inter = abs(polygonArea(clip(pa, by: pb)))
        let union = areaA + areaB - inter
        guard union > 0 else { return 0 }
        return min(1, max(0, inter / union))
    }

    /// Greedy, deterministic ID assignment.
    ///
    /// All (previous, current) pairs with IoU `≥ minIoU` (and > 0) are ranked
    /// by IoU descending; ties are broken by previous index, then current
    /// index. Pairs are accepted greedily when neither side is taken yet.
    /// Current ROIs left unmatched get fresh IDs `nextID, nextID + 1, …` in
    /// their input order, and `nextID` is advanced.
    ///
    /// - Parameters:
    ///   - previous: tracked people of the previous frame (id + ROI).
    ///   - current: this frame's ROIs.
    ///   - nextID: the next unused ID; updated.
    /// - Returns: one ID per `current` ROI, in the same order.
    public static func assignIDs(previous: [(id: Int, rect: NormalizedRect)], current: [NormalizedRect],
                                 imageWidth: Int, imageHeight: Int, minIoU: Float = 0.1,
                                 nextID: inout Int) throws -> [Int] {
        var pairs: [(iou: Float, p: Int, c: Int)] = []
        for (p, prev) in previous.enumerated() {
            for (c, rect) in current.enumerated() {
                let iou = try intersectionOverUnion(prev.rect, rect, imageWidth: imageWidth, imageHeight: imageHeight)
                if iou > 0 && iou >= minIoU { pairs.append((iou, p, c)) }
            }
        }
        pairs.sort { l, r in
            if l.iou != r.iou { return l.iou > r.iou }
            if l.p != r.p { return l.p < r.p }
            return l.c < r.c
        }
        var ids = [Int?](repeating: nil, count: current.count)
        var previousTaken = [Bool](repeating: false, count: previous.count)
        for pair in pairs where !previousTaken[pair.p] && ids[pair.c] == nil {
            previousTaken[pair.p] = true
            ids[pair.c] = previous[pair.p].id
        }
        return ids.map { id in
            if let id { return id }
            defer { nextID += 1 }
            return nextID
        }
    }

    /// Signed shoelace area.
    static func polygonArea(_ polygon: [SIMD2<Float>]) -> Float {
        guard polygon.count >= 3 else { return 0 }
        var twice: Float = 0
        for i in polygon.indices {
            let p = polygon[i], q = polygon[(i + 1) % polygon.count]
            twice += p.x * q.y - q.x * p.y
        }
        return twice / 2
    }

    /// Clips `subject` by the convex polygon `clipper` (Sutherland–Hodgman).
    static func clip(_ subject: [SIMD2<Float>], by clipper: [SIMD2<Float>]) -> [SIMD2<Float>] {
        // Orientation of the clipper decides which side of each edge is inside.
        let orientation: Float = polygonArea(clipper) >= 0 ? 1 : -1
        var output = subject
        for i in clipper.indices {
            guard !output.isEmpty else { break }
            let a = clipper[i], b = clipper[(i + 1) % clipper.count]
            func side(_ p: SIMD2<Float>) -> Float { orientation * ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)) }
            let input = output
            output = []
            for j in input.indices {
                let current = input[j], next = input[(j + 1) % input.count]
                let sc = side(current), sn = side(next)
                if sc >= 0 { output.append(current) }
                if (sc >= 0) != (sn >= 0) {
                    let t = sc / (sc - sn)
                    output.append(current + (next - current) * t)
                }
            }
        }
        return output
    }
}
