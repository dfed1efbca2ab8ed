/// Axis-aligned box overlap, as `OverlapSimilarity` with
/// `INTERSECTION_OVER_UNION` in `non_max_suppression_calculator.cc`.
///
/// Boxes are `(xmin, ymin, width, height)` in any common unit. Returns 0 when
/// the boxes do not intersect (touching edges *do* intersect, with area 0),
/// and 0 when `area1 + area2 − intersection ≤ 0`.
public func intersectionOverUnion(_ a: Detection, _ b: Detection) -> Float {
    boxIntersectionOverUnion(xMin1: a.xMin, yMin1: a.yMin, width1: a.width, height1: a.height,
                             xMin2: b.xMin, yMin2: b.yMin, width2: b.width, height2: b.height)
}

func boxIntersectionOverUnion(xMin1: Float, yMin1: Float, width1: Float, height1: Float,
                              xMin2: Float, yMin2: Float, width2: Float, height2: Float) -> Float {
    // MediaPipe's Rectangle stores min and max = min + size.
    let ax0 = xMin1, ay0 = yMin1, ax1 = xMin1 + width1, ay1 = yMin1 + height1
    let bx0 = xMin2, by0 = yMin2, bx1 = xMin2 + width2, by1 = yMin2 + height2
    let aEmpty = ax0 > ax1 || ay0 > ay1
    let bEmpty = bx0 > bx1 || by0 > by1
    if aEmpty || bEmpty || bx1 < ax0 || ax1 < bx0 || by1 < ay0 || ay1 < by0 { return 0 }
    let ix0 = max(ax0, bx0), iy0 = max(ay0, by0), ix1 = min(ax1, bx1), iy1 = min(ay1, by1)
    let intersection = (ix1 - ix0) * (iy1 - iy0)
    let normalization = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - intersection
    return normalization > 0 ? intersection / normalization : 0
}

extension Array where Element == Detection {
    /// Weighted non-maximum suppression (MediaPipe `WEIGHTED` algorithm, IoU overlap).
    ///
    /// 1. Sort by score, descending. MediaPipe uses an unstable `std::sort`;
    ///    we break ties deterministically: equal scores are ordered by
    ///    ascending ``Detection/anchorIndex``, then by input position.
    /// 2. Repeatedly take the top detection; every remaining detection with
    ///    IoU **strictly greater** than `iouThreshold` (the top included) is a
    ///    candidate. Emit a copy of the top whose score is **the top's score**
    ///    and whose box corners and keypoints are the score-weighted means of
    ///    the candidates. Continue with the non-candidates (order kept).
    /// 3. Stop after an iteration that removed nothing (e.g. a zero-area top,
    ///    whose IoU with itself is 0; it is emitted unchanged).
    ///
    /// - Returns: the merged clusters, best first. Empty input → empty output.
    public func weightedNonMaxSuppression(iouThreshold: Float = 0.3) -> [Detection] {
        // Indices sorted by (score desc, anchor asc, position asc). NaN scores
        // (only possible if the caller built them) sort last so the order is total.
        let order = indices.sorted { i, j in
            let si = self[i].score, sj = self[j].score
            if si.isNaN != sj.isNaN { return sj.isNaN }
            if si != sj && !si.isNaN { return si > sj }
            if self[i].anchorIndex != self[j].anchorIndex { return self[i].anchorIndex < self[j].anchorIndex }
            return i < j
        }
        var remaining = order
        var output: [Detection] = []
        while let topIndex = remaining.first {
            let top = self[topIndex]
            var candidates: [Int] = []
            var rest: [Int] = []
            for index in remaining {
                if intersectionOverUnion(self[index], top) > iouThreshold {
                    candidates.append(index)
                } else {
                    rest.append(index)
                }
            }
            var merged = top
            if !candidates.isEmpty {
                // Float accumulation in candidate order, as MediaPipe does.
                var sumXMin: Float = 0, sumYMin: Float = 0, sumXMax: Float = 0, sumYMax: Float = 0
                var totalScore: Float = 0
                var sumKeypoints = [SIMD2<Float>](repeating: .zero, count: top.keypoints.count)
                for index in candidates {
                    let c = self[index]
                    let s = c.score
                    totalScore += s
                    sumXMin += c.xMin * s
                    sumYMin += c.yMin * s
                    sumXMax += (c.xMin + c.width) * s
                    sumYMax += (c.yMin + c.height) * s
                    for k in 0..<Swift.min(sumKeypoints.count, c.keypoints.count) {
                        sumKeypoints[k].x += c.keypoints[k].x * s
                        sumKeypoints[k].y += c.keypoints[k].y * s
                    }
                }
                merged.xMin = sumXMin / totalScore
                merged.yMin = sumYMin / totalScore
                merged.width = sumXMax / totalScore - merged.xMin
                merged.height = sumYMax / totalScore - merged.yMin
                merged.keypoints = sumKeypoints.map { SIMD2($0.x / totalScore, $0.y / totalScore) }
            }
            output.append(merged)
            if rest.count == remaining.count { break }
            remaining = rest
        }
        return output
    }
}
