#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import WharfCore
@testable import WharfProtocols

// The direct decoders must give exactly what the tree decoders give: the same tensors, bit for bit,
// and the same errors. "Old" below is the tree path with the old number parsing, i.e. the codec as
// it was before the direct path.

// MARK: - Comparing the two paths

private func bytesOf(_ text: String) -> [UInt8] { Array(text.utf8) }

private func sameError(_ a: any Error, _ b: any Error) -> Bool {
    if let a = a as? CodecError, let b = b as? CodecError { return a.code == b.code && a.message == b.message }
    return String(describing: a) == String(describing: b)
}

private func describe(_ error: any Error) -> String {
    if let error = error as? CodecError { return "\(error.code): \(error.message)" }
    return String(describing: error)
}

private func describe(_ inputs: [String: Tensor]) -> String {
    inputs.keys.sorted().map { "\($0): \(inputs[$0]!)" }.joined(separator: ", ")
}

/// Decodes a V2 body both ways; records an issue when they differ. Returns the new result.
@discardableResult
private func checkV2(
    _ body: [UInt8], headerLength: Int? = nil, expectDirect: Bool? = nil, sourceLocation: SourceLocation = #_sourceLocation
) -> Result<KServeV2.InferRequest, CodecError> {
    let new = body.withUnsafeBytes { raw in
        Result { () throws(CodecError) in try KServeV2.decodeInferRequest(raw, headerLength: headerLength) }
    }
    let jsonLength = headerLength ?? body.count
    let old = body.withUnsafeBufferPointer { bytes in
        Result { () throws(CodecError) in
            try KServeV2.decodeTree(
                header: UnsafeBufferPointer(rebasing: bytes[0..<jsonLength]),
                binary: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[jsonLength...])), legacyNumbers: true)
        }
    }
    let text = String(decoding: body.prefix(300), as: UTF8.self)
    switch (new, old) {
    case (.success(let a), .success(let b)):
        #expect(a.inputs == b.inputs, "\(describe(a.inputs)) vs \(describe(b.inputs)) for \(text)", sourceLocation: sourceLocation)
        #expect(a.id == b.id && a.outputs == b.outputs && a.binaryOutputs == b.binaryOutputs, sourceLocation: sourceLocation)
        #expect(a.signatureName == b.signatureName, sourceLocation: sourceLocation)
    case (.failure(let a), .failure(let b)):
        #expect(sameError(a, b), "\(describe(a)) vs \(describe(b)) for \(text)", sourceLocation: sourceLocation)
    case (.success, .failure(let b)):
        Issue.record("the new path accepts what the old one rejects (\(describe(b))): \(text)", sourceLocation: sourceLocation)
    case (.failure(let a), .success):
        Issue.record("the new path rejects what the old one accepts (\(describe(a))): \(text)", sourceLocation: sourceLocation)
    }
    if let expectDirect {
        let direct = body.withUnsafeBufferPointer { bytes in
            (try? KServeV2.decodeDirect(
                header: UnsafeBufferPointer(rebasing: bytes[0..<jsonLength]),
                binary: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[jsonLength...])))) != nil
        }
        #expect(direct == expectDirect, "direct path \(direct ? "took" : "did not take") \(text)", sourceLocation: sourceLocation)
    }
    return new
}

/// Decodes a TF Serving body both ways; records an issue when they differ. Returns the new result.
@discardableResult
private func checkTF(
    _ body: [UInt8], _ signature: Signature, expectDirect: Bool? = nil, sourceLocation: SourceLocation = #_sourceLocation
) -> Result<TFServingJSON.PredictRequest, any Error> {
    var calls = 0
    let new = Result {
        try TFServingJSON.decodePredictRequest(body) { _ in
            calls += 1
            return signature
        }
    }
    let old = body.withUnsafeBufferPointer { bytes in
        Result { try TFServingJSON.decodeTree(bytes: bytes, maximumDepth: 512, legacyNumbers: true) { _ in signature } }
    }
    #expect(calls <= 1, "the resolver ran \(calls) times", sourceLocation: sourceLocation)
    let text = String(decoding: body.prefix(300), as: UTF8.self)
    switch (new, old) {
    case (.success(let a), .success(let b)):
        #expect(a.inputs == b.inputs, "\(describe(a.inputs)) vs \(describe(b.inputs)) for \(text)", sourceLocation: sourceLocation)
        #expect(a.format == b.format && a.signatureKey == b.signatureKey, sourceLocation: sourceLocation)
    case (.failure(let a), .failure(let b)):
        #expect(sameError(a, b), "\(describe(a)) vs \(describe(b)) for \(text)", sourceLocation: sourceLocation)
    case (.success, .failure(let b)):
        Issue.record("the new path accepts what the old one rejects (\(describe(b))): \(text)", sourceLocation: sourceLocation)
    case (.failure(let a), .success):
        Issue.record("the new path rejects what the old one accepts (\(describe(a))): \(text)", sourceLocation: sourceLocation)
    }
    if let expectDirect {
        let direct = body.withUnsafeBufferPointer { bytes in
            (try? TFServingJSON.decodeDirect(bytes: bytes, maximumDepth: 512) { _ in signature }) != nil
        }
        #expect(direct == expectDirect, "direct path \(direct ? "took" : "did not take") \(text)", sourceLocation: sourceLocation)
    }
    return new
}

