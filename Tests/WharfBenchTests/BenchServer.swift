import Foundation
import Logging
import ServiceLifecycle
import WharfHTTP
import WharfServing
import WharfTesting

/// A real `wharf serve` application on a free loopback port, serving `mlp` (the SavedModel, on
/// TensorFlow) and `two_io` (the ONNX file, on ONNX Runtime). Started once and shared by the
/// benchmark tests; its scratch repository is removed as soon as the models are loaded.
final class BenchServer: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// The base URL clients use.
    var url: String { "http://127.0.0.1:\(port)" }

    private static let starting = Task { try await BenchServer.start() }

    /// The shared server, started on first use.
    static func shared() async throws -> BenchServer {
        try await starting.value
    }

    private static func start() async throws -> BenchServer {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("two_io/1"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("mlp"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.savedModel("mlp"), toPath: root.appendingPathComponent("mlp/1").path)
        try FileManager.default.copyItem(
            atPath: Fixtures.onnxModel("two_io"), toPath: root.appendingPathComponent("two_io/1/model.onnx").path)

        var configuration = ServerConfiguration()
        configuration.httpPort = 0
        configuration.repositories = [root.path]
        configuration.pollInterval = nil
        var logger = Logger(label: "wharf.bench-test")
        logger.logLevel = .warning
        let manager = ModelManager(logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = WharfServer.buildApplication(configuration: configuration, manager: manager, logger: logger) { port in
            continuation.yield(port)
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        await manager.waitUntilIdle()
        return BenchServer(port: port, group: group, task: task)
    }

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }
}
