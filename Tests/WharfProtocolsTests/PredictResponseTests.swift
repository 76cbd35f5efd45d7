import Testing
import WharfCore
import WharfProtocols

private func encoded(_ outputs: [String: Tensor], _ format: TFServingJSON.Format) throws -> String {
    String(decoding: try TFServingJSON.encodePredictResponse(outputs, format: format), as: UTF8.self)
}

@Suite struct PredictResponseTests {
    @Test func columnarSingleOutputIsTheBareValue() throws {
        let scores = try Tensor(shape: [2, 2], scalars: [Float(1), 0.1, .nan, -.infinity])
        #expect(try encoded(["scores": scores], .columnar) == #"{"outputs":[[1.0,0.1],[NaN,-Infinity]]}"#)
    }

    @Test func columnarSeveralOutputsAreNamedInSortedOrder() throws {
        let outputs: [String: Tensor] = [
            "b": try Tensor(shape: [], scalars: [UInt64.max]),
            "a": try Tensor(shape: [3], scalars: [Int64(9_007_199_254_740_993), .min, .max]),
        ]
        #expect(
            try encoded(outputs, .columnar)
                == #"{"outputs":{"a":[9007199254740993,-9223372036854775808,9223372036854775807],"b":18446744073709551615}}"#)
    }

    @Test func rowSingleOutputListsTheRows() throws {
        let output = try Tensor(shape: [2, 2], scalars: [Float(1), 2, 3, 4.5])
        #expect(try encoded(["y": output], .row) == #"{"predictions":[[1.0,2.0],[3.0,4.5]]}"#)
        let vector = try Tensor(shape: [3], scalars: [Int32(1), -2, 3])
        #expect(try encoded(["y": vector], .row) == #"{"predictions":[1,-2,3]}"#)
    }

    @Test func rowSeveralOutputsGiveAnObjectPerRow() throws {
        let outputs: [String: Tensor] = [
            "scores": try Tensor(shape: [2, 2], scalars: [Float(0.1), 0.9, 0.8, 0.2]),
            "classes": try Tensor(shape: [2], scalars: [Int32(1), 0]),
            "labels": try Tensor(shape: [2, 1], strings: ["cat", "dog"]),
        ]
        #expect(
            try encoded(outputs, .row)
                == #"{"predictions":[{"classes":1,"labels":["cat"],"scores":[0.1,0.9]},{"classes":0,"labels":["dog"],"scores":[0.8,0.2]}]}"#)
    }

