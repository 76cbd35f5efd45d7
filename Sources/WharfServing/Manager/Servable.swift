import Logging
import Synchronization
public import WharfCore
public import WharfRuntime

/// A loaded model version that serves requests: its instances (sessions), the scheduler that runs
/// requests on them (with dynamic batching when configured) and its response cache.
///
/// Requests hold a `ServableLease`; a version being unloaded stops getting new leases and is
/// released once the last lease is gone, so a swap never pulls a model out from under a request.
public final class Servable: Sendable {
    public let name: String
    public let version: Int64
    /// The first instance; every instance has the same signatures.
    public let model: any InferenceModel
    /// Where the version was loaded from.
    public let path: String
    /// The performance settings it runs with.
    public let performance: PerformanceConfig
    /// How long loading (all instances) and warm-up took.
    public let loadTime: Duration
    public let warmupTime: Duration
    private let scheduler: InferenceScheduler
    private let cache: ResponseCache?
    let leases = LeaseCounts()

    init(
        name: String, version: Int64, instances: [any InferenceModel], path: String, performance: PerformanceConfig,
        loadTime: Duration, warmupTime: Duration
    ) {
        self.name = name
        self.version = version
        self.model = instances[0]
        self.path = path
        self.performance = performance
        self.loadTime = loadTime
        self.warmupTime = warmupTime
        self.scheduler = InferenceScheduler(name: "\(name)-v\(version)", instances: instances, performance: performance, leases: leases)
        self.cache = performance.cacheBytes.map { ResponseCache(capacity: $0) }
    }

    /// Loads `performance.instances` instances with `loader` and warms each one up.
    static func load(
        name: String, version: Int64, path: String, config: ModelConfig, loader: ModelManager.Loader, logger: Logger
    ) throws -> Servable {
        let started = ContinuousClock.now
        var instances: [any InferenceModel] = []
        for _ in 0..<max(config.performance.instances, 1) {
            instances.append(try loader(path, config))
        }
        let loaded = ContinuousClock.now
        if config.performance.warmup.enabled {
            let (requests, fromFile) = try WarmupRequests.make(for: instances[0], versionPath: path, config: config.performance)
            for instance in instances {
                for request in requests {
                    for _ in 0..<config.performance.warmup.iterations {
                        do {
                            _ = try instance.run(signature: request.signature, inputs: request.inputs, outputs: nil)
                        } catch {
                            if fromFile {
                                throw RuntimeError(.modelInvalid, "warm-up request failed: \(error)", cause: error)
                            }
                            logger.warning("synthesized warm-up request failed; continuing", metadata: [
                                "model.name": "\(name)", "model.version": "\(version)", "error": "\(error)",
                            ])
                        }
                    }
                }
            }
            logger.debug("warmed up", metadata: ["model.name": "\(name)", "requests": "\(requests.count)", "from_file": "\(fromFile)"])
        }
        return Servable(
            name: name, version: version, instances: instances, path: path, performance: config.performance,
            loadTime: loaded - started, warmupTime: loaded.duration(to: .now))
    }

    /// Requests currently holding this version.
    public var inFlight: Int { leases.held }

    /// Requests waiting in the queue.
    public var queueDepth: Int { scheduler.queueDepth }

    /// Response cache hits and misses (zeros when the cache is off).
    public var cacheCounts: (hits: Int, misses: Int) { cache?.counts ?? (0, 0) }

    func retain() { leases.retain() }
    func release(arrived: Bool) {
        leases.release(arrived: arrived)
        // A request that never reached the queue (a bad body, a cache hit, a full queue) is no
        // longer worth waiting for.
        if !arrived { scheduler.noLongerExpected() }
    }

    /// Stops the worker threads once the queue is empty (after the version is drained).
    func shutdown() { scheduler.shutdown() }

