import Foundation
public import WharfServing
import Yams

/// Everything `wharf serve` needs, from flags or from a YAML file (`wharf serve --config`):
///
/// ```yaml
/// host: 0.0.0.0
/// http_port: 8501
/// model_repositories: [./models]     # every subdirectory is a model
/// models:                            # and/or models named explicitly
///   - {name: mlp, base_path: ./somewhere/mlp}
/// poll_interval_seconds: 2           # 0 turns polling off (index and load through the API)
/// max_request_bytes: 67108864
/// max_request_elements: 16777216
/// ```
public struct ServerConfiguration: Sendable, Equatable {
    public var host: String = "127.0.0.1"
    public var httpPort: Int = 8501
    public var repositories: [String] = []
    /// Explicit models: name → base path.
    public var models: [String: String] = [:]
    /// How often the repository is scanned; `nil` turns polling off.
    public var pollInterval: Duration? = .seconds(2)
    /// Request bodies above this size get 413.
    public var maxRequestBytes: Int = 64 << 20
    /// Requests whose input tensors hold more elements than this get 413.
    public var maxRequestElements: Int = 16 << 20

    public init() {}

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
            "host", "http_port", "model_repositories", "models", "poll_interval_seconds", "max_request_bytes",
            "max_request_elements",
        ])
        var configuration = ServerConfiguration()
        configuration.host = try reader.string("host") ?? configuration.host
        configuration.httpPort = try reader.int("http_port") ?? configuration.httpPort
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
        try configuration.validate(source: path)
        return configuration
    }

    /// Checks the settings make sense together.
    public func validate(source: String = "configuration") throws(ConfigError) {
        guard (0...65535).contains(httpPort) else { throw ConfigError("\(source): http_port expects 0-65535, got \(httpPort)") }
        guard !repositories.isEmpty || !models.isEmpty else {
            throw ConfigError("\(source): no models to serve: give --model-repository DIR (or model_repositories / models in the config file)")
        }
        guard maxRequestBytes > 0, maxRequestElements > 0 else {
            throw ConfigError("\(source): max_request_bytes and max_request_elements must be positive")
        }
    }
}
