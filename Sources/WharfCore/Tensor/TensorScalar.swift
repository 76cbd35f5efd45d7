/// A Swift type whose values are stored as one fixed-width tensor element.
public protocol TensorScalar: Sendable {
    /// The element type values of this Swift type are stored as.
    static var dataType: DataType { get }
}

extension Float16: TensorScalar { public static var dataType: DataType { .float16 } }
extension Float: TensorScalar { public static var dataType: DataType { .float32 } }
extension Double: TensorScalar { public static var dataType: DataType { .float64 } }
extension Int8: TensorScalar { public static var dataType: DataType { .int8 } }
extension Int16: TensorScalar { public static var dataType: DataType { .int16 } }
extension Int32: TensorScalar { public static var dataType: DataType { .int32 } }
extension Int64: TensorScalar { public static var dataType: DataType { .int64 } }
extension UInt8: TensorScalar { public static var dataType: DataType { .uint8 } }
extension UInt16: TensorScalar { public static var dataType: DataType { .uint16 } }
extension UInt32: TensorScalar { public static var dataType: DataType { .uint32 } }
extension UInt64: TensorScalar { public static var dataType: DataType { .uint64 } }
extension Bool: TensorScalar { public static var dataType: DataType { .bool } }
