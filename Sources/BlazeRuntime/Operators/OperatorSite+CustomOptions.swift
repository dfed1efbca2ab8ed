import TFLite

extension OperatorSite {
    /// Requires the operator code's `version` to be `expected`: MediaPipe's custom operators change
    /// their tensor layouts and options between versions, and only one version of each is implemented.
    func requireVersion(_ expected: Int32, in model: Model) throws {
        let version = model.operatorCodes[op.opcodeIndex].version
        guard version == expected else {
            throw unsupported("operator version \(version); only version \(expected) is implemented")
        }
    }

    /// The operator's FlexBuffers `custom_options` map; malformed bytes become an error naming the operator.
    func flexOptions() throws -> FlexBufferMap {
        do { return try FlexBufferMap(op.options.customBytes) } catch let e as FlexBufferError { throw fail(e.description) }
    }

    /// Runs a FlexBuffers read, naming the operator in its error.
    func flex<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as FlexBufferError { throw fail(e.description) }
    }
}
