public import WharfCore

/// Builds random inputs that fit a model's declared inputs.
///
/// A dynamic first dimension becomes the batch size, other dynamic dimensions become 1, and an
/// input of unknown rank becomes a vector of batch-size elements. Values: floats in [0, 1),
/// integers in 0..<10, random bools, and short lowercase ASCII strings for BYTES.
public enum InputSynthesizer {
    /// The concrete shape an input of the declared shape gets.
    public static func concreteShape(_ declared: TensorShape, batchSize: Int) -> [Int] {
        guard let dimensions = declared.dimensions else { return [batchSize] }
        return dimensions.enumerated().map { index, size in
            size >= 0 ? size : (index == 0 ? batchSize : 1)
        }
    }

    /// One random tensor per input, the same for the same seed.
    public static func synthesize(_ specs: [TensorSpec], batchSize: Int, seed: UInt64) throws(BenchError) -> [String: Tensor] {
        var generator = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        for spec in specs {
            let shape = concreteShape(spec.shape, batchSize: batchSize)
            do {
                tensors[spec.name] = try tensor(dtype: spec.dtype, shape: shape, using: &generator)
            } catch {
                throw BenchError(.invalidInput, "cannot build input '\(spec.name)' (\(spec.dtype) \(shape)): \(error)")
            }
        }
        return tensors
    }

    private static func tensor(dtype: DataType, shape: [Int], using generator: inout SeededGenerator) throws -> Tensor {
        let count = shape.reduce(1, *)
        func integers<T: FixedWidthInteger & TensorScalar>(_ type: T.Type) throws -> Tensor {
            try Tensor(shape: shape, scalars: (0..<count).map { _ in T(truncatingIfNeeded: generator.next() % 10) })
        }
        switch dtype {
        case .float16:
            return try Tensor(shape: shape, scalars: (0..<count).map { _ in Float16(Float.random(in: 0..<1, using: &generator)) })
        case .float32:
            return try Tensor(shape: shape, scalars: (0..<count).map { _ in Float.random(in: 0..<1, using: &generator) })
        case .float64:
            return try Tensor(shape: shape, scalars: (0..<count).map { _ in Double.random(in: 0..<1, using: &generator) })
        case .int8: return try integers(Int8.self)
        case .int16: return try integers(Int16.self)
        case .int32: return try integers(Int32.self)
        case .int64: return try integers(Int64.self)
        case .uint8: return try integers(UInt8.self)
        case .uint16: return try integers(UInt16.self)
        case .uint32: return try integers(UInt32.self)
        case .uint64: return try integers(UInt64.self)
        case .bool:
            return try Tensor(shape: shape, scalars: (0..<count).map { _ in Bool.random(using: &generator) })
        case .string:
            let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
            let strings: [[UInt8]] = (0..<count).map { _ in
                let length = Int.random(in: 4...12, using: &generator)
                return (0..<length).map { _ in letters[Int(generator.next() % UInt64(letters.count))] }
            }
            return try Tensor(shape: shape, strings: strings)
        }
    }
}
