/// Standard base64 (RFC 4648 §4), as TensorFlow Serving uses for `{"b64": ...}` values.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0...63 for alphabet bytes (the URL-safe `-` and `_` too), 0xFF for anything else.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Appends the padded base64 form of `bytes` to `output`.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + (bytes.count + 2) / 3 * 4)
        alphabet.withUnsafeBufferPointer { table in
            var index = 0
            while index + 3 <= bytes.count {
                let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                output.append(table[Int(chunk >> 18 & 0x3F)])
                output.append(table[Int(chunk >> 12 & 0x3F)])
                output.append(table[Int(chunk >> 6 & 0x3F)])
                output.append(table[Int(chunk & 0x3F)])
                index += 3
            }
            let remaining = bytes.count - index
            if remaining == 1 {
                let chunk = UInt32(bytes[index]) << 16
                output.append(table[Int(chunk >> 18 & 0x3F)])
                output.append(table[Int(chunk >> 12 & 0x3F)])
                output.append(UInt8(ascii: "="))
                output.append(UInt8(ascii: "="))
            } else if remaining == 2 {
                let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
                output.append(table[Int(chunk >> 18 & 0x3F)])
                output.append(table[Int(chunk >> 12 & 0x3F)])
                output.append(table[Int(chunk >> 6 & 0x3F)])
                output.append(UInt8(ascii: "="))
            }
        }
    }

    /// The padded base64 form of `bytes`.
    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        bytes.withUnsafeBufferPointer { encode($0, into: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    /// What is wrong with a base64 text.
    struct DecodingFailure: Error {
        /// The offset of the offending character in the text's UTF-8 form.
        var offset: Int
        var reason: String
    }

    /// Decodes base64 text; padding is optional, the URL-safe alphabet is accepted too.
    static func decode(_ text: String) throws(DecodingFailure) -> [UInt8] {
        var text = text
        var result: Result<[UInt8], DecodingFailure> = .success([])
        text.withUTF8 { utf8 in result = Result { () throws(DecodingFailure) in try decode(utf8) } }
        return try result.get()
    }

    static func decode(_ text: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) -> [UInt8] {
        var length = text.count
        var padding = 0
        while length > 0, text[length - 1] == UInt8(ascii: "="), padding < 2 {
            length -= 1
            padding += 1
        }
        if padding > 0 && text.count % 4 != 0 {
            throw DecodingFailure(offset: length, reason: "padding '=' in a text whose length is not a multiple of 4")
        }
        if length % 4 == 1 {
            throw DecodingFailure(offset: length, reason: "a length that leaves a single trailing character")
        }
        var output: [UInt8] = []
        output.reserveCapacity(length / 4 * 3 + 2)
        try decodeTable.withUnsafeBufferPointer { table throws(DecodingFailure) in
            var accumulator: UInt32 = 0
            var pending = 0
            for index in 0..<length {
                let value = table[Int(text[index])]
                if value == 0xFF {
                    let byte = text[index]
                    let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
                    throw DecodingFailure(offset: index, reason: "\(shown) is not a base64 character")
                }
                accumulator = accumulator << 6 | UInt32(value)
                pending += 1
                if pending == 4 {
                    output.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                    output.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                    output.append(UInt8(truncatingIfNeeded: accumulator))
                    accumulator = 0
                    pending = 0
                }
            }
            // Bits after the last whole byte are ignored (as most decoders do).
            if pending == 2 {
                output.append(UInt8(truncatingIfNeeded: accumulator >> 4))
            } else if pending == 3 {
                output.append(UInt8(truncatingIfNeeded: accumulator >> 10))
                output.append(UInt8(truncatingIfNeeded: accumulator >> 2))
            }
        }
        return output
    }
}