private func spec(_ name: String, _ dtype: DataType, _ shape: [Int]) -> TensorSpec {
    TensorSpec(name: name, dtype: dtype, shape: TensorShape(shape))
}

private func signature(_ inputs: TensorSpec...) -> Signature {
    Signature(key: Signature.defaultKey, inputs: inputs, outputs: [spec("y", .float32, [-1])])
}

// MARK: - Random JSON

/// `printf`-style formatting of one double (`%.17g`, `%.3e`, ...).
private func formatted(_ value: Double, _ format: String) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
        _ = withVaList([value]) { vsnprintf(buffer.baseAddress!, 64, format, $0) }
        return String(cString: buffer.baseAddress!)
    }
}

private struct Random {
    var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &generator) }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &generator) < probability }
    mutating func bits() -> UInt64 { generator.next() }
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...(choices.count - 1))] }

    /// A random run of decimal digits, the first not zero unless `count` is 1.
    mutating func digits(_ count: Int) -> String {
        var text = String(int(count == 1 ? 0...9 : 1...9))
        for _ in 1..<max(count, 1) { text += String(int(0...9)) }
        return text
    }

    /// A random JSON number token of almost any form.
    mutating func numberToken() -> String {
        switch int(0...11) {
        case 0:  // Shortest form of a random double (random bits, so every magnitude).
            var value = Double(bitPattern: bits())
            while !value.isFinite { value = Double(bitPattern: bits()) }
            return value.description
        case 1:  // 17 significant digits of a random double.
            var value = Double(bitPattern: bits())
            while !value.isFinite { value = Double(bitPattern: bits()) }
            return formatted(value, "%.17g").replacingInf()
        case 2:  // A float32 widened to a double, as Python writes it.
            var value = Float(bitPattern: UInt32(truncatingIfNeeded: bits()))
            while !value.isFinite { value = Float(bitPattern: UInt32(truncatingIfNeeded: bits())) }
            return Double(value).description
        case 3:  // Shortest form of a random float32.
            var value = Float(bitPattern: UInt32(truncatingIfNeeded: bits()))
            while !value.isFinite { value = Float(bitPattern: UInt32(truncatingIfNeeded: bits())) }
            return value.description
        case 4:  // A value in [0, 1) with 1 to 20 fraction digits.
            return (chance(0.2) ? "-" : "") + "0." + String(repeating: "0", count: int(0...3)) + digits(int(1...20))
        case 5:  // An integer token of 1 to 21 digits.
            return (chance(0.3) ? "-" : "") + digits(int(1...21))
        case 6:  // Significand and exponent anywhere.
            let significand = digits(int(1...19))
            let point = int(0...significand.count)
            var text = String(significand.prefix(point))
            if text.isEmpty { text = "0" }
            if point < significand.count { text += "." + significand.dropFirst(point) }
            return (chance(0.3) ? "-" : "") + text + pick(["e", "E"]) + pick(["", "+", "-"]) + String(int(0...350))
        case 7:  // Near the ends of the double range, subnormals included.
            return (chance(0.3) ? "-" : "") + digits(int(1...19)) + "e" + String(pick([-330, -324, -320, -310, -308, -307, 290, 300, 307, 308]) + int(-3...3))
        case 8:  // Long significands.
            return digits(int(18...40)) + (chance(0.5) ? "." + digits(int(1...30)) : "") + (chance(0.5) ? "e-" + String(int(0...40)) : "")
        case 9:  // Special spellings.
            return pick(["0", "-0", "0.0", "-0.0", "0e5", "-0e-5", "1e0", "1E+0", "9007199254740993", "9007199254740993.0",
                         "18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
                         "9223372036854775807", "9223372036854775808", "4.9e-324", "2.4703282292062327e-324",
                         "2.4703282292062328e-324", "2.2250738585072011e-308", "2.2250738585072014e-308",
                         "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e23", "8.98846567431158e307",
                         "1.4e-45", "1e-45", "7e-46", "3.4028235e38", "3.4028236e38", "3.40282357e38", "65504", "65520", "6e-8",
                         "5.960464477539063e-08", "0.1", "0.2", "0.30000000000000004", "123456789012345678e-5"])
        case 10:  // Small integers and integral doubles.
            return pick(["", "-"]) + String(int(0...300)) + pick(["", ".0", "e0", "e1", ".5", "e-1"])
        default:  // Ordinary decimals.
            return (chance(0.3) ? "-" : "") + digits(int(1...6)) + "." + digits(int(1...10))
        }
    }
}

extension String {
    fileprivate func replacingInf() -> String {
        self == "inf" ? "1e400" : self == "-inf" ? "-1e400" : self
    }
}

// MARK: - Tests

