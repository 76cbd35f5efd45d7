import Foundation
import Testing
import WharfBench
import WharfMonitoring
import WharfRegistry
import WharfServing
import WharfTesting

/// Monitoring on a live server: /metrics read by Prometheus's own parser, windows that agree with
/// what a client measured, and alerts that fire, act and resolve under an injected fault.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct MonitoringTests {
    static let pixels = Array(repeating: "0.25", count: 784).joined(separator: ",")

    /// Runs python/check_metrics.py on an exposition: the parsed samples, or the parser's error.
    static func parse(_ exposition: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = Fixtures.repositoryRoot.appendingPathComponent(".venv/bin/python")
        process.arguments = [Fixtures.repositoryRoot.appendingPathComponent("python/check_metrics.py").path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(exposition.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func value(_ parsed: [String: Any], _ name: String, _ labels: [String: String]) -> Double? {
        for case let sample as [Any] in parsed["samples"] as? [Any] ?? [] {
            guard sample.count == 3, sample[0] as? String == name, let sampleLabels = sample[1] as? [String: String] else { continue }
            if labels.allSatisfy({ sampleLabels[$0.key] == $0.value }) { return (sample[2] as? NSNumber)?.doubleValue }
        }
        return nil
    }

    @Test func metricsParseWithPrometheusOwnParserAndAddUp() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1)
        let server = try await TestServer.start(repository: repository.root)
        for _ in 0..<7 {
            #expect(try await server.post("/v1/models/mlp:predict", json: #"{"instances": [[\#(Self.pixels)]]}"#).status == 200)
        }
        for _ in 0..<3 {
            let body = #"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": [\#(Self.pixels)]}]}"#
            #expect(try await server.post("/v2/models/mlp/infer", json: body).status == 200)
        }
        #expect(try await server.post("/v1/models/mlp:predict", json: #"{"instances": [[1, 2]]}"#).status == 400)
        #expect(try await server.post("/v1/models/no_such_model:predict", json: #"{"instances": [[1]]}"#).status == 404)

        let metrics = try await server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        let parsed = try Self.parse(metrics.text)
        #expect(parsed["error"] == nil, "\(parsed["error"] ?? "")")
        #expect((parsed["problems"] as? [String])?.isEmpty == true, "\(parsed["problems"] ?? "")")
        let types = try #require(parsed["types"] as? [String: String])
        #expect(types["wharf_requests"] == "counter")
        #expect(types["wharf_request_duration_seconds"] == "histogram")
        #expect(types["wharf_request_compute_seconds"] == "histogram")
        #expect(types["wharf_batch_size"] == "histogram")
        #expect(types["process_resident_memory_bytes"] == "gauge")

        let base = ["model": "mlp", "version": "1"]
        #expect(Self.value(parsed, "wharf_requests_total", base.merging(["api": "tfserving", "code": "200"]) { a, _ in a }) == 7)
        #expect(Self.value(parsed, "wharf_requests_total", base.merging(["api": "kserve", "code": "200"]) { a, _ in a }) == 3)
        #expect(Self.value(parsed, "wharf_requests_total", base.merging(["api": "tfserving", "code": "400"]) { a, _ in a }) == 1)
        #expect(Self.value(parsed, "wharf_requests_total", ["model": ServingMonitor.unknownModel, "code": "404"]) == 1)
        #expect(Self.value(parsed, "wharf_request_duration_seconds_count", base.merging(["api": "tfserving"]) { a, _ in a }) == 8)
        #expect(Self.value(parsed, "wharf_request_compute_seconds_count", base) == 10)
        #expect(Self.value(parsed, "wharf_model_state", base.merging(["state": "READY"]) { a, _ in a }) == 1)
        #expect(Self.value(parsed, "wharf_model_state", base.merging(["state": "LOADING"]) { a, _ in a }) == 0)
        #expect((Self.value(parsed, "process_resident_memory_bytes", [:]) ?? 0) > 50_000_000)
        #expect((Self.value(parsed, "process_open_fds", [:]) ?? 0) > 3)
        #expect(Self.value(parsed, "wharf_runtime_info", ["runtime": "tensorflow"]) == 1)
        await server.stop()
    }

    @Test func windowPercentilesAgreeWithTheClients() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("cnn", 1, fixture: "cnn")
        try repository.writeConfig("cnn", "instances: 1\n")
        let server = try await TestServer.start(repository: repository.root)
        let configuration = BenchConfiguration(
            baseURL: "http://127.0.0.1:\(server.port)", model: "cnn", inferenceProtocol: .v2Binary, batchSize: 32,
            mode: .closedLoop(concurrencies: [1]), duration: .seconds(4), warmup: .zero)
        let report = try await BenchRunner(configuration: configuration).run()
        let client = try #require(report.steps.first)
        #expect(client.errors == 0)
        let status = try #require(try await server.get("/wharf/status").json as? [String: Any])
        let version = try #require((status["models"] as? [[String: Any]])?.first { $0["model"] as? String == "cnn" })
        let window = try #require((version["windows"] as? [String: Any])?["1m"] as? [String: Any])
        let requests = try #require(window["requests"] as? Int)
        let serverP95 = try #require(window["latency_p95_seconds"] as? Double)
        let clientP95 = client.latency.p95 / 1e6
        // The same requests: the server saw every request the client measured.
        #expect(requests >= client.requests)
        #expect(requests <= client.requests + 4)
        #expect(abs(serverP95 - clientP95) / clientP95 < 0.05, "server p95 \(serverP95 * 1000) ms, client p95 \(clientP95 * 1000) ms")
        await server.stop()
    }
}
