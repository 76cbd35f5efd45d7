import Foundation
import Testing
import WharfCore
import WharfRuntime
import WharfTesting

/// Outputs of every fixture through Wharf's backends against what Python computed.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct ParityTests {
    static let loader = ModelLoader()

    /// Numeric outputs within `tolerance`; integer, bool and string outputs exactly.
    static func expectClose(_ actual: Tensor?, _ expected: Tensor, tolerance: Double, _ context: String) {
        guard let actual else {
            Issue.record("\(context): output missing")
            return
        }
        #expect(actual.dtype == expected.dtype, "\(context): dtype")
        #expect(actual.shape == expected.shape, "\(context): shape \(actual.shape) vs \(expected.shape)")
        if expected.dtype.isFloatingPoint {
            let difference = actual.maxAbsoluteDifference(to: expected)
            #expect(difference != nil && difference! <= tolerance, "\(context): max |diff| \(String(describing: difference))")
        } else {
            #expect(actual == expected, "\(context): values differ")
        }
    }

    @Test(arguments: Fixtures.modelNames)
    func tensorFlowMatchesPython(fixture: String) throws {
        let model = try Self.loader.load(path: Fixtures.savedModel(fixture))
        #expect(model.runtime == .tensorflow)
        let cases = try Fixtures.cases(fixture)
        for (index, testCase) in cases.cases.enumerated() {
            let outputs = try model.run(signature: testCase.signature, inputs: try testCase.inputTensors())
            #expect(Set(outputs.keys) == Set(testCase.tensorflow.keys))
            for (name, expected) in testCase.tensorflow {
                Self.expectClose(outputs[name], try expected.tensor(), tolerance: 1e-5, "\(fixture) case \(index) \(name)")
            }
        }
    }

    @Test(arguments: Fixtures.modelNames)
    func onnxRuntimeMatchesPython(fixture: String) throws {
        let model = try Self.loader.load(path: Fixtures.onnxModel(fixture))
        #expect(model.runtime == .onnxruntime)
        let cases = try Fixtures.cases(fixture)
        var checked = 0
        for (index, testCase) in cases.cases.enumerated() {
            guard let expectedOutputs = testCase.onnx else { continue }
            let outputs = try model.run(inputs: try testCase.inputTensors())
            for (name, expected) in expectedOutputs {
                Self.expectClose(outputs[name], try expected.tensor(), tolerance: 1e-5, "\(fixture) case \(index) \(name)")
            }
            checked += 1
        }
        #expect(checked > 0)
    }

    @Test(arguments: Fixtures.modelNames)
    func savedModelAndONNXAgree(fixture: String) throws {
        let savedModel = try Self.loader.load(path: Fixtures.savedModel(fixture))
        let onnx = try Self.loader.load(path: Fixtures.onnxModel(fixture))
        for testCase in try Fixtures.cases(fixture).cases where testCase.onnx != nil {
            let inputs = try testCase.inputTensors()
            let fromTF = try savedModel.run(signature: testCase.signature, inputs: inputs)
            let fromORT = try onnx.run(inputs: inputs)
            for (name, tensor) in fromTF {
                Self.expectClose(fromORT[name], tensor, tolerance: 1e-4, "\(fixture) \(name) TF vs ORT")
            }
        }
    }

    @Test(arguments: Fixtures.modelNames)
    func signaturesMatchTensorFlow(fixture: String) throws {
        let model = try Self.loader.load(path: Fixtures.savedModel(fixture))
        let expected = try Fixtures.cases(fixture).signatures
        #expect(Set(model.signatures.map(\.key)) == Set(expected.keys))
        for signature in model.signatures {
            let info = try #require(expected[signature.key])
            #expect(Set(signature.inputs.map(\.name)) == Set(info.inputs.keys))
            #expect(Set(signature.outputs.map(\.name)) == Set(info.outputs.keys))
            for spec in signature.inputs + signature.outputs {
                let want = try #require(info.inputs[spec.name] ?? info.outputs[spec.name])
                #expect(spec.dtype == DataType(name: want.dtype), "\(fixture) \(spec.name) dtype")
                #expect(spec.shape.dimensions == want.shape, "\(fixture) \(spec.name) shape")
            }
        }
    }

    @Test func stringsAndInt64RoundTripExactly() throws {
        for path in [Fixtures.savedModel("strings"), Fixtures.onnxModel("strings")] {
            let model = try Self.loader.load(path: path)
            let text: [[UInt8]] = [[], Array("short".utf8), Array(String(repeating: "long text ", count: 40).utf8), [0xff, 0x01, 0x7f]]
            let outputs = try model.run(inputs: ["text": try Tensor(shape: [4], strings: text)])
            #expect(try outputs["echo"]?.strings() == text, "\(path)")
            #expect(try outputs["count"]?.scalars(as: Int64.self) == [4], "\(path)")
        }
        for path in [Fixtures.savedModel("two_io"), Fixtures.onnxModel("two_io")] {
            let model = try Self.loader.load(path: path)
            let ids: [Int64] = [Int64.max / 2 - 1, Int64.min / 2 + 1, 9_007_199_254_740_993]
            let outputs = try model.run(inputs: [
                "features": try Tensor(shape: [1, 4], scalars: [Float](repeating: 0, count: 4)),
                "ids": try Tensor(shape: [1, 3], scalars: ids),
            ])
            #expect(try outputs["ids_doubled"]?.scalars(as: Int64.self) == ids.map { $0 &* 2 &+ 1 }, "\(path)")
        }
    }

    @Test func everyDataTypeRoundTrips() throws {
        let cases = try Fixtures.cases("dtypes")
        let inputs = try cases.cases[0].inputTensors()
        #expect(Set(inputs.values.map(\.dtype)) == Set(DataType.allCases))
        for path in [Fixtures.savedModel("dtypes"), Fixtures.onnxModel("dtypes")] {
            let outputs = try Self.loader.load(path: path).run(inputs: inputs)
            for (name, tensor) in inputs {
                #expect(outputs[name + "_out"] == tensor, "\(path): \(name) (\(tensor.dtype))")
            }
        }
    }

    @Test func requestedOutputsOnly() throws {
        let model = try Self.loader.load(path: Fixtures.savedModel("multi_signature"))
        let x = try Tensor(shape: [1, 3], scalars: [Float(1), 5, 2])
        let outputs = try model.run(signature: "argmax", inputs: ["x": x], outputs: ["index"])
        #expect(Array(outputs.keys) == ["index"])
        #expect(try outputs["index"]?.scalars(as: Int64.self) == [1])
    }

    @Test func concurrentRunsAgree() async throws {
        let model = try Self.loader.load(path: Fixtures.savedModel("mlp"))
        let testCase = try Fixtures.cases("mlp").cases[1]
        let inputs = try testCase.inputTensors()
        let expected = try model.run(inputs: inputs)["probabilities"]!
        try await withThrowingTaskGroup(of: Tensor?.self) { group in
            for _ in 0..<8 {
                group.addTask { try model.run(inputs: inputs)["probabilities"] }
            }
            for try await result in group { #expect(result == expected) }
        }
    }
}
