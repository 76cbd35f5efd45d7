import Foundation
import Synchronization
import Testing
import WharfCore
import WharfRuntime
import WharfServing
import WharfTesting

extension ScratchRepository {
    var scanner: RepositoryScanner { RepositoryScanner(repositories: [root.path]) }
}

@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct ModelManagerTests {
    static let pixels = try! Tensor(shape: [1, 784], scalars: [Float](repeating: 0.5, count: 784))

    func states(_ manager: ModelManager, _ model: String) async -> [Int64: VersionState] {
        let status = await manager.status(of: model)
        return Dictionary(uniqueKeysWithValues: (status?.versions ?? []).map { ($0.version, $0.state) })
    }

    @Test func servesTheLatestVersionAndSwapsWithoutAGap() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1)
        let manager = ModelManager()
        let watcher = RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60))
        await watcher.indexNow()
        #expect(await manager.isReady() == false, "not ready before start-up loading is over")
        await manager.finishStartup()
        #expect(await manager.isReady())
        let lease = try manager.acquire(model: "mlp")
        #expect(lease.servable.version == 1)

        try repository.addVersion("mlp", 2, onnx: true)
        await watcher.indexNow()
        // Not waitUntilIdle: the unload of v1 cannot finish while this test holds a lease on it.
        let deadline = ContinuousClock.now + .seconds(30)
        while await states(manager, "mlp")[2] != .ready, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await states(manager, "mlp") == [2: .ready, 1: .unloading], "v1 waits for the request holding it")
        #expect(try manager.acquire(model: "mlp").servable.version == 2)
        #expect(try manager.acquire(model: "mlp").servable.model.runtime == .onnxruntime)
        // The request that held v1 still runs on it.
        #expect(try await lease.servable.run(signature: nil, inputs: ["pixels": Self.pixels], outputs: nil)["probabilities"]?.shape == [1, 10])
        _ = consume lease
        await manager.waitUntilIdle()
        #expect(await states(manager, "mlp") == [2: .ready])
        #expect(throws: ServingError.self) { try manager.acquire(model: "mlp", .number(1)) }
        await manager.shutdown()
    }

    @Test func aCorruptVersionFailsAndThePreviousKeepsServing() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1)
        let manager = ModelManager()
        let watcher = RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60))
        await watcher.indexNow()
        await manager.finishStartup()
        try repository.addCorruptVersion("mlp", 2)
        await watcher.indexNow()
        await manager.waitUntilIdle()
        let status = try #require(await manager.status(of: "mlp"))
        let failed = try #require(status.versions.first { $0.version == 2 })
        #expect(failed.state == .unavailable)
        #expect(failed.error?.contains("cannot load the SavedModel") == true)
        #expect(status.versions.first { $0.version == 1 }?.state == .ready)
        #expect(try manager.acquire(model: "mlp").servable.version == 1)
        #expect(await manager.isReady())
        // Not retried on every poll while its files stay the same.
        await watcher.indexNow()
        await manager.waitUntilIdle()
        #expect(await manager.status(of: "mlp")?.versions.first { $0.version == 2 }?.error != nil)
        await manager.shutdown()
    }

    @Test func policiesLabelsAndExplicitUnload() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1)
        try repository.addVersion("mlp", 2, onnx: true)
        try repository.addVersion("mlp", 3)
        try repository.writeConfig("mlp", "version_policy: {specific: [1, 2]}\nlabels: {stable: 1, canary: 2}\n")
        let manager = ModelManager()
        let watcher = RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60))
        await watcher.indexNow()
        await manager.finishStartup()
        #expect(await states(manager, "mlp") == [1: .ready, 2: .ready])
        #expect(try manager.acquire(model: "mlp", .label("stable")).servable.version == 1)
        #expect(try manager.acquire(model: "mlp", .label("canary")).servable.version == 2)
        #expect(try manager.acquire(model: "mlp").servable.version == 2)
        do {
            _ = try manager.acquire(model: "mlp", .label("beta"))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .labelNotFound)
            #expect(error.message.contains("canary, stable"))
        }
        #expect(throws: ServingError.self) { try manager.acquire(model: "nope") }

        try await manager.unload("mlp")
        await manager.waitUntilIdle()
        #expect(await states(manager, "mlp").isEmpty)
        #expect(await manager.isReady(), "an explicitly unloaded model does not make the server unready")
        await watcher.indexNow()
        await manager.waitUntilIdle()
        #expect(await states(manager, "mlp").isEmpty, "the watcher leaves an explicitly unloaded model alone")
        try await manager.load("mlp", source: nil)
        await manager.waitUntilIdle()
        #expect(await states(manager, "mlp") == [1: .ready, 2: .ready])
        await manager.shutdown()
    }

    @Test func aVersionBeingWrittenWaitsUntilItIsStable() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1)
        let manager = ModelManager()
        let watcher = RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60))
        await watcher.indexNow()
        await manager.waitUntilIdle()
        // Version 2 appears half-written: first poll sees it, does not load it.
        let partial = repository.root.appendingPathComponent("mlp/2")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data(repeating: 1, count: 10).write(to: partial.appendingPathComponent("saved_model.pb"))
        await watcher.poll()
        await manager.waitUntilIdle()
        #expect(await states(manager, "mlp") == [1: .ready])
        // The writer finishes; the next poll sees a change, the one after it a stable directory.
        try FileManager.default.removeItem(at: partial)
        try FileManager.default.copyItem(atPath: Fixtures.savedModel("mlp"), toPath: partial.path)
        await watcher.poll()
        await manager.waitUntilIdle()
        #expect(await states(manager, "mlp") == [1: .ready])
        await watcher.poll()
        await manager.waitUntilIdle()
        #expect(await states(manager, "mlp") == [2: .ready])
        await manager.shutdown()
    }

    /// Versions swap again and again while clients keep sending requests: no request fails, and
    /// every answer comes from a version that was READY when the request took it.
    @Test func swapsUnderLoadLoseNoRequest() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1)
        let manager = ModelManager()
        let watcher = RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60))
        await watcher.indexNow()
        await manager.waitUntilIdle()
        let failures = Counter()
        let successes = Counter()
        let deadline = ContinuousClock.now + .seconds(4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while ContinuousClock.now < deadline {
                        do {
                            let lease = try manager.acquire(model: "mlp")
                            let outputs = try await lease.servable.run(signature: nil, inputs: ["pixels": Self.pixels], outputs: nil)
                            if outputs["probabilities"]?.shape == [1, 10] { successes.increment() } else { failures.increment() }
                        } catch {
                            failures.increment()
                        }
                    }
                }
            }
            group.addTask {
                var version: Int64 = 1
                while ContinuousClock.now < deadline {
                    try repository.addVersion("mlp", version + 1, onnx: version % 2 == 1)
                    await watcher.indexNow()
                    await manager.waitUntilIdle()
                    try repository.removeVersion("mlp", version)
                    version += 1
                }
            }
            try await group.waitForAll()
        }
        #expect(failures.value == 0)
        #expect(successes.value > 100)
        await manager.shutdown()
    }
}

/// A thread-safe count.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
