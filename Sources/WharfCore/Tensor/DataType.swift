/// The element types a Wharf tensor can hold: every numeric type TensorFlow Serving and KServe V2
/// expose, plus `bool` and variable-length byte strings.
public enum DataType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case float16, float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case bool
    case string

    /// Bytes per element in contiguous storage; `nil` for `string`, whose elements vary in length.
    public var byteWidth: Int? {
        switch self {
        case .int8, .uint8, .bool: 1
        case .float16, .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        case .string: nil
        }
    }

    /// Whether the type is a floating-point type (NaN and infinities are representable).
    public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

    /// Whether the type is a signed or unsigned integer type.
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64: true
        default: false
        }
    }

    /// TensorFlow's name of the type, as in a SignatureDef (`DT_FLOAT`, `DT_INT64`, ...).
    public var tensorFlowName: String {
        switch self {
        case .float16: "DT_HALF"
        case .float32: "DT_FLOAT"
        case .float64: "DT_DOUBLE"
        case .int8: "DT_INT8"
        case .int16: "DT_INT16"
        case .int32: "DT_INT32"
        case .int64: "DT_INT64"
        case .uint8: "DT_UINT8"
        case .uint16: "DT_UINT16"
        case .uint32: "DT_UINT32"
        case .uint64: "DT_UINT64"
        case .bool: "DT_BOOL"
        case .string: "DT_STRING"
        }
    }

    /// The KServe V2 protocol's name of the type (`FP32`, `INT64`, `BYTES`, ...).
    public var v2Name: String {
        switch self {
        case .float16: "FP16"
        case .float32: "FP32"
        case .float64: "FP64"
        case .int8: "INT8"
        case .int16: "INT16"
        case .int32: "INT32"
        case .int64: "INT64"
        case .uint8: "UINT8"
        case .uint16: "UINT16"
        case .uint32: "UINT32"
        case .uint64: "UINT64"
        case .bool: "BOOL"
        case .string: "BYTES"
        }
    }

    /// Parses a type name in any of the spellings above (`float32`, `DT_FLOAT`, `FP32`, `float`).
    public init?(name: String) {
        if let direct = DataType(rawValue: name) {
            self = direct
            return
        }
        let aliases: [String: DataType] = [
            "float": .float32, "double": .float64, "half": .float16, "bytes": .string, "str": .string,
        ]
        if let alias = aliases[name.lowercased()] {
            self = alias
            return
        }
        if let match = DataType.allCases.first(where: { $0.tensorFlowName == name || $0.v2Name == name }) {
            self = match
            return
        }
        return nil
    }

    public var description: String { rawValue }
}
