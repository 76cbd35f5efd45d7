public import WharfCore

extension TFServingJSON {
    /// Encodes a predict response in the request's format.
    ///
    /// Row format gives `{"predictions": [...]}`: with one output, element `i` is that output's
    /// row `i`; with several, an object `{name: row i}` per row (names sorted), so every output
    /// needs a first dimension and all must share it. Columnar format gives `{"outputs": value}`
    /// for one output, else `{"outputs": {name: value}}`. String elements are written as JSON
    /// strings, or as `{"b64": "..."}` when the output name ends in `_bytes` or the bytes are not
    /// valid UTF-8.
    public static func encodePredictResponse(
        _ outputs: [String: Tensor], format: Format
    ) throws(CodecError) -> [UInt8] {
        let names = outputs.keys.sorted()
        let tensors = names.map { outputs[$0]! }
        var writer = JSONWriter(reservingCapacity: estimatedSize(of: tensors))
        switch format {
        case .columnar:
            writer.append("{\"outputs\":")
            if tensors.count == 1 {
                writeTensor(tensors[0], name: names[0], into: &writer)
            } else {
                writer.append(UInt8(ascii: "{"))
                for (index, name) in names.enumerated() {
                    if index > 0 { writer.append(UInt8(ascii: ",")) }
                    writer.writeKey(name)
                    writeTensor(tensors[index], name: name, into: &writer)
                }
                writer.append(UInt8(ascii: "}"))
            }
            writer.append(UInt8(ascii: "}"))
        case .row:
            var batch: Int?
            for (name, tensor) in zip(names, tensors) {
                guard let rows = tensor.shape.first else {
                    throw CodecError(
                        .invalidOutput,
                        "output '\(name)' is a scalar, but the row format ('instances') needs every output to have "
                            + "a batch dimension; use the columnar format ('inputs')")
                }
                if let batch, rows != batch {
                    throw CodecError(
                        .invalidOutput,
                        "outputs have different batch sizes: '\(names[0])' has \(batch) rows, '\(name)' has \(rows); "
                            + "the row format ('instances') needs all outputs to share the first dimension; "
                            + "use the columnar format ('inputs')")
                }
                batch = rows
            }
            writer.append("{\"predictions\":")
            if tensors.count == 1 {
                writeTensor(tensors[0], name: names[0], into: &writer)
            } else {
                writer.append(UInt8(ascii: "["))
                for row in 0..<(batch ?? 0) {
                    if row > 0 { writer.append(UInt8(ascii: ",")) }
                    writer.append(UInt8(ascii: "{"))
                    for (index, name) in names.enumerated() {
                        if index > 0 { writer.append(UInt8(ascii: ",")) }
                        writer.writeKey(name)
                        writeRow(row, of: tensors[index], name: name, into: &writer)
                    }
                    writer.append(UInt8(ascii: "}"))
                }
                writer.append(UInt8(ascii: "]"))
            }
            writer.append(UInt8(ascii: "}"))
        }
        return writer.bytes
    }

    /// Encodes an error body: `{"error": "message"}`.
    public static func encodeError(_ message: String) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: message.utf8.count + 16)
        writer.append("{\"error\":")
        writer.writeString(message)
        writer.append(UInt8(ascii: "}"))
        return writer.bytes
    }

    /// Writes a tensor as nested lists following its shape (a scalar as a bare value). `name`
    /// decides how string elements are written (see `encodePredictResponse(_:format:)`).
    public static func writeTensor(_ tensor: Tensor, name: String, into writer: inout JSONWriter) {
        writePart(of: tensor, name: name, level: 0, firstElement: 0, into: &writer)
    }

    /// Writes row `row` of the first dimension.
    static func writeRow(_ row: Int, of tensor: Tensor, name: String, into writer: inout JSONWriter) {
        let rowElements = tensor.shape.dropFirst().reduce(1, *)
        writePart(of: tensor, name: name, level: 1, firstElement: row * rowElements, into: &writer)
    }

    /// Writes the sub-tensor spanning dimensions `level...` that starts at element `firstElement`.
    private static func writePart(
        of tensor: Tensor, name: String, level: Int, firstElement: Int, into writer: inout JSONWriter
    ) {
        let shape = tensor.shape
        var index = firstElement
        func dense<Element: JSONEncodableElement>(_ type: Element.Type) {
            tensor.withUnsafeBytes { raw in
                let source = DenseSource(base: raw.baseAddress?.assumingMemoryBound(to: Element.self))
                writeNested(source, shape: shape, level: level, index: &index, into: &writer)
            }
        }
        switch tensor.dtype {
        case .float16: dense(Float16.self)
        case .float32: dense(Float.self)
        case .float64: dense(Double.self)
        case .int8: dense(Int8.self)
        case .int16: dense(Int16.self)
        case .int32: dense(Int32.self)
        case .int64: dense(Int64.self)
        case .uint8: dense(UInt8.self)
        case .uint16: dense(UInt16.self)
        case .uint32: dense(UInt32.self)
        case .uint64: dense(UInt64.self)
        case .bool: dense(BoolByte.self)
        case .string:
            let source = StringSource(elements: (try? tensor.strings()) ?? [], alwaysBase64: name.hasSuffix("_bytes"))
            writeNested(source, shape: shape, level: level, index: &index, into: &writer)
        }
    }

    /// A rough size of the JSON for the tensors, to reserve the output buffer once.
    private static func estimatedSize(of tensors: [Tensor]) -> Int {
        var size = 64
        for tensor in tensors {
            switch tensor.dtype {
            case .string: size += tensor.byteCount * 4 / 3 + tensor.elementCount * 12
            case .float16, .float32: size += tensor.elementCount * 12
            case .float64: size += tensor.elementCount * 20
            case .bool: size += tensor.elementCount * 6
            default: size += tensor.elementCount * ((tensor.dtype.byteWidth ?? 8) * 3 + 1)
            }
        }
        return size
    }
}

