import Foundation
import Testing
@testable import WharfRuntime
import WharfCore
import WharfTesting

/// Wharf's ConfigProto bytes against the bytes TensorFlow's own Python serializer writes for the
/// same settings (Fixtures/generated/config_proto.json), so GPU builds honour the options.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct ConfigProtoTests {
    struct Case: Decodable {
        var intra_op_threads: Int
        var inter_op_threads: Int
        var allow_growth: Bool
        var memory_fraction: Double?
        var visible_devices: [Int]?
        var memory_limit_mb: Int?
        var hex: String
    }

    @Test func bytesEqualTensorFlowsSerialization() throws {
        let data = try Data(contentsOf: Fixtures.root.appendingPathComponent("config_proto.json"))
        let cases = try JSONDecoder().decode([Case].self, from: data)
        #expect(cases.count >= 5)
        for testCase in cases {
            let options = RuntimeOptions(
                intraOpThreads: testCase.intra_op_threads, interOpThreads: testCase.inter_op_threads,
                gpu: GPUOptions(
                    allowMemoryGrowth: testCase.allow_growth, memoryFraction: testCase.memory_fraction,
                    memoryLimitMB: testCase.memory_limit_mb, visibleDevices: testCase.visible_devices))
            let hex = ConfigProto.serialize(options).map { String(format: "%02x", $0) }.joined()
            #expect(hex == testCase.hex, "\(testCase)")
        }
    }

    @Test func sessionsLoadWithThreadAndGPUSettings() throws {
        // A CPU build accepts (and ignores) the GPU options; the threads are applied.
        let options = RuntimeOptions(
            intraOpThreads: 1, interOpThreads: 1,
            gpu: GPUOptions(allowMemoryGrowth: true, memoryFraction: 0.5, memoryLimitMB: 256, visibleDevices: [0]))
        for path in [Fixtures.savedModel("mlp"), Fixtures.onnxModel("mlp")] {
            let model = try ModelLoader(options: options).load(path: path)
            let input = try WharfCore.Tensor(shape: [2, 784], scalars: [Float](repeating: 0.25, count: 1568))
            #expect(try model.run(inputs: ["pixels": input])["probabilities"]?.shape == [2, 10])
        }
    }
}
