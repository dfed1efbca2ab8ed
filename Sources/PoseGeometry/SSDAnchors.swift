#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One SSD anchor: a centre and a size, normalized to the detector's input
/// tensor (`x` by the tensor width, `y` by the tensor height; origin top-left,
/// y down).
public struct Anchor: Equatable, Sendable {
    public var xCenter: Float
    public var yCenter: Float
    /// Width normalized by the tensor width (1 for fixed-size anchors).
    public var width: Float
    /// Height normalized by the tensor height (1 for fixed-size anchors).
    public var height: Float

    public init(xCenter: Float, yCenter: Float, width: Float, height: Float) {
        self.xCenter = xCenter
        self.yCenter = yCenter
        self.width = width
        self.height = height
    }
}

/// Options of MediaPipe's `SsdAnchorsCalculator` (non-multiscale path).
///
/// Field names follow `ssd_anchors_calculator.proto`; the defaults of a
/// freshly created value are the proto defaults. Use ``poseDetector`` for the
/// BlazePose detector.
public struct SSDAnchorOptions: Equatable, Sendable {
    /// Input tensor size in pixels.
    public var inputWidth: Int
    public var inputHeight: Int
    public var minScale: Float
    public var maxScale: Float
    /// Offset of the anchor centre inside its cell, in cells (0.5 = cell centre).
    public var anchorOffsetX: Float = 0.5
    public var anchorOffsetY: Float = 0.5
    /// Number of layers; must equal `strides.count`.
    public var numLayers: Int
    /// Explicit feature-map sizes per layer; empty means `ceil(input / stride)`.
    public var featureMapWidths: [Int] = []
    public var featureMapHeights: [Int] = []
    /// Stride of each layer in pixels. Consecutive equal strides are merged
    /// into one grid.
    public var strides: [Int]
    public var aspectRatios: [Float] = [1.0]
    /// Lowest layer uses 3 fixed boxes (scale 0.1 ar 1, scale ar 2, scale ar 0.5).
    public var reduceBoxesInLowestLayer: Bool = false
    /// Aspect ratio of the extra "interpolated" anchor per layer; ≤ 0 disables it.
    public var interpolatedScaleAspectRatio: Float = 1.0
    /// When true every anchor has width = height = 1, so decoding ignores scales.
    public var fixedAnchorSize: Bool = false

    public init(inputWidth: Int, inputHeight: Int, minScale: Float, maxScale: Float,
                numLayers: Int, strides: [Int]) {
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.minScale = minScale
        self.maxScale = maxScale
        self.numLayers = numLayers
        self.strides = strides
    }

    /// The BlazePose detector preset (`pose_detection_cpu.pbtxt`):
    /// 224×224, 5 layers, strides 8/16/32/32/32, scales 0.1484375…0.75,
    /// fixed anchor size. Produces 2254 anchors.
    public static let poseDetector: SSDAnchorOptions = {
        var options = SSDAnchorOptions(inputWidth: 224, inputHeight: 224,
                                       minScale: 0.1484375, maxScale: 0.75,
                                       numLayers: 5, strides: [8, 16, 32, 32, 32])
        options.anchorOffsetX = 0.5
        options.anchorOffsetY = 0.5
        options.aspectRatios = [1.0]
        options.fixedAnchorSize = true
        return options
    }()
}

/// SSD anchor generation, following `ssd_anchors_calculator.cc`.
public enum SSDAnchors {
    /// Number of anchors of the BlazePose detector.
    public static let poseDetectorAnchorCount = 2254

