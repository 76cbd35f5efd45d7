/// A minimal reader of the protocol buffer wire format: enough to walk the few TensorFlow messages
/// Wharf reads (MetaGraphDef, SignatureDef, TensorInfo) without generated code.
package struct ProtoReader {
    /// A wire-format value of one field.
    package enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)

        package var asBytes: ArraySlice<UInt8>? {
            if case .bytes(let bytes) = self { return bytes }
            return nil
        }
        package var asString: String? { asBytes.map { String(decoding: $0, as: UTF8.self) } }
        package var asInt64: Int64? {
            if case .varint(let raw) = self { return Int64(bitPattern: raw) }
            return nil
        }
    }

    package struct MalformedMessage: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        package var description: String { "malformed protobuf at byte \(offset): \(reason)" }
    }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    /// The next field number and value, or `nil` at the end of the message.
    package mutating func next() throws -> (field: Int, value: Value)? {
        guard position < bytes.endIndex else { return nil }
        let key = try readVarint()
        let field = Int(key >> 3)
        guard field > 0 else { throw MalformedMessage(offset: position, reason: "field number 0") }
        switch key & 7 {
        case 0:
            return (field, .varint(try readVarint()))
        case 1:
            return (field, .fixed64(try readFixed(8)))
        case 2:
            let length = try readVarint()
            guard length <= UInt64(bytes.endIndex - position) else {
                throw MalformedMessage(offset: position, reason: "length \(length) runs past the end")
            }
            let start = position
            position += Int(length)
            return (field, .bytes(bytes[start..<position]))
        case 5:
            return (field, .fixed32(UInt32(try readFixed(4))))
        case let wireType:
            throw MalformedMessage(offset: position, reason: "unsupported wire type \(wireType)")
        }
    }

    private mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.endIndex {
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift >= 64 { break }
        }
        throw MalformedMessage(offset: position, reason: "truncated varint")
    }

    private mutating func readFixed(_ count: Int) throws -> UInt64 {
        guard bytes.endIndex - position >= count else {
            throw MalformedMessage(offset: position, reason: "truncated fixed-width field")
        }
        var result: UInt64 = 0
        for index in 0..<count {
            result |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        position += count
        return result
    }
}
