import Foundation
public import WharfMonitoring
public import WharfRegistry
public import WharfServing
import Yams

/// Everything `wharf serve` needs, from flags or from a YAML file (`wharf serve --config`):
///
/// ```yaml
/// host: 0.0.0.0
/// http_port: 8501
/// http_threads: 2                    # the HTTP server's event loop threads (default: one per core)
/// model_repositories: [./models]     # every subdirectory is a model
/// models:                            # and/or models named explicitly
///   - {name: mlp, base_path: ./somewhere/mlp}
/// poll_interval_seconds: 2           # 0 turns polling off (index and load through the API)
/// max_request_bytes: 67108864
/// max_request_elements: 16777216
/// registry:                          # serve models by alias from the model registry
///   url: postgres://wharf@db/wharf   # default: sqlite:DATA_DIR/registry.sqlite
///   data_dir: /var/lib/wharf         # default: $WHARF_HOME or ~/.wharf
///   artifacts: s3://bucket/models    # default: DATA_DIR/artifacts
///   poll_interval_seconds: 2
///   aliases: [production, canary]    # default: every alias
///   api_token: secret                # management API token (default: generated, see below)
///   auth: true                       # false turns the token off (loopback hosts only)
/// monitoring:
///   metrics: true                    # /metrics, windows, alerts (false turns them all off)
///   windows_seconds: [60, 300]       # sliding windows reported per model version
///   alert_rules: alerts.yaml         # rules and receivers; reloaded when it changes
/// ```
public struct ServerConfiguration: Sendable, Equatable {
    public var host: String = "127.0.0.1"
    public var httpPort: Int = 8501
    /// The HTTP server's event loop threads (reading and writing connections); `nil` is one per
    /// core, SwiftNIO's default. Handlers and models run on other threads either way.
    public var httpThreads: Int?
    public var repositories: [String] = []
    /// Explicit models: name → base path.
    public var models: [String: String] = [:]
    /// How often the repository is scanned; `nil` turns polling off.
    public var pollInterval: Duration? = .seconds(2)
    /// Request bodies above this size get 413.
    public var maxRequestBytes: Int = 64 << 20
    /// Requests whose input tensors hold more elements than this get 413.
    public var maxRequestElements: Int = 16 << 20
    /// The model registry to serve aliases from and to manage over HTTP; `nil` without one.
    public var registry: RegistryLocation?
    /// How often the registry's aliases are read.
    public var registryPollInterval: Duration = .seconds(2)
    /// The aliases served (all when `nil`).
    public var servedAliases: [String]?
    /// The management API's bearer token; `nil` generates one into `DATA_DIR/api-token`.
    public var apiToken: String?
    /// Turns the management API's token check off; allowed only on a loopback host.
    public var disableAuthentication = false
    /// Prometheus metrics, sliding windows and alerts.
    public var metricsEnabled = true
    /// The windows reported per model version.
    public var monitoringWindows: [Duration] = [.seconds(60), .seconds(300)]
    /// The alert rule file (reloaded when it changes); `nil` uses the shipped rules.
    public var alertRulesFile: String?
    /// The rule file's text as `loadAlertRules` read it: the rule watcher starts from it, so a
    /// change made after that read is applied on the watcher's first look.
    public private(set) var alertRulesText: String?
    /// The rules and receivers in force at start.
    public var alerts = AlertConfiguration()

    public init() {}

