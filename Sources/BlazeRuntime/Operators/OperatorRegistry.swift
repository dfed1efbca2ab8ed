import TFLite

/// The operators this runtime implements: every unit is registered here once. What is supported,
/// what `inspect` calls unsupported, and the decoding of every operator at load derive from this list.
public enum OperatorRegistry {
    /// One line per operator.
    static let units: [any OperatorUnit.Type] = [
        AddUnit.self,
        AveragePool2DUnit.self,
        ConcatenationUnit.self,
        Conv2DUnit.self,
        DensifyUnit.self,
        DepthToSpaceUnit.self,
        DepthwiseConv2DUnit.self,
        DequantizeUnit.self,
        FullyConnectedUnit.self,
        HardSwishUnit.self,
        LogisticUnit.self,
        MaxPool2DUnit.self,
        MeanUnit.self,
        MulUnit.self,
        PadUnit.self,
        PReluUnit.self,
        ReluUnit.self,
        ReshapeUnit.self,
        ResizeBilinearUnit.self,
        StridedSliceUnit.self,
        // MediaPipe's custom operators.
        Convolution2DTransposeBiasUnit.self,
        Landmarks2TransformMatrixUnit.self,
        TransformLandmarksUnit.self,
        TransformTensorBilinearUnit.self,
    ]

    /// The unit implementing `kind`, if any: a search of `units`. (Not a dictionary keyed by
    /// kind: building one makes the runtime look up `OperatorKind`'s Hashable conformance, a scan
    /// of every conformance record in the binary, ~0.14 ms the first time in a process, on every
    /// model load; the search makes at most 24 comparisons per operator.)
    static func unit(for kind: OperatorKind) -> (any OperatorUnit.Type)? {
        units.first { $0.kind == kind }
    }

    /// Every operator kind the runtime implements.
    public static var supported: Set<OperatorKind> { Set(units.map { $0.kind }) }

    /// The operators of `subgraph` the runtime does not implement, with their index.
    public static func unsupportedOperators(in model: Model, subgraph index: Int = 0) -> [(index: Int, kind: OperatorKind)] {
        guard model.subgraphs.indices.contains(index) else { return [] }
        return model.subgraphs[index].operators.enumerated().compactMap { i, op in
            let kind = OperatorKind(of: op, in: model)
            return unit(for: kind) == nil ? (i, kind) : nil
        }
    }
}
