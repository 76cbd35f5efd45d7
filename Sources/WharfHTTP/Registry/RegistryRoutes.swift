import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WharfRegistry

/// The registry's management API, under `/registry`, protected by a bearer token:
///
/// ```
/// GET    /registry/models                                  models
/// GET    /registry/models/{m}                              one model, its aliases and READY versions
/// GET    /registry/models/{m}/versions[?all=true]          versions (READY only unless all)
/// POST   /registry/models/{m}/versions                     push {"path", "description", "tags", "metrics", "lineage"}
/// GET    /registry/models/{m}/versions/{v}                 one version
/// PUT    /registry/models/{m}/versions/{v}/tags            {"tags": [...]}
/// DELETE /registry/models/{m}/versions/{v}                 delete (refused while aliased)
/// GET    /registry/models/{m}/aliases                      aliases
/// PUT    /registry/models/{m}/aliases/{a}                  {"version": 3, "reason": "..."}
/// DELETE /registry/models/{m}/aliases/{a}
/// GET    /registry/models/{m}/aliases/{a}/history          that alias's moves
/// POST   /registry/models/{m}/rollback                     {"alias": "production", "to": 2, "reason": "..."}
/// GET    /registry/models/{m}/history                      the model's audit log
/// PUT    /registry/models/{m}/retention                    {"keep_last": 5, "keep_younger_than_seconds": 86400}
/// GET    /registry/models/{m}/traffic                      the traffic split (null when none)
/// PUT    /registry/models/{m}/traffic                      {"alias": "canary", "weight": 0.1, "sticky_header": "X-User", "reason": "..."}
/// POST   /registry/gc                                      {"dry_run": true}
/// ```
///
/// The actor recorded in the audit log is the `X-Wharf-Actor` header (default `api`). Alias
/// changes are applied to serving at once, without waiting for the next poll.
struct RegistryRoutes<Context: RequestContext> {
    let registry: Registry
    let watcher: RegistryWatcher?
    let maxBodyBytes: Int

    /// `GET /pipeline/runs[?model=M&limit=N]`: the newest pipeline runs recorded in the registry's
    /// database, summarized (no token: it shows no more than the dashboard does).
    func registerRuns(on router: Router<Context>) {
        router.get("pipeline/runs") { request, _ in
            let limit = try queryLimit(request, fallback: 20, maximum: 1000)
            let model = request.uri.queryParameters.get("model").map { String($0) }
            let runs = try await registry.store.runs(model: model, limit: limit)
            let dates = ISO8601DateFormatter()
            let summaries: [[String: Any]] = runs.map { run in
                var summary: [String: Any] = [
                    "id": run.id, "model": run.model, "status": run.status,
                    "created_at": dates.string(from: run.createdAt), "updated_at": dates.string(from: run.updatedAt),
                ]
                if let payload = try? JSONSerialization.jsonObject(with: Data(run.payload.utf8)) as? [String: Any] {
                    summary["version"] = payload["version"]
                    summary["decision"] = payload["decision"]
                    let stages = payload["stages"] as? [[String: Any]] ?? []
                    summary["stage"] = (stages.last { ($0["status"] as? String) != "pending" })?["name"]
                }
                return summary
            }
            let data = try JSONSerialization.data(withJSONObject: summaries, options: [.sortedKeys])
            return jsonResponse(.ok, Array(data))
        }
    }

