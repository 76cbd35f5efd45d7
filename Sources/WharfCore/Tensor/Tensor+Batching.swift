extension Tensor {
    /// The size of the first dimension (1 for a scalar).
    public var rowCount: Int { shape.first ?? 1 }

    /// Joins tensors along the first dimension, optionally padding to `paddedRows` rows by repeating
    /// the last row (values that are valid input for any model). Every tensor must have the same
    /// element type and the same shape after the first dimension.
    public static func concatenate(_ tensors: [Tensor], paddedRows: Int? = nil) throws(TensorError) -> Tensor {
        guard let first = tensors.first, !first.shape.isEmpty else {
            throw TensorError(.shapeMismatch, "concatenation needs at least one tensor with a first dimension")
        }
        let rowShape = Array(first.shape.dropFirst())
        var rows = 0
        for tensor in tensors {
            guard tensor.dtype == first.dtype, Array(tensor.shape.dropFirst()) == rowShape, !tensor.shape.isEmpty else {
                throw TensorError(
                    .shapeMismatch, "cannot join \(tensor.dtype) \(tensor.shape.shapeDescription) to \(first.dtype) \(first.shape.shapeDescription)")
            }
            rows += tensor.shape[0]
        }
        let totalRows = max(rows, paddedRows ?? rows)
        let shape = [totalRows] + rowShape
        let padding = totalRows - rows
        if first.dtype == .string {
            var elements: [[UInt8]] = []
            elements.reserveCapacity(shape.elementCount)
            for tensor in tensors { elements.append(contentsOf: try tensor.strings()) }
            let rowElements = rowShape.elementCount
            if padding > 0 {
                let lastRow = Array(elements.suffix(rowElements))
                for _ in 0..<padding { elements.append(contentsOf: lastRow) }
            }
            return try Tensor(shape: shape, strings: elements)
        }
        let width = first.dtype.byteWidth ?? 0
        let rowBytes = rowShape.elementCount * width
        do {
            return try Tensor(dtype: first.dtype, shape: shape) { destination in
                var offset = 0
                for tensor in tensors {
                    tensor.withUnsafeBytes { source in
                        if let base = source.baseAddress, source.count > 0 {
                            (destination.baseAddress! + offset).copyMemory(from: base, byteCount: source.count)
                        }
                        offset += source.count
                    }
                }
                if padding > 0, rowBytes > 0, rows > 0 {
                    let lastRow = destination.baseAddress! + (offset - rowBytes)
                    for _ in 0..<padding {
                        (destination.baseAddress! + offset).copyMemory(from: lastRow, byteCount: rowBytes)
                        offset += rowBytes
                    }
                }
            }
        } catch let error as TensorError {
            throw error
        } catch {
            throw TensorError(.invalidValue, "concatenation failed: \(error)")
        }
    }
}
