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

    private static let byKind: [OperatorKind: any OperatorUnit.Type] = {
        var table: [OperatorKind: any OperatorUnit.Type] = [:]
        for unit in units { table[unit.kind] = unit }
        return table
    }()

    /// The unit implementing `kind`, if any.
    static func unit(for kind: OperatorKind) -> (any OperatorUnit.Type)? { byKind[kind] }

    /// Every operator kind the runtime implements.
    public static var supported: Set<OperatorKind> { Set(byKind.keys) }

    /// The operators of `subgraph` the runtime does not implement, with their index.
    public static func unsupportedOperators(in model: Model, subgraph index: Int = 0) -> [(index: Int, kind: OperatorKind)] {
        guard model.subgraphs.indices.contains(index) else { return [] }
        return model.subgraphs[index].operators.enumerated().compactMap { i, op in
            let kind = OperatorKind(of: op, in: model)
            return byKind[kind] == nil ? (i, kind) : nil
        }
    }
}
