import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import ServiceLifecycle
import WharfHTTP
import WharfMonitoring
import WharfRegistry
import WharfServing
import WharfTesting

/// A real `wharf serve` application on a free loopback port, over a scratch model repository.
final class TestServer: Sendable {
    let port: Int
    let repository: URL
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts a server over `repository` and waits until its models are loaded; `beforeStart` runs
    /// once the configuration is read, before the server is built.
    static func start(
        repository: URL, pollInterval: Duration? = nil, maxRequestBytes: Int = 8 << 20, registry: Registry? = nil,
        apiToken: String? = nil, registryPollInterval: Duration = .milliseconds(200), alerts: AlertConfiguration? = nil,
        alertRulesFile: String? = nil, beforeStart: () throws -> Void = {}
    ) async throws -> TestServer {
        var configuration = ServerConfiguration()
        configuration.httpPort = 0
        configuration.repositories = [repository.path]
        configuration.pollInterval = pollInterval
        configuration.maxRequestBytes = maxRequestBytes
        configuration.registryPollInterval = registryPollInterval
        if let alerts { configuration.alerts = alerts }
        // As `wharf serve --alert-rules` does.
        if let alertRulesFile { try configuration.loadAlertRules(alertRulesFile) }
        try beforeStart()
        var logger = Logger(label: "wharf.test")
        logger.logLevel = .warning
        let manager = ModelManager(versionCheck: RegistryWatcher.artifactCheck, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = WharfServer.buildApplication(
            configuration: configuration, manager: manager, registry: registry, apiToken: apiToken, logger: logger
        ) { port in
            continuation.yield(port)
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        await manager.waitUntilIdle()
        return TestServer(port: port, repository: repository, group: group, task: task)
    }

    private init(port: Int, repository: URL, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.repository = repository
        self.group = group
        self.task = task
    }

    /// Stops the server (graceful shutdown: in-flight requests finish, models unload).
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    struct HTTPResult: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    }

    /// Sends one request.
    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return HTTPResult(status: http.statusCode, headers: fields, body: data)
    }

    func post(_ path: String, json: String, headers: [String: String] = [:]) async throws -> HTTPResult {
        try await request("POST", path, body: Data(json.utf8), headers: headers)
    }

    func get(_ path: String) async throws -> HTTPResult { try await request("GET", path) }
}
