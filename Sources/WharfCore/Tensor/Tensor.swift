/// A dense tensor: an element type, a concrete shape and its elements in row-major order.
///
/// Fixed-width elements live in contiguous little-endian storage (a `TensorBuffer`) that several
/// tensors may view without copying, e.g. the rows of a batch. `string` elements are byte strings.
/// Tensors are immutable values and safe to share across threads.
public struct Tensor: Sendable {
    /// Where the elements live.
    package enum Storage: Sendable {
        /// Fixed-width elements: `byteCount` bytes starting `offset` bytes into `buffer`.
        case dense(TensorBuffer, offset: Int, byteCount: Int)
        /// Byte-string elements.
        case strings([[UInt8]])
    }

    /// The element type.
    public let dtype: DataType
    /// The concrete shape; `[]` is a scalar.
    public let shape: [Int]
    package let storage: Storage

    /// The number of elements.
    public var elementCount: Int { shape.elementCount }

    /// Bytes of element storage (for strings: the sum of the element lengths).
    public var byteCount: Int {
        switch storage {
        case .dense(_, _, let byteCount): byteCount
        case .strings(let elements): elements.reduce(0) { $0 + $1.count }
        }
    }

    /// A view of `byteCount` bytes of `buffer` starting at `offset`, without copying.
    public init(dtype: DataType, shape: [Int], buffer: TensorBuffer, offset: Int = 0) throws(TensorError) {
        guard let width = dtype.byteWidth else {
            throw TensorError(.unsupportedType, "string tensors are built from byte strings, not a raw buffer")
        }
        try Tensor.checkShape(shape)
        let byteCount = shape.elementCount * width
        guard offset >= 0, offset + byteCount <= buffer.byteCount else {
            throw TensorError(
                .shapeMismatch,
                "\(dtype) \(shape.shapeDescription) needs \(byteCount) bytes at offset \(offset), buffer holds \(buffer.byteCount)")
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = .dense(buffer, offset: offset, byteCount: byteCount)
    }

    /// Allocates storage for a fixed-width tensor and lets `fill` write every byte of it.
    public init(
        dtype: DataType, shape: [Int], filling fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        guard let width = dtype.byteWidth else {
            throw TensorError(.unsupportedType, "string tensors are built from byte strings, not raw bytes")
        }
        try Tensor.checkShape(shape)
        let byteCount = shape.elementCount * width
        let buffer = TensorBuffer(byteCount: byteCount)
        try fill(UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: byteCount))
        self.dtype = dtype
        self.shape = shape
        self.storage = .dense(buffer, offset: 0, byteCount: byteCount)
    }

    /// A tensor holding `scalars` (row-major) in the given shape.
    public init<Scalar: TensorScalar>(shape: [Int], scalars: [Scalar]) throws(TensorError) {
        try Tensor.checkShape(shape)
        guard scalars.count == shape.elementCount else {
            throw TensorError(
                .shapeMismatch,
                "shape \(shape.shapeDescription) holds \(shape.elementCount) elements, got \(scalars.count) values")
        }
        let byteCount = scalars.count * MemoryLayout<Scalar>.stride
        let buffer = TensorBuffer(byteCount: byteCount)
        scalars.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.baseAddress.copyMemory(from: base, byteCount: byteCount) }
        }
        self.dtype = Scalar.dataType
        self.shape = shape
        self.storage = .dense(buffer, offset: 0, byteCount: byteCount)
    }

    /// A `string` tensor holding the given byte strings (row-major) in the given shape.
    public init(shape: [Int], strings: [[UInt8]]) throws(TensorError) {
        try Tensor.checkShape(shape)
        guard strings.count == shape.elementCount else {
            throw TensorError(
                .shapeMismatch,
                "shape \(shape.shapeDescription) holds \(shape.elementCount) elements, got \(strings.count) strings")
        }
        self.dtype = .string
        self.shape = shape
        self.storage = .strings(strings)
    }

    /// A `string` tensor holding the UTF-8 bytes of the given strings.
    public init(shape: [Int], strings: [String]) throws(TensorError) {
        try self.init(shape: shape, strings: strings.map { Array($0.utf8) })
    }

    private static func checkShape(_ shape: [Int]) throws(TensorError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError(.shapeMismatch, "a tensor's shape has no negative dimensions, got \(shape.shapeDescription)")
        }
    }

    /// The elements as Swift values of the matching type.
    public func scalars<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) throws(TensorError) -> [Scalar] {
        guard Scalar.dataType == dtype else {
            throw TensorError(.typeMismatch, "tensor holds \(dtype), asked for \(Scalar.dataType)")
        }
        return withUnsafeBytes { raw in
            Array(raw.bindMemory(to: Scalar.self))
        }
    }

    /// The elements of a `string` tensor.
    public func strings() throws(TensorError) -> [[UInt8]] {
        guard case .strings(let elements) = storage else {
            throw TensorError(.typeMismatch, "tensor holds \(dtype), asked for string")
        }
        return elements
    }

    /// Calls `body` with the element bytes of a fixed-width tensor (empty for `string` tensors).
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch storage {
        case .dense(let buffer, let offset, let byteCount):
            defer { withExtendedLifetime(buffer) {} }
            return try body(UnsafeRawBufferPointer(start: buffer.baseAddress + offset, count: byteCount))
        case .strings:
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// Rows `range` of the first dimension, sharing storage with this tensor.
    public func rows(_ range: Range<Int>) throws(TensorError) -> Tensor {
        guard let first = shape.first else {
            throw TensorError(.shapeMismatch, "a scalar has no rows")
        }
        guard range.lowerBound >= 0, range.upperBound <= first else {
            throw TensorError(.shapeMismatch, "rows \(range) are outside a first dimension of \(first)")
        }
        let rowShape = Array(shape.dropFirst())
        let rowElements = rowShape.elementCount
        let newShape = [range.count] + rowShape
        switch storage {
        case .dense(let buffer, let offset, _):
            let width = dtype.byteWidth ?? 0
            return try Tensor(
                dtype: dtype, shape: newShape, buffer: buffer, offset: offset + range.lowerBound * rowElements * width)
        case .strings(let elements):
            let slice = elements[(range.lowerBound * rowElements)..<(range.upperBound * rowElements)]
            return try Tensor(shape: newShape, strings: Array(slice))
        }
    }
}

extension Tensor: Equatable {
    /// Two tensors are equal when type, shape and every element's bytes are equal (so NaN equals
    /// the same NaN, and 0.0 differs from -0.0).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.dtype == rhs.dtype, lhs.shape == rhs.shape else { return false }
        if lhs.dtype == .string {
            return (try? lhs.strings()) == (try? rhs.strings())
        }
        return lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in left.elementsEqual(right) } }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "\(dtype) \(shape.shapeDescription)" }
}

extension Tensor {
    /// The same elements in another shape of equal element count, sharing storage.
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), newShape.elementCount == elementCount else {
            throw TensorError(
                .shapeMismatch, "cannot reshape \(dtype) \(shape.shapeDescription) (\(elementCount) elements) to \(newShape.shapeDescription)")
        }
        switch storage {
        case .dense(let buffer, let offset, _):
            return try Tensor(dtype: dtype, shape: newShape, buffer: buffer, offset: offset)
        case .strings(let elements):
            return try Tensor(shape: newShape, strings: elements)
        }
    }
}
