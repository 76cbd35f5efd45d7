import Testing
import WharfCore

struct TensorTests {
    @Test func scalarsRoundTripForEveryFixedWidthType() throws {
        #expect(try Tensor(shape: [3], scalars: [Float16(1.5), -2, 65504]).scalars(as: Float16.self) == [1.5, -2, 65504])
        #expect(try Tensor(shape: [2], scalars: [Int64.min, Int64.max]).scalars(as: Int64.self) == [Int64.min, Int64.max])
        #expect(try Tensor(shape: [1], scalars: [UInt64.max]).scalars(as: UInt64.self) == [UInt64.max])
        #expect(try Tensor(shape: [2, 1], scalars: [true, false]).scalars(as: Bool.self) == [true, false])
        let tensor = try Tensor(shape: [2, 2], scalars: [1.0, 2.0, 3.0, 4.0])
        #expect(tensor.dtype == .float64)
        #expect(tensor.byteCount == 32)
    }

    @Test func buffersAreAlignedForTensorFlow() throws {
        let tensor = try Tensor(shape: [5], scalars: [Int8](repeating: 1, count: 5))
        tensor.withUnsafeBytes { bytes in
            #expect(Int(bitPattern: bytes.baseAddress) % TensorBuffer.alignment == 0)
        }
    }

    @Test func shapeAndCountMismatchesAreErrors() {
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 3], scalars: [Float](repeating: 0, count: 5)) }
        #expect(throws: TensorError.self) { try Tensor(shape: [-1], scalars: [Float]()) }
        #expect(throws: TensorError.self) { try Tensor(shape: [2], strings: ["one"]) }
        #expect(throws: TensorError.self) { try Tensor(shape: [1], scalars: [Float(1)]).scalars(as: Int32.self) }
    }

    @Test func rowsAreZeroCopyViews() throws {
        let tensor = try Tensor(shape: [4, 2], scalars: (0..<8).map(Int32.init))
        let middle = try tensor.rows(1..<3)
        #expect(middle.shape == [2, 2])
        #expect(try middle.scalars(as: Int32.self) == [2, 3, 4, 5])
        let base = tensor.withUnsafeBytes { $0.baseAddress! }
        middle.withUnsafeBytes { #expect($0.baseAddress! == base + 8) }
        #expect(throws: TensorError.self) { try tensor.rows(3..<5) }
        let strings = try Tensor(shape: [3], strings: ["a", "b", "c"])
        #expect(try strings.rows(2..<3).strings() == [Array("c".utf8)])
    }

    @Test func equalityIsBitwise() throws {
        let nan = try Tensor(shape: [1], scalars: [Float.nan])
        #expect(nan == nan)
        #expect(try Tensor(shape: [1], scalars: [Float(0)]) != Tensor(shape: [1], scalars: [Float(-0.0)]))
        #expect(try Tensor(shape: [2], scalars: [Float(1), 2]) != Tensor(shape: [1, 2], scalars: [Float(1), 2]))
    }

    @Test func maxAbsoluteDifference() throws {
        let a = try Tensor(shape: [3], scalars: [Float(1), 2, .nan])
        let b = try Tensor(shape: [3], scalars: [Float(1.5), 2, .nan])
        #expect(a.maxAbsoluteDifference(to: b) == 0.5)
        let c = try Tensor(shape: [3], scalars: [Float(1), 2, 3])
        #expect(a.maxAbsoluteDifference(to: c) == .infinity)
        #expect(a.maxAbsoluteDifference(to: try Tensor(shape: [1], scalars: [Float(1)])) == nil)
    }

    @Test func dataTypeNames() {
        #expect(DataType(name: "DT_FLOAT") == .float32)
        #expect(DataType(name: "FP16") == .float16)
        #expect(DataType(name: "BYTES") == .string)
        #expect(DataType(name: "float") == .float32)
        #expect(DataType(name: "complex64") == nil)
        #expect(DataType.allCases.filter { $0.byteWidth == nil } == [.string])
    }
}

struct SignatureTests {
    let signature = Signature(
        key: "serving_default",
        inputs: [
            TensorSpec(name: "x", dtype: .float32, shape: TensorShape([-1, 3])),
            TensorSpec(name: "any", dtype: .int64, shape: .unknownRank),
        ],
        outputs: [TensorSpec(name: "y", dtype: .float32, shape: TensorShape([-1]))])

    @Test func acceptsMatchingInputs() throws {
        try signature.validate(inputs: [
            "x": try Tensor(shape: [5, 3], scalars: [Float](repeating: 0, count: 15)),
            "any": try Tensor(shape: [2, 2, 2], scalars: [Int64](repeating: 0, count: 8)),
        ])
        #expect(signature.inputs.map(\.name) == ["any", "x"], "inputs are sorted by name")
    }

    @Test func rejectsWithWhatWasExpectedAndWhatCame() throws {
        let any = try Tensor(shape: [1], scalars: [Int64(1)])
        let wide = try Tensor(shape: [2, 4], scalars: [Float](repeating: 0, count: 8))
        do {
            try signature.validate(inputs: ["x": wide, "any": any])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .shapeMismatch)
            #expect(error.message == "input 'x' expects float32 [-1, 3], got float32 [2, 4] (a different static dimension)")
            #expect(error.status == .invalidArgument)
        }
        #expect(throws: InferenceError.self) { try signature.validate(inputs: ["any": any]) }
        #expect(throws: InferenceError.self) { try signature.validate(outputNames: ["z"]) }
    }

    @Test func shapeDescriptions() {
        #expect(TensorShape([-1, 784]).description == "[-1, 784]")
        #expect(TensorShape.unknownRank.description == "<unknown rank>")
        #expect(TensorShape([-1, 3]).accepts([0, 3]))
        #expect(!TensorShape([-1, 3]).accepts([3]))
        #expect(TensorShape([2, 3]).isFullyDefined)
    }
}
