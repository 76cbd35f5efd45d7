import Foundation
import Testing
import WharfBench
import WharfCore
import WharfTesting

/// `BenchRunner` against a live server: every protocol, closed and open loop, and the ways a
/// benchmark goes wrong. Serialized, so that the steps do not compete for the CPU.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"), .serialized)
struct BenchRunTests {
    static func configuration(
        _ server: BenchServer, model: String = "mlp", inferenceProtocol: InferenceProtocol = .v2Binary,
        mode: LoadMode = .closedLoop(concurrencies: [1]), duration: Duration = .seconds(1),
        warmup: Duration = .milliseconds(200), batchSize: Int = 1, inputFile: String? = nil
    ) -> BenchConfiguration {
        BenchConfiguration(
            baseURL: server.url + "/", model: model, inferenceProtocol: inferenceProtocol, batchSize: batchSize, mode: mode,
            duration: duration, warmup: warmup, inputFile: inputFile, requestTimeout: .seconds(10))
    }

    /// A step without failures whose numbers agree with each other.
    static func expectHealthy(_ step: BenchStepResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(step.errors == 0, "errors: \(step.errorMessages)", sourceLocation: sourceLocation)
        #expect(step.requests > 0, sourceLocation: sourceLocation)
        let latency = step.latency
        #expect(latency.count == step.requests, sourceLocation: sourceLocation)
        #expect(latency.min > 0, sourceLocation: sourceLocation)
        #expect(latency.min <= latency.p50, sourceLocation: sourceLocation)
        #expect(latency.p50 <= latency.p90, sourceLocation: sourceLocation)
        #expect(latency.p90 <= latency.p95, sourceLocation: sourceLocation)
        #expect(latency.p95 <= latency.p99, sourceLocation: sourceLocation)
        #expect(latency.p99 <= latency.max, sourceLocation: sourceLocation)
        #expect(latency.min <= latency.mean && latency.mean <= latency.max, sourceLocation: sourceLocation)
        let perSecond = Double(step.requests) / step.duration
        #expect(abs(step.throughput - perSecond) <= perSecond * 0.01, sourceLocation: sourceLocation)
        if let concurrency = step.concurrency {
            // Little's law: in a closed loop, throughput × mean latency ≈ concurrency. Requests
            // answered in the window may have left before it, by at most the max latency.
            let busy = step.throughput * latency.mean / 1_000_000
            let upper = Double(concurrency) * (1 + latency.max / 1_000_000 / step.duration) * 1.05
            #expect(busy > Double(concurrency) * 0.6 && busy < upper, "busy \(busy), at most \(upper)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: InferenceProtocol.allCases)
    func closedLoopOnTheSavedModel(_ inferenceProtocol: InferenceProtocol) async throws {
        let server = try await BenchServer.shared()
        let clock = ContinuousClock()
        let started = clock.now
        let configuration = Self.configuration(server, inferenceProtocol: inferenceProtocol, mode: .closedLoop(concurrencies: [1, 4]))
        let report = try await BenchRunner(configuration: configuration).run()
        let elapsed = clock.now - started
        #expect(report.steps.map(\.concurrency) == [1, 4])
        #expect(elapsed >= .milliseconds(2400), "two steps of 0.2 s warm-up and 1 s measurement")
        #expect(report.metadata.inputs.map(\.name) == ["pixels"])
        for step in report.steps { Self.expectHealthy(step) }
        #expect(report.totalErrors == 0)
    }

    @Test(arguments: InferenceProtocol.allCases)
    func closedLoopWithTwoInputsAndABatch(_ inferenceProtocol: InferenceProtocol) async throws {
        let server = try await BenchServer.shared()
        let configuration = Self.configuration(
            server, model: "two_io", inferenceProtocol: inferenceProtocol, mode: .closedLoop(concurrencies: [2]),
            duration: .milliseconds(500), batchSize: 3)
        let report = try await BenchRunner(configuration: configuration).run()
        #expect(report.metadata.inputs.map(\.dtype) == [.float32, .int64])
        #expect(report.steps.count == 1)
        for step in report.steps { Self.expectHealthy(step) }
    }

    @Test func openLoopReachesItsTargetRate() async throws {
        let server = try await BenchServer.shared()
        let configuration = Self.configuration(
            server, mode: .openLoop(requestsPerSecond: 200, maxInFlight: 32), duration: .seconds(2), warmup: .milliseconds(300))
        let report = try await BenchRunner(configuration: configuration).run()
        let step = try #require(report.steps.first)
        Self.expectHealthy(step)
        #expect(step.targetRate == 200)
        #expect(abs(step.achievedRate - 200) <= 20, "sent \(step.achievedRate) req/s")
        #expect(abs(step.throughput - 200) <= 20, "answered \(step.throughput) req/s")
        // On a loaded 2-core machine the request scheduled at the window's very end may miss it.
        #expect(step.dropped <= 2, "\(step.dropped) dropped")
        #expect(abs(step.requests + step.dropped - 400) <= 1, "400 requests scheduled in 2 s")
    }

    @Test func openLoopCountsLateAndDroppedRequests() async throws {
        // One request in flight at a time at a rate no server answers: most requests wait for the
        // slot (late), the rest never leave (dropped), and latency counts the waiting.
        let server = try await BenchServer.shared()
        let configuration = Self.configuration(
            server, mode: .openLoop(requestsPerSecond: 50_000, maxInFlight: 1), duration: .milliseconds(300),
            warmup: .zero)
        let report = try await BenchRunner(configuration: configuration).run()
        let step = try #require(report.steps.first)
        #expect(step.errors == 0)
        #expect(step.late > 0)
        #expect(step.dropped > 0)
        #expect(abs(step.requests + step.dropped - 15_000) <= 1, "15 000 requests scheduled in 0.3 s")
        #expect(step.latency.max > 100_000, "the last requests sent waited most of the window")
    }

    @Test func unknownModelFailsClearly() async throws {
        let server = try await BenchServer.shared()
        let error = try await #require(throws: BenchError.self) {
            try await BenchRunner(configuration: Self.configuration(server, model: "nope")).run()
        }
        #expect(error.code == .modelNotFound)
        #expect(error.message.contains("HTTP 404"))
        #expect(error.message.contains("'nope'"))
        #expect(error.message.contains("/v2/models/nope"))
    }

    @Test func unreachableServerFailsClearly() async throws {
        var configuration = BenchConfiguration(model: "mlp", duration: .milliseconds(100), warmup: .zero)
        configuration.baseURL = "http://127.0.0.1:1"
        let error = try await #require(throws: BenchError.self) {
            try await BenchRunner(configuration: configuration).run()
        }
        #expect(error.code == .serverUnreachable)
        #expect(error.message.contains("cannot reach the server"))
    }

