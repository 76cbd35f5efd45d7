package import WharfCore

/// TensorFlow's DataType enum numbers (tensorflow/core/framework/types.proto) for Wharf's types.
package enum TFDataType {
    package static func code(for dtype: DataType) -> Int32 {
        switch dtype {
        case .float32: 1
        case .float64: 2
        case .int32: 3
        case .uint8: 4
        case .int16: 5
        case .int8: 6
        case .string: 7
        case .int64: 9
        case .bool: 10
        case .uint16: 17
        case .float16: 19
        case .uint32: 22
        case .uint64: 23
        }
    }

    /// The Wharf type of a TensorFlow type code; `nil` for types Wharf does not serve
    /// (complex, quantized, bfloat16, resource, variant).
    package static func dataType(code: Int32) -> DataType? {
        // Reference types (DT_FLOAT_REF = 101, ...) carry the base type plus 100.
        let base = code > 100 ? code - 100 : code
        return DataType.allCases.first { TFDataType.code(for: $0) == base }
    }

    /// TensorFlow's name for a type code, also for the types Wharf does not serve.
    package static func name(code: Int32) -> String {
        if let dtype = dataType(code: code) { return dtype.tensorFlowName }
        let others: [Int32: String] = [
            8: "DT_COMPLEX64", 11: "DT_QINT8", 12: "DT_QUINT8", 13: "DT_QINT32", 14: "DT_BFLOAT16",
            15: "DT_QINT16", 16: "DT_QUINT16", 18: "DT_COMPLEX128", 20: "DT_RESOURCE", 21: "DT_VARIANT",
        ]
        return others[code] ?? "DT_INVALID(\(code))"
    }
}
