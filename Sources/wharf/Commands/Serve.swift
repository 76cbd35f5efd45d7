import ArgumentParser
import Foundation
import Hummingbird
import Logging
import WharfHTTP
import WharfRegistry
import WharfServing

/// `wharf serve`: TF Serving and KServe V2 REST APIs over a model repository.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models over TensorFlow Serving's REST API and the KServe V2 REST API.",
        discussion: """
            A model repository holds one directory per model, and in it one directory per version \
            (integers) holding a SavedModel or model.onnx, like TF Serving and Triton:
              models/mlp/1/saved_model.pb, models/mlp/2/model.onnx, models/mlp/wharf.yaml (optional)
            New version directories are picked up once their contents stop changing between two polls.

            With no --model-repository (or with --registry, --data-dir), models are served by alias from the model \
            registry (`wharf versions push`, `wharf alias set`): requests that name no version go to `production`, \
            the other aliases are version labels. The registry's management API answers under /registry with a \
            bearer token: --api-token, $WHARF_API_TOKEN, or one generated into DATA_DIR/api-token.
            """)

    @Option(name: .customLong("model-repository"), help: "A model repository directory (repeatable).")
    var repositories: [String] = []

    @Option(name: .customLong("config"), help: "A server configuration file (YAML).")
    var configFile: String?

    @Option(help: "Address to listen on.")
    var host: String?

    @Option(name: .customLong("http-port"), help: "HTTP port for both REST APIs (0 picks a free port).")
    var httpPort: Int?

    @Option(name: .customLong("http-threads"), help: "Event loop threads of the HTTP server (default: one per core).")
    var httpThreads: Int?

    @Option(name: .customLong("poll-interval"), help: "Seconds between repository scans; 0 turns polling off.")
    var pollInterval: Double?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "Registry") var registryOptions: RegistryOptions

    @Option(name: .customLong("serve-alias"), help: "Serve only this alias of each registered model (repeatable; default: every alias).")
    var servedAliases: [String] = []

    @Option(name: .customLong("registry-poll-interval"), help: "Seconds between reads of the registry's aliases.")
    var registryPollInterval: Double?

    @Option(name: .customLong("api-token"), help: "The management API's bearer token (default: $WHARF_API_TOKEN, else generated into DATA_DIR/api-token).")
    var apiToken: String?

    @Flag(name: .customLong("no-auth"), help: "No token for the management API (only with a loopback --host).")
    var noAuth = false

    @Option(name: .customLong("alert-rules"), help: "Alert rules and receivers (YAML); reloaded when the file changes. Default: the shipped rules.")
    var alertRules: String?

    @Flag(name: .customLong("no-metrics"), help: "Turn off /metrics, the sliding windows, alerts and the dashboard.")
    var noMetrics = false

    func run() async throws {
        var configuration = ServerConfiguration()
        do {
            if let configFile { configuration = try ServerConfiguration.load(path: configFile) }
            configuration.repositories += repositories.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            if let host { configuration.host = host }
            if let httpPort { configuration.httpPort = httpPort }
            if let httpThreads { configuration.httpThreads = httpThreads }
            if let pollInterval { configuration.pollInterval = pollInterval > 0 ? .milliseconds(Int(pollInterval * 1000)) : nil }
            if registryOptions.isGiven || (configuration.registry == nil && configuration.repositories.isEmpty && configuration.models.isEmpty) {
                configuration.registry = registryOptions.location
            }
            if !servedAliases.isEmpty { configuration.servedAliases = servedAliases }
            if let registryPollInterval {
                guard registryPollInterval > 0 else { throw ConfigError("--registry-poll-interval must be positive, got \(registryPollInterval)") }
                configuration.registryPollInterval = .milliseconds(Int(registryPollInterval * 1000))
            }
            if let apiToken { configuration.apiToken = apiToken }
            if noAuth { configuration.disableAuthentication = true }
            if let alertRules { try configuration.loadAlertRules(URL(fileURLWithPath: alertRules).standardizedFileURL.path) }
            if noMetrics { configuration.metricsEnabled = false }
            try configuration.validate(source: configFile ?? "command line")
        } catch let error as ConfigError {
            throw ValidationError(error.message)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level expects trace, debug, info, notice, warning, error or critical; got '\(logLevel)'")
        }
        LoggingSystem.bootstrap { label in ServerLogHandler(label: label, level: level) }
        let logger = Logger(label: "wharf")
        var registry: Registry?
        var token: String?
        if let location = configuration.registry {
            do {
                registry = try await location.open()
            } catch {
                throw CLIError(error)
            }
            if !configuration.disableAuthentication {
                token = try Self.managementToken(configured: configuration.apiToken, dataDirectory: location.dataDirectory, logger: logger)
            }
            logger.notice("registry", metadata: ["records": "\(location.database)", "artifacts": "\(location.artifacts)"])
        }
        let manager = ModelManager(versionCheck: RegistryWatcher.artifactCheck, logger: Logger(label: "wharf.models"))
        let host = configuration.host
        let app = WharfServer.buildApplication(
            configuration: configuration, manager: manager, registry: registry, apiToken: token, logger: logger
        ) { port in
            logger.notice("serving", metadata: [
                "http.port": "\(port)", "tf_serving": "http://\(host):\(port)/v1/models/<model>:predict",
                "kserve_v2": "http://\(host):\(port)/v2/models/<model>/infer",
            ])
        }
        do {
            try await app.runService()
        } catch {
            await registry?.close()
            throw error
        }
        await registry?.close()
    }

    /// The management API token: the configured one, `$WHARF_API_TOKEN`, or the one in
    /// `DATA_DIR/api-token` (generated there, readable by the owner only, on first use).
    static func managementToken(configured: String?, dataDirectory: String, logger: Logger) throws -> String {
        if let configured, !configured.isEmpty { return configured }
        if let fromEnvironment = ProcessInfo.processInfo.environment["WHARF_API_TOKEN"], !fromEnvironment.isEmpty { return fromEnvironment }
        let path = dataDirectory + "/api-token"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            logger.notice("management API token", metadata: ["file": "\(path)"])
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        do {
            try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CLIError(message: "cannot write the management API token to \(path); give one with --api-token or $WHARF_API_TOKEN")
            }
        }
        logger.notice("management API token generated", metadata: ["file": "\(path)"])
        return token
    }
}
