extension JSONValue {
    /// The nesting depth (lists and objects inside each other) the parser allows by default.
    public static let defaultMaximumDepth = 512

    /// Parses one JSON value from UTF-8 bytes.
    ///
    /// Accepts `NaN`, `Infinity` and `-Infinity` as numbers, keeps integer tokens exact and
    /// object members in order, and rejects nesting deeper than `maximumDepth`. An error gives the
    /// 0-based byte offset of the problem.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maximumDepth: Int = defaultMaximumDepth
    ) throws(CodecError) -> JSONValue {
        var parser = JSONParser(bytes: bytes.assumingMemoryBound(to: UInt8.self), maximumDepth: maximumDepth)
        return try parser.parseDocument()
    }

    /// Parses one JSON value from UTF-8 bytes; see `parse(_:maximumDepth:)` for raw buffers.
    public static func parse(_ bytes: [UInt8], maximumDepth: Int = defaultMaximumDepth) throws(CodecError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(CodecError) in
            var parser = JSONParser(bytes: buffer, maximumDepth: maximumDepth)
            return try parser.parseDocument()
        }
    }

    /// Parses one JSON value from a string's UTF-8 form.
    public static func parse(_ text: String, maximumDepth: Int = defaultMaximumDepth) throws(CodecError) -> JSONValue {
        try parse(Array(text.utf8), maximumDepth: maximumDepth)
    }
}

