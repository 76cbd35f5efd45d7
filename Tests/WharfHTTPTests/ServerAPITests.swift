import Foundation
import Testing
import WharfCore
import WharfTesting

/// The two REST APIs of a live server, as clients use them.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"), .serialized)
struct ServerAPITests {
    /// A repository with: mlp v1 (SavedModel) and v2 (ONNX) with labels; two_io, strings,
    /// multi_signature as SavedModels.
    static func makeRepository() throws -> ScratchRepository {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp")
        try repository.addVersion("mlp", 2, fixture: "mlp", onnx: true)
        try repository.write("mlp/wharf.yaml", "version_policy: all\nlabels: {stable: 1, canary: 2}\n")
        try repository.addVersion("two_io", 1, fixture: "two_io")
        try repository.addVersion("strings", 1, fixture: "strings")
        try repository.addVersion("multi_signature", 1, fixture: "multi_signature")
        return repository
    }

    /// A fixture tensor as nested JSON lists (row-major), for request bodies.
    static func json(_ tensor: Tensor) -> String {
        let values = tensor.doubleValues() ?? []
        func nest(_ level: Int, _ offset: Int) -> String {
            if level == tensor.shape.count { return String(values[offset]) }
            let stride = tensor.shape[(level + 1)...].reduce(1, *)
            return "[" + (0..<tensor.shape[level]).map { nest(level + 1, offset + $0 * stride) }.joined(separator: ",") + "]"
        }
        return nest(0, 0)
    }