    func register(on router: Router<Context>, token: String?) {
        let group = router.group("registry")
        if let token { group.add(middleware: BearerTokenMiddleware(token: token)) }
        group.get("models") { _, _ in try jsonResponse(encoding: try await registry.store.models()) }
        group.get("models/{model}") { _, context in
            let model = try await registry.model(try context.parameters.require("model"))
            let aliases = try await registry.store.aliases(of: model.name)
            let versions = try await registry.store.versions(of: model.name).filter { $0.status == .ready }
            return try jsonResponse(encoding: ModelDetail(model: model, aliases: aliases, versions: versions))
        }
        group.get("models/{model}/versions") { request, context in
            let model = try await registry.model(try context.parameters.require("model"))
            let all = request.uri.queryParameters.get("all") == "true"
            return try jsonResponse(encoding: try await registry.store.versions(of: model.name).filter { all || $0.status == .ready })
        }
        group.post("models/{model}/versions") { request, context in
            let body: PushBody = try await decode(request)
            var push = Registry.PushRequest(
                model: try context.parameters.require("model"), path: body.path, author: actor(request),
                description: body.description ?? "", tags: body.tags ?? [], metrics: body.metrics ?? [:], lineage: body.lineage ?? Lineage())
            if let author = body.author { push.author = author }
            if Registry.isBasePath(body.path) {
                return try jsonResponse(encoding: try await registry.importBasePath(push), status: .created)
            }
            return try jsonResponse(encoding: try await registry.push(push), status: .created)
        }
        group.get("models/{model}/versions/{version}") { _, context in
            try jsonResponse(encoding: try await registry.readyVersion(model: try context.parameters.require("model"), version: try version(context)))
        }
        group.put("models/{model}/versions/{version}/tags") { request, context in
            let body: TagsBody = try await decode(request)
            return try jsonResponse(encoding: try await registry.setTags(
                model: try context.parameters.require("model"), version: try version(context), tags: body.tags, actor: actor(request)))
        }
        group.delete("models/{model}/versions/{version}") { request, context in
            try jsonResponse(encoding: try await registry.deleteVersion(
                model: try context.parameters.require("model"), version: try version(context), actor: actor(request),
                reason: request.uri.queryParameters.get("reason") ?? ""))
        }
        group.get("models/{model}/aliases") { _, context in
            let model = try await registry.model(try context.parameters.require("model"))
            return try jsonResponse(encoding: try await registry.store.aliases(of: model.name))
        }
        group.put("models/{model}/aliases/{alias}") { request, context in
            let body: AliasBody = try await decode(request)
            let event = try await registry.setAlias(
                model: try context.parameters.require("model"), alias: try context.parameters.require("alias"), version: body.version,
                actor: actor(request), reason: body.reason ?? "")
            await watcher?.poll()
            return try jsonResponse(encoding: event)
        }
        group.delete("models/{model}/aliases/{alias}") { request, context in
            let event = try await registry.removeAlias(
                model: try context.parameters.require("model"), alias: try context.parameters.require("alias"), actor: actor(request),
                reason: request.uri.queryParameters.get("reason") ?? "")
            await watcher?.poll()
            return try jsonResponse(encoding: event)
        }
        group.get("models/{model}/aliases/{alias}/history") { _, context in
            let model = try await registry.model(try context.parameters.require("model"))
            let alias = try context.parameters.require("alias")
            try RegistryNames.validate(alias, "alias")
            return try jsonResponse(encoding: try await registry.store.events(model: model.name, alias: alias))
        }
        group.post("models/{model}/rollback") { request, context in
            let body: RollbackBody = try await decode(request, emptyAllowed: true) ?? RollbackBody()
            let event = try await registry.rollback(
                model: try context.parameters.require("model"), alias: body.alias ?? Registry.productionAlias, to: body.to,
                actor: actor(request), reason: body.reason ?? "")
            await watcher?.poll()
            return try jsonResponse(encoding: event)
        }
        group.get("models/{model}/history") { _, context in
            let model = try await registry.model(try context.parameters.require("model"))
            return try jsonResponse(encoding: try await registry.store.events(model: model.name))
        }
        group.put("models/{model}/retention") { request, context in
            let policy: RetentionPolicy = try await decode(request)
            return try jsonResponse(encoding: try await registry.setRetention(
                model: try context.parameters.require("model"), policy: policy, actor: actor(request)))
        }
        group.get("models/{model}/traffic") { _, context in
            let model = try await registry.model(try context.parameters.require("model"))
            return try jsonResponse(encoding: try await registry.store.trafficSplits(model: model.name).first)
        }
        group.put("models/{model}/traffic") { request, context in
            let body: TrafficBody = try await decode(request)
            let event = try await registry.setTrafficSplit(
                model: try context.parameters.require("model"), alias: body.alias ?? "canary", weight: body.weight,
                stickyHeader: body.stickyHeader, actor: actor(request), reason: body.reason ?? "")
            await watcher?.poll()
            return try jsonResponse(encoding: event)
        }
        group.post("gc") { request, _ in
            let body: CollectBody = try await decode(request, emptyAllowed: true) ?? CollectBody()
            return try jsonResponse(encoding: try await registry.collectGarbage(dryRun: body.dryRun ?? false, actor: actor(request)))
        }
    }

    private func version(_ context: Context) throws -> Int64 {
        let text = try context.parameters.require("version")
        guard let number = Int64(text), number > 0 else {
            throw RequestError(.badRequest, "version expects a positive integer, got '\(text)'")
        }
        return number
    }

    private func actor(_ request: Request) -> String {
        request.headers[HTTPField.Name("X-Wharf-Actor")!] ?? "api"
    }

    private func decode<T: Decodable>(_ request: Request) async throws -> T {
        guard let value: T = try await decode(request, emptyAllowed: false) else {
            throw RequestError(.badRequest, "expected a JSON body")
        }
        return value
    }

    private func decode<T: Decodable>(_ request: Request, emptyAllowed: Bool) async throws -> T? {
        var request = request
        let buffer = try await request.collectBody(limit: maxBodyBytes)
        if buffer.readableBytes == 0 {
            if emptyAllowed { return nil }
            throw RequestError(.badRequest, "expected a JSON body, got an empty one")
        }
        do {
            return try JSONCoding.decode(T.self, String(buffer: buffer))
        } catch let DecodingError.keyNotFound(key, _) {
            throw RequestError(.badRequest, "the JSON body needs the field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(type, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RequestError(.badRequest, "field '\(path)' expects \(type), got something else")
        } catch {
            throw RequestError(.badRequest, "the body is not the JSON expected: \(error)")
        }
    }
}

private struct ModelDetail: Encodable {
    var model: ModelRecord
    var aliases: [AliasRecord]
    var versions: [VersionRecord]
}

private struct PushBody: Decodable {
    var path: String
    var author: String?
    var description: String?
    var tags: [String]?
    var metrics: [String: Double]?
    var lineage: Lineage?
}

private struct TagsBody: Decodable {
    var tags: [String]
}

private struct AliasBody: Decodable {
    var version: Int64
    var reason: String?
}

private struct RollbackBody: Decodable {
    var alias: String?
    var to: Int64?
    var reason: String?
}

private struct TrafficBody: Decodable {
    var alias: String?
    var weight: Double
    var stickyHeader: String?
    var reason: String?

    enum CodingKeys: String, CodingKey {
        case alias, weight, reason
        case stickyHeader = "sticky_header"
    }
}

private struct CollectBody: Decodable {
    var dryRun: Bool?

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run"
    }
}

/// Refuses requests without `Authorization: Bearer <token>` (compared in constant time).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let given = request.headers[.authorization] ?? ""
        guard given.hasPrefix("Bearer "), Self.equal(Array(given.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw RequestError(
                .unauthorized,
                given.isEmpty ? "the management API needs an 'Authorization: Bearer <token>' header" : "the bearer token is not valid")
        }
        return try await next(request, context)
    }

    static func equal(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
