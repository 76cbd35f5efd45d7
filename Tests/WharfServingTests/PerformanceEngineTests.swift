import Foundation
import Synchronization
import Testing
import WharfCore
import WharfRuntime
import WharfServing
import WharfTesting

/// Dynamic batching, the bounded queue, warm-up and the response cache, on real models.
// Serialized: several tests assert where requests ran, and the process-wide caller and polling
// budgets are shared between the tests' schedulers.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"), .serialized)
struct PerformanceEngineTests {
    /// A manager serving one fixture as version 1 with the given config, ready.
    static func serve(_ fixture: String, onnx: Bool = false, config: String, repository: ScratchRepository) async throws -> ModelManager {
        try repository.addVersion(fixture, 1, fixture: fixture, onnx: onnx)
        try repository.writeConfig(fixture, config)
        let manager = ModelManager()
        let watcher = RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60))
        await watcher.indexNow()
        await manager.finishStartup()
        return manager
    }

    static let batching = """
        dynamic_batching: {max_batch_size: 8, batch_timeout_micros: 200000, allowed_batch_sizes: [4, 8]}
        """

    /// Requests of different sizes arrive together, are merged (and padded to 4 or 8 rows), and each
    /// gets exactly what it gets when it runs alone.
    @Test(arguments: ["mlp", "cnn", "two_io", "multi_signature", "dtypes", "strings"])
    func batchedOutputsEqualUnbatched(fixture: String) async throws {
        let plainRepository = try ScratchRepository()
        let batchedRepository = try ScratchRepository()
        let plain = try await Self.serve(fixture, config: "", repository: plainRepository)
        let batched = try await Self.serve(fixture, config: Self.batching, repository: batchedRepository)
        // The largest case that fits a batch of 8.
        let testCase = try Fixtures.cases(fixture).cases
            .filter { ($0.inputs.values.first!.shape.first ?? 0) <= 8 }
            .max { $0.inputs.values.first!.shape.first ?? 0 < $1.inputs.values.first!.shape.first ?? 0 }!
        let inputs = try testCase.inputTensors()
        let rows = inputs.values.first!.shape.first!
        // Slices of 1, 2 and all rows, sent at the same time.
        let slices: [Range<Int>] = [0..<1, 0..<min(2, rows), 0..<rows, (rows - 1)..<rows]
        let sliced = try slices.map { range in try inputs.mapValues { try $0.rows(range) } }
        let plainServable = try plain.acquire(model: fixture).servable
        var expected: [[String: Tensor]] = []
        for request in sliced {
            expected.append(try await plainServable.run(signature: testCase.signature, inputs: request, outputs: nil))
        }
        let batchedServable = try batched.acquire(model: fixture).servable
        let results = try await withThrowingTaskGroup(of: (Int, RunResult).self) { group in
            for (index, request) in sliced.enumerated() {
                group.addTask { (index, try await batchedServable.execute(signature: testCase.signature, inputs: request, outputs: nil)) }
            }
            var results: [Int: RunResult] = [:]
            for try await (index, result) in group { results[index] = result }
            return results
        }
        for (index, want) in expected.enumerated() {
            let got = results[index]!
            #expect(Set(got.outputs.keys) == Set(want.keys))
            for (name, tensor) in want {
                if tensor.dtype.isFloatingPoint {
                    // The runtimes' matrix kernels differ by batch size (a 1-row product is not
                    // blocked like a 4-row one), so float results may differ in the last bits.
                    let difference = got.outputs[name]?.maxAbsoluteDifference(to: tensor)
                    #expect(difference != nil && difference! <= 1e-6, "\(fixture) request \(index) output \(name): \(String(describing: difference))")
                } else {
                    #expect(got.outputs[name] == tensor, "\(fixture) request \(index) output \(name)")
                }
            }
        }
        if fixture == "strings" {
            // Its scalar 'count' output has no batch dimension: requests fall back to running alone.
            #expect(results.values.allSatisfy { $0.timing.batchRequests == 1 })
        } else {
            let merged = results.values.map(\.timing.batchRequests).max()!
            #expect(merged > 1, "\(fixture): requests were merged")
            #expect(results.values.allSatisfy { [4, 8].contains($0.timing.batchSize) }, "\(fixture): padded to an allowed size")
        }
        await plain.shutdown()
        await batched.shutdown()
    }

    /// A batch closes when it is full, at once, and otherwise when its timeout passes: requests
    /// that join without filling it do not close it early.
    @Test func batchesCloseWhenFullOrAtTheirTimeout() async throws {
        let repository = try ScratchRepository()
        let manager = try await Self.serve(
            "mlp", onnx: true, config: "dynamic_batching: {max_batch_size: 4, batch_timeout_micros: 1000000}\nwarmup: {enabled: false}\n",
            repository: repository)
        let servable = try manager.acquire(model: "mlp").servable
        let testCase = try #require(try Fixtures.cases("mlp").cases.first)
        let row = try testCase.inputTensors().mapValues { try $0.rows(0..<1) }
        func together(_ count: Int) async throws -> (seconds: Double, results: [RunResult]) {
            let started = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: RunResult.self) { group in
                for _ in 0..<count {
                    group.addTask { try await servable.execute(signature: testCase.signature, inputs: row, outputs: nil) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            return (started.duration(to: .now).seconds, results)
        }
        // Three of four rows: the batch waits out its second.
        let partial = try await together(3)
        #expect(partial.seconds >= 1, "a batch that is not full closed after \(partial.seconds) s")
        #expect(partial.results.allSatisfy { $0.timing.batchRequests == 3 })
        // Four: the last arrival fills it, and it runs without waiting for the timeout.
        let full = try await together(4)
        #expect(full.seconds < 0.6, "a full batch waited \(full.seconds) s")
        #expect(full.results.allSatisfy { $0.timing.batchRequests == 4 })
        await manager.shutdown()
    }

    /// An adaptive batcher waits only for requests on their way (holding the version, not yet
    /// queued): a lone request runs at once, and a batch closes when its last expected member
    /// arrives, long before the timeout.
    @Test func adaptiveBatchesWaitOnlyForRequestsOnTheirWay() async throws {
        let repository = try ScratchRepository()
        let manager = try await Self.serve(
            "mlp", onnx: true,
            config: "dynamic_batching: {max_batch_size: 8, batch_timeout_micros: 3000000, adaptive: true}\nwarmup: {enabled: false}\n",
            repository: repository)
        let testCase = try #require(try Fixtures.cases("mlp").cases.first)
        let row = try testCase.inputTensors().mapValues { try $0.rows(0..<1) }

        let started = ContinuousClock.now
        let lone = try await manager.acquire(model: "mlp").execute(signature: testCase.signature, inputs: row, outputs: nil)
        #expect(started.duration(to: .now) < .seconds(1), "a lone request waited for company")
        // On its caller when the worker is already idle, else through the queue: never waiting there.
        #expect(lone.timing.queue < .seconds(1), "a lone request waited \(lone.timing.queue) in the queue")

        // Three requests hold the version; two reach the batcher, the third is still "decoding".
        let batchStarted = ContinuousClock.now
        let results: [RunResult] = try await {
            let leases = try (0..<3).map { _ in try manager.acquire(model: "mlp") }
            let finished = FinishCount()
            let early = (0..<2).map { index in
                Task {
                    defer { finished.count.add(1, ordering: .relaxed) }
                    return try await leases[index].execute(signature: testCase.signature, inputs: row, outputs: nil)
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(finished.count.load(ordering: .relaxed) == 0, "the batch closed while a request was on its way")
            let last = try await leases[2].execute(signature: testCase.signature, inputs: row, outputs: nil)
            return [try await early[0].value, try await early[1].value, last]
        }()
        let waited = batchStarted.duration(to: .now)
        #expect(waited >= .milliseconds(200) && waited < .seconds(2), "the batch closed after \(waited)")
        #expect(results.allSatisfy { $0.timing.batchRequests == 3 }, "\(results.map(\.timing.batchRequests))")

        // A request that gives up on its way (its lease goes without running) stops the wait.
        let gaveUpStarted = ContinuousClock.now
        let alone: RunResult = try await {
            let waiting = try manager.acquire(model: "mlp")
            var quitter: ServableLease? = try manager.acquire(model: "mlp")
            let task = Task { try await waiting.execute(signature: testCase.signature, inputs: row, outputs: nil) }
            try await Task.sleep(for: .milliseconds(100))
            withExtendedLifetime(quitter) {}
            quitter = nil
            return try await task.value
        }()
        let gaveUpWaited = gaveUpStarted.duration(to: .now)
        #expect(gaveUpWaited < .seconds(2), "the batch waited \(gaveUpWaited) for a request that gave up")
        #expect(alone.timing.batchRequests == 1)
        await manager.shutdown()
    }

    @Test func aFullQueueAnswers503AtOnce() async throws {
        let repository = try ScratchRepository()
        let manager = try await Self.serve("cnn", config: "max_queue_size: 2\nwarmup: {enabled: false}\n", repository: repository)
        let servable = try manager.acquire(model: "cnn").servable
        let image = try Tensor(shape: [32, 32, 32, 3], scalars: [Float](repeating: 0.5, count: 32 * 32 * 32 * 3))
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<40 {
                group.addTask(executorPreference: ParallelSubmitters.shared) {
                    let started = ContinuousClock.now
                    do {
                        _ = try await servable.run(signature: nil, inputs: ["image": image], outputs: nil)
                        return "ok"
                    } catch let error as ServingError where error.code == .queueFull {
                        return ContinuousClock.now - started < .milliseconds(50) ? "full" : "full-but-slow"
                    } catch {
                        return "error: \(error)"
                    }
                }
            }
            var outcomes: [String] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.contains("full"), "\(outcomes)")
        #expect(outcomes.contains("ok"))
        #expect(!outcomes.contains { $0.hasPrefix("error") || $0 == "full-but-slow" }, "\(outcomes)")
        #expect(ServingError(.queueFull, "").status == .unavailable)
        await manager.shutdown()
    }

    @Test func responseCacheHitsSkipTheRuntime() async throws {
        let repository = try ScratchRepository()
        let manager = try await Self.serve("mlp", config: "response_cache: {max_bytes: 1000000}\n", repository: repository)
        let servable = try manager.acquire(model: "mlp").servable
        let a = try Tensor(shape: [1, 784], scalars: [Float](repeating: 0.25, count: 784))
        let b = try Tensor(shape: [1, 784], scalars: [Float](repeating: 0.75, count: 784))
        let first = try await servable.execute(signature: nil, inputs: ["pixels": a], outputs: nil)
        let second = try await servable.execute(signature: nil, inputs: ["pixels": a], outputs: nil)
        let other = try await servable.execute(signature: nil, inputs: ["pixels": b], outputs: nil)
        #expect(!first.timing.cacheHit)
        #expect(second.timing.cacheHit)
        #expect(second.outputs["probabilities"] == first.outputs["probabilities"])
        #expect(!other.timing.cacheHit)
        #expect(other.outputs["probabilities"] != first.outputs["probabilities"])
        #expect(servable.cacheCounts.hits == 1)
        #expect(servable.cacheCounts.misses == 2)
        // A new version has its own, empty cache: no stale answers.
        try repository.addVersion("mlp", 2)
        await RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60)).indexNow()
        await manager.waitUntilIdle()
        let newer = try manager.acquire(model: "mlp").servable
        #expect(newer.version == 2)
        #expect(try await newer.execute(signature: nil, inputs: ["pixels": a], outputs: nil).timing.cacheHit == false)
        await manager.shutdown()
    }

    @Test func tfServingWarmupFilesAreReplayed() async throws {
        // A TF Serving model directory with assets.extra/tf_serving_warmup_requests loads and warms.
        for fixture in ["mlp", "two_io"] {
            let repository = try ScratchRepository()
            try repository.addVersion(fixture, 1, fixture: fixture)
            let extra = repository.root.appendingPathComponent("\(fixture)/1/assets.extra")
            try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: Fixtures.root.appendingPathComponent("\(fixture)/warmup_requests.tfrecord"),
                to: extra.appendingPathComponent("tf_serving_warmup_requests"))
            let manager = ModelManager()
            await RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60)).indexNow()
            await manager.finishStartup()
            let status = await manager.status(of: fixture)
            #expect(status?.versions.first?.state == .ready, "\(String(describing: status))")
            // A warm-up request the model rejects fails the load, and says why.
            try Data(repeating: 7, count: 40).write(to: extra.appendingPathComponent("tf_serving_warmup_requests"))
            try repository.addVersion(fixture, 2)
            try FileManager.default.createDirectory(
                at: repository.root.appendingPathComponent("\(fixture)/2/assets.extra"), withIntermediateDirectories: true)
            try Data(repeating: 7, count: 40).write(
                to: repository.root.appendingPathComponent("\(fixture)/2/assets.extra/tf_serving_warmup_requests"))
            await RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60)).indexNow()
            await manager.waitUntilIdle()
            let failed = await manager.status(of: fixture)?.versions.first { $0.version == 2 }
            #expect(failed?.state == .unavailable)
            #expect(failed?.error?.contains("tf_serving_warmup_requests") == true, "\(String(describing: failed?.error))")
            await manager.shutdown()
        }
    }

    @Test func jsonWarmupFileAndSynthesizedWarmup() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("two_io", 1, fixture: "two_io", onnx: true)
        try Data(#"[{"instances": [{"features": [1, 2, 3, 4], "ids": [1, 2, 3]}]}, {"inputs": {"features": [[0, 0, 0, 0]], "ids": [[0, 0, 0]]}}]"#.utf8)
            .write(to: repository.root.appendingPathComponent("two_io/1/warmup.json"))
        try repository.addVersion("cnn", 1, fixture: "cnn")
        try repository.writeConfig("cnn", "warmup: {batch_sizes: [1, 4]}\n")
        let manager = ModelManager()
        await RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60)).indexNow()
        await manager.finishStartup()
        #expect(await manager.isReady())
        #expect(try manager.acquire(model: "cnn").servable.warmupTime > .zero)
        await manager.shutdown()
    }

    @Test func instancesRunInParallel() async throws {
        let repository = try ScratchRepository()
        let manager = try await Self.serve("mlp", onnx: true, config: "instances: 2\nthreads: {intra_op: 1}\n", repository: repository)
        let servable = try manager.acquire(model: "mlp").servable
        #expect(servable.performance.instances == 2)
        let pixels = try Tensor(shape: [4, 784], scalars: [Float](repeating: 0.1, count: 4 * 784))
        let reference = try await servable.run(signature: nil, inputs: ["pixels": pixels], outputs: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let outputs = try await servable.run(signature: nil, inputs: ["pixels": pixels], outputs: nil)
                    #expect(outputs["probabilities"] == reference["probabilities"])
                }
            }
            try await group.waitForAll()
        }
        await manager.shutdown()
    }

    /// A request that is alone for a moment while the version is under load (most recent requests
    /// found company) goes through the queue; once lone arrivals prevail again, lone requests run
    /// on their callers again.
    @Test func loneMomentsUnderLoadGoThroughTheQueue() async throws {
        let repository = try ScratchRepository()
        let manager = try await Self.serve(
            "mlp", onnx: true, config: "threads: {intra_op: 1}\nwarmup: {enabled: false}\n", repository: repository)
        let pixels = try Tensor(shape: [1, 784], scalars: (0..<784).map { Float($0 % 97) / 97 })
        func run() async throws -> RunResult {
            // Time for the worker to finish and wait again, so that an idle worker is never what
            // keeps a request off its caller.
            try await Task.sleep(for: .milliseconds(10))
            return try await manager.acquire(model: "mlp").execute(signature: nil, inputs: ["pixels": pixels], outputs: nil)
        }
        // (Other tests' requests may hold the process's caller budget for a moment: most, not all.)
        var first: [Bool] = []
        for _ in 0..<4 { first.append(try await run().timing.ranOnCaller) }
        #expect(first.contains(true), "lone requests on an idle version run on their callers: \(first)")

        // Another request holds the version while eight arrive: each finds company.
        do {
            let other = try manager.acquire(model: "mlp")
            for _ in 0..<8 {
                #expect(try await !run().timing.ranOnCaller)
            }
            withExtendedLifetime(other) {}
        }

        let alone = try await run()
        #expect(!alone.timing.ranOnCaller, "a request alone for a moment under load took its caller's thread")
        var later: [Bool] = []
        for _ in 0..<10 { later.append(try await run().timing.ranOnCaller) }
        #expect(later.suffix(6).filter { $0 }.count >= 3, "lone requests stayed off their callers after the load: \(later)")
        await manager.shutdown()
    }

    /// With `worker_spin_micros`, a worker polls for the next request after a run: back-to-back lone
    /// requests go to it instead of running on their callers, with the same outputs. After a quiet
    /// spell longer than the window, the worker sleeps and a lone request runs on its caller again.
    @Test func pollingWorkerTakesBackToBackLoneRequests() async throws {
        let repository = try ScratchRepository()
        let manager = try await Self.serve(
            "mlp", onnx: true, config: "threads: {intra_op: 1}\nwarmup: {enabled: false}\nworker_spin_micros: 200000\n",
            repository: repository)
        let pixels = try Tensor(shape: [1, 784], scalars: (0..<784).map { Float($0 % 89) / 89 })
        let servable = try manager.acquire(model: "mlp").servable
        let reference = try await servable.run(signature: nil, inputs: ["pixels": pixels], outputs: nil)
        func run() async throws -> RunResult {
            try await manager.acquire(model: "mlp").execute(signature: nil, inputs: ["pixels": pixels], outputs: nil)
        }
        // The first may run on its caller (the worker sleeps until then); the rest find it polling.
        // Polling pauses for a second when a polling thread finds its core taken by something
        // else (a loaded machine running other tests, say): then the sequence is tried again.
        var placements: [Bool] = []
        for attempt in 0..<4 {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(1100)) }
            placements = []
            for _ in 0..<12 {
                let result = try await run()
                #expect(result.outputs == reference)
                placements.append(result.timing.ranOnCaller)
            }
            if placements.dropFirst().filter({ !$0 }).count >= 8 { break }
        }
        #expect(placements.dropFirst().filter { !$0 }.count >= 8, "back-to-back lone requests ran on their callers: \(placements)")
        // A failure reaches the waiting caller too: a deadline already past when the worker takes it.
        let late = ContinuousClock.now - .milliseconds(1)
        await #expect(throws: ServingError.self) {
            try await manager.acquire(model: "mlp").execute(signature: nil, inputs: ["pixels": pixels], outputs: nil, deadline: late)
        }
        #expect(try await run().outputs == reference)

        // Past the window the worker sleeps again.
        var afterQuiet: [Bool] = []
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(400))
            afterQuiet.append(try await run().timing.ranOnCaller)
        }
        #expect(afterQuiet.contains(true), "after a quiet spell a lone request still went to the worker: \(afterQuiet)")
        await manager.shutdown()
    }

    /// Without batching (or with a batcher that never waits), a lone request runs on the caller's
    /// thread (no queue); under concurrency the rest queue for the workers, and no instance ever
    /// runs two requests at once.
    @Test(arguments: [(1, ""), (2, ""), (1, "dynamic_batching: {max_batch_size: 256, batch_timeout_micros: 0}\n")])
    func loneRequestsRunOnTheCallerAndInstancesNeverOverlap(instances: Int, batching: String) async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp", onnx: true)
        try repository.writeConfig("mlp", "instances: \(instances)\nthreads: {intra_op: 1}\nwarmup: {enabled: false}\n" + batching)
        let runtime = ModelManager.runtimeLoader()
        let loaded = Mutex<[OverlapCountingModel]>([])
        let manager = ModelManager(loader: { path, config in
            let model = OverlapCountingModel(try runtime(path, config))
            loaded.withLock { $0.append(model) }
            return model
        })
        let watcher = RepositoryWatcher(scanner: repository.scanner, manager: manager, interval: .seconds(60))
        await watcher.indexNow()
        await manager.finishStartup()
        let servable = try manager.acquire(model: "mlp").servable
        let pixels = try Tensor(shape: [2, 784], scalars: (0..<(2 * 784)).map { Float($0 % 97) / 97 })
        let reference = try await servable.run(signature: nil, inputs: ["pixels": pixels], outputs: nil)

        var onCaller = 0
        for _ in 0..<50 {
            let result = try await servable.execute(signature: nil, inputs: ["pixels": pixels], outputs: nil)
            #expect(result.outputs == reference)
            if result.timing.ranOnCaller {
                onCaller += 1
                #expect(result.timing.queue == .zero)
            }
        }
        #expect(onCaller > 0, "sequential requests find an idle worker and run on the caller")

        // Larger requests, so that they certainly meet.
        let rows = try Tensor(shape: [128, 784], scalars: (0..<(128 * 784)).map { Float($0 % 89) / 89 })
        let rowsReference = try await servable.run(signature: nil, inputs: ["pixels": rows], outputs: nil)
        let timings = try await withThrowingTaskGroup(of: [RequestTiming].self) { group in
            for _ in 0..<16 {
                group.addTask(executorPreference: ParallelSubmitters.shared) {
                    var timings: [RequestTiming] = []
                    for _ in 0..<10 {
                        let result = try await servable.execute(signature: nil, inputs: ["pixels": rows], outputs: nil)
                        #expect(result.outputs == rowsReference)
                        timings.append(result.timing)
                    }
                    return timings
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(timings.count == 160)
        #expect(timings.contains { !$0.ranOnCaller }, "concurrent requests also queue for the workers")
        let models = loaded.withLock { $0 }
        #expect(models.count == instances)
        #expect(models.allSatisfy { $0.overlaps.load(ordering: .relaxed) == 0 }, "an instance ran two requests at once")
        let runs = models.reduce(0) { $0 + $1.runs.load(ordering: .relaxed) }
        if batching.isEmpty {
            #expect(runs == 212)
        } else {
            #expect(runs < 212, "queued requests were merged into batches")
            #expect(timings.contains { $0.batchRequests > 1 })
        }
        await manager.shutdown()
    }

    @Test func performanceConfigParsing() throws {
        let config = try ModelConfig.parse(yaml: """
            instances: 2
            max_queue_size: 10
            worker_spin_micros: 300
            dynamic_batching: {max_batch_size: 16, batch_timeout_micros: 500, max_enqueued_batches: 4, allowed_batch_sizes: [16, 4], batch_threads: 3}
            warmup: {enabled: false, batch_sizes: [1, 2], iterations: 3}
            response_cache: {max_bytes: 1024}
            """)
        #expect(config.performance.instances == 2)
        #expect(config.performance.workerSpinMicros == 300)
        #expect(try ModelConfig.parse(yaml: "instances: 1").performance.workerSpinMicros == 0)
        let spinError = #expect(throws: ConfigError.self) { try ModelConfig.parse(yaml: "worker_spin_micros: -5") }
        #expect(spinError?.message.contains("from 0 to 1000000 microseconds, got -5") == true)
        #expect(config.performance.batching == BatchingConfig(
            maxBatchSize: 16, batchTimeoutMicros: 500, maxEnqueuedBatches: 4, allowedBatchSizes: [4, 16], batchThreads: 3))
        #expect(config.performance.queueBound == 64)
        #expect(config.performance.workerThreads == 3)
        #expect(config.performance.batching?.paddedSize(for: 3) == 4)
        #expect(config.performance.batching?.paddedSize(for: 5) == 16)
        #expect(config.performance.batching?.adaptive == false)
        #expect(try ModelConfig.parse(yaml: "dynamic_batching: {adaptive: true}").performance.batching?.adaptive == true)
        #expect(throws: ConfigError.self) { try ModelConfig.parse(yaml: "dynamic_batching: {adaptive: sometimes}") }
        #expect(config.performance.warmup.enabled == false)
        #expect(config.performance.cacheBytes == 1024)
        #expect(throws: ConfigError.self) {
            try ModelConfig.parse(yaml: "dynamic_batching: {max_batch_size: 8, allowed_batch_sizes: [2, 4]}")
        }
        #expect(throws: ConfigError.self) { try ModelConfig.parse(yaml: "instances: 0") }
        #expect(throws: ConfigError.self) { try ModelConfig.parse(yaml: "dynamic_batching: {max_size: 8}") }
    }
}

