import Foundation
import Synchronization
import Testing
import WharfRegistry
import WharfServing
import WharfTesting

/// `wharf serve` over the model registry: models served by alias, the management API, alias
/// moves and rollbacks under load.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct RegistryServingTests {
    /// A registry in a scratch directory with `count` distinct ONNX MLP versions of model `mlp`.
    static func registry(versions count: Int) async throws -> (Registry, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-registry-\(UUID().uuidString)").path
        let registry = try await RegistryLocation(dataDirectory: directory, environment: [:]).open(inspector: ArtifactInspector(loadModel: false))
        for index in 1...count {
            let source = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-model-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.onnxModel("mlp"), toPath: source + "/model.onnx")
            try Data("version \(index)".utf8).write(to: URL(fileURLWithPath: source + "/NOTES.txt"))
            _ = try await registry.push(.init(model: "mlp", path: source, author: "test"))
            try FileManager.default.removeItem(atPath: source)
        }
        return (registry, directory)
    }

    static let inferBody: String = {
        let pixels = (0..<784).map { String(Double($0 % 7) / 7) }.joined(separator: ",")
        return #"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": [\#(pixels)]}]}"#
    }()

    /// The version that answered a V2 inference request naming no version.
    static func servedVersion(_ server: TestServer) async throws -> (status: Int, version: String?) {
        let response = try await server.post("/v2/models/mlp/infer", json: inferBody)
        return (response.status, (response.json as? [String: Any])?["model_version"] as? String)
    }

    static func waitFor(_ server: TestServer, version: String) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if try await servedVersion(server).version == version { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("version \(version) was never served")
    }

    @Test func aliasesServeAndTheManagementAPIMovesThem() async throws {
        let (registry, directory) = try await Self.registry(versions: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try await registry.setAlias(model: "mlp", alias: "production", version: 1, actor: "test")
        _ = try await registry.setAlias(model: "mlp", alias: "staging", version: 2, actor: "test")
        let scratch = try ScratchRepository()
        let server = try await TestServer.start(repository: scratch.root, registry: registry, apiToken: "s3cret")
        let auth = ["Authorization": "Bearer s3cret", "X-Wharf-Actor": "ana"]

        // production serves requests that name no version; aliases are labels.
        #expect(try await Self.servedVersion(server) == (200, "1"))
        let staging = try await server.post("/v1/models/mlp/labels/staging:predict", json: #"{"instances": [\#(Array(repeating: "0.5", count: 784).joined(separator: ","))]]}"#.replacingOccurrences(of: "[0.5", with: "[[0.5"))
        #expect(staging.status == 200, "\(staging.text)")

        // Without the token, or with a wrong one, nothing moves.
        let anonymous = try await server.request("PUT", "/registry/models/mlp/aliases/production", body: Data(#"{"version": 2}"#.utf8))
        #expect(anonymous.status == 401)
        #expect(anonymous.text.contains("Authorization: Bearer"))
        let wrong = try await server.request(
            "PUT", "/registry/models/mlp/aliases/production", body: Data(#"{"version": 2}"#.utf8), headers: ["Authorization": "Bearer guess"])
        #expect(wrong.status == 401)
        #expect(try await server.get("/registry/models").status == 401)
        #expect(try await registry.store.aliases(of: "mlp").first { $0.alias == "production" }?.version == 1)

        // With it, the alias moves and serving follows.
        let moved = try await server.request(
            "PUT", "/registry/models/mlp/aliases/production", body: Data(#"{"version": 2, "reason": "better"}"#.utf8), headers: auth)
        #expect(moved.status == 200, "\(moved.text)")
        try await Self.waitFor(server, version: "2")
        let back = try await server.request("POST", "/registry/models/mlp/rollback", body: Data(), headers: auth)
        #expect(back.status == 200, "\(back.text)")
        try await Self.waitFor(server, version: "1")

        let history = try await server.request("GET", "/registry/models/mlp/aliases/production/history", headers: auth)
        let events = try JSONCoding.decode([AuditEvent].self, history.text)
        #expect(events.map(\.action) == [.aliasSet, .aliasSet, .rollback])
        #expect(events.map(\.toVersion) == [1, 2, 1])
        #expect(events[1].actor == "ana")
        #expect(events[1].reason == "better")

        // Pushing over the API: a path on the server's machine.
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-model-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.onnxModel("mlp"), toPath: source + "/model.onnx")
        defer { try? FileManager.default.removeItem(atPath: source) }
        let pushed = try await server.request(
            "POST", "/registry/models/mlp/versions", body: Data(#"{"path": "\#(source)", "description": "over http"}"#.utf8), headers: auth)
        #expect(pushed.status == 201, "\(pushed.text)")
        #expect(try JSONCoding.decode(VersionRecord.self, pushed.text).version == 3)

        // Bad requests: clear errors, nothing written.
        let cases: [(String, String, String?, Int, String)] = [
            ("GET", "/registry/models/nope", nil, 404, "no model 'nope' in the registry (models: mlp)"),
            ("PUT", "/registry/models/mlp/aliases/production", #"{"version": 9}"#, 404, "has no READY version 9"),
            ("PUT", "/registry/models/mlp/aliases/production", #"{"versio": 2}"#, 400, "needs the field 'version'"),
            ("PUT", "/registry/models/mlp/aliases/production", "not json", 400, "not the JSON expected"),
            ("PUT", "/registry/models/mlp/aliases/-prod", #"{"version": 2}"#, 400, "must start with a letter or a digit"),
            ("DELETE", "/registry/models/mlp/versions/1", nil, 400, "alias 'production' points at it"),
            ("GET", "/registry/models/mlp/versions/x", nil, 400, "positive integer, got 'x'"),
            ("POST", "/registry/models/mlp/versions", #"{"path": "/nonexistent"}"#, 400, "does not exist"),
        ]
        for (method, path, body, status, message) in cases {
            let response = try await server.request(method, path, body: body.map { Data($0.utf8) }, headers: auth)
            #expect(response.status == status, "\(method) \(path): \(response.text)")
            #expect(response.text.contains(message), "\(method) \(path): \(response.text)")
        }
        #expect(try await registry.store.versions(of: "mlp").count == 3)
        #expect(try await registry.store.aliases(of: "mlp").first { $0.alias == "production" }?.version == 1)
        await server.stop()
    }

    @Test func aTamperedArtifactIsRefusedAtLoad() async throws {
        let (registry, directory) = try await Self.registry(versions: 1)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try await registry.setAlias(model: "mlp", alias: "production", version: 1, actor: "test")
        let hash = try #require(try await registry.store.version(model: "mlp", version: 1)?.contentHash)
        let file = URL(fileURLWithPath: directory + "/artifacts/objects/\(hash)/model.onnx")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 10] ^= 0xFF
        try bytes.write(to: file)
        let scratch = try ScratchRepository()
        let server = try await TestServer.start(repository: scratch.root, registry: registry, apiToken: "t")
        let status = try await server.get("/v1/models/mlp")
        #expect(status.text.contains("fails verification: expected sha256 \(hash)"), "\(status.text)")
        #expect(try await Self.servedVersion(server).status != 200)
        await server.stop()
    }

    struct Answer: Sendable {
        var sent: Duration
        var received: Duration
        var status: Int
        var version: Int64?
    }

    /// The issue's acceptance test: clients send traffic for 20 s while the `production` alias
    /// moves forward and back every 2 s; no request fails, and each answer comes from the version
    /// the alias pointed at, or the one before it during the swap.
    @Test func rollbackUnderLoadFailsNoRequest() async throws {
        let (registry, directory) = try await Self.registry(versions: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try await registry.setAlias(model: "mlp", alias: "production", version: 1, actor: "test")
        let scratch = try ScratchRepository()
        let server = try await TestServer.start(repository: scratch.root, registry: registry, apiToken: "t")
        let clock = ContinuousClock()
        let start = clock.now
        // (time of the move, version after it)
        let timeline = Shared<[(Duration, Int64)]>([(.zero, 1)])
        let answers = Shared<[Answer]>([])
        let duration = Duration.seconds(20)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while clock.now - start < duration {
                        let sent = clock.now - start
                        let result = try? await Self.servedVersion(server)
                        let answer = Answer(
                            sent: sent, received: clock.now - start, status: result?.status ?? -1, version: result?.version.flatMap { Int64($0) })
                        answers.value.withLock { $0.append(answer) }
                    }
                }
            }
            group.addTask {
                // 1 → 2 → 3 → (rollback) 2 → (rollback) 1 → 2 → 3 → ...
                var forward = true
                var current: Int64 = 1
                while clock.now - start < duration - .seconds(2) {
                    try await Task.sleep(for: .seconds(2))
                    if forward {
                        current += 1
                        _ = try await registry.setAlias(model: "mlp", alias: "production", version: current, actor: "test", reason: "forward")
                    } else {
                        let event = try await registry.rollback(model: "mlp", actor: "test", reason: "back")
                        current = event.toVersion!
                    }
                    let moved = current
                    timeline.value.withLock { $0.append((clock.now - start, moved)) }
                    if current == 3 { forward = false }
                    if current == 1 { forward = true }
                }
            }
            try await group.waitForAll()
        }
        await server.stop()

        let moves = timeline.value.withLock { $0 }
        let all = answers.value.withLock { $0 }
        #expect(moves.count >= 8, "the alias moved only \(moves.count - 1) times")
        #expect(all.count > 200, "only \(all.count) requests in 20 s")
        let failed = all.filter { $0.status != 200 }
        #expect(failed.isEmpty, "\(failed.count) of \(all.count) requests failed, first: \(String(describing: failed.first))")
        func index(at time: Duration) -> Int { moves.lastIndex { $0.0 <= time } ?? 0 }
        var wrong: [Answer] = []
        for answer in all where answer.status == 200 {
            let allowed = Set(moves[max(0, index(at: answer.sent) - 1)...index(at: answer.received)].map(\.1))
            if let version = answer.version, !allowed.contains(version) { wrong.append(answer) }
        }
        #expect(wrong.isEmpty, "\(wrong.count) answers came from a version the alias did not point at: \(wrong.prefix(3))")
        // Every version served at some point: the moves really reached the clients.
        #expect(Set(all.compactMap(\.version)) == [1, 2, 3])
    }
}

/// A value several tasks update.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>

    init(_ initial: Value) {
        value = Mutex(initial)
    }
}
