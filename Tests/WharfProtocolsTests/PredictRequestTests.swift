import Testing
import WharfCore
import WharfProtocols

private func spec(_ name: String, _ dtype: DataType, _ shape: [Int]) -> TensorSpec {
    TensorSpec(name: name, dtype: dtype, shape: TensorShape(shape))
}

private func signature(_ inputs: TensorSpec..., key: String = Signature.defaultKey) -> Signature {
    Signature(key: key, inputs: inputs, outputs: [spec("y", .float32, [-1])])
}

private func decode(_ body: String, _ signature: Signature) throws -> TFServingJSON.PredictRequest {
    try TFServingJSON.decodePredictRequest(Array(body.utf8)) { _ in signature }
}

private func decodeError(_ body: String, _ signature: Signature) -> CodecError? {
    #expect(throws: CodecError.self) { try decode(body, signature) }
}

@Suite struct PredictRequestTests {
    let image = signature(spec("x", .float32, [-1, 3]))

    // MARK: - Formats

    @Test func columnarBareValueForASingleInput() throws {
        var askedFor: [String?] = []
        let request = try TFServingJSON.decodePredictRequest(Array(#"{"inputs": [[1, 2.5, -3], [4, 5, 6e-1]]}"#.utf8)) {
            askedFor.append($0)
            return image
        }
        #expect(askedFor == [nil])
        #expect(request.format == .columnar)
        #expect(request.signatureKey == "serving_default")
        let x = try #require(request.inputs["x"])
        #expect(request.inputs.count == 1)
        #expect(x.dtype == .float32)
        #expect(x.shape == [2, 3])
        #expect(try x.scalars(as: Float.self) == [1, 2.5, -3, 4, 5, 0.6])
        try image.validate(inputs: request.inputs)
    }

    @Test func columnarNamedInputsOfSeveralTypes() throws {
        let sig = signature(spec("ids", .int64, [-1]), spec("mask", .bool, [-1, 1]), spec("half", .float16, []), key: "other")
        var askedFor: [String?] = []
        let request = try TFServingJSON.decodePredictRequest(
            Array(#"{"signature_name": "other", "inputs": {"ids": [1, -2], "mask": [[true], [false]], "half": 0.5}}"#.utf8)
        ) {
            askedFor.append($0)
            return sig
        }
        #expect(askedFor == ["other"])
        #expect(request.signatureKey == "other")
        #expect(request.format == .columnar)
        #expect(try request.inputs["ids"]?.scalars(as: Int64.self) == [1, -2])
        #expect(request.inputs["mask"]?.shape == [2, 1])
        #expect(try request.inputs["mask"]?.scalars(as: Bool.self) == [true, false])
        #expect(request.inputs["half"]?.shape == [])
        #expect(try request.inputs["half"]?.scalars(as: Float16.self) == [0.5])
        try sig.validate(inputs: request.inputs)
    }

    @Test func rowFormatBareInstancesStackAlongANewFirstDimension() throws {
        let request = try decode(#"{"instances": [[1, 2, 3], [4, 5, 6]]}"#, image)
        #expect(request.format == .row)
        let x = try #require(request.inputs["x"])
        #expect(x.shape == [2, 3])
        #expect(try x.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6])
        try image.validate(inputs: request.inputs)

        let scalars = try decode(#"{"instances": [1, 2, 3]}"#, signature(spec("x", .int32, [-1])))
        #expect(scalars.inputs["x"]?.shape == [3])
        #expect(try scalars.inputs["x"]?.scalars(as: Int32.self) == [1, 2, 3])
    }

    @Test func rowFormatNamedInstances() throws {
        let sig = signature(spec("a", .int32, [-1]), spec("b", .string, [-1, 2]))
        // The second instance lists its keys in another order.
        let request = try decode(#"{"instances": [{"a": 1, "b": ["x", "y"]}, {"b": ["z", "é"], "a": 2}]}"#, sig)
        #expect(request.format == .row)
        #expect(request.inputs.count == 2)
        #expect(try request.inputs["a"]?.scalars(as: Int32.self) == [1, 2])
        #expect(request.inputs["b"]?.shape == [2, 2])
        #expect(try request.inputs["b"]?.strings() == [Array("x".utf8), Array("y".utf8), Array("z".utf8), Array("é".utf8)])
        try sig.validate(inputs: request.inputs)
    }

    @Test func scalarsAndEmptyLists() throws {
        let scalar = try decode(#"{"inputs": 5}"#, signature(spec("x", .int8, [])))
        #expect(scalar.inputs["x"]?.shape == [])
        #expect(try scalar.inputs["x"]?.scalars(as: Int8.self) == [5])

        let empty = try decode(#"{"inputs": {"x": []}}"#, image)
        #expect(empty.inputs["x"]?.shape == [0])
        #expect(empty.inputs["x"]?.elementCount == 0)

        let emptyRows = try decode(#"{"inputs": [[], []]}"#, image)
        #expect(emptyRows.inputs["x"]?.shape == [2, 0])

        let emptyStrings = try decode(#"{"inputs": [[]]}"#, signature(spec("s", .string, [-1, -1])))
        #expect(emptyStrings.inputs["s"]?.shape == [1, 0])
    }

    // MARK: - Values

    @Test func acceptsNaNAndInfinitiesForFloats() throws {
        let request = try decode(#"{"inputs": [[NaN, Infinity, -Infinity]]}"#, image)
        let values = try #require(try request.inputs["x"]?.scalars(as: Float.self))
        #expect(values.count == 3)
        #expect(values[0].isNaN)
        #expect(values[1] == .infinity)
        #expect(values[2] == -.infinity)

        let doubles = try decode(#"{"inputs": [NaN, 1e308]}"#, signature(spec("d", .float64, [-1])))
        let d = try #require(try doubles.inputs["d"]?.scalars(as: Double.self))
        #expect(d[0].isNaN && d[1] == 1e308)
    }

    @Test func keepsSixtyFourBitIntegersExact() throws {
        let request = try decode(
            #"{"inputs": {"i": [9007199254740993, -9223372036854775808, 9223372036854775807], "u": [18446744073709551615, 0]}}"#,
            signature(spec("i", .int64, [-1]), spec("u", .uint64, [-1])))
        #expect(try request.inputs["i"]?.scalars(as: Int64.self) == [9_007_199_254_740_993, .min, .max])
        #expect(try request.inputs["u"]?.scalars(as: UInt64.self) == [.max, 0])
    }

    @Test func integralDoublesConvertToIntegers() throws {
        let request = try decode(#"{"inputs": [2.0, -3e2, -0]}"#, signature(spec("ids", .int32, [-1])))
        #expect(try request.inputs["ids"]?.scalars(as: Int32.self) == [2, -300, 0])
    }

    @Test func convertsEveryNumericType() throws {
        let sig = signature(
            spec("i8", .int8, [-1]), spec("i16", .int16, [-1]), spec("u8", .uint8, [-1]), spec("u16", .uint16, [-1]),
            spec("u32", .uint32, [-1]), spec("f64", .float64, [-1]))
        let request = try decode(
            #"{"inputs": {"i8": [-128, 127], "i16": [-32768, 32767], "u8": [0, 255], "u16": [65535], "u32": [4294967295], "f64": [0.1, 9007199254740993]}}"#,
            sig)
        #expect(try request.inputs["i8"]?.scalars(as: Int8.self) == [-128, 127])
        #expect(try request.inputs["i16"]?.scalars(as: Int16.self) == [-32768, 32767])
        #expect(try request.inputs["u8"]?.scalars(as: UInt8.self) == [0, 255])
        #expect(try request.inputs["u16"]?.scalars(as: UInt16.self) == [65535])
        #expect(try request.inputs["u32"]?.scalars(as: UInt32.self) == [4_294_967_295])
        #expect(try request.inputs["f64"]?.scalars(as: Double.self) == [0.1, 9_007_199_254_740_992])
    }

    @Test func decodesBase64AndPlainStrings() throws {
        let sig = signature(spec("s", .string, [-1]))
        let request = try decode(#"{"inputs": {"s": [{"b64": "aGVsbG8="}, "plain", {"b64": "AP8"}, ""]}}"#, sig)
        #expect(try request.inputs["s"]?.strings() == [Array("hello".utf8), Array("plain".utf8), [0x00, 0xFF], []])

        // A bare {"b64": ...} instance stands for the single string input's value.
        let rows = try decode(#"{"instances": [{"b64": "AAEC/w=="}, {"b64": "YQ"}]}"#, sig)
        #expect(try rows.inputs["s"]?.strings() == [[0x00, 0x01, 0x02, 0xFF], [0x61]])

        let columnar = try decode(#"{"inputs": {"b64": "eA=="}}"#, signature(spec("s", .string, [])))
        #expect(try columnar.inputs["s"]?.strings() == [[0x78]])
    }

    @Test func rejectsInvalidBase64() {
        let error = decodeError(#"{"inputs": [{"b64": "ab!d"}]}"#, signature(spec("s", .string, [-1])))
        #expect(error?.code == .invalidBase64)
        #expect(error?.message == "input 's' has invalid base64 at inputs[0]: '!' is not a base64 character (character 2)")
        #expect(decodeError(#"{"inputs": [{"b64": "abcde"}]}"#, signature(spec("s", .string, [-1])))?.code == .invalidBase64)
        #expect(decodeError(#"{"inputs": [{"b64": "ab=c"}]}"#, signature(spec("s", .string, [-1])))?.code == .invalidBase64)
    }

    // MARK: - Value errors

    @Test func rejectsOutOfRangeIntegers() {
        let ids = signature(spec("ids", .int32, [-1]))
        let error = decodeError(#"{"inputs": {"ids": [1, 3000000000]}}"#, ids)
        #expect(error?.code == .outOfRange)
        #expect(error?.message == "input 'ids' value 3000000000 is out of range for int32 at inputs.ids[1]")
        #expect(
            decodeError(#"{"inputs": [-1]}"#, signature(spec("u", .uint8, [-1])))?.message
                == "input 'u' value -1 is out of range for uint8 at inputs[0]")
        #expect(decodeError(#"{"inputs": [18446744073709551615]}"#, signature(spec("i", .int64, [-1])))?.code == .outOfRange)
        #expect(decodeError(#"{"inputs": [1e30]}"#, signature(spec("i", .int64, [-1])))?.code == .outOfRange)
        #expect(
            decodeError(#"{"inputs": [1e5]}"#, signature(spec("h", .float16, [-1])))?.message
                == "input 'h' value 100000.0 is out of range for float16 at inputs[0]")
        #expect(decodeError(#"{"inputs": [1e39]}"#, image)?.code == .outOfRange)
    }

    @Test func rejectsNonIntegralNumbersForIntegers() {
        let ids = signature(spec("ids", .int32, [-1]))
        let error = decodeError(#"{"inputs": {"ids": [1.5]}}"#, ids)
        #expect(error?.code == .typeMismatch)
        #expect(error?.message == "input 'ids' expects int32, got 1.5 at inputs.ids[0]")
        #expect(decodeError(#"{"inputs": [NaN]}"#, ids)?.message == "input 'ids' expects int32, got NaN at inputs[0]")
        #expect(decodeError(#"{"instances": [1, -Infinity]}"#, ids)?.message == "input 'ids' expects int32, got -Infinity at instances[1]")
    }

    @Test func rejectsValuesOfTheWrongKind() {
        let error = decodeError(#"{"inputs": [[1, "abc", 3]]}"#, image)
        #expect(error?.code == .typeMismatch)
        #expect(error?.message == #"input 'x' expects float32, got a string "abc" at inputs[0][1]"#)
        #expect(decodeError(#"{"instances": [{"x": [1, 2, null]}]}"#, image)?.message == "input 'x' expects float32, got null at instances[0].x[2]")
        #expect(decodeError(#"{"inputs": [[true, 1, 2]]}"#, image)?.message == "input 'x' expects float32, got true at inputs[0][0]")
        #expect(decodeError(#"{"inputs": [[{"b64": "AA=="}, 1, 2]]}"#, image)?.message == "input 'x' expects float32, got an object with keys 'b64' at inputs[0][0]")
        #expect(decodeError(#"{"inputs": [1]}"#, signature(spec("flag", .bool, [-1])))?.message == "input 'flag' expects bool, got 1 at inputs[0]")
        #expect(
            decodeError(#"{"inputs": [1.5]}"#, signature(spec("s", .string, [-1])))?.message
                == #"input 's' expects string (a JSON string or {"b64": "..."}), got 1.5 at inputs[0]"#)
        #expect(decodeError(#"{"inputs": [{"b64": 1}]}"#, signature(spec("s", .string, [-1])))?.code == .typeMismatch)
    }

    @Test func rejectsRaggedLists() {
        let ragged = decodeError(#"{"inputs": [[1, 2, 3], [4, 5]]}"#, image)
        #expect(ragged?.code == .raggedList)
        #expect(ragged?.message == "input 'x' is a ragged list: inputs[1] has 2 elements, but inputs[0] has 3")
        #expect(
            decodeError(#"{"inputs": {"x": [[1, 2, 3], 4]}}"#, image)?.message
                == "input 'x' is a ragged list: inputs.x[1] is 4, but inputs.x[0] is a list")
        #expect(
            decodeError(#"{"inputs": [[1, 2, [3]]]}"#, image)?.message
                == "input 'x' is a ragged list: inputs[0][2] is a list of 1, but inputs[0][0] is a scalar")
        #expect(
            decodeError(#"{"inputs": [[[1], [2]], [[3], []]]}"#, signature(spec("x", .float32, [-1, -1, -1])))?.message
                == "input 'x' is a ragged list: inputs[1][1] has 0 elements, but inputs[0][0] has 1")
        #expect(decodeError(#"{"inputs": [["a"], "b"]}"#, signature(spec("s", .string, [-1, -1])))?.code == .raggedList)
    }

    @Test func checksShapesBeforeAllocatingForThem() {
        // First elements suggest 1000^3 (and 1000^7, beyond Int) elements; the body holds ~3000.
        func suggestive(levels: Int) -> String {
            var text = "[" + Array(repeating: "0", count: 1000).joined(separator: ",") + "]"
            for _ in 1..<levels { text = "[" + text + String(repeating: ",0", count: 999) + "]" }
            return text
        }
        let cube = decodeError(#"{"inputs": "# + suggestive(levels: 3) + "}", signature(spec("x", .float32, [-1, -1, -1])))
        #expect(cube?.code == .raggedList)
        #expect(cube?.message == "input 'x' is a ragged list: inputs[0][1] is 0, but inputs[0][0] is a list")
        let huge = decodeError(#"{"inputs": {"s": "# + suggestive(levels: 7) + "}}", signature(spec("s", .string, [])))
        #expect(huge?.code == .raggedList)
        #expect(huge?.message == "input 's' is a ragged list: inputs.s[0][0][0][0][0][1] is 0, but inputs.s[0][0][0][0][0][0] is a list")
        let rows = decodeError(#"{"instances": ["# + suggestive(levels: 3) + "]}", signature(spec("x", .float32, [-1, -1, -1, -1])))
        #expect(rows?.message == "input 'x' is a ragged list: instances[0][0][1] is 0, but instances[0][0][0] is a list")
    }

    @Test func rejectsInstancesOfDifferentShapes() {
        let mismatch = decodeError(#"{"instances": [[1, 2, 3], [4, 5]]}"#, image)
        #expect(mismatch?.code == .raggedList)
        #expect(
            mismatch?.message
                == "input 'x': instances[1] has shape [2], but instances[0] has shape [3]; every instance must have the same shape")
        #expect(
            decodeError(#"{"instances": [{"x": [1, 2, 3]}, {"x": 4}]}"#, image)?.message
                == "input 'x': instances[1].x has shape [], but instances[0].x has shape [3]; every instance must have the same shape")
        // An instance that is ragged itself is reported as such.
        #expect(
            decodeError(#"{"instances": [[[1], [2]], [[1], [2, 3]]]}"#, signature(spec("x", .float32, [-1, -1, -1])))?.message
                == "input 'x' is a ragged list: instances[1][1] has 2 elements, but instances[1][0] has 1")
        #expect(
            decodeError(#"{"instances": [[[1], [2, 3]], [[1], [2]]]}"#, signature(spec("x", .float32, [-1, -1, -1])))?.message
                == "input 'x' is a ragged list: instances[0][1] has 2 elements, but instances[0][0] has 1")
    }

    // MARK: - Structure errors

    @Test func rejectsBodiesThatAreNotObjects() {
        let error = decodeError("[1, 2]", image)
        #expect(error?.code == .invalidRequest)
        #expect(error?.message == "a predict request body must be a JSON object, got a list of 2")
        #expect(decodeError(#""inputs""#, image)?.message == #"a predict request body must be a JSON object, got a string "inputs""#)
    }

    @Test func needsExactlyOneOfInstancesAndInputs() {
        #expect(
            decodeError(#"{"signature_name": "s", "input": [1]}"#, image)?.message
                == "the request needs 'instances' (row format) or 'inputs' (columnar format), got keys: 'signature_name', 'input'")
        #expect(
            decodeError("{}", image)?.message
                == "the request needs 'instances' (row format) or 'inputs' (columnar format), got keys: none")
        let both = decodeError(#"{"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]}"#, image)
        #expect(both?.code == .invalidRequest)
        #expect(both?.message == "the request has both 'instances' (row format) and 'inputs' (columnar format); send one of them")
        #expect(decodeError(#"{"inputs": 1, "inputs": 2}"#, image)?.message == "the request has 'inputs' more than once")
    }

    @Test func instancesMustBeANonEmptyList() {
        #expect(decodeError(#"{"instances": {"x": [1, 2, 3]}}"#, image)?.message == "'instances' must be a list, got an object with keys 'x'")
        #expect(decodeError(#"{"instances": []}"#, image)?.message == "'instances' is an empty list; send at least one instance")
    }

    @Test func signatureNameMustBeAString() {
        #expect(decodeError(#"{"signature_name": 3, "inputs": []}"#, image)?.message == "'signature_name' must be a string, got 3")
    }

    @Test func rowInstancesMustHaveTheSameKeys() {
        let sig = signature(spec("a", .int32, [-1]), spec("b", .int32, [-1]))
        let mixed = decodeError(#"{"instances": [{"a": 1, "b": 2}, {"a": 1, "c": 2}]}"#, sig)
        #expect(mixed?.code == .invalidRequest)
        #expect(
            mixed?.message
                == "instances[1] has keys 'a', 'c', but instances[0] has keys 'a', 'b'; every instance must have the same keys")
        #expect(decodeError(#"{"instances": [{"a": 1, "b": 2}, {"a": 1}]}"#, sig)?.code == .invalidRequest)
        #expect(
            decodeError(#"{"instances": [{"a": 1, "a": 2}]}"#, sig)?.message
                == "instances[0] has the key 'a' more than once")
    }

    @Test func rejectsNonObjectsWhereObjectsAreNeeded() {
        let sig = signature(spec("a", .int32, [-1]), spec("b", .int32, [-1]))
        #expect(
            decodeError(#"{"instances": [{"a": 1, "b": 2}, [1, 2]]}"#, sig)?.message
                == #"instances[1] is a list of 2, expected an object {"input name": value} like instances[0]"#)
        let bare = decodeError(#"{"instances": [[1, 2]]}"#, sig)
        #expect(bare?.code == .invalidRequest)
        #expect(
            bare?.message
                == "instances[0] is a bare value, which needs a signature with exactly one input, but signature "
                + #"'serving_default' has 2 inputs ('a', 'b'); send an object {"input name": value}"#)
        #expect(
            decodeError(#"{"inputs": [1, 2]}"#, sig)?.message
                == "'inputs' is a bare value, which needs a signature with exactly one input, but signature "
                + #"'serving_default' has 2 inputs ('a', 'b'); send an object {"input name": value}"#)
        #expect(
            decodeError(#"{"instances": [[1, 2, 3], {"x": [1, 2, 3]}]}"#, image)?.message
                == "instances[1] is an object with keys 'x', but instances[0] is a bare value; every instance must have the same form")
    }

    @Test func reportsMalformedJSONWithItsOffset() {
        let error = decodeError(#"{"inputs": [1, 2 x]}"#, image)
        #expect(error?.code == .malformedJSON)
        #expect(error?.message == "expected ',' or ']' at byte 17, got 'x'")
        #expect(error?.status == .invalidArgument)
    }

    @Test func limitsNesting() {
        let deep = #"{"inputs": "# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        #expect(decodeError(deep, image)?.code == .nestingTooDeep)
        let shallow = #"{"inputs": [[[1]]]}"#
        #expect(throws: CodecError.self) {
            try TFServingJSON.decodePredictRequest(Array(shallow.utf8), maximumDepth: 3) { _ in image }
        }
    }

    // MARK: - Signatures

    @Test func rethrowsTheResolversErrors() {
        let error = #expect(throws: InferenceError.self) {
            try TFServingJSON.decodePredictRequest(Array(#"{"signature_name": "nope", "inputs": [1]}"#.utf8)) { name in
                throw InferenceError(.unknownSignature, "no signature '\(name ?? "")'")
            }
        }
        #expect(error?.code == .unknownSignature)
        #expect(error?.message == "no signature 'nope'")
    }

    @Test func undeclaredInputsAreLeftForValidation() throws {
        let request = try decode(#"{"inputs": {"x": [[1, 2, 3]], "extra": [1, 2], "words": ["a"], "reals": [1, 2.5]}}"#, image)
        #expect(request.inputs["extra"]?.dtype == .int64)
        #expect(request.inputs["words"]?.dtype == .string)
        #expect(request.inputs["reals"]?.dtype == .float64)
        let error = #expect(throws: InferenceError.self) { try image.validate(inputs: request.inputs) }
        #expect(error?.code == .unknownInput)

        #expect(decodeError(#"{"inputs": {"x": [[1, 2, 3]], "mixed": [1, "a"]}}"#, image)?.code == .typeMismatch)
    }

    @Test func missingInputsAreLeftForValidation() throws {
        let sig = signature(spec("a", .int32, [-1]), spec("b", .int32, [-1]))
        let request = try decode(#"{"instances": [{"a": 1}]}"#, sig)
        #expect(request.inputs.keys.sorted() == ["a"])
        let error = #expect(throws: InferenceError.self) { try sig.validate(inputs: request.inputs) }
        #expect(error?.code == .missingInput)
    }

    @Test func decodesFromARawBuffer() throws {
        let body = Array(#"{"instances": [{"x": [1, 2, 3]}]}"#.utf8)
        let request = try body.withUnsafeBytes { raw in try TFServingJSON.decodePredictRequest(raw) { _ in image } }
        #expect(request.inputs["x"]?.shape == [1, 3])
        #expect(try request.inputs["x"]?.scalars(as: Float.self) == [1, 2, 3])
    }

    @Test func decodesALargeBatch() throws {
        let rows = (0..<1000).map { row in "[" + (0..<3).map { "\(row * 3 + $0).5" }.joined(separator: ",") + "]" }
        let request = try decode(#"{"instances": ["# + rows.joined(separator: ",") + "]}", image)
        let values = try #require(try request.inputs["x"]?.scalars(as: Float.self))
        #expect(request.inputs["x"]?.shape == [1000, 3])
        #expect(values == (0..<3000).map { Float($0) + 0.5 })
    }
}