/// Writes the elements at consecutive indices as nested lists of `shape[level...]`.
private func writeNested<Source: ElementSource>(
    _ source: Source, shape: [Int], level: Int, index: inout Int, into writer: inout JSONWriter
) {
    if level == shape.count {
        source.write(index, into: &writer)
        index += 1
        return
    }
    writer.append(UInt8(ascii: "["))
    let count = shape[level]
    if level + 1 == shape.count {
        for offset in 0..<count {
            if offset > 0 { writer.append(UInt8(ascii: ",")) }
            source.write(index + offset, into: &writer)
        }
        index += count
    } else {
        for offset in 0..<count {
            if offset > 0 { writer.append(UInt8(ascii: ",")) }
            writeNested(source, shape: shape, level: level + 1, index: &index, into: &writer)
        }
    }
    writer.append(UInt8(ascii: "]"))
}

/// Writes one element of a tensor.
private protocol ElementSource {
    func write(_ index: Int, into writer: inout JSONWriter)
}

/// A fixed-width element type that writes itself as a JSON token.
protocol JSONEncodableElement {
    static func write(_ value: Self, into writer: inout JSONWriter)
}

extension Int8: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: Int8, into writer: inout JSONWriter) { writer.writeInteger(Int64(value)) }
}

extension Int16: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: Int16, into writer: inout JSONWriter) { writer.writeInteger(Int64(value)) }
}

extension Int32: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: Int32, into writer: inout JSONWriter) { writer.writeInteger(Int64(value)) }
}

extension Int64: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: Int64, into writer: inout JSONWriter) { writer.writeInteger(value) }
}

extension UInt8: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: UInt8, into writer: inout JSONWriter) { writer.writeInteger(UInt64(value)) }
}

extension UInt16: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: UInt16, into writer: inout JSONWriter) { writer.writeInteger(UInt64(value)) }
}

extension UInt32: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: UInt32, into writer: inout JSONWriter) { writer.writeInteger(UInt64(value)) }
}

extension UInt64: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: UInt64, into writer: inout JSONWriter) { writer.writeInteger(value) }
}

extension Float16: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: Float16, into writer: inout JSONWriter) { writer.writeFloat16(value) }
}

extension Float: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: Float, into writer: inout JSONWriter) { writer.writeFloat(value) }
}

extension Double: JSONEncodableElement {
    @inline(__always)
    static func write(_ value: Double, into writer: inout JSONWriter) { writer.writeDouble(value) }
}

/// A bool element read as its storage byte, so any non-zero byte a runtime wrote reads as true.
private struct BoolByte: JSONEncodableElement {
    var byte: UInt8

    @inline(__always)
    static func write(_ value: BoolByte, into writer: inout JSONWriter) { writer.writeBool(value.byte != 0) }
}

private struct DenseSource<Element: JSONEncodableElement>: ElementSource {
    let base: UnsafePointer<Element>?

    @inline(__always)
    func write(_ index: Int, into writer: inout JSONWriter) {
        guard let base else { return }
        Element.write(base[index], into: &writer)
    }
}

private struct StringSource: ElementSource {
    let elements: [[UInt8]]
    let alwaysBase64: Bool

    func write(_ index: Int, into writer: inout JSONWriter) {
        elements[index].withUnsafeBufferPointer { bytes in
            if !alwaysBase64, firstInvalidUTF8Offset(bytes) == nil {
                writer.writeString(utf8: bytes)
            } else {
                writer.writeBase64Object(bytes)
            }
        }
    }
}
