import Foundation
import Testing
import WharfBench
import WharfCore
import WharfProtocols

/// The parts of `wharf bench` that need no server: settings, inputs, request bodies, reports.
struct BenchUnitTests {
    @Test func settingsAreCheckedWithClearMessages() {
        func message(_ change: (inout BenchConfiguration) -> Void) -> String? {
            var configuration = BenchConfiguration(model: "mlp")
            change(&configuration)
            do {
                try configuration.validate()
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message { _ in } == nil)
        #expect(message { $0.baseURL = "localhost:8501" } == "the server URL starts with http:// or https://, got 'localhost:8501'")
        #expect(message { $0.baseURL = "http://" }?.contains("needs a host") == true)
        #expect(message { $0.model = "" }?.contains("non-empty name") == true)
        #expect(message { $0.batchSize = 0 } == "the batch size is at least 1, got 0")
        #expect(message { $0.mode = .closedLoop(concurrencies: []) } == "closed loop needs at least one concurrency")
        #expect(message { $0.mode = .closedLoop(concurrencies: [1, 0]) } == "a concurrency is between 1 and 4096, got 0")
        #expect(message { $0.mode = .openLoop(requestsPerSecond: -5, maxInFlight: 4) }?.contains("got -5.0") == true)
        #expect(message { $0.mode = .openLoop(requestsPerSecond: 5, maxInFlight: 0) }?.contains("got 0") == true)
        #expect(message { $0.duration = .zero }?.contains("duration is positive") == true)
        #expect(message { $0.version = -1 } == "a model version is a non-negative integer, got -1")
    }

    @Test func urlsFollowTheProtocols() {
        var configuration = BenchConfiguration(baseURL: "http://host:9000//", model: "mlp", version: 3, inferenceProtocol: .tfServing)
        #expect(configuration.inferenceURL == "http://host:9000/v1/models/mlp/versions/3:predict")
        #expect(configuration.metadataURL == "http://host:9000/v2/models/mlp/versions/3")
        configuration.version = nil
        configuration.inferenceProtocol = .v2JSON
        #expect(configuration.inferenceURL == "http://host:9000/v2/models/mlp/infer")
        #expect(configuration.metadataURL == "http://host:9000/v2/models/mlp")
    }

    @Test func synthesizedInputsFitTheMetadata() throws {
        let specs = [
            TensorSpec(name: "image", dtype: .float32, shape: TensorShape([-1, 28, -1])),
            TensorSpec(name: "ids", dtype: .int64, shape: TensorShape([-1])),
            TensorSpec(name: "flag", dtype: .bool, shape: TensorShape([2])),
            TensorSpec(name: "text", dtype: .string, shape: .unknownRank),
            TensorSpec(name: "half", dtype: .float16, shape: TensorShape([-1, 2])),
        ]
        let tensors = try InputSynthesizer.synthesize(specs, batchSize: 4, seed: 7)
        #expect(tensors["image"]?.shape == [4, 28, 1])
        #expect(tensors["ids"]?.shape == [4])
        #expect(tensors["flag"]?.shape == [2])
        #expect(tensors["text"]?.shape == [4])
        #expect(tensors["half"]?.dtype == .float16)
        let floats = try #require(tensors["image"]).scalars(as: Float.self)
        #expect(floats.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Set(floats).count > 10)
        #expect(try #require(tensors["ids"]).scalars(as: Int64.self).allSatisfy { (0..<10).contains($0) })
        #expect(try #require(tensors["text"]).strings().allSatisfy { (4...12).contains($0.count) })
        // The same seed gives the same values; another seed other values.
        #expect(try InputSynthesizer.synthesize(specs, batchSize: 4, seed: 7)["image"] == tensors["image"])
        #expect(try InputSynthesizer.synthesize(specs, batchSize: 4, seed: 8)["image"] != tensors["image"])
    }

    @Test func requestBodiesDecodeOnTheServerSide() throws {
        let inputs: [String: Tensor] = [
            "b": try Tensor(shape: [2, 2], scalars: [Int64(1), 2, 3, 4]),
            "a": try Tensor(shape: [2], strings: ["x\"y", "z"]),
        ]
        // V2 binary: the server's own decoder reads back the same tensors.
        let binary = RequestEncoder.encode(inputs, outputs: ["out"], inferenceProtocol: .v2Binary, model: "m", version: 2)
        #expect(binary.path == "/v2/models/m/versions/2/infer")
        #expect(binary.contentType == "application/octet-stream")
        let decoded = try binary.body.withUnsafeBytes { try KServeV2.decodeInferRequest($0, headerLength: binary.headerLength) }
        #expect(decoded.inputs == inputs)
        #expect(decoded.outputs?.map(\.name) == ["out"])
        #expect(decoded.outputs?.map(\.binary) == [true])
        // V2 JSON.
        let json = RequestEncoder.encode(inputs, outputs: ["out"], inferenceProtocol: .v2JSON, model: "m", version: nil)
        #expect(json.headerLength == nil)
        #expect(try json.body.withUnsafeBytes { try KServeV2.decodeInferRequest($0, headerLength: nil) }.inputs == inputs)
        #expect(String(decoding: json.body, as: UTF8.self).hasPrefix(#"{"inputs":[{"name":"a","shape":[2],"datatype":"BYTES","data":["x\"y","z"]}"#))
        // TF Serving: rows (objects of rows for two inputs), or columnar when asked.
        let signature = Signature(key: "serving_default", inputs: [
            TensorSpec(name: "a", dtype: .string, shape: TensorShape([-1])),
            TensorSpec(name: "b", dtype: .int64, shape: TensorShape([-1, 2])),
        ], outputs: [])
        let objects = RequestEncoder.encode(inputs, outputs: [], inferenceProtocol: .tfServing, model: "m", version: nil)
        #expect(String(decoding: objects.body, as: UTF8.self) == #"{"instances":[{"a":"x\"y","b":[1,2]},{"a":"z","b":[3,4]}]}"#)
        #expect(try TFServingJSON.decodePredictRequest(objects.body) { _ in signature }.inputs == inputs)
        let columnar = RequestEncoder.encode(
            inputs, outputs: [], inferenceProtocol: .tfServing, model: "m", version: nil, tfServingFormat: .columnar)
        #expect(columnar.path == "/v1/models/m:predict")
        #expect(String(decoding: columnar.body, as: UTF8.self) == #"{"inputs":{"a":["x\"y","z"],"b":[[1,2],[3,4]]}}"#)
        #expect(try TFServingJSON.decodePredictRequest(columnar.body) { _ in signature }.inputs == inputs)
        let rows = RequestEncoder.encode(["b": inputs["b"]!], outputs: [], inferenceProtocol: .tfServing, model: "m", version: nil)
        #expect(String(decoding: rows.body, as: UTF8.self) == #"{"instances":[[1,2],[3,4]]}"#)
    }

    @Test func metadataIsReadOrRejectedWithTheReason() throws {
        let metadata = try ModelMetadata(json: JSONValue.parse(
            #"{"name":"mlp","versions":["1"],"platform":"tensorflow_savedmodel","inputs":[{"name":"pixels","datatype":"FP32","shape":[-1,784]}],"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,10]}]}"#))
        #expect(metadata.inputs == [TensorSpec(name: "pixels", dtype: .float32, shape: TensorShape([-1, 784]))])
        #expect(metadata.outputs.map(\.name) == ["probabilities"])
        #expect(metadata.versions == ["1"])
        let error = try #require(throws: BenchError.self) {
            try ModelMetadata(json: JSONValue.parse(#"{"inputs":[{"name":"x","datatype":"FP8","shape":[1]}]}"#))
        }
        #expect(error.message.hasPrefix("model metadata inputs 'x' has datatype 'FP8'; expected one of FP16, FP32"))
    }

    static func sampleReport(openLoop: Bool) -> BenchReport {
        let latency = LatencySummary(count: 1200, mean: 812.5, min: 301, p50: 790, p90: 1010, p95: 1100, p99: 1500, max: 12_345)
        let steps: [BenchStepResult] = openLoop
            ? [BenchStepResult(
                load: .rate(requestsPerSecond: 200, maxInFlight: 8), duration: 2, requests: 400, errors: 0, errorMessages: [],
                late: 3, dropped: 0, latency: latency, throughput: 200, achievedRate: 200)]
            : [
                BenchStepResult(
                    load: .concurrency(1), duration: 1, requests: 1200, errors: 0, errorMessages: [], latency: latency,
                    throughput: 1200, achievedRate: 1200),
                BenchStepResult(
                    load: .concurrency(16), duration: 1, requests: 10_000, errors: 2, errorMessages: ["HTTP 503: busy"],
                    latency: latency, throughput: 9998, achievedRate: 10_000),
            ]
        let metadata = ModelMetadata(
            name: "mlp", inputs: [TensorSpec(name: "pixels", dtype: .float32, shape: TensorShape([-1, 784]))], outputs: [])
        return BenchReport(configuration: BenchConfiguration(model: "mlp"), metadata: metadata, steps: steps)
    }

    @Test func tableColumnsAlign() {
        let table = Self.sampleReport(openLoop: false).table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0] == "concurrency  requests  errors   req/s  mean ms  p50 ms  p90 ms  p95 ms  p99 ms  max ms")
        #expect(lines[1] == "          1      1200       0  1200.0    0.813   0.790   1.010   1.100   1.500  12.345")
        #expect(lines[2].count == lines[0].count)
        #expect(lines[3] == "concurrency 16: 2 of 10000 requests failed; first errors:")
        #expect(lines[4] == "  HTTP 503: busy")
        let open = Self.sampleReport(openLoop: true).table().split(separator: "\n")
        #expect(open[0].hasPrefix("target/s  sent/s  requests  errors  late  dropped  req/s"))
        #expect(open[1].hasPrefix("     200   200.0       400       0     3        0  200.0"))
    }

    @Test func csvAndJSONCarryEveryStep() throws {
        let report = Self.sampleReport(openLoop: false)
        let csv = report.csv().split(separator: "\n")
        #expect(csv.count == 3)
        #expect(csv[0] == "concurrency,target_rps,duration_s,requests,errors,late,dropped,throughput_rps,sent_rps,mean_us,min_us,p50_us,p90_us,p95_us,p99_us,max_us")
        #expect(csv[1] == "1,,1,1200,0,0,0,1200.00,1200.00,812.5,301,790,1010,1100,1500,12345")
        let json = try JSONValue.parse(report.jsonBytes())
        let steps = try #require(json["steps"]?.arrayValue)
        #expect(steps.count == 2)
        #expect(steps[1]["concurrency"] == .int(16))
        #expect(steps[1]["error_messages"] == .array(["HTTP 503: busy"]))
        #expect(steps[0]["latency_us"]?["p99"] == .double(1500))
        #expect(json["settings"]?["protocol"] == "v2-binary")
        let open = try JSONValue.parse(Self.sampleReport(openLoop: true).jsonBytes())
        #expect(open["steps"]?.arrayValue?.first?["target_rps"] == .double(200))
        #expect(open["steps"]?.arrayValue?.first?["mode"] == "open_loop")
    }

    @Test func progressLineReadsAtAGlance() {
        let progress = BenchProgress(
            step: 2, stepCount: 3, load: .concurrency(4), phase: .measuring, elapsed: 3.21, phaseDuration: 10, requests: 12_034,
            errors: 0, currentRate: 3761.4)
        #expect(progress.line == "[2/3] concurrency 4  measuring 3.2/10.0 s  12034 requests  0 errors  3761 req/s")
    }
}
