import Testing
import WharfProtocols

@Suite struct JSONParserTests {
    private func parseError(_ text: String, maximumDepth: Int = JSONValue.defaultMaximumDepth) -> CodecError? {
        #expect(throws: CodecError.self) { try JSONValue.parse(text, maximumDepth: maximumDepth) }
    }

    @Test func parsesObjectsKeepingMemberOrder() throws {
        let value = try JSONValue.parse(#" { "b" : 1, "a" : [true, false, null], "c": "x", "d": {} } "#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", "c", "d"])
        #expect(object["b"] == .int(1))
        #expect(object["a"] == .array([.bool(true), .bool(false), .null]))
        #expect(object["c"] == .string("x"))
        #expect(object["d"] == .object(JSONObject()))
        #expect(object["missing"] == nil)
    }

    @Test func keepsDuplicateKeysAndFindsTheFirst() throws {
        let object = try #require(try JSONValue.parse(#"{"k": 1, "k": 2}"#).objectValue)
        #expect(object.count == 2)
        #expect(object["k"] == .int(1))
        #expect(object.firstDuplicateKey == "k")
    }

    @Test func keepsIntegersExact() throws {
        #expect(try JSONValue.parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("9223372036854775808") == .uint(9_223_372_036_854_775_808))
        #expect(try JSONValue.parse("18446744073709551615") == .uint(.max))
        #expect(try JSONValue.parse("0") == .int(0))
        #expect(try JSONValue.parse("-7") == .int(-7))
    }

    @Test func integersBeyond64BitsBecomeDoubles() throws {
        #expect(try JSONValue.parse("18446744073709551616") == .double(18_446_744_073_709_551_616.0))
        #expect(try JSONValue.parse("-9223372036854775809") == .double(-9_223_372_036_854_775_809.0))
        #expect(try JSONValue.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func negativeZeroKeepsItsSign() throws {
        let value = try #require(try JSONValue.parse("-0").doubleValue)
        #expect(value == 0 && value.sign == .minus)
        let fraction = try #require(try JSONValue.parse("-0.0").doubleValue)
        #expect(fraction.sign == .minus)
    }

    @Test func parsesDoublesCorrectlyRounded() throws {
        let cases: [(String, Double)] = [
            ("0.1", 0.1), ("1.5", 1.5), ("-2.25", -2.25), ("1e-7", 1e-7), ("1E+2", 100), ("2.5e3", 2500),
            ("0.000001234", 0.000001234), ("1.7976931348623157e308", .greatestFiniteMagnitude),
            ("5e-324", .leastNonzeroMagnitude), ("2.2250738585072014e-308", .leastNormalMagnitude),
            ("0.30000000000000004", 0.30000000000000004), ("123456789.123456789", 123456789.123456789),
            ("1e-400", 0), ("9007199254740993.0", 9007199254740992), ("3.141592653589793238462643383279", .pi),
        ]
        for (text, expected) in cases {
            let parsed = try #require(try JSONValue.parse(text).doubleValue, "\(text)")
            #expect(parsed.bitPattern == expected.bitPattern, "\(text) parsed as \(parsed)")
        }
    }

    @Test func doublesRoundTripThroughTheirShortestForm() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let value = Double(bitPattern: generator.next())
            guard value.isFinite else { continue }
            let parsed = try #require(try JSONValue.parse(value.description).doubleValue)
            #expect(parsed.bitPattern == value.bitPattern, "\(value.description)")
        }
        for _ in 0..<5_000 {
            // Short decimals take the fast path.
            let value = Double(Int.random(in: -1_000_000...1_000_000)) / 1000
            let parsed = try #require(try JSONValue.parse(value.description).doubleValue)
            #expect(parsed == value, "\(value.description)")
        }
    }

    @Test func acceptsNaNAndInfinities() throws {
        let list = try #require(try JSONValue.parse("[NaN, Infinity, -Infinity]").arrayValue)
        #expect(list.count == 3)
        #expect(list[0].doubleValue?.isNaN == true)
        #expect(list[1] == .double(.infinity))
        #expect(list[2] == .double(-.infinity))
    }

    @Test func decodesStringEscapes() throws {
        #expect(try JSONValue.parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(try JSONValue.parse(#""caf\u00e9 \u00E9""#) == .string("café é"))
        #expect(try JSONValue.parse(#""\ud83d\ude00!""#) == .string("😀!"))
        #expect(try JSONValue.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSONValue.parse("\"raw é 😀\"") == .string("raw é 😀"))
        #expect(try JSONValue.parse(#""""#) == .string(""))
    }

    @Test func rejectsBadStrings() {
        #expect(parseError(#""\ud83d x""#)?.message == #"high surrogate \uD83D not followed by a low surrogate at byte 1, got '\'"#)
        #expect(parseError(#""\ude00""#)?.message == #"lone low surrogate \uDE00 at byte 1, got '\'"#)
        #expect(parseError(#""\x""#)?.message == #"invalid escape in a string at byte 2, got 'x'"#)
        #expect(parseError(#""\u12G4""#)?.message == #"expected 4 hex digits after \u at byte 5, got 'G'"#)
        #expect(parseError("\"a\nb\"")?.message == "unescaped control character in a string at byte 2, got byte 0x0A")
        #expect(parseError(#""abc"#)?.message == "expected '\"' to end the string that starts at byte 0 at byte 4, got end of input")
        #expect(parseError(#"["a\"#)?.message == "expected '\"' to end the string that starts at byte 1 at byte 4, got end of input")
    }

    @Test func rejectsInvalidUTF8WithItsOffset() throws {
        let error = #expect(throws: CodecError.self) { try JSONValue.parse([0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D]) }
        #expect(error?.code == .malformedJSON)
        #expect(error?.message == "invalid UTF-8 in a string at byte 3")
    }

    @Test func reportsSyntaxErrorsWithByteOffsets() {
        #expect(parseError("[1, 2 x]")?.message == "expected ',' or ']' at byte 6, got 'x'")
        #expect(parseError(#"{"a" 1}"#)?.message == "expected ':' after an object key at byte 5, got '1'")
        #expect(parseError(#"{"a": 1 "b": 2}"#)?.message == "expected ',' or '}' at byte 8, got '\"'")
        #expect(parseError("{1: 2}")?.message == "expected a string key at byte 1, got '1'")
        #expect(parseError("")?.message == "expected a JSON value at byte 0, got end of input")
        #expect(parseError("[1,]")?.message == "expected a JSON value at byte 3, got ']'")
        #expect(parseError("[1")?.message == "expected ',' or ']' at byte 2, got end of input")
        #expect(parseError("01")?.message == "leading zeros are not allowed in a number at byte 1, got '1'")
        #expect(parseError("1.")?.message == "expected a digit after the decimal point at byte 2, got end of input")
        #expect(parseError("1e+")?.message == "expected a digit in the exponent at byte 3, got end of input")
        #expect(parseError("-x")?.message == "expected a digit at byte 1, got 'x'")
        #expect(parseError(".5")?.message == "expected a JSON value at byte 0, got '.'")
        #expect(parseError("[1] 2")?.message == "expected end of input after the JSON value at byte 4, got '2'")
        #expect(parseError("tru")?.message == "expected 'true' at byte 3, got end of input")
        #expect(parseError("nan")?.message == "expected 'null' at byte 1, got 'a'")
        #expect(parseError("-Inf")?.message == "expected 'Infinity' at byte 4, got end of input")
        #expect(parseError("1e400")?.message == "number 1e400 at byte 0 is too large for a double")
        #expect(parseError("[1, 2 x]")?.code == .malformedJSON)
    }

    @Test func limitsNestingDepth() throws {
        let allowed = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        var value = try JSONValue.parse(allowed)
        var depth = 0
        while case .array(let elements) = value {
            depth += 1
            value = elements.first ?? .null
        }
        #expect(depth == 512)

        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        let error = parseError(tooDeep)
        #expect(error?.code == .nestingTooDeep)
        #expect(error?.message == "JSON nests lists and objects deeper than 512 levels at byte 512")

        // Far deeper than the stack would allow without the limit.
        #expect(parseError(String(repeating: "[", count: 1_000_000))?.code == .nestingTooDeep)
        #expect(parseError(#"{"a":{"b":[1]}}"#, maximumDepth: 2)?.code == .nestingTooDeep)
        #expect(try JSONValue.parse(#"{"a":{"b":1}}"#, maximumDepth: 2)["a"]?["b"] == .int(1))
    }

    @Test func skipsWhitespaceAndAByteOrderMark() throws {
        #expect(try JSONValue.parse(" \t\r\n[ 1 ,\n2 ] \n") == .array([.int(1), .int(2)]))
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF, 0x31]) == .int(1))
    }

    @Test func parsesFromARawBuffer() throws {
        let bytes = Array(#"{"x":[1.5,2]}"#.utf8)
        let value = try bytes.withUnsafeBytes { try JSONValue.parse($0) }
        #expect(value["x"] == .array([.double(1.5), .int(2)]))
    }
}