    /// Runs a request: validated first (so it can never spoil a batch), answered from the cache
    /// when possible, otherwise run by the scheduler: on the caller's thread when the request is
    /// alone and a worker is idle, else through the queue (the caller's task then waits unblocked).
    ///
    /// A request that holds a lease goes through `ServableLease.execute`, which tells an adaptive
    /// batcher when the request reaches the queue; this entry point is for requests without one
    /// (offline prediction).
    public func execute(
        signature key: String?, inputs: [String: Tensor], outputs: [String]?, deadline: ContinuousClock.Instant? = nil
    ) async throws -> RunResult {
        try await execute(signature: key, inputs: inputs, outputs: outputs, deadline: deadline, lease: nil)
    }

    func execute(
        signature key: String?, inputs: [String: Tensor], outputs: [String]?, deadline: ContinuousClock.Instant?,
        lease: ServableLease?
    ) async throws -> RunResult {
        let signature = try model.prepare(signature: key, inputs: inputs, outputs: outputs)
        // The caller's own lease, when it holds one, is the only one: nobody else is waiting.
        let alone = leases.held <= 1
        guard let cache else {
            return try await scheduler.submit(
                signature: signature, inputs: inputs, outputs: outputs, deadline: deadline, alone: alone, lease: lease)
        }
        let cacheKey = ResponseCache.key(signature: signature.key, outputs: outputs, inputs: inputs)
        if let cached = cache.lookup(key: cacheKey, signature: signature.key, outputs: outputs, inputs: inputs) {
            var timing = RequestTiming()
            timing.cacheHit = true
            timing.cacheLookedUp = true
            return RunResult(outputs: cached, timing: timing)
        }
        var result = try await scheduler.submit(
            signature: signature, inputs: inputs, outputs: outputs, deadline: deadline, alone: alone, lease: lease)
        cache.store(key: cacheKey, signature: signature.key, outputs: outputs, inputs: inputs, results: result.outputs)
        result.timing.cacheLookedUp = true
        return result
    }

    /// Runs a request and returns its outputs.
    public func run(signature: String?, inputs: [String: Tensor], outputs: [String]?) async throws -> [String: Tensor] {
        try await execute(signature: signature, inputs: inputs, outputs: outputs).outputs
    }
}

/// A request's hold on a servable; the servable is not released while a lease exists.
public final class ServableLease: Sendable {
    public let servable: Servable
    private let arrived = Atomic<Bool>(false)

    init(_ servable: Servable) {
        servable.retain()
        self.servable = servable
    }

    /// Runs the request through the servable (`Servable.execute`). Until the request reaches
    /// the scheduler's queue (or runs on its caller), an adaptive batcher counts it among the
    /// requests on their way.
    public func execute(
        signature: String?, inputs: [String: Tensor], outputs: [String]?, deadline: ContinuousClock.Instant? = nil
    ) async throws -> RunResult {
        try await servable.execute(signature: signature, inputs: inputs, outputs: outputs, deadline: deadline, lease: self)
    }

    /// The request has reached the scheduler; called once, under the scheduler's lock when it
    /// joins the queue, so a batcher sees it queued and no longer on its way at the same time.
    func markArrived() {
        if !arrived.exchange(true, ordering: .relaxed) { servable.leases.arrive() }
    }

    deinit { servable.release(arrived: arrived.load(ordering: .relaxed)) }
}

/// How many requests hold a version, and how many of those have reached the scheduler, in one
/// atomic word (held in the high 32 bits, arrived in the low 32) so that a reader never sees one
/// count updated and not the other.
final class LeaseCounts: Sendable {
    private let word = Atomic<Int>(0)
    private static let heldUnit = 1 << 32

    func retain() { word.add(Self.heldUnit, ordering: .relaxed) }
    func arrive() { word.add(1, ordering: .relaxed) }
    func release(arrived: Bool) { word.subtract(Self.heldUnit + (arrived ? 1 : 0), ordering: .releasing) }

    /// Requests holding the version.
    var held: Int { word.load(ordering: .acquiring) >> 32 }

    /// Requests holding the version that have not reached the scheduler yet: reading or decoding
    /// their bodies, about to join a batch (or failing first).
    var approaching: Int {
        let value = word.load(ordering: .relaxed)
        return max((value >> 32) - (value & 0xFFFF_FFFF), 0)
    }
}