    @Test func wrongInputFileIsCountedAsErrors() async throws {
        let server = try await BenchServer.shared()
        let file = try Self.write(#"{"inputs": {"image": [[0.5, 0.25]]}}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        for inferenceProtocol in InferenceProtocol.allCases {
            let configuration = Self.configuration(
                server, inferenceProtocol: inferenceProtocol, duration: .milliseconds(300), warmup: .zero, inputFile: file)
            let report = try await BenchRunner(configuration: configuration).run()
            let step = try #require(report.steps.first)
            #expect(step.requests > 0)
            #expect(step.errors == step.requests, "\(inferenceProtocol)")
            #expect(step.throughput == 0)
            #expect(step.latency == .empty)
            let message = try #require(step.errorMessages.first)
            #expect(message.hasPrefix("HTTP 400: "), "\(message)")
            #expect(message.contains("image"), "\(message)")
            #expect(report.table().contains("requests failed; first errors:"))
        }
    }

    @Test func inputFileInEitherLayoutIsSent() async throws {
        let server = try await BenchServer.shared()
        let row = "[" + (0..<784).map { String(Double($0 % 10) / 10) }.joined(separator: ",") + "]"
        for body in [#"{"instances": [\#(row), \#(row)]}"#, #"{"inputs": {"pixels": [\#(row)]}}"#] {
            let file = try Self.write(body)
            defer { try? FileManager.default.removeItem(atPath: file) }
            for inferenceProtocol in InferenceProtocol.allCases {
                let configuration = Self.configuration(
                    server, inferenceProtocol: inferenceProtocol, duration: .milliseconds(200), warmup: .zero, inputFile: file)
                let report = try await BenchRunner(configuration: configuration).run()
                Self.expectHealthy(try #require(report.steps.first))
            }
        }
    }

    @Test func inputFileThatIsNotARequestFailsClearly() async throws {
        let server = try await BenchServer.shared()
        let file = try Self.write(#"{"pixels": [1, 2, 3]}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let error = try await #require(throws: BenchError.self) {
            try await BenchRunner(configuration: Self.configuration(server, inputFile: file)).run()
        }
        #expect(error.code == .invalidInput)
        #expect(error.message.contains(file))
        #expect(error.message.contains("'instances'"))
        let missing = try await #require(throws: BenchError.self) {
            try await BenchRunner(configuration: Self.configuration(server, inputFile: file + ".missing")).run()
        }
        #expect(missing.message == "cannot read the input file \(file).missing")
    }

    @Test func preparedRequestMatchesTheProtocol() async throws {
        let server = try await BenchServer.shared()
        let binary = try await BenchRunner(configuration: Self.configuration(server, batchSize: 2)).prepareRequest()
        #expect(binary.request.path == "/v2/models/mlp/infer")
        let headerLength = try #require(binary.request.headerLength)
        #expect(binary.request.body.count == headerLength + 2 * 784 * 4)
        let header = String(decoding: binary.request.body.prefix(headerLength), as: UTF8.self)
        #expect(header.contains(#""shape":[2,784],"datatype":"FP32","parameters":{"binary_data_size":6272}"#))
        #expect(header.contains(#""outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]"#))
        let predict = try await BenchRunner(configuration: Self.configuration(server, inferenceProtocol: .tfServing)).prepareRequest()
        #expect(predict.request.path == "/v1/models/mlp:predict")
        #expect(predict.request.headerLength == nil)
        #expect(String(decoding: predict.request.body, as: UTF8.self).hasPrefix(#"{"instances":[["#))
    }

    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-bench-input-\(UUID().uuidString).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
