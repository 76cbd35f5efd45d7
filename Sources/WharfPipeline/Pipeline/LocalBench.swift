import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import WharfBench
import WharfHTTP
import WharfServing

/// The benchmark gate's measurements: an in-process `wharf serve` on a loopback port over a
/// scratch repository, driven by `wharf bench`'s runner, one version after another.
enum LocalBench {
    struct Measurement: Sendable {
        var p95Milliseconds: Double
        var throughput: Double
    }

    static func measure(
        repository: String, runs: [(model: String, version: Int64)], definition: PipelineDefinition, logger: Logger
    ) async throws -> [Measurement] {
        var configuration = ServerConfiguration()
        configuration.httpPort = 0
        configuration.repositories = [repository]
        configuration.pollInterval = nil
        configuration.metricsEnabled = false
        var quiet = logger
        quiet.logLevel = .warning
        let manager = ModelManager(logger: quiet)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = WharfServer.buildApplication(configuration: configuration, manager: manager, logger: quiet) { port in
            continuation.yield(port)
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        let task = Task { try await group.run() }
        defer { task.cancel() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw PipelineError("the benchmark server did not start") }
        await manager.waitUntilIdle()
        let outcome: Result<[Measurement], any Error>
        do {
            var results: [Measurement] = []
            for run in runs {
                let bench = BenchConfiguration(
                    baseURL: "http://127.0.0.1:\(port)", model: run.model, version: run.version, inferenceProtocol: .v2Binary,
                    batchSize: definition.benchmarkBatchSize, mode: .closedLoop(concurrencies: [definition.benchmarkConcurrency]),
                    duration: .milliseconds(Int(definition.benchmarkSeconds * 1000)), warmup: .milliseconds(500))
                let report: BenchReport
                do {
                    report = try await BenchRunner(configuration: bench).run()
                } catch {
                    throw PipelineError("benchmark of \(run.model) version \(run.version) failed: \(error)")
                }
                guard let step = report.steps.first, step.errors == 0 else {
                    throw PipelineError("benchmark of \(run.model) version \(run.version): \(report.steps.first?.errorMessages.first ?? "no result")")
                }
                results.append(Measurement(p95Milliseconds: step.latency.p95 / 1000, throughput: step.throughput))
            }
            outcome = .success(results)
        } catch {
            outcome = .failure(error)
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return try outcome.get()
    }
}
