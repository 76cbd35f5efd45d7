import ArgumentParser
import Foundation
import Hummingbird
import Logging
import WharfHTTP
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
            """)

    @Option(name: .customLong("model-repository"), help: "A model repository directory (repeatable).")
    var repositories: [String] = []

    @Option(name: .customLong("config"), help: "A server configuration file (YAML).")
    var configFile: String?

    @Option(help: "Address to listen on.")
    var host: String?

    @Option(name: .customLong("http-port"), help: "HTTP port for both REST APIs (0 picks a free port).")
    var httpPort: Int?

    @Option(name: .customLong("poll-interval"), help: "Seconds between repository scans; 0 turns polling off.")
    var pollInterval: Double?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        var configuration = ServerConfiguration()
        do {
            if let configFile { configuration = try ServerConfiguration.load(path: configFile) }
            configuration.repositories += repositories.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            if let host { configuration.host = host }
            if let httpPort { configuration.httpPort = httpPort }
            if let pollInterval { configuration.pollInterval = pollInterval > 0 ? .milliseconds(Int(pollInterval * 1000)) : nil }
            try configuration.validate(source: configFile ?? "command line")
        } catch {
            throw ValidationError(error.message)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level expects trace, debug, info, notice, warning, error or critical; got '\(logLevel)'")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "wharf")
        let manager = ModelManager(logger: Logger(label: "wharf.models"))
        let host = configuration.host
        let app = WharfServer.buildApplication(configuration: configuration, manager: manager, logger: logger) { port in
            logger.notice("serving", metadata: [
                "http.port": "\(port)", "tf_serving": "http://\(host):\(port)/v1/models/<model>:predict",
                "kserve_v2": "http://\(host):\(port)/v2/models/<model>/infer",
            ])
        }
        try await app.runService()
    }
}
