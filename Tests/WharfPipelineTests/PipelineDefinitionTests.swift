import Testing
import WharfPipeline
import WharfServing

@Suite struct PipelineDefinitionTests {
    @Test func aPipelineFileSetsEveryStage() throws {
        let definition = try PipelineDefinition.parse(yaml: """
            validate: {smoke_rows: 2}
            convert: {targets: [onnx, tflite-int8], calibration_data: calib.npy}
            parity: {max_abs_error: 0.001, min_top1: 0.98}
            benchmark: {duration_seconds: 5, concurrency: 8, batch_size: 4, max_p95_ms: 50, min_throughput: 100, max_regression: 0.2}
            staging: {timeout_seconds: 30}
            canary: {weight: 0.05, duration_seconds: 60, max_error_rate: 0.02, max_p95_ratio: 1.2, min_requests: 50, sticky_header: X-User}
            """, source: "pipeline.yaml")
        #expect(definition.smokeRows == 2)
        #expect(definition.convertTargets == ["onnx", "tflite-int8"])
        #expect(definition.calibrationData == "calib.npy")
        #expect(definition.parityMaxAbsError == 0.001)
        #expect(definition.benchmarkConcurrency == 8)
        #expect(definition.maxP95Milliseconds == 50)
        #expect(definition.maxRegression == 0.2)
        #expect(definition.canaryWeight == 0.05)
        #expect(definition.canaryStickyHeader == "X-User")
        #expect(try PipelineDefinition.parse(yaml: "", source: "empty.yaml") == PipelineDefinition())
    }

    @Test(arguments: [
        ("canary: {wieght: 0.1}\n", "wieght"),
        ("convert: {targets: [coreml]}\n", "'coreml' is not one of onnx"),
        ("canary: {weight: 1.5}\n", "canary.weight expects 0 to 1"),
        ("deploy: {}\n", "deploy"),
        ("[1, 2]\n", "expected a mapping"),
        ("benchmark: {duration_seconds: 0}\n", "durations must be positive"),
    ])
    func badPipelineFilesSayWhatIsWrong(_ yaml: String, _ message: String) {
        do {
            _ = try PipelineDefinition.parse(yaml: yaml, source: "pipeline.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.message.hasPrefix("pipeline.yaml"))
        }
    }
}