    /// Generates the anchors in MediaPipe's order: grid by grid (consecutive
    /// layers with equal stride share one grid), then rows `y`, then columns
    /// `x`, then the anchors of that cell.
    ///
    /// - Throws: ``PoseGeometryError/invalidArgument(what:reason:)`` when the
    ///   options are inconsistent (stride count ≠ layer count, non-positive
    ///   stride or input size, wrong feature-map list lengths).
    public static func generate(_ options: SSDAnchorOptions) throws -> [Anchor] {
        guard options.numLayers > 0, options.strides.count == options.numLayers else {
            throw PoseGeometryError.invalidArgument(
                what: "SSDAnchorOptions.strides",
                reason: "needs exactly numLayers (\(options.numLayers)) entries, has \(options.strides.count)")
        }
        guard options.strides.allSatisfy({ $0 > 0 }) else {
            throw PoseGeometryError.invalidArgument(what: "SSDAnchorOptions.strides", reason: "every stride must be > 0")
        }
        // The upper bound keeps the grid (and Float→Int conversions) sane.
        guard (1...16384).contains(options.inputWidth), (1...16384).contains(options.inputHeight) else {
            throw PoseGeometryError.invalidArgument(what: "SSDAnchorOptions.input size",
                                                    reason: "\(options.inputWidth)x\(options.inputHeight) must be in 1...16384")
        }
        let explicitMaps = !options.featureMapHeights.isEmpty
        if explicitMaps {
            guard options.featureMapHeights.count == options.numLayers,
                  options.featureMapWidths.count == options.numLayers,
                  (options.featureMapHeights + options.featureMapWidths).allSatisfy({ (1...16384).contains($0) }) else {
                throw PoseGeometryError.invalidArgument(
                    what: "SSDAnchorOptions.featureMapWidths/Heights",
                    reason: "need numLayers entries each, every one in 1...16384")
            }
        }

        let stridesCount = options.strides.count
        // Scale of layer `index` out of `count`, as `CalculateScale`: the
        // arithmetic there is promoted to double by a `1.0` literal.
        func scale(_ index: Int) -> Float {
            if stridesCount == 1 { return (options.minScale + options.maxScale) * 0.5 }
            return Float(Double(options.minScale)
                         + Double(options.maxScale - options.minScale) * 1.0 * Double(index) / (Double(stridesCount) - 1.0))
        }

        var anchors: [Anchor] = []
        var layer = 0
        while layer < options.numLayers {
            // Per-cell anchor shapes of this grid (all merged layers).
            var anchorWidths: [Float] = []
            var anchorHeights: [Float] = []
            var lastSameStride = layer
            while lastSameStride < stridesCount && options.strides[lastSameStride] == options.strides[layer] {
                let layerScale = scale(lastSameStride)
                var ratios: [Float] = []
                var scales: [Float] = []
                if lastSameStride == 0 && options.reduceBoxesInLowestLayer {
                    ratios = [1.0, 2.0, 0.5]
                    scales = [0.1, layerScale, layerScale]
                } else {
                    for ratio in options.aspectRatios {
                        ratios.append(ratio)
                        scales.append(layerScale)
                    }
                    if options.interpolatedScaleAspectRatio > 0 {
                        let nextScale: Float = lastSameStride == stridesCount - 1 ? 1.0 : scale(lastSameStride + 1)
                        scales.append(sqrtf(layerScale * nextScale))
                        ratios.append(options.interpolatedScaleAspectRatio)
                    }
                }
                for (ratio, s) in zip(ratios, scales) {
                    let root = sqrtf(ratio)
                    anchorHeights.append(s / root)
                    anchorWidths.append(s * root)
                }
                lastSameStride += 1
            }

            let mapHeight: Int
            let mapWidth: Int
            if explicitMaps {
                mapHeight = options.featureMapHeights[layer]
                mapWidth = options.featureMapWidths[layer]
            } else {
                let stride = Float(options.strides[layer])
                mapHeight = Int(ceilf(Float(options.inputHeight) / stride))
                mapWidth = Int(ceilf(Float(options.inputWidth) / stride))
            }

            for y in 0..<mapHeight {
                // `(y + offset) * 1.0 / size` is evaluated in double in MediaPipe.
                let yCenter = Float(Double(Float(y) + options.anchorOffsetY) / Double(mapHeight))
                for x in 0..<mapWidth {
                    let xCenter = Float(Double(Float(x) + options.anchorOffsetX) / Double(mapWidth))
                    for k in 0..<anchorWidths.count {
                        anchors.append(Anchor(
                            xCenter: xCenter, yCenter: yCenter,
                            width: options.fixedAnchorSize ? 1.0 : anchorWidths[k],
                            height: options.fixedAnchorSize ? 1.0 : anchorHeights[k]))
                    }
                }
            }
            layer = lastSameStride
        }
        return anchors
    }
}
