import Testing
import WharfProtocols

@Suite struct JSONWriterTests {
    private func text(_ value: JSONValue) -> String { String(decoding: value.serialized(), as: UTF8.self) }

    private func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return writer.string
    }

    @Test func writesCompactJSONKeepingMemberOrder() {
        let value: JSONValue = [
            "z": [1, -2, .uint(.max)], "a": "text", "n": nil, "t": true, "f": false, "d": 0.5, "o": [:], "l": [],
        ]
        #expect(text(value) == #"{"z":[1,-2,18446744073709551615],"a":"text","n":null,"t":true,"f":false,"d":0.5,"o":{},"l":[]}"#)
    }

    @Test func escapesStrings() {
        #expect(text(.string("q\"b\\s/\n\r\t\u{8}\u{C}\u{1}\u{1F}é😀\u{7F}")) == #""q\"b\\s/\n\r\t\b\f\u0001\u001fé😀"# + "\u{7F}\"")
        #expect(text(.string("")) == #""""#)
        #expect(text(["k\"ey": 1]) == #"{"k\"ey":1}"#)
    }

    @Test func writesIntegersExactly() {
        #expect(written { $0.writeInteger(Int64.min) } == "-9223372036854775808")
        #expect(written { $0.writeInteger(Int64.max) } == "9223372036854775807")
        #expect(written { $0.writeInteger(UInt64.max) } == "18446744073709551615")
        #expect(written { $0.writeInteger(Int64(Int8(-128))) } == "-128")
        #expect(written { $0.writeInteger(Int64(0)) } == "0")
        #expect(written { $0.writeInteger(9_007_199_254_740_993 as Int64) } == "9007199254740993")
    }

    @Test func writesFloatsInTheirOwnShortestForm() {
        #expect(written { $0.writeFloat(0.1) } == "0.1")
        #expect(written { $0.writeDouble(Double(Float(0.1))) } == "0.10000000149011612")
        #expect(written { $0.writeFloat(1) } == "1.0")
        #expect(written { $0.writeFloat(1 / 3) } == "0.33333334")
        #expect(written { $0.writeDouble(0.1) } == "0.1")
        #expect(written { $0.writeDouble(1e-7) } == "1e-07")
        #expect(written { $0.writeDouble(1e21) } == "1e+21")
        #expect(written { $0.writeDouble(-0.0) } == "-0.0")
        #expect(written { $0.writeFloat16(Float16(0.1)) } == "0.1")
        #expect(written { $0.writeFloat16(Float16(65504)) } == "65504.0")
    }

    @Test func spellsNonFiniteNumbersLikeTensorFlowServing() {
        #expect(written { $0.writeDouble(.nan) } == "NaN")
        #expect(written { $0.writeDouble(-.nan) } == "NaN")
        #expect(written { $0.writeFloat(.infinity) } == "Infinity")
        #expect(written { $0.writeFloat16(-.infinity) } == "-Infinity")
    }

    @Test func roundTripsThroughTheParser() throws {
        let value: JSONValue = [
            "ints": [.int(.min), .int(.max), .uint(.max), 0], "reals": [0.1, -2.5e-300, 1e300, .double(.infinity)],
            "text": "line\nbreak \u{0} \"quoted\" 😀", "nested": [[[]], ["a": [:]]], "flags": [true, false, nil],
        ]
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test func everyShortestFloatReadsBackAsTheSameFloat() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
            guard value.isFinite else { continue }
            let text = written { $0.writeFloat(value) }
            let parsed = try #require(try JSONValue.parse(text).doubleValue)
            #expect(Float(parsed).bitPattern == value.bitPattern, "\(text)")
        }
    }
}