@Suite struct DirectDecodingTests {
    // MARK: Numbers

    @Test func powerOfTenTableIsExact() {
        func entry(_ exponent: Int) -> (UInt64, UInt64) {
            let index = 2 * (exponent - PowersOfTen.minimumExponent)
            return (PowersOfTen.table[index], PowersOfTen.table[index + 1])
        }
        #expect(entry(0) == (0x8000_0000_0000_0000, 0))
        #expect(entry(1) == (0xA000_0000_0000_0000, 0))
        #expect(entry(43).0 == 0xE596_B7B0_C643_C719)  // 10^43 = 0xE596B7B0_C643C719_6D9CCD05_D0000000 × 2^15
        #expect(entry(43).1 == 0x6D9C_CD05_D000_0000)
        #expect(entry(-1) == (0xCCCC_CCCC_CCCC_CCCC, 0xCCCC_CCCC_CCCC_CCCC))  // 0.1, truncated
        #expect(entry(-2) == (0xA3D7_0A3D_70A3_D70A, 0x3D70_A3D7_0A3D_70A3))  // 0.01, truncated
    }

    /// The new number parser gives what the old one and the C library give, for numbers of every
    /// form: bit for bit, and the same error.
    @Test func numbersParseAsBefore() throws {
        var random = Random(seed: 1)
        var checked = 0
        for _ in 0..<200_000 {
            let token = random.numberToken()
            let bytes = bytesOf(token)
            let (new, old) = bytes.withUnsafeBufferPointer { buffer in
                var parser = JSONParser(bytes: buffer, maximumDepth: 512)
                var legacy = JSONParser(bytes: buffer, maximumDepth: 512, legacyNumbers: true)
                return (
                    Result { () throws(CodecError) in try parser.parseNumber() }.map { ($0, parser.position) },
                    Result { () throws(CodecError) in try legacy.parseNumber() }.map { ($0, legacy.position) })
            }
            switch (new, old) {
            case (.success(let a), .success(let b)):
                #expect(a.1 == b.1, "\(token)")
                switch (a.0, b.0) {
                case (.double(let x), .double(let y)):
                    #expect(x.bitPattern == y.bitPattern, "\(token): \(x) vs \(y)")
                    // And the C library agrees.
                    if let reference = Double(token) { #expect(x.bitPattern == reference.bitPattern, "\(token)") }
                default:
                    #expect(a.0 == b.0, "\(token)")
                }
            case (.failure(let a), .failure(let b)):
                #expect(a.message == b.message, "\(token)")
            default:
                Issue.record("\(token): \(new) vs \(old)")
            }
            checked += 1
        }
        #expect(checked == 200_000)
    }

    /// Eisel-Lemire alone against the C library, on significands of up to 19 digits scaled by
    /// every power of ten in the table's range: it either declines or is exactly right.
    @Test func eiselLemireIsExactOrDeclines() {
        var random = Random(seed: 2)
        var declined = 0
        for round in 0..<300_000 {
            let digitCount = random.int(1...19)
            var significand: UInt64 = 0
            for position in 0..<digitCount { significand = significand * 10 + UInt64(random.int(position == 0 ? 1...9 : 0...9)) }
            if round % 7 == 0 { significand = UInt64(random.int(1...1 << 53)) << UInt64(random.int(0...10)) }
            let exponent = random.int(-345...345)
            guard let value = DecimalToDouble.eiselLemire(significand: significand, exponent: exponent, negative: false) else {
                declined += 1
                continue
            }
            let reference = Double("\(significand)e\(exponent)")!
            #expect(value.bitPattern == reference.bitPattern, "\(significand)e\(exponent): \(value) vs \(reference)")
        }
        // It declines subnormal and overflowing results, and very few others.
        #expect(declined < 300_000 / 4)
    }

    // MARK: Floating-point literals

    @Test func floatLiteralsDecodeAsFloatOfDouble() throws {
        let literals = [
            "0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "1e-7", "1E+2", "2.5e-3", "123456789", "16777217", "16777216.5",
            "9007199254740993", "18446744073709551615", "18446744073709551616", "-9223372036854775808",
            "0.12345678901234567", "3.4028234663852886e38", "3.4028235677973366e38", "3.4028235677973367e38",
            "1.1754943508222875e-38", "1.401298464324817e-45", "7.006492321624085e-46", "7.006492321624086e-46",
            "4.9e-324", "2.2250738585072011e-308", "1.7976931348623157e308", "1e-400", "-1e-400",
            "65504", "65519.99", "65520", "5.960464477539063e-08", "2.9802322387695312e-08", "2.980232238769532e-08",
            "0.30000000000000004", "100000000000000000000000", "1e23", "NaN", "Infinity", "-Infinity",
        ]
        for dtype in [DataType.float16, .float32, .float64] {
            let data = "[" + literals.joined(separator: ", ") + "]"
            let body = bytesOf(
                #"{"inputs": [{"name": "x", "datatype": "\#(dtype.v2Name)", "shape": [\#(literals.count)], "data": \#(data)}]}"#)
            let result = checkV2(body)
            guard case .success(let request) = result else {
                // float16 rejects the values beyond its range, and so does float32; the same error either way.
                #expect(dtype != .float64)
                continue
            }
            let tensor = try #require(request.inputs["x"])
            for (index, literal) in literals.enumerated() {
                let reference = literal == "NaN" ? Double.nan : literal == "Infinity" ? .infinity : literal == "-Infinity" ? -.infinity : Double(literal)!
                switch dtype {
                case .float64:
                    let value = try tensor.scalars(as: Double.self)[index]
                    #expect(value.bitPattern == reference.bitPattern || (value.isNaN && reference.isNaN), "\(literal)")
                default:
                    break
                }
            }
        }
        // Float32 and float16 without the out-of-range literals.
        let inRange = literals.filter { !["3.4028235677973366e38", "3.4028235677973367e38", "1.7976931348623157e308",
                                          "100000000000000000000000", "1e23", "65520", "18446744073709551616",
                                          "18446744073709551615", "-9223372036854775808", "9007199254740993",
                                          "123456789", "16777217", "16777216.5", "3.4028234663852886e38"].contains($0) }
        for dtype in [DataType.float16, .float32] {
            let data = "[" + inRange.joined(separator: ",") + "]"
            let body = bytesOf(#"{"inputs": [{"data": \#(data), "name": "x", "shape": [\#(inRange.count)], "datatype": "\#(dtype.v2Name)"}]}"#)
            let request = try checkV2(body, expectDirect: true).get()
            let tensor = try #require(request.inputs["x"])
            for (index, literal) in inRange.enumerated() {
                let reference = literal == "NaN" ? Double.nan : literal == "Infinity" ? .infinity : literal == "-Infinity" ? -.infinity : Double(literal)!
                if dtype == .float32 {
                    let value = try tensor.scalars(as: Float.self)[index]
                    #expect(value.bitPattern == Float(reference).bitPattern, "\(literal)")
                } else {
                    let value = try tensor.scalars(as: Float16.self)[index]
                    #expect(value.bitPattern == Float16(reference).bitPattern, "\(literal)")
                }
            }
        }
    }

    /// Float tensors read runs of numbers on a fast path (`fastDecimal`, `continueRun`) that must
    /// give what the tree decoder gives, or hand the token back: each edge token sits inside a run,
    /// with plain and odd spacing, and every prefix of such a body fails the same way both ways.
    @Test func floatRunsMatchTheTreeDecoderAtTheirEdges() {
        let tokens = [
            "-0", "0", "-0.0", "0e0", "9007199254740992", "9007199254740993", "-9007199254740993", "16777217",
            "1234567890123456789", "12345678901234567890", "0.1234567890123456789", "0.12345678901234567891",
            "0.0001234567890123456789", "0.00012345678901234567891", "0.000", "1e99999", "1e-99999", "1e100000",
            "1.5e+5", "2E-3", "1e308", "4.9e-324", "3.4028235677973366e38", "65520", "NaN", "Infinity", "-Infinity",
            "01", "1.", "1e", "1e+", "-", "-a", "[0.5]",
        ]
        for dtype in [DataType.float16, .float32, .float64] {
            for token in tokens {
                for separator in [", ", ",\n\t "] {
                    let data = "[" + ["0.5", token, "0.25", token, "0.125"].joined(separator: separator) + "]"
                    let body = bytesOf(#"{"inputs": [{"name": "x", "datatype": "\#(dtype.v2Name)", "shape": [5], "data": \#(data)}]}"#)
                    _ = checkV2(body)
                }
            }
            let body = bytesOf(#"{"inputs": [{"name": "x", "datatype": "\#(dtype.v2Name)", "shape": [4], "data": [0.5, -0.000123456789012345678, 1.5e-3, 42]}]}"#)
            for cut in 40..<body.count { _ = checkV2(Array(body.prefix(cut))) }
        }
    }

    /// Float32 runs convert through an approximate double (`DecimalToDouble.convertForFloat`)
    /// that must round to the same float as the nearest double: tokens at, beside and around the
    /// midpoints between neighbouring floats (where the two could differ), at every magnitude the
    /// shortcut takes, must decode to `Float(Double(token))`, bit for bit.
    @Test func float32RunsRoundLikeTheirNearestDoubleNearFloatTies() throws {
        var random = Random(seed: 11)
        var tokens: [String] = []
        for _ in 0..<400 {
            // A normal float with a decimal exponent the shortcut covers (17 to 19 digits, ±22).
            let magnitude = Float(pow(10, Double(random.int(-5...6))))
            let float = Float(Double(random.int(1...1_000_000)) / 1_000_000) * magnitude
            let tie = (Double(float) + Double(float.nextUp)) / 2
            for value in [tie, tie.nextUp, tie.nextDown, tie.nextUp.nextUp, tie.nextDown.nextDown] {
                tokens.append(value.description)
                tokens.append(formatted(value, "%.17g"))
                tokens.append(formatted(value, "%.18g"))
            }
            // 19 significant digits just either side of the tie, beyond what a double holds.
            let digits = formatted(tie, "%.18e")
            tokens.append(digits)
            tokens.append(formatted(tie.nextUp, "%.18e"))
            // And the common case, a float widened to a double as Python writes it.
            tokens.append(Double(float).description)
        }
        let data = "[" + tokens.joined(separator: ", ") + "]"
        let body = bytesOf(#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [\#(tokens.count)], "data": \#(data)}]}"#)
        let request = try checkV2(body, expectDirect: true).get()
        let values = try #require(request.inputs["x"]).scalars(as: Float.self)
        for (token, value) in zip(tokens, values) {
            #expect(value.bitPattern == Float(Double(token)!).bitPattern, "\(token)")
        }
        // The shortcut itself: it declines the tokens near ties, answers the common ones, and
        // always gives the right float.
        var answered = 0
        for token in tokens {
            let bytes = Array(token.utf8)
            var number = JSONParser.ScannedDecimal()
            var index = 0
            let scanned = bytes.withUnsafeBufferPointer { JSONParser.scanDecimal($0.baseAddress!, $0.count, &index, into: &number) }
            #expect(scanned && number.digits <= 19, "\(token)")
            if let quick = DecimalToDouble.convertForFloat(significand: number.mantissa, exponent: number.exponent, negative: number.negative) {
                answered += 1
                #expect(Float(quick).bitPattern == Float(Double(token)!).bitPattern, "\(token)")
            }
        }
        #expect(answered >= 380, "the shortcut answered \(answered) of \(tokens.count)")
    }

    @Test func integerTokensForFloatTypesRoundOnce() throws {
        // 2^24 + 1 and 2^53 + 1 round (ties to even) straight from the integer, as before.
        let body = bytesOf(#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [4], "data": [16777217, 9007199254740993, 9223372036854775807, 18446744073709551615]}]}"#)
        let request = try checkV2(body, expectDirect: true).get()
        #expect(try request.inputs["x"]?.scalars(as: Float.self) == [16_777_216, Float(9_007_199_254_740_993 as Int64), Float(Int64.max), Float(UInt64.max)])
    }

    // MARK: Random tensors

    /// A random value token for `dtype`; `bad` allows values the type rejects.
    private static func elementToken(_ dtype: DataType, _ random: inout Random, bad: Bool) -> String {
        if bad && random.chance(0.5) {
            return random.pick(["\"x\"", "null", "{}", "true", "1.5", "1e400", "-1", "300", "1e39", "70000", "NaN", "[]", "[1]", "01", "1.", "--1"])
        }
        switch dtype {
        case .bool:
            return random.pick(["true", "false"])
        case .float16, .float32, .float64:
            if random.chance(0.05) { return random.pick(["NaN", "Infinity", "-Infinity"]) }
            let token = random.numberToken()
            guard !bad else { return token }
            // Keep finite doubles within the element type's range.
            let value = Double(token) ?? 0
            if !value.isFinite { return "0.5" }
            if dtype == .float16, Float16(value).isInfinite { return "-2.5" }
            if dtype == .float32, Float(value).isInfinite { return "1e-3" }
            return token
        default:
            let width = dtype.byteWidth! * 8
            let signed = [DataType.int8, .int16, .int32, .int64].contains(dtype)
            let limit = width == 64 ? (signed ? Int64.max : Int64.max) : Int64(1) << Int64(signed ? width - 1 : width) - 1
            var value = Int64(random.int(0...Int(limit)))
            if signed && random.chance(0.5) { value = -value - (random.chance(0.1) ? 1 : 0) }
            switch random.int(0...9) {
            case 0: return "\(value).0"
            case 1 where value % 100 == 0 && value != 0: return "\(value / 100)e2"
            case 2 where value == 0: return random.pick(["-0", "0e7", "-0.0"])
            case 3 where dtype == .uint64: return String(UInt64.max - UInt64(random.int(0...1000)))
            default: return "\(value)"
            }
        }
    }

    private static let whitespace = ["", "", "", " ", "\n", "\t", "\r\n  "]

    /// `count` elements as nested lists of `shape` (flat when `shape` is one dimension).
    private static func nested(_ tokens: [String], shape: [Int], _ random: inout Random) -> String {
        var index = 0
        func build(_ level: Int) -> String {
            if level == shape.count {
                defer { index += 1 }
                return tokens[index]
            }
            let ws = random.pick(whitespace)
            return "[" + ws + (0..<shape[level]).map { _ in build(level + 1) }.joined(separator: "," + random.pick(whitespace)) + ws + "]"
        }
        return build(0)
    }

    @Test func randomV2TensorsDecodeAsBefore() throws {
        var random = Random(seed: 3)
        let dtypes = DataType.allCases.filter { $0 != .string }
        var successes = 0
        for round in 0..<1500 {
            let dtype = dtypes[round % dtypes.count]
            let rank = random.int(0...4)
            let shape = (0..<rank).map { _ in random.int(0...(rank > 2 ? 3 : 6)) }
            let count = shape.reduce(1, *)
            let bad = random.chance(0.15)
            var tokens = (0..<count).map { _ in Self.elementToken(dtype, &random, bad: false) }
            if bad, count > 0 { tokens[random.int(0...(count - 1))] = Self.elementToken(dtype, &random, bad: true) }
            // Data nested as the shape says, flat, or (rarely) nested otherwise, with a wrong
            // element count now and then.
            var dataShape = random.chance(0.5) ? shape : [count]
            if random.chance(0.1), count > 1 { dataShape = [count / 2, 2]; if count % 2 == 1 { tokens.removeLast() } }
            if random.chance(0.05) { tokens.append("1") ; dataShape = [tokens.count] }
            let data = Self.nested(tokens, shape: dataShape, &random)
            var members = [
                #""name": "x\#(round % 3)""#, #""datatype": "\#(dtype.v2Name)""#,
                #""shape": [\#(shape.map(String.init).joined(separator: ", "))]"#, #""data": \#(data)"#,
            ]
            if random.chance(0.5) { members.shuffle(using: &random.generator) }
            var inputs = ["{" + members.joined(separator: random.pick([", ", ","])) + "}"]
            if random.chance(0.2) {
                inputs.append(#"{"name": "extra", "datatype": "INT32", "shape": [2], "data": [1, 2]}"#)
            }
            var root = [#""inputs": [\#(inputs.joined(separator: ", "))]"#]
            if random.chance(0.3) { root.append(#""id": "r\#(round)""#) }
            if random.chance(0.2) { root.append(#""outputs": [{"name": "y", "parameters": {"binary_data": true}}]"#) }
            if random.chance(0.2) { root.append(#""parameters": {"binary_data_output": false, "signature_name": "s"}"#) }
            root.shuffle(using: &random.generator)
            let body = bytesOf("{" + root.joined(separator: ", ") + "}")
            if case .success = checkV2(body) { successes += 1 }
        }
        #expect(successes > 800)
    }

    @Test func randomTFServingTensorsDecodeAsBefore() throws {
        var random = Random(seed: 4)
        let dtypes = DataType.allCases.filter { $0 != .string }
        var successes = 0
        for round in 0..<1500 {
            let dtype = dtypes[round % dtypes.count]
            let rank = random.int(0...3)
            let partShape = (0..<rank).map { _ in random.int(0...4) }
            let partCount = partShape.reduce(1, *)
            let bad = random.chance(0.15)
            func part() -> String {
                var tokens = (0..<partCount).map { _ in Self.elementToken(dtype, &random, bad: false) }
                if bad, partCount > 0, random.chance(0.5) { tokens[random.int(0...(partCount - 1))] = Self.elementToken(dtype, &random, bad: true) }
                var text = Self.nested(tokens, shape: partShape, &random)
                if bad, random.chance(0.3) {
                    // Make it ragged or of another shape.
                    text = random.pick(["[" + text + "]", "[" + text + ", 1]", "[[1], " + text + "]", "[]"])
                }
                return text
            }
            let sig = signature(spec("a", dtype, []), spec("b", .int32, []))
            let single = signature(spec("x", dtype, []))
            let body: String
            let signatureUsed: Signature
            switch random.int(0...3) {
            case 0:
                let rows = (0..<random.int(1...3)).map { _ in part() }
                body = #"{"instances": [\#(rows.joined(separator: ", "))]}"#
                signatureUsed = single
            case 1:
                let rows = (0..<random.int(1...3)).map { _ in
                    random.chance(0.8) ? #"{"a": \#(part()), "b": 7}"# : #"{"b": 8, "a": \#(part())}"#
                }
                body = #"{"signature_name": null, "instances": [\#(rows.joined(separator: ", "))]}"#
                signatureUsed = sig
            case 2:
                body = #"{"inputs": \#(part()), "other": [1, "two", {"3": null}]}"#
                signatureUsed = single
            default:
                body = #"{"inputs": {"b": [1, 2], "a": \#(part())}, "signature_name": "serving_default"}"#
                signatureUsed = sig
            }
            if case .success = checkTF(bytesOf(body), signatureUsed) { successes += 1 }
        }
        #expect(successes > 800)
    }

    /// Bodies with one byte changed, dropped or added decode the same way (mostly errors).
    @Test func mutatedBodiesDecodeAsBefore() {
        var random = Random(seed: 5)
        let v2 = bytesOf(#"{"id": "a", "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [[1.5, -2e-3, 3], [4, 5.25, 6]]}, {"data": [true, false], "name": "b", "shape": [2], "datatype": "BOOL"}], "outputs": [{"name": "y"}]}"#)
        let tf = bytesOf(#"{"signature_name": "serving_default", "instances": [{"x": [1.5, -2e-3, 3], "n": 4}, {"x": [4, 5.25, 6], "n": -1}]}"#)
        let sig = signature(spec("x", .float32, [-1, 3]), spec("n", .int8, [-1]))
        let replacements = Array("[]{},:\"-+.eE0159 tfnNI\\x".utf8) + [0xFF, 0x00]
        for _ in 0..<3000 {
            for (original, isV2) in [(v2, true), (tf, false)] {
                var body = original
                let index = random.int(0...(body.count - 1))
                switch random.int(0...2) {
                case 0: body[index] = random.pick(replacements)
                case 1: body.remove(at: index)
                default: body.insert(random.pick(replacements), at: index)
                }
                if isV2 { checkV2(body) } else { checkTF(body, sig) }
            }
        }
    }

    // MARK: Orderings and layouts

    @Test func v2DataBeforeDatatypeAndShape() throws {
        for body in [
            #"{"inputs": [{"data": [1, 2, 3, 4.5, -0, 1e-3], "name": "x", "datatype": "FP64", "shape": [2, 3]}]}"#,
            #"{"inputs": [{"name": "x", "data": [[1, 2, 3], [4.5, -0, 1e-3]], "shape": [2, 3], "datatype": "FP64"}]}"#,
            #"{"inputs": [{"datatype": "FP64", "data": [1, 2, 3, 4.5, -0, 1e-3], "name": "x", "shape": [2, 3]}]}"#,
            #"{"inputs": [{"shape": [2, 3], "data": [1, 2, 3, 4.5, -0, 1e-3], "name": "x", "datatype": "FP64"}]}"#,
        ] {
            let request = try checkV2(bytesOf(body), expectDirect: true).get()
            #expect(try request.inputs["x"]?.scalars(as: Double.self) == [1, 2, 3, 4.5, 0, 1e-3])
            #expect(request.inputs["x"]?.shape == [2, 3])
        }
        // The same errors when data comes first.
        #expect(checkV2(bytesOf(#"{"inputs": [{"data": [1, 2], "name": "x", "datatype": "INT8", "shape": [3]}]}"#), expectDirect: false)
            .failureMessage == "input 'x' shape [3] holds 3 elements, data has 2")
        #expect(checkV2(bytesOf(#"{"inputs": [{"data": [1, 300], "name": "x", "datatype": "UINT8", "shape": [2]}]}"#), expectDirect: false)
            .failureMessage == "input 'x' value 300 is out of range for uint8 at inputs.x[1]")
        let strings = try checkV2(
            bytesOf(#"{"inputs": [{"data": ["a", "b"], "name": "s", "datatype": "BYTES", "shape": [2]}]}"#), expectDirect: true
        ).get()
        #expect(try strings.inputs["s"]?.strings() == [[0x61], [0x62]])
    }

    @Test func v2NestedFlatAndOddlyNestedData() throws {
        // The V2 decoder has always flattened data however it nests.
        for data in ["[1, 2, 3, 4, 5, 6]", "[[1, 2, 3], [4, 5, 6]]", "[[1, 2], [3, 4], [5, 6]]", "[[[1]], 2, [3, [4, [5]]], [], 6]"] {
            let request = try checkV2(
                bytesOf(#"{"inputs": [{"name": "x", "shape": [2, 3], "datatype": "INT32", "data": \#(data)}]}"#), expectDirect: true
            ).get()
            #expect(try request.inputs["x"]?.scalars(as: Int32.self) == [1, 2, 3, 4, 5, 6])
        }
        let scalar = try checkV2(bytesOf(#"{"inputs": [{"name": "x", "shape": [], "datatype": "INT64", "data": 7}]}"#), expectDirect: true).get()
        #expect(try scalar.inputs["x"]?.scalars(as: Int64.self) == [7])
        let empty = try checkV2(bytesOf(#"{"inputs": [{"name": "x", "shape": [0, 3], "datatype": "FP32", "data": [[]]}]}"#), expectDirect: true).get()
        #expect(empty.inputs["x"]?.shape == [0, 3])
    }

    @Test func v2ErrorsAreTheOldOnes() {
        let cases: [(String, String)] = [
            (#"{"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1, "a"]}]}"#, #"input 'x' expects float32, got a string "a" at inputs.x[1]"#),
            (#"{"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1, true]}]}"#, "input 'x' expects float32, got true at inputs.x[1]"),
            (#"{"inputs": [{"name": "x", "shape": [2], "datatype": "INT32", "data": [1, 1.5]}]}"#, "input 'x' expects int32, got 1.5 at inputs.x[1]"),
            (#"{"inputs": [{"name": "x", "shape": [2], "datatype": "INT16", "data": [1, 40000]}]}"#, "input 'x' value 40000 is out of range for int16 at inputs.x[1]"),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1e39]}]}"#, "input 'x' value 1e+39 is out of range for float32 at inputs.x[0]"),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1e400]}]}"#, ""),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": [1]}]}"#, "input 'x' expects bool, got 1 at inputs.x[0]"),
            (#"{"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]}"#, "input 'x' shape [3] holds 3 elements, data has 2"),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1, 2]}]}"#, "input 'x' data holds more elements than its shape (1)"),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1, ]}]}"#, ""),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [01]}]}"#, ""),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1], "data": [2]}]}"#, ""),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1], "parameters": {"binary_data_size": 4}}]}"#, #"input 'x' has both "data" and binary_data_size; send one"#),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}"#, "input 'x' appears more than once"),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "inputs": 5}"#, ""),
            (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]} x"#, ""),
            (#"{"inputs": [{"name": "x", "shape": [1000000], "datatype": "FP64", "data": [1]}]}"#, "input 'x' shape [1000000] holds 1000000 elements, data has 1"),
            (#"{"inputs": [{"name": "x", "shape": [1099511627777], "datatype": "FP64", "data": [1]}]}"#, "input 'x' shape [1099511627777] has more elements than a tensor can hold"),
        ]
        for (body, message) in cases {
            let result = checkV2(bytesOf(body))
            if !message.isEmpty { #expect(result.failureMessage == message, "\(body)") }
        }
        // Nesting deeper than the parser allows.
        let deep = #"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": "# + String(repeating: "[", count: 600) + "1" + String(repeating: "]", count: 600) + "}]}"
        #expect(checkV2(bytesOf(deep)).failureCode == .nestingTooDeep)
    }

    @Test func v2BinaryAndJSONInputsTogether() throws {
        let header = #"{"inputs": [{"name": "b", "shape": [2], "datatype": "INT32", "parameters": {"binary_data_size": 8}}, {"name": "j", "shape": [2], "datatype": "INT32", "data": [3, 4]}]}"#
        var body = bytesOf(header)
        withUnsafeBytes(of: Int32(1).littleEndian) { body.append(contentsOf: $0) }
        withUnsafeBytes(of: Int32(2).littleEndian) { body.append(contentsOf: $0) }
        let request = try checkV2(body, headerLength: header.utf8.count, expectDirect: true).get()
        #expect(try request.inputs["b"]?.scalars(as: Int32.self) == [1, 2])
        #expect(try request.inputs["j"]?.scalars(as: Int32.self) == [3, 4])
    }

    @Test func tfServingLayoutsTakeTheDirectPath() throws {
        let sig = signature(spec("a", .float32, [-1, 2]), spec("b", .int64, [-1]))
        let single = signature(spec("x", .float64, [-1, 2]))
        let bodies: [(String, Signature)] = [
            (#"{"instances": [[1, 2], [3, 4.5]]}"#, single),
            (#"{"inputs": [[1, 2], [3, 4.5]]}"#, single),
            (#"{"signature_name": "serving_default", "instances": [{"a": [1, 2], "b": 3}, {"a": [4, 5], "b": -6}]}"#, sig),
            (#"{"inputs": {"a": [[1, 2]], "b": [3]}, "extra": {"ignored": ["yes"]}}"#, sig),
            (#"{"inputs": {}}"#, sig),
            (#"{"instances": [{}]}"#, sig),
            ("\u{FEFF}" + #" { "inputs" : [ [ 1 , 2 ] ] } "#, single),
        ]
        for (body, signature) in bodies {
            checkTF(bytesOf(body), signature, expectDirect: true)
        }
        // Shapes the direct path leaves to the tree one, with the same outcome.
        let strings = signature(spec("s", .string, [-1]))
        for (body, signature) in [
            (#"{"instances": ["a", "b"]}"#, strings),
            (#"{"instances": [{"b64": "YQ=="}]}"#, strings),
            (#"{"instances": [{"a": [1, 2], "b": 3}, {"b": -6, "a": [4, 5]}]}"#, sig),
            (#"{"inputs": {"a": [[1, 2]], "b": [3], "c": [1]}}"#, sig),
            (#"{"instances": [[1, 2], [3]]}"#, single),
            (#"{"inputs": [[1, 2], [3, 4.5]], "inputs": 1}"#, single),
        ] {
            checkTF(bytesOf(body), signature, expectDirect: false)
        }
    }

    @Test func tfServingResolverRunsOnceWhenTheDirectPathGivesUpLate() {
        var calls: [String?] = []
        let error = #expect(throws: CodecError.self) {
            try TFServingJSON.decodePredictRequest(bytesOf(#"{"signature_name": "s", "inputs": [1, 300]}"#)) { name in
                calls.append(name)
                return signature(spec("u", .uint8, [-1]))
            }
        }
        #expect(calls == ["s"])
        #expect(error?.message == "input 'u' value 300 is out of range for uint8 at inputs[1]")

        struct Refused: Error {}
        var refusals = 0
        #expect(throws: Refused.self) {
            try TFServingJSON.decodePredictRequest(bytesOf(#"{"inputs": [1, 2]}"#)) { _ in
                refusals += 1
                throw Refused()
            }
        }
        #expect(refusals == 1)
    }
}

extension Result where Failure == CodecError {
    fileprivate var failureMessage: String? {
        if case .failure(let error) = self { return error.message }
        return nil
    }

    fileprivate var failureCode: CodecError.Code? {
        if case .failure(let error) = self { return error.code }
        return nil
    }
}