/// Requests that have finished, counted from their own tasks.
final class FinishCount: Sendable {
    let count = Atomic<Int>(0)
}

/// A real model that counts its runs and notices two runs at once on the same instance.
final class OverlapCountingModel: InferenceModel {
    let base: any InferenceModel
    let running = Atomic<Int>(0)
    let overlaps = Atomic<Int>(0)
    let runs = Atomic<Int>(0)

    init(_ base: any InferenceModel) { self.base = base }

    var runtime: RuntimeKind { base.runtime }
    var format: ModelFormat { base.format }
    var path: String { base.path }
    var signatures: [Signature] { base.signatures }
    var metadata: [String: String] { base.metadata }

    func run(signature: String?, inputs: [String: Tensor], outputs: [String]?) throws -> [String: Tensor] {
        if running.add(1, ordering: .acquiringAndReleasing).newValue > 1 { overlaps.add(1, ordering: .relaxed) }
        defer { running.subtract(1, ordering: .acquiringAndReleasing) }
        runs.add(1, ordering: .relaxed)
        return try base.run(signature: signature, inputs: inputs, outputs: outputs)
    }
}

/// Runs tasks on threads of their own, as requests arrive on an HTTP server's many connections: a
/// request running on its caller's thread then cannot hold the others back, which Swift's
/// cooperative pool (as wide as the machine has cores) would.
final class ParallelSubmitters: TaskExecutor {
    static let shared = ParallelSubmitters()

    /// Each job on a new thread (a dispatch queue would not add threads while its own are blocked).
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        Thread { job.runSynchronously(on: self.asUnownedTaskExecutor()) }.start()
    }
}