    @Test func tensorFlowServingAPI() async throws {
        let repository = try Self.makeRepository()
        let server = try await TestServer.start(repository: repository.root)
        defer { Task { await server.stop() } }

        // Status: every version, a version, a label.
        let status = try await server.get("/v1/models/mlp")
        #expect(status.status == 200)
        #expect(status.text == #"{"model_version_status":[{"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}},{"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}"#)
        #expect(try await server.get("/v1/models/mlp/versions/1").text.contains(#""version":"1""#))
        #expect(try await server.get("/v1/models/mlp/labels/canary").text.contains(#""version":"2""#))
        let missing = try await server.get("/v1/models/nope")
        #expect(missing.status == 404)
        #expect(missing.text == #"{"error":"Could not find any versions of model nope"}"#)

        // Metadata: every signature, TF names for types and shapes.
        let metadata = try await server.get("/v1/models/multi_signature/metadata")
        let defs = ((metadata.json as? [String: Any])?["metadata"] as? [String: Any]).flatMap { $0["signature_def"] as? [String: Any] }
        let signatures = defs?["signature_def"] as? [String: Any]
        #expect(Set(signatures?.keys ?? [:].keys) == ["serving_default", "add", "argmax"])
        #expect(metadata.text.contains(#""x":{"dtype":"DT_FLOAT","tensor_shape":{"dim":[{"size":"-1","name":""},{"size":"3","name":""}],"unknown_rank":false},"name":"#))

        // Predict, row format, against Python TensorFlow's outputs.
        let mlpCase = try Fixtures.cases("mlp").cases[1]
        let pixels = try mlpCase.inputs["pixels"]!.tensor()
        let expected = try mlpCase.tensorflow["probabilities"]!.tensor()
        for path in ["/v1/models/mlp/versions/1:predict", "/v1/models/mlp/labels/canary:predict", "/v1/models/mlp:predict"] {
            let answer = try await server.post(path, json: #"{"instances": \#(Self.json(pixels))}"#)
            #expect(answer.status == 200, "\(path): \(answer.text)")
            let predictions = (answer.json as? [String: Any])?["predictions"] as? [[Double]] ?? []
            let flat = predictions.flatMap { $0 }
            let want = expected.doubleValues() ?? []
            #expect(flat.count == want.count)
            #expect(zip(flat, want).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(path)")
        }

        // Columnar, two inputs, int64 exact.
        let columnar = try await server.post(
            "/v1/models/two_io:predict",
            json: #"{"inputs": {"features": [[1, 2, 3, 4]], "ids": [[9007199254740993, -7, 0]]}}"#)
        #expect(columnar.status == 200, "\(columnar.text)")
        #expect(columnar.text.contains(#""ids_doubled":[[18014398509481987,-13,1]]"#))

        // b64 strings and signature_name.
        let strings = try await server.post("/v1/models/strings:predict", json: #"{"inputs": [{"b64": "aGVsbG8="}, "world"]}"#)
        #expect(strings.text == #"{"outputs":{"count":2,"echo":["hello","world"]}}"#)
        let add = try await server.post(
            "/v1/models/multi_signature:predict", json: #"{"signature_name": "add", "inputs": {"a": [[1, 2, 3]], "b": [[10, 20, 30]]}}"#)
        #expect(add.text == #"{"outputs":[[11.0,22.0,33.0]]}"#)
        // NaN and Infinity in, NaN out.
        let nan = try await server.post("/v1/models/multi_signature:predict", json: #"{"instances": [[NaN, Infinity, -Infinity]]}"#)
        #expect(nan.text == #"{"predictions":[[NaN,Infinity,-Infinity]]}"#)
        #expect(nan.headers["x-request-id"] != nil)
    }

    @Test func badRequestsGetTheRight4xxAndAClearMessage() async throws {
        let repository = try Self.makeRepository()
        let server = try await TestServer.start(repository: repository.root, maxRequestBytes: 1 << 20)
        defer { Task { await server.stop() } }
        let cases: [(String, String, Int, String)] = [
            ("/v1/models/mlp:predict", #"{"instances": [1, 2"#, 400, "at byte"),
            ("/v1/models/mlp:predict", #"{"instances": [], "inputs": []}"#, 400, "instances"),
            ("/v1/models/multi_signature:predict", #"{"instances": [[1, 2, 3], [1, 2]]}"#, 400, "instances[1] has shape [2]"),
            ("/v1/models/multi_signature:predict", #"{"inputs": [[1, [2], 3]]}"#, 400, "ragged"),
            ("/v1/models/multi_signature:predict", #"{"instances": [["a", "b", "c"]]}"#, 400, "expects float32"),
            ("/v1/models/multi_signature:predict", #"{"instances": [[1, 2, 3, 4]]}"#, 400, "expects float32 [-1, 3], got float32 [1, 4]"),
            ("/v1/models/two_io:predict", #"{"inputs": {"features": [[1, 2, 3, 4]], "ids": [[1.5, 2, 3]]}}"#, 400, "expects int64"),
            ("/v1/models/nope:predict", #"{"instances": [1]}"#, 404, "Servable not found for request: Latest(nope)"),
            ("/v1/models/mlp/versions/9:predict", #"{"instances": [1]}"#, 404, "Specific(mlp, 9)"),
            ("/v1/models/mlp/labels/beta:predict", #"{"instances": [1]}"#, 400, "Unrecognized servable version label: beta"),
            ("/v1/models/multi_signature:predict", #"{"signature_name": "nope", "instances": [[1, 2, 3]]}"#, 400, "'nope' not found"),
            ("/v1/models/multi_signature:regress", #"{}"#, 501, ":regress"),
            ("/v1/models/multi_signature:explode", #"{}"#, 404, "unknown method"),
            ("/v2/models/mlp/infer", #"{"inputs": [{"name": "pixels", "shape": [1, 2], "datatype": "FP99", "data": [1, 2]}]}"#, 400, "datatype 'FP99'"),
            ("/v2/models/mlp/infer", #"{"inputs": [{"name": "pixels", "shape": [1, 3], "datatype": "FP32", "data": [1, 2]}]}"#, 400, "holds 3 elements, data has 2"),
            ("/v2/models/mlp/infer", #"{"inputs": [{"name": "pixels", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}"#, 400, "expects float32 [-1, 784], got float32 [1, 3]"),
            ("/v2/models/nope/infer", #"{"inputs": []}"#, 404, "nope"),
        ]
        for (path, body, status, fragment) in cases {
            let answer = try await server.post(path, json: body)
            #expect(answer.status == status, "\(path) \(body): \(answer.status) \(answer.text)")
            let message = (answer.json as? [String: Any])?["error"] as? String ?? ""
            #expect(message.contains(fragment), "\(path) \(body): \(answer.text)")
        }
        // A body above the limit: 413.
        let huge = String(repeating: "1,", count: 600_000)
        let tooLarge = try await server.post("/v1/models/mlp:predict", json: #"{"instances": [\#(huge)1]}"#)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.text.contains("limit of 1048576 bytes"))
        // A binary header length larger than the body.
        let binary = try await server.post(
            "/v2/models/mlp/infer", json: #"{"inputs": []}"#, headers: ["Inference-Header-Content-Length": "500"])
        #expect(binary.status == 400)
        #expect(binary.text.contains("Inference-Header-Content-Length is 500, but the request body holds only 14 bytes"))
        // Binary data the inputs do not claim, and a claim larger than the data.
        let header = #"{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]}"#
        var body = Data(header.utf8)
        body.append(Data(count: 12))
        let short = try await server.request(
            "POST", "/v2/models/multi_signature/infer", body: body, headers: ["Inference-Header-Content-Length": String(header.utf8.count)])
        #expect(short.status == 400)
        #expect(short.text.contains("declares 16 bytes of binary data, but only 12 remain"))
    }

    @Test func kserveV2AndTheOfficialTritonClient() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp")
        try repository.addVersion("two_io", 1, fixture: "two_io", onnx: true)
        try repository.addVersion("strings", 1, fixture: "strings")
        let server = try await TestServer.start(repository: repository.root)
        defer { Task { await server.stop() } }

        #expect(try await server.get("/v2/health/live").status == 200)
        #expect(try await server.get("/v2/health/ready").status == 200)
        #expect(try await server.get("/v2/models/mlp/ready").status == 200)
        #expect(try await server.get("/v2/models/mlp/versions/3/ready").status == 400)
        let metadata = try await server.get("/v2/models/two_io")
        #expect(metadata.text == #"{"name":"two_io","versions":["1"],"platform":"onnxruntime_onnx","inputs":[{"name":"features","datatype":"FP32","shape":[-1,4]},{"name":"ids","datatype":"INT64","shape":[-1,3]}],"outputs":[{"name":"ids_doubled","datatype":"INT64","shape":[-1,3]},{"name":"score","datatype":"FP32","shape":[-1]}]}"#)

        // JSON inference with nested data and a requested output.
        let answer = try await server.post("/v2/models/two_io/infer", json: #"""
            {"id": "r1", "inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [[1, 2, 3, 4]]},
             {"name": "ids", "shape": [1, 3], "datatype": "INT64", "data": [1, 2, 3]}], "outputs": [{"name": "ids_doubled"}]}
            """#)
        #expect(answer.text == #"{"model_name":"two_io","model_version":"1","id":"r1","outputs":[{"name":"ids_doubled","datatype":"INT64","shape":[1,3],"data":[3,5,7]}]}"#)

        // The official client, JSON and binary, three models, against Python TensorFlow's outputs.
        let process = Process()
        process.executableURL = Fixtures.repositoryRoot.appendingPathComponent(".venv/bin/python")
        process.arguments = [
            Fixtures.repositoryRoot.appendingPathComponent("python/checks/triton_client_check.py").path, String(server.port),
            Fixtures.root.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("OK: 10 inferences"), "\(text)")
    }

    @Test func repositoryAPILoadsAndUnloads() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp")
        let server = try await TestServer.start(repository: repository.root)
        defer { Task { await server.stop() } }
        #expect(try await server.post("/v2/repository/models/mlp/unload", json: "").status == 200)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await server.get("/v2/models/mlp/ready").status == 400)
        let index = try await server.post("/v2/repository/index", json: "{}")
        #expect(index.text.contains(#""name":"mlp""#))
        #expect(try await server.post("/v2/repository/models/mlp/load", json: "").status == 200)
        #expect(try await server.get("/v2/models/mlp/ready").status == 200)
        // A new model directory, loaded explicitly without waiting for a poll.
        try repository.addVersion("cnn", 1, fixture: "cnn", onnx: true)
        #expect(try await server.post("/v2/repository/models/cnn/load", json: "").status == 200)
        #expect(try await server.get("/v2/models/cnn/ready").status == 200)
        let unknown = try await server.post("/v2/repository/models/ghost/load", json: "")
        #expect(unknown.status == 404)
        // A corrupt new version: reported with its error, the previous version keeps serving.
        try repository.write("mlp/2/saved_model.pb", "not a protobuf")
        _ = try await server.post("/v2/repository/index", json: "{}")
        try await Task.sleep(for: .milliseconds(500))
        let status = try await server.get("/v1/models/mlp")
        #expect(status.text.contains(#""version":"2","state":"END","status":{"error_code":"UNKNOWN","error_message":"cannot load the SavedModel"#), "\(status.text)")
        #expect(status.text.contains(#""version":"1","state":"AVAILABLE""#))
        let predict = try await server.post("/v2/models/mlp/infer", json: #"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": \#(Array(repeating: 0, count: 784))}]}"#)
        #expect(predict.text.contains(#""model_version":"1""#))
    }
}
