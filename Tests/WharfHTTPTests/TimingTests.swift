import Foundation
import Testing
import WharfTesting

/// The timing breakdown, the request deadline header, the no-op baseline route and ORT settings.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"), .serialized)
struct TimingTests {
    /// One MLP request body, V2 JSON.
    static let body = #"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": \#(Array(repeating: 0.5, count: 784))}]}"#

    /// A server with the MLP on ONNX Runtime, configured by `config` (its wharf.yaml); the
    /// repository must outlive the server.
    static func serveMLP(config: String) async throws -> (ScratchRepository, TestServer) {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp", onnx: true)
        try repository.write("mlp/wharf.yaml", config)
        return (repository, try await TestServer.start(repository: repository.root))
    }

    @Test func serverTimingBreakdownOnRequest() async throws {
        let (repository, server) = try await Self.serveMLP(config: "threads: {intra_op: 1, allow_spinning: false}\nresponse_cache: {max_bytes: 1000000}\n")
        defer { Task { await server.stop(); _ = repository } }
        let body = Self.body
        let plain = try await server.post("/v2/models/mlp/infer", json: body)
        #expect(plain.status == 200)
        #expect(plain.headers["server-timing"] == nil, "only on request")
        let timed = try await server.post("/v2/models/mlp/infer", json: body, headers: ["X-Wharf-Timing": "1"])
        let header = try #require(timed.headers["server-timing"])
        let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").map { part -> (String, Double) in
            let pieces = part.trimmingCharacters(in: .whitespaces).split(separator: ";dur=")
            return (String(pieces[0]), Double(pieces[1]) ?? -1)
        })
        #expect(Set(parts.keys) == ["read", "decode", "queue", "compute", "encode", "total"])
        #expect(parts.values.allSatisfy { $0 >= 0 })
        #expect(parts["total"]! >= parts["read"]! + parts["decode"]! + parts["encode"]!)
        #expect(timed.headers["x-wharf-cache"] == "hit", "the second identical request hits the cache")
        #expect(timed.headers["x-wharf-batch-size"] != nil)

        let predict = try await server.post(
            "/v1/models/mlp:predict", json: #"{"instances": [\#(Array(repeating: 0.25, count: 784))]}"#, headers: ["X-Wharf-Timing": "true"])
        #expect(predict.headers["server-timing"]?.contains("compute;dur=") == true)
        #expect(predict.headers["x-wharf-cache"] == "miss")

        let badTimeout = try await server.post("/v2/models/mlp/infer", json: body, headers: ["X-Wharf-Timeout-Ms": "soon"])
        #expect(badTimeout.status == 400)
        #expect(badTimeout.text.contains("X-Wharf-Timeout-Ms expects a positive number of milliseconds, got 'soon'"))
        #expect(try await server.post("/v2/models/mlp/infer", json: body, headers: ["X-Wharf-Timeout-Ms": "5000"]).status == 200)

        let noop = try await server.post("/wharf/noop", json: body)
        #expect(noop.status == 200)
        #expect(noop.text == "{}")
    }

    /// A request whose X-Wharf-Timeout-Ms passes while it waits in the queue gets 504 (the
    /// scheduler drops it before the runtime call); the same request without a deadline runs once
    /// its batch closes.
    @Test func aDeadlinePassedInTheQueueAnswers504() async throws {
        // A batch that is not full waits 400 ms for company: longer than the deadline.
        let (repository, server) = try await Self.serveMLP(
            config: "dynamic_batching: {max_batch_size: 8, batch_timeout_micros: 400000}\nwarmup: {enabled: false}\n")
        defer { Task { await server.stop(); _ = repository } }
        let body = Self.body
        let late = try await server.post("/v2/models/mlp/infer", json: body, headers: ["X-Wharf-Timeout-Ms": "50"])
        #expect(late.status == 504, "\(late.status): \(late.text)")
        #expect(late.text.contains("deadline passed"), "\(late.text)")
        let predict = try await server.post(
            "/v1/models/mlp:predict", json: #"{"instances": [\#(Array(repeating: 0.25, count: 784))]}"#, headers: ["X-Wharf-Timeout-Ms": "50"])
        #expect(predict.status == 504, "\(predict.status): \(predict.text)")
        let patient = try await server.post("/v2/models/mlp/infer", json: body)
        #expect(patient.status == 200, "\(patient.status): \(patient.text)")
    }
}
