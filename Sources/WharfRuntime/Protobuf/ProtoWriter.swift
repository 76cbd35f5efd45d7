/// A minimal writer of the protocol buffer wire format, for the TensorFlow ConfigProto Wharf
/// builds. Callers write fields in field-number order, as protobuf's own serializers do.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func writeVarint(field: Int, _ value: UInt64) {
        writeKey(field: field, wireType: 0)
        appendVarint(value)
    }

    mutating func writeBool(field: Int, _ value: Bool) {
        writeVarint(field: field, value ? 1 : 0)
    }

    mutating func writeInt32(field: Int, _ value: Int32) {
        // Negative int32 values are sign-extended to 64 bits on the wire.
        writeVarint(field: field, UInt64(bitPattern: Int64(value)))
    }

    mutating func writeDouble(field: Int, _ value: Double) {
        writeKey(field: field, wireType: 1)
        appendFixed(value.bitPattern, count: 8)
    }

    mutating func writeBytes(field: Int, _ value: [UInt8]) {
        writeKey(field: field, wireType: 2)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(field: Int, _ value: String) {
        writeBytes(field: field, Array(value.utf8))
    }

    mutating func writeMessage(field: Int, _ build: (inout ProtoWriter) -> Void) {
        var nested = ProtoWriter()
        build(&nested)
        writeBytes(field: field, nested.bytes)
    }

    /// A packed repeated float field.
    mutating func writePackedFloats(field: Int, _ values: [Float]) {
        var packed = ProtoWriter()
        for value in values { packed.appendFixed(UInt64(value.bitPattern), count: 4) }
        writeBytes(field: field, packed.bytes)
    }

    private mutating func writeKey(field: Int, wireType: UInt64) {
        appendVarint(UInt64(field) << 3 | wireType)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(remaining & 0x7f) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    private mutating func appendFixed(_ value: UInt64, count: Int) {
        for index in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }
}