    /// Whether `host` only accepts connections from this machine.
    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }

    /// The scanner for the configured repositories and models.
    public var scanner: RepositoryScanner { RepositoryScanner(repositories: repositories, models: models) }

    /// Reads a server configuration file; relative paths are taken relative to the file.
    public static func load(path: String) throws(ConfigError) -> ServerConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("\(path): cannot read the file")
        }
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw ConfigError("\(path): expected a mapping of settings at the top level")
            }
            root = loaded
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("\(path): not valid YAML: \(error)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : base.appendingPathComponent(relative).standardizedFileURL.path
        }
        let reader = ConfigReader(root, source: path)
        try reader.rejectUnknown(known: [
            "host", "http_port", "http_threads", "model_repositories", "models", "poll_interval_seconds", "max_request_bytes",
            "max_request_elements", "registry", "monitoring",
        ])
        var configuration = ServerConfiguration()
        configuration.host = try reader.string("host") ?? configuration.host
        configuration.httpPort = try reader.int("http_port") ?? configuration.httpPort
        configuration.httpThreads = try reader.int("http_threads")
        configuration.repositories = (try reader.stringList("model_repositories") ?? []).map(resolve)
        for model in try reader.sections("models") {
            try model.rejectUnknown(known: ["name", "base_path"])
            guard let name = try model.string("name"), let basePath = try model.string("base_path") else {
                throw ConfigError("\(path): every entry of models needs a name and a base_path")
            }
            configuration.models[name] = resolve(basePath)
        }
        if let seconds = try reader.double("poll_interval_seconds") {
            configuration.pollInterval = seconds > 0 ? .milliseconds(Int(seconds * 1000)) : nil
        }
        configuration.maxRequestBytes = try reader.int("max_request_bytes") ?? configuration.maxRequestBytes
        configuration.maxRequestElements = try reader.int("max_request_elements") ?? configuration.maxRequestElements
        if root["registry"] != nil {
            let registry = try reader.section("registry", known: ["url", "data_dir", "artifacts", "poll_interval_seconds", "aliases", "api_token", "auth"])
            configuration.registry = RegistryLocation(
                dataDirectory: try registry.string("data_dir").map(resolve), database: try registry.string("url"),
                artifacts: try registry.string("artifacts").map { $0.contains("://") ? $0 : resolve($0) })
            if let seconds = try registry.double("poll_interval_seconds") {
                guard seconds > 0 else { throw ConfigError("\(path): registry.poll_interval_seconds must be positive, got \(seconds)") }
                configuration.registryPollInterval = .milliseconds(Int(seconds * 1000))
            }
            configuration.servedAliases = try registry.stringList("aliases")
            configuration.apiToken = try registry.string("api_token")
            configuration.disableAuthentication = !(try registry.bool("auth") ?? true)
        }
        if root["monitoring"] != nil {
            let monitoring = try reader.section("monitoring", known: ["metrics", "windows_seconds", "alert_rules"])
            configuration.metricsEnabled = try monitoring.bool("metrics") ?? true
            if let seconds = try monitoring.intList("windows_seconds") {
                guard !seconds.isEmpty, seconds.allSatisfy({ (1...86_400).contains($0) }) else {
                    throw ConfigError("\(path): monitoring.windows_seconds expects 1 to 86400 seconds each, got \(seconds)")
                }
                configuration.monitoringWindows = seconds.map { .seconds($0) }
            }
            if let rules = try monitoring.string("alert_rules") { try configuration.loadAlertRules(resolve(rules)) }
        }
        try configuration.validate(source: path)
        return configuration
    }

    /// Reads the alert rule file at `path` (refusing to start with a bad one: the error names the
    /// line); later changes are reloaded while serving.
    public mutating func loadAlertRules(_ path: String) throws(ConfigError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("\(path): cannot read the file")
        }
        do {
            alerts = try AlertConfiguration.parse(yaml: text, source: path)
            alertRulesFile = path
            alertRulesText = text
        } catch {
            throw ConfigError(error.message)
        }
    }

    /// Checks the settings make sense together.
    public func validate(source: String = "configuration") throws(ConfigError) {
        guard (0...65535).contains(httpPort) else { throw ConfigError("\(source): http_port expects 0-65535, got \(httpPort)") }
        if let httpThreads, !(1...1024).contains(httpThreads) {
            throw ConfigError("\(source): http_threads expects 1-1024 event loop threads, got \(httpThreads)")
        }
        guard !repositories.isEmpty || !models.isEmpty || registry != nil else {
            throw ConfigError("\(source): no models to serve: give --model-repository DIR or --registry (or model_repositories / models / registry in the config file)")
        }
        if disableAuthentication && !isLoopback {
            throw ConfigError("\(source): the management API's token can only be turned off on a loopback host (127.0.0.1, ::1), not on '\(host)'")
        }
        guard maxRequestBytes > 0, maxRequestElements > 0 else {
            throw ConfigError("\(source): max_request_bytes and max_request_elements must be positive")
        }
    }
}
