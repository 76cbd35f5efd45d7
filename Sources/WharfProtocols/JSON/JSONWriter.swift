/// Writes compact JSON (no whitespace) into a byte array.
///
/// Floating-point numbers are written in the shortest form that reads back as the same value of
/// their own type (a `Float` 0.1 is written `0.1`), non-finite ones as `NaN`, `Infinity` and
/// `-Infinity`, as TensorFlow Serving does. The `write...` methods write one token each; callers
/// that build lists and objects themselves add the punctuation with `append(_:)`.
public struct JSONWriter: Sendable {
    /// The UTF-8 bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer whose buffer has room for `capacity` bytes.
    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The bytes written so far as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes a whole value: lists and objects with their elements, members in their order.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: writeNull()
        case .bool(let flag): writeBool(flag)
        case .int(let number): writeInteger(number)
        case .uint(let number): writeInteger(number)
        case .double(let number): writeDouble(number)
        case .string(let text): writeString(text)
        case .array(let elements):
            append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { append(UInt8(ascii: ",")) }
                write(element)
            }
            append(UInt8(ascii: "]"))
        case .object(let object):
            append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { append(UInt8(ascii: ",")) }
                writeKey(member.key)
                write(member.value)
            }
            append(UInt8(ascii: "}"))
        }
    }

    /// Appends one byte as is (punctuation such as `[`, `,` or `}`).
    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends ASCII text as is.
    public mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Writes `null`.
    public mutating func writeNull() { append("null") }

    /// Writes `true` or `false`.
    public mutating func writeBool(_ value: Bool) { value ? append("true") : append("false") }

    /// Writes a signed integer exactly.
    public mutating func writeInteger(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        writeDigits(value.magnitude)
    }

    /// Writes an unsigned integer exactly.
    public mutating func writeInteger(_ value: UInt64) {
        writeDigits(value)
    }

    private mutating func writeDigits(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        // At most 20 digits, written backwards into a stack buffer.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// Writes a double in its shortest round-trip form; `NaN`, `Infinity`, `-Infinity` as such.
    public mutating func writeDouble(_ value: Double) { writeFloatingPoint(value) }

    /// Writes a float in the shortest form that reads back as the same `Float`.
    public mutating func writeFloat(_ value: Float) { writeFloatingPoint(value) }

    /// Writes a half-precision float in the shortest form that reads back as the same `Float16`.
    public mutating func writeFloat16(_ value: Float16) { writeFloatingPoint(value) }

    @inline(__always)
    private mutating func writeFloatingPoint<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F) {
        if value.isNaN {
            append("NaN")
        } else if value.isInfinite {
            value < 0 ? append("-Infinity") : append("Infinity")
        } else {
            // Swift's description is the shortest round-trip form for the value's own type, and
            // always valid JSON for finite values ("0.1", "1e-05", "1e+16", "-0.0").
            var text = value.description
            text.withUTF8 { bytes.append(contentsOf: $0) }
        }
    }

    /// Writes a string, quoted and escaped.
    public mutating func writeString(_ text: String) {
        var text = text
        text.withUTF8 { writeString(utf8: $0) }
    }

    /// Writes a quoted, escaped string from bytes the caller knows to be valid UTF-8.
    public mutating func writeString(utf8 text: UnsafeBufferPointer<UInt8>) {
        bytes.reserveCapacity(bytes.count + text.count + 2)
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<text.count {
            let byte = text[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<index])) }
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            default:
                append("\\u00")
                let digits: StaticString = "0123456789abcdef"
                bytes.append(digits.utf8Start[Int(byte >> 4)])
                bytes.append(digits.utf8Start[Int(byte & 0xF)])
            }
        }
        if runStart < text.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes `"key":`.
    public mutating func writeKey(_ key: String) {
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes `{"b64":"..."}` holding the base64 form of `bytes`, TensorFlow Serving's spelling of
    /// binary strings.
    public mutating func writeBase64Object(_ data: UnsafeBufferPointer<UInt8>) {
        append("{\"b64\":\"")
        Base64.encode(data, into: &bytes)
        append("\"}")
    }
}

extension JSONValue {
    /// The value as compact JSON text.
    public func serialized() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64)
        writer.write(self)
        return writer.bytes
    }
}