    @Test func rowFormatNeedsASharedBatchDimension() throws {
        let outputs: [String: Tensor] = [
            "a": try Tensor(shape: [2], scalars: [Float(1), 2]),
            "b": try Tensor(shape: [3], scalars: [Float(1), 2, 3]),
        ]
        let error = #expect(throws: CodecError.self) { try TFServingJSON.encodePredictResponse(outputs, format: .row) }
        #expect(error?.code == .invalidOutput)
        #expect(
            error?.message
                == "outputs have different batch sizes: 'a' has 2 rows, 'b' has 3; the row format ('instances') needs all "
                + "outputs to share the first dimension; use the columnar format ('inputs')")
        // The columnar format has no such constraint.
        #expect(try encoded(outputs, .columnar) == #"{"outputs":{"a":[1.0,2.0],"b":[1.0,2.0,3.0]}}"#)
    }

    @Test func scalarOutputs() throws {
        let scalar = try Tensor(shape: [], scalars: [Double(2.5)])
        #expect(try encoded(["loss": scalar], .columnar) == #"{"outputs":2.5}"#)
        let error = #expect(throws: CodecError.self) {
            try TFServingJSON.encodePredictResponse(["loss": scalar, "y": try Tensor(shape: [1], scalars: [Float(1)])], format: .row)
        }
        #expect(error?.code == .invalidOutput)
        #expect(error?.message.hasPrefix("output 'loss' is a scalar") == true)
        #expect(throws: CodecError.self) { try TFServingJSON.encodePredictResponse(["loss": scalar], format: .row) }
    }

    @Test func float32UsesItsOwnShortestForm() throws {
        let values = try Tensor(shape: [4], scalars: [Float(0.1), 1.0 / 3.0, 1e-8, 16_777_216])
        #expect(try encoded(["y": values], .columnar) == #"{"outputs":[0.1,0.33333334,1e-08,16777216.0]}"#)
        let halves = try Tensor(shape: [2], scalars: [Float16(0.1), .infinity])
        #expect(try encoded(["y": halves], .columnar) == #"{"outputs":[0.1,Infinity]}"#)
        let doubles = try Tensor(shape: [2], scalars: [0.1, Double(Float(0.1))])
        #expect(try encoded(["y": doubles], .columnar) == #"{"outputs":[0.1,0.10000000149011612]}"#)
    }

    @Test func boolsAndSmallIntegers() throws {
        let outputs: [String: Tensor] = [
            "flags": try Tensor(shape: [2], scalars: [true, false]),
            "bytes": try Tensor(shape: [2], scalars: [UInt8(255), 0]),
            "small": try Tensor(shape: [2], scalars: [Int8(-128), 127]),
        ]
        #expect(try encoded(outputs, .columnar) == #"{"outputs":{"bytes":[255,0],"flags":[true,false],"small":[-128,127]}}"#)
    }

    @Test func stringsAreTextUnlessBytesAreAskedForOrTheyAreNotUTF8() throws {
        let text = try Tensor(shape: [3], strings: [Array("héllo \"q\"\n".utf8), [0xFF, 0x00], []])
        #expect(try encoded(["text": text], .columnar) == #"{"outputs":["héllo \"q\"\n",{"b64":"/wA="},""]}"#)
        let image = try Tensor(shape: [1], strings: ["abc"])
        #expect(try encoded(["image_bytes": image], .columnar) == #"{"outputs":[{"b64":"YWJj"}]}"#)
        let caption = try Tensor(shape: [1], strings: ["a\tb"])
        #expect(
            try encoded(["image_bytes": image, "caption": caption], .row)
                == #"{"predictions":[{"caption":"a\tb","image_bytes":{"b64":"YWJj"}}]}"#)
    }

    @Test func emptyDimensions() throws {
        let none = try Tensor(shape: [0, 3], scalars: [Float]())
        #expect(try encoded(["y": none], .columnar) == #"{"outputs":[]}"#)
        #expect(try encoded(["y": none], .row) == #"{"predictions":[]}"#)
        let hollow = try Tensor(shape: [2, 0], scalars: [Int64]())
        #expect(try encoded(["y": hollow], .columnar) == #"{"outputs":[[],[]]}"#)
        #expect(try encoded(["a": hollow, "b": hollow], .row) == #"{"predictions":[{"a":[],"b":[]},{"a":[],"b":[]}]}"#)
    }

    @Test func rowsOfAViewKeepTheirOffset() throws {
        let all = try Tensor(shape: [3, 2], scalars: [Float(1), 2, 3, 4, 5, 6])
        let tail = try all.rows(1..<3)
        #expect(try encoded(["a": tail, "b": try Tensor(shape: [2], scalars: [Int32(7), 8])], .row) == #"{"predictions":[{"a":[3.0,4.0],"b":7},{"a":[5.0,6.0],"b":8}]}"#)
    }

    @Test func errorBodies() {
        let body = String(decoding: TFServingJSON.encodeError("input 'x' expects \"float32\"\n"), as: UTF8.self)
        #expect(body == #"{"error":"input 'x' expects \"float32\"\n"}"#)
    }

    @Test func outputsReadBackAsInputs() throws {
        // What the server writes, a client can send back: NaN, infinities, exact int64, b64 bytes.
        let floats = try Tensor(shape: [1, 3], scalars: [Float.nan, .infinity, 0.1])
        let ids = try Tensor(shape: [1, 2], scalars: [Int64.min, 9_007_199_254_740_993])
        let blobs = try Tensor(shape: [1], strings: [[0x00, 0xC3, 0x28]])
        let response = try TFServingJSON.encodePredictResponse(["f": floats, "ids": ids, "blob_bytes": blobs], format: .columnar)
        let outputs = try #require(try JSONValue.parse(response)["outputs"])
        var writer = JSONWriter()
        writer.write(["inputs": outputs])
        let sig = Signature(
            key: "k",
            inputs: [
                TensorSpec(name: "f", dtype: .float32, shape: TensorShape([-1, 3])),
                TensorSpec(name: "ids", dtype: .int64, shape: TensorShape([-1, 2])),
                TensorSpec(name: "blob_bytes", dtype: .string, shape: TensorShape([-1])),
            ],
            outputs: [])
        let request = try TFServingJSON.decodePredictRequest(writer.bytes) { _ in sig }
        #expect(request.inputs["f"] == floats)
        #expect(request.inputs["ids"] == ids)
        #expect(request.inputs["blob_bytes"] == blobs)
    }
}
