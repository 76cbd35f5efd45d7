import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import WharfMonitoring
import WharfRegistry

/// A running Wharf server the pipeline deploys to, reached over HTTP: the registry's management
/// API (with the bearer token), readiness, inference and the monitoring windows.
public struct TargetClient: Sendable {
    public let baseURL: String
    let token: String?
    let client: HTTPClient

    /// A target at `baseURL` (`http://host:8501`) with the management API's token.
    public init(baseURL: String, token: String?) {
        self.init(baseURL: baseURL, token: token, client: .shared)
    }

    init(baseURL: String, token: String?, client: HTTPClient) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.token = token
        self.client = client
    }

    /// What a request answered.
    struct Answer {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: HTTPMethod, _ path: String, json: Data? = nil, actor: String? = nil, timeout: Duration = .seconds(60)) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let actor { request.headers.add(name: "X-Wharf-Actor", value: actor) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: json))
        }
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.components.seconds * 1_000_000_000))
            let body = try await response.body.collect(upTo: 64 << 20)
            return Answer(status: Int(response.status.code), body: Data(buffer: body))
        } catch {
            throw PipelineError("cannot reach the target \(baseURL) (\(method) \(path)): \(error)")
        }
    }

    /// Sends a management call and decodes its answer; a refusal becomes an error with the
    /// server's message.
    func call<T: Decodable>(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil, actor: String, as type: T.Type) async throws -> T {
        let json = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let answer = try await send(method, path, json: json, actor: actor)
        guard (200..<300).contains(answer.status) else {
            let message = (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["error"] as? String ?? answer.text
            throw PipelineError("\(baseURL) refused \(method) \(path) (\(answer.status)): \(message)")
        }
        do {
            return try JSONCoding.decode(T.self, answer.text)
        } catch {
            throw PipelineError("\(baseURL) answered \(method) \(path) with something unexpected: \(error)")
        }
    }

    /// Checks, before a run starts, that the target answers and takes the token.
    func preflight() async throws {
        let answer = try await send(.GET, "/registry/models", timeout: .seconds(10))
        switch answer.status {
        case 200: return
        case 401: throw PipelineError("\(baseURL) refused the management API token: give the right one with --token or $WHARF_API_TOKEN")
        case 404: throw PipelineError("\(baseURL) has no registry: start it with `wharf serve --registry ...` (or without --model-repository)")
        default: throw PipelineError("\(baseURL)/registry/models answered \(answer.status): \(answer.text.prefix(200))")
        }
    }

    // MARK: Registry

    struct ModelDetail: Decodable {
        var aliases: [AliasRecord]
        var versions: [VersionRecord]
    }

    /// The model's aliases and READY versions, or `nil` when the registry has no such model yet.
    func model(_ name: String) async throws -> (aliases: [AliasRecord], versions: [VersionRecord])? {
        let answer = try await send(.GET, "/registry/models/\(name)")
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw PipelineError("\(baseURL) refused GET /registry/models/\(name) (\(answer.status)): \(answer.text)") }
        let detail = try JSONCoding.decode(ModelDetail.self, answer.text)
        return (detail.aliases, detail.versions)
    }

    func push(model: String, path: String, description: String, metrics: [String: Double], lineage: Lineage, actor: String) async throws -> VersionRecord {
        var body: [String: Any] = ["path": path, "description": description, "metrics": metrics]
        body["lineage"] = try JSONSerialization.jsonObject(with: Data(JSONCoding.encode(lineage).utf8))
        return try await call(.POST, "/registry/models/\(model)/versions", body: body, actor: actor, as: VersionRecord.self)
    }

    @discardableResult
    func setAlias(model: String, alias: String, version: Int64, reason: String, actor: String) async throws -> AuditEvent {
        try await call(.PUT, "/registry/models/\(model)/aliases/\(alias)", body: ["version": version, "reason": reason], actor: actor, as: AuditEvent.self)
    }

    func removeAlias(model: String, alias: String, actor: String) async throws {
        let answer = try await send(.DELETE, "/registry/models/\(model)/aliases/\(alias)", actor: actor)
        guard (200..<300).contains(answer.status) || answer.status == 404 else {
            throw PipelineError("\(baseURL) refused to remove alias \(alias) of \(model) (\(answer.status)): \(answer.text)")
        }
    }

    func setTraffic(model: String, alias: String, weight: Double, stickyHeader: String?, reason: String, actor: String) async throws {
        var body: [String: Any] = ["alias": alias, "weight": weight, "reason": reason]
        if let stickyHeader { body["sticky_header"] = stickyHeader }
        _ = try await call(.PUT, "/registry/models/\(model)/traffic", body: body, actor: actor, as: AuditEvent.self)
    }

    // MARK: Serving

    /// Whether the target serves `version` of `model` now.
    func isReady(model: String, version: Int64) async -> Bool {
        (try? await send(.GET, "/v2/models/\(model)/versions/\(version)/ready", timeout: .seconds(10)).status) == 200
    }

    /// A V2 inference request; the status and the body.
    func infer(model: String, version: Int64?, body: Data) async throws -> (Int, String) {
        let path = version.map { "/v2/models/\(model)/versions/\($0)/infer" } ?? "/v2/models/\(model)/infer"
        let answer = try await send(.POST, path, json: body)
        return (answer.status, answer.text)
    }

    /// The target's shortest monitoring window for each version of `model`.
    func windows(model: String) async throws -> [Int64: WindowStats] {
        let answer = try await send(.GET, "/wharf/status")
        guard answer.status == 200, let status = try? JSONCoding.decode(StatusReport.self, answer.text) else {
            throw PipelineError("\(baseURL)/wharf/status answered \(answer.status): monitoring must be on for the canary analysis")
        }
        let name = status.windows.first ?? "1m"
        var result: [Int64: WindowStats] = [:]
        for entry in status.models where entry.model == model {
            if let window = entry.windows[name] { result[entry.version] = window }
        }
        return result
    }
}