/// A recursive-descent parser over a byte buffer.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    /// Whether numbers go through the old digit-by-digit parser and the old conversion (exact fast
    /// path, else the C library) alone. The results are the same; `true` only to measure the
    /// parser as it was.
    let legacyNumbers: Bool
    var position = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int, legacyNumbers: Bool = false) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
        self.legacyNumbers = legacyNumbers
    }

    mutating func parseDocument() throws(CodecError) -> JSONValue {
        skipByteOrderMark()
        skipWhitespace()
        let value = try parseValue()
        try expectEndOfInput()
        return value
    }

    /// A UTF-8 byte order mark may precede the text (RFC 8259 lets parsers ignore it).
    mutating func skipByteOrderMark() {
        if position == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
    }

    /// Skips trailing whitespace and checks that nothing else follows.
    mutating func expectEndOfInput() throws(CodecError) {
        skipWhitespace()
        if position < bytes.count {
            throw syntaxError("expected end of input after the JSON value")
        }
    }

    // MARK: - Values

    mutating func parseValue() throws(CodecError) -> JSONValue {
        guard position < bytes.count else { throw syntaxError("expected a JSON value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber().jsonValue
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "N"):
            try expectLiteral("NaN")
            return .double(.nan)
        case UInt8(ascii: "I"):
            try expectLiteral("Infinity")
            return .double(.infinity)
        default:
            throw syntaxError("expected a JSON value")
        }
    }

    mutating func enterNesting() throws(CodecError) {
        depth += 1
        if depth > maximumDepth {
            throw CodecError(
                .nestingTooDeep,
                "JSON nests lists and objects deeper than \(maximumDepth) levels at byte \(position)")
        }
    }

    private mutating func parseArray() throws(CodecError) -> JSONValue {
        try enterNesting()
        position += 1  // [
        skipWhitespace()
        var elements: [JSONValue] = []
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        elements.reserveCapacity(4)
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw syntaxError("expected ',' or ']'") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if byte == UInt8(ascii: "]") { break }
            position -= 1
            throw syntaxError("expected ',' or ']'")
        }
        depth -= 1
        return .array(elements)
    }

    private mutating func parseObject() throws(CodecError) -> JSONValue {
        try enterNesting()
        position += 1  // {
        skipWhitespace()
        var members: [JSONObject.Member] = []
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(JSONObject(members))
        }
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw syntaxError("expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw syntaxError("expected ':' after an object key")
            }
            position += 1
            skipWhitespace()
            members.append(JSONObject.Member(key: key, value: try parseValue()))
            skipWhitespace()
            guard position < bytes.count else { throw syntaxError("expected ',' or '}'") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: ",") {
                skipWhitespace()
                continue
            }
            if byte == UInt8(ascii: "}") { break }
            position -= 1
            throw syntaxError("expected ',' or '}'")
        }
        depth -= 1
        return .object(JSONObject(members))
    }

    mutating func expectLiteral(_ literal: StaticString) throws(CodecError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for offset in 0..<count {
            guard position + offset < bytes.count, bytes[position + offset] == start[offset] else {
                position += offset
                throw syntaxError("expected '\(literal)'")
            }
        }
        position += count
    }

    // MARK: - Strings

    /// Parses the string starting at the opening quote.
    mutating func parseString() throws(CodecError) -> String {
        let start = position
        position += 1  // "
        let contentStart = position
        // Fast path: no escapes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeBufferPointer(rebasing: bytes[contentStart..<position])
                position += 1
                return try makeString(content, at: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw syntaxError("unescaped control character in a string") }
            position += 1
        }
        guard position < bytes.count else {
            throw syntaxError("expected '\"' to end the string that starts at byte \(start)")
        }
        // Slow path: copy the text so far, then decode escapes.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(position - contentStart + 16)
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[contentStart..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return try buffer.withUnsafeBufferPointer { content throws(CodecError) in
                    try makeString(content, at: start)
                }
            }
            if byte < 0x20 { throw syntaxError("unescaped control character in a string") }
            if byte != UInt8(ascii: "\\") {
                buffer.append(byte)
                position += 1
                continue
            }
            position += 1
            guard position < bytes.count else { break }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                let escapeStart = position - 2
                var scalar = try parseHex4()
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                        bytes[position + 1] == UInt8(ascii: "u")
                    else {
                        position = escapeStart
                        throw syntaxError("high surrogate \\u\(hex(scalar)) not followed by a low surrogate")
                    }
                    position += 2
                    let low = try parseHex4()
                    guard low >= 0xDC00 && low <= 0xDFFF else {
                        position = escapeStart
                        throw syntaxError("high surrogate \\u\(hex(scalar)) followed by \\u\(hex(low)), not a low surrogate")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                    position = escapeStart
                    throw syntaxError("lone low surrogate \\u\(hex(scalar))")
                }
                appendUTF8(scalar, to: &buffer)
            default:
                position -= 1
                throw syntaxError("invalid escape in a string")
            }
        }
        throw syntaxError("expected '\"' to end the string that starts at byte \(start)")
    }

    private func makeString(_ content: UnsafeBufferPointer<UInt8>, at start: Int) throws(CodecError) -> String {
        guard let string = String(validating: content, as: UTF8.self) else {
            let offset = start + 1 + (firstInvalidUTF8Offset(content) ?? 0)
            throw CodecError(.malformedJSON, "invalid UTF-8 in a string at byte \(offset)")
        }
        return string
    }

    private mutating func parseHex4() throws(CodecError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw syntaxError("expected 4 hex digits after \\u") }
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw syntaxError("expected 4 hex digits after \\u")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            buffer.append(UInt8(scalar))
        case 0x80..<0x800:
            buffer.append(UInt8(0xC0 | scalar >> 6))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            buffer.append(UInt8(0xE0 | scalar >> 12))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        default:
            buffer.append(UInt8(0xF0 | scalar >> 18))
            buffer.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            buffer.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            buffer.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: - Numbers

    /// A well-formed number token, as `scanDecimal` reads it: `negative × mantissa × 10^exponent`,
    /// exact when `digits` (significant digits: the leading zeros of `0.000123` do not count) is
    /// at most 19. `isInteger`: no fraction and no exponent.
    struct ScannedDecimal {
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var negative = false
        var isInteger = true
    }

    /// Reads a number token at `index` (before `end`) into `number`, eight digits at a time where
    /// it can, and moves `index` past it; `false` (with `index` anywhere) for a malformed token or
    /// `-Infinity`. An exponent beyond ±100 000 is clamped there, which no conversion can tell
    /// apart.
    @inline(__always)
    static func scanDecimal(
        _ base: UnsafePointer<UInt8>, _ end: Int, _ index: inout Int, into number: inout ScannedDecimal
    ) -> Bool {
        let negative = base[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < end, base[index] &- UInt8(ascii: "0") < 10 else { return false }
        var mantissa: UInt64 = 0
        var digits = 0
        if base[index] == UInt8(ascii: "0") {
            index += 1
            if index < end, base[index] &- UInt8(ascii: "0") < 10 { return false }
        } else {
            let digitsStart = index
            readDigits(base, end, &index, &mantissa)
            digits = index - digitsStart
        }
        var isInteger = true
        var fractionDigits = 0
        if index < end, base[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fractionStart = index
            if digits == 0 {
                while index < end, base[index] == UInt8(ascii: "0") { index += 1 }
            }
            let significantStart = index
            readDigits(base, end, &index, &mantissa)
            fractionDigits = index - fractionStart
            guard fractionDigits > 0 else { return false }
            digits += index - significantStart
        }
        var exponent = 0
        if index < end, base[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            var exponentNegative = false
            if index < end, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") {
                exponentNegative = base[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < end, base[index] &- UInt8(ascii: "0") < 10 else { return false }
            while index < end, base[index] &- UInt8(ascii: "0") < 10 {
                if exponent < 100_000 { exponent = exponent &* 10 &+ Int(base[index] &- UInt8(ascii: "0")) }
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        number = ScannedDecimal(
            mantissa: mantissa, digits: digits, exponent: exponent &- fractionDigits, negative: negative, isInteger: isInteger)
        return true
    }

    /// Parses a number token (or `-Infinity`) at the current position.
    ///
    /// The common case (at most 19 significant digits, well-formed) is read by `scanDecimal`;
    /// anything else, errors included, by `parseNumberCarefully()`, which gives the same value
    /// for the common case.
    @inline(__always)
    mutating func parseNumber() throws(CodecError) -> JSONNumber {
        guard !legacyNumbers, let base = bytes.baseAddress else { return try parseNumberCarefully() }
        let start = position
        var index = start
        var number = ScannedDecimal()
        // Up to 19 significant digits the mantissa is exact.
        guard JSONParser.scanDecimal(base, bytes.count, &index, into: &number), number.digits <= 19 else {
            return try parseNumberCarefully()
        }
        position = index
        let mantissa = number.mantissa
        if number.isInteger {
            if !number.negative { return mantissa <= UInt64(Int64.max) ? .int(Int64(mantissa)) : .uint(mantissa) }
            if mantissa == 0 { return .double(-0.0) }
            if mantissa <= UInt64(Int64.max) { return .int(-Int64(mantissa)) }
            if mantissa == UInt64(Int64.max) + 1 { return .int(.min) }
            return try slowDouble(start, index)
        }
        if let value = DecimalToDouble.convert(significand: mantissa, exponent: number.exponent, negative: number.negative) {
            return .double(value)
        }
        return try slowDouble(start, index)
    }

    /// The common number token as the nearest double, for elements that take any number as one
    /// (floating-point tensors): at most 19 significant digits, with a fraction or exponent, or an
    /// integer of at most 2^53 (exact in a double, so converting through the double rounds as
    /// converting the integer does). `nil`, with the position unchanged, for anything else; the
    /// caller then parses the token with `parseNumber()`, which gives the same value for these.
    @inline(__always)
    mutating func fastDecimal() -> Double? {
        guard let base = bytes.baseAddress, !legacyNumbers else { return nil }
        return JSONParser.fastDecimal(base, bytes.count, &position)
    }

    /// `fastDecimal()` on a raw buffer: reads the token at `start` (before `end`) and moves
    /// `start` past it, or leaves `start` alone and returns `nil`.
    @inline(__always)
    static func fastDecimal(_ base: UnsafePointer<UInt8>, _ end: Int, _ start: inout Int) -> Double? {
        var index = start
        var number = ScannedDecimal()
        guard scanCommonToken(base, end, &index, into: &number),
            let value = DecimalToDouble.convert(significand: number.mantissa, exponent: number.exponent, negative: number.negative)
        else { return nil }
        start = index
        return value
    }

    /// `scanDecimal` for the tokens `fastDecimal` and `fastFloat` take: at most 19 significant
    /// digits, and an integer no larger than 2^53.
    @inline(__always)
    private static func scanCommonToken(
        _ base: UnsafePointer<UInt8>, _ end: Int, _ index: inout Int, into number: inout ScannedDecimal
    ) -> Bool {
        scanDecimal(base, end, &index, into: &number) && number.digits <= 19 && (!number.isInteger || number.mantissa <= 1 << 53)
    }

    /// `fastDecimal` for float32 elements: the same tokens, read straight to the float that their
    /// nearest double rounds to (what converting through the double gives), mostly without
    /// computing that double exactly (`DecimalToDouble.convertForFloat`). `nil`, with `start`
    /// unchanged, for other tokens and for a number too large for a float.
    @inline(__always)
    static func fastFloat(_ base: UnsafePointer<UInt8>, _ end: Int, _ start: inout Int) -> Float? {
        var index = start
        var number = ScannedDecimal()
        guard scanCommonToken(base, end, &index, into: &number) else { return nil }
        let value: Double
        if let quick = DecimalToDouble.convertForFloat(significand: number.mantissa, exponent: number.exponent, negative: number.negative) {
            value = quick
        } else if let exact = DecimalToDouble.convert(significand: number.mantissa, exponent: number.exponent, negative: number.negative) {
            value = exact
        } else {
            return nil
        }
        let result = Float(value)
        guard result.isFinite else { return nil }
        start = index
        return result
    }

    /// Reads decimal digits at `index` into `mantissa` (wrapping: the caller counts digits).
    @inline(__always)
    private static func readDigits(
        _ base: UnsafePointer<UInt8>, _ end: Int, _ index: inout Int, _ mantissa: inout UInt64
    ) {
        while index + 8 <= end {
            let chunk = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            // All eight bytes '0'...'9': high nibbles 3, and adding 6 carries out of none.
            guard (chunk & 0xF0F0_F0F0_F0F0_F0F0) | (((chunk &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
                == 0x3333_3333_3333_3333
            else { break }
            // Pairs, then quadruples, then all eight (the first digit is the lowest byte).
            var value = ((chunk & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
            value = ((value & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
            value = ((value & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
            mantissa = mantissa &* 100_000_000 &+ value
            index += 8
        }
        while index < end {
            let digit = base[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            mantissa = mantissa &* 10 &+ UInt64(digit)
            index += 1
        }
    }

    /// Parses a number token (or `-Infinity`) at the current position, digit by digit, keeping
    /// integers of up to 20 digits exact; reports malformed tokens.
    private mutating func parseNumberCarefully() throws(CodecError) -> JSONNumber {
        let start = position
        var negative = false
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "I") {
                try expectLiteral("Infinity")
                return .double(-.infinity)
            }
        }
        guard position < bytes.count, isDigit(bytes[position]) else {
            throw syntaxError("expected a digit")
        }
        // `mantissa` gathers the significant digits (leading zeros skipped). An integer token of up
        // to 20 digits is exact in it unless `overflow`; for the fast double path it must hold at
        // most 19 digits, else `inexact`.
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var overflow = false
        var inexact = false
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) {
                throw syntaxError("leading zeros are not allowed in a number")
            }
        } else {
            while position < bytes.count, isDigit(bytes[position]) {
                let digit = UInt64(bytes[position] &- UInt8(ascii: "0"))
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ digit
                } else if !overflow {
                    let (times10, overflowed) = mantissa.multipliedReportingOverflow(by: 10)
                    let (sum, carried) = times10.addingReportingOverflow(digit)
                    if overflowed || carried { overflow = true } else { mantissa = sum }
                }
                significantDigits += 1
                position += 1
            }
            inexact = significantDigits > 19
        }
        var fractionDigits = 0
        var hasFraction = false
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            hasFraction = true
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw syntaxError("expected a digit after the decimal point")
            }
            while position < bytes.count, isDigit(bytes[position]) {
                let digit = UInt64(bytes[position] &- UInt8(ascii: "0"))
                if significantDigits == 0 && digit == 0 {
                    fractionDigits += 1  // a leading zero, as in 0.000123
                } else if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ digit
                    significantDigits += 1
                    fractionDigits += 1
                } else {
                    inexact = true
                }
                position += 1
            }
        }
        var hasExponent = false
        var exponent = 0
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            hasExponent = true
            position += 1
            var exponentNegative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw syntaxError("expected a digit in the exponent")
            }
            while position < bytes.count, isDigit(bytes[position]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[position] &- UInt8(ascii: "0")) }
                position += 1
            }
            if exponentNegative { exponent = -exponent }
        }

        if !hasFraction && !hasExponent {
            if !overflow {
                if !negative {
                    return mantissa <= UInt64(Int64.max) ? .int(Int64(mantissa)) : .uint(mantissa)
                }
                if mantissa == 0 { return .double(-0.0) }
                if mantissa <= UInt64(Int64.max) { return .int(-Int64(mantissa)) }
                if mantissa == UInt64(Int64.max) + 1 { return .int(.min) }
            }
            return try slowDouble(start, position)
        }

        // The exact fast path, then Eisel-Lemire (both correctly rounded, as the C library is);
        // what they cannot decide goes to the C library.
        if !inexact {
            let scale = exponent - fractionDigits
            if let value = !legacyNumbers
                ? DecimalToDouble.convert(significand: mantissa, exponent: scale, negative: negative)
                : DecimalToDouble.convertExactly(significand: mantissa, exponent: scale, negative: negative)
            {
                return .double(value)
            }
        }
        return try slowDouble(start, position)
    }

    /// Converts the token with the C library's correctly rounded conversion.
    private mutating func slowDouble(_ start: Int, _ end: Int) throws(CodecError) -> JSONNumber {
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        guard let value = Double(text) else {
            position = start
            throw syntaxError("invalid number")
        }
        if value.isInfinite {
            throw CodecError(.malformedJSON, "number \(text.prefix(40)) at byte \(start) is too large for a double")
        }
        return .double(value)
    }

    // MARK: - Helpers

    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// JSON's four whitespace bytes.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < bytes.count, JSONParser.isWhitespace(bytes[position]) { position += 1 }
    }

    /// "expected X at byte N, got 'c'".
    func syntaxError(_ expectation: String) -> CodecError {
        CodecError(.malformedJSON, "\(expectation) at byte \(position), got \(describeByte(at: position))")
    }

    private func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x20 && byte < 0x7F {
            return byte == UInt8(ascii: "'") ? "\"'\"" : "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }
}
