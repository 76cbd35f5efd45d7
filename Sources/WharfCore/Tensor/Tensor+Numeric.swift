extension Tensor {
    /// Every element of a numeric or bool tensor as a `Double` (exact for every type but
    /// int64/uint64 magnitudes above 2^53); `nil` for string tensors.
    public func doubleValues() -> [Double]? {
        func convert<T: TensorScalar>(_ type: T.Type, _ transform: (T) -> Double) -> [Double] {
            withUnsafeBytes { raw in raw.bindMemory(to: T.self).map(transform) }
        }
        switch dtype {
        case .float16: return convert(Float16.self) { Double($0) }
        case .float32: return convert(Float.self) { Double($0) }
        case .float64: return convert(Double.self) { $0 }
        case .int8: return convert(Int8.self) { Double($0) }
        case .int16: return convert(Int16.self) { Double($0) }
        case .int32: return convert(Int32.self) { Double($0) }
        case .int64: return convert(Int64.self) { Double($0) }
        case .uint8: return convert(UInt8.self) { Double($0) }
        case .uint16: return convert(UInt16.self) { Double($0) }
        case .uint32: return convert(UInt32.self) { Double($0) }
        case .uint64: return convert(UInt64.self) { Double($0) }
        case .bool: return convert(UInt8.self) { $0 == 0 ? 0 : 1 }
        case .string: return nil
        }
    }

    /// The largest absolute difference between corresponding elements of two numeric tensors of
    /// the same shape; `nil` when shapes differ or either holds strings. NaN against NaN counts as
    /// equal; NaN against a number as infinitely far.
    public func maxAbsoluteDifference(to other: Tensor) -> Double? {
        guard shape == other.shape, let left = doubleValues(), let right = other.doubleValues() else { return nil }
        var worst = 0.0
        for (a, b) in zip(left, right) {
            if a.isNaN || b.isNaN {
                if a.isNaN != b.isNaN { return .infinity }
                continue
            }
            if a == b { continue }
            worst = max(worst, abs(a - b))
        }
        return worst
    }
}
