/// How a model's versions execute: instances, the dynamic batcher, the request queue, warm-up and
/// the response cache. Everything is off or minimal by default, as in TF Serving and Triton.
///
/// ```yaml
/// instances: 2                      # sessions per version, each on its own thread
/// max_queue_size: 1024              # requests waiting beyond this get 503 at once
/// worker_spin_micros: 500           # after a run, poll this long for the next request before sleeping
/// dynamic_batching:
///   max_batch_size: 32
///   batch_timeout_micros: 1000      # from the first request's arrival in the batch
///   max_enqueued_batches: 64        # queue bound: this many full batches
///   allowed_batch_sizes: [8, 16, 32] # pad up to the next one; outputs sliced back
///   batch_threads: 2                # threads forming and running batches (default: instances)
///   adaptive: true                  # close early once no other request is on its way
/// warmup: {enabled: true, batch_sizes: [1, 8], iterations: 1}
/// response_cache: {max_bytes: 67108864}
/// ```
public struct PerformanceConfig: Sendable, Equatable {
    /// Sessions per version.
    public var instances: Int = 1
    /// Requests that may wait for an instance (without batching).
    public var maxQueueSize: Int = 1024
    /// The dynamic batcher, off when `nil`.
    public var batching: BatchingConfig?
    public var warmup = WarmupConfig()
    /// The response cache's size bound in bytes, off when `nil`.
    public var cacheBytes: Int?
    /// How long a worker that has just run a request keeps polling for the next one before it
    /// sleeps, while the version is not under load; 0 (the default): it sleeps at once. A request
    /// that finds a worker polling is handed over without a wake-up, to a core whose caches still
    /// hold the model, at the price of that core's time while it polls (ONNX Runtime's and
    /// Eigen's thread pools spin the same way before they sleep).
    public var workerSpinMicros = 0

    public init() {}

    /// Threads that run requests for a version.
    public var workerThreads: Int { max(batching?.batchThreads ?? instances, 1) }

    /// Requests that may wait before new ones are turned away.
    public var queueBound: Int {
        guard let batching else { return max(maxQueueSize, 1) }
        return max(batching.maxEnqueuedBatches * batching.maxBatchSize, 1)
    }
}

/// The dynamic batcher's settings (TF Serving's batching parameters, Triton's dynamic batcher).
public struct BatchingConfig: Sendable, Equatable {
    public var maxBatchSize: Int = 32
    public var batchTimeoutMicros: Int = 1000
    public var maxEnqueuedBatches: Int = 64
    /// Batch sizes the model runs at; a batch is padded up to the next one. Empty: any size.
    public var allowedBatchSizes: [Int] = []
    /// Threads forming and running batches; `nil`: one per instance.
    public var batchThreads: Int?
    /// Whether a batch closes before its timeout as soon as no other request for the version is
    /// on its way (received, holding the version, not yet queued): a lone request then never
    /// waits, and under load batches still gather the requests being decoded. The timeout stays
    /// the upper bound. Off by default, as TF Serving's batcher always waits.
    public var adaptive = false

    public init(
        maxBatchSize: Int = 32, batchTimeoutMicros: Int = 1000, maxEnqueuedBatches: Int = 64, allowedBatchSizes: [Int] = [],
        batchThreads: Int? = nil
    ) {
        self.maxBatchSize = maxBatchSize
        self.batchTimeoutMicros = batchTimeoutMicros
        self.maxEnqueuedBatches = maxEnqueuedBatches
        self.allowedBatchSizes = allowedBatchSizes.sorted()
        self.batchThreads = batchThreads
    }

    /// The size a batch of `rows` rows runs at: the next allowed size, or `rows` itself.
    public func paddedSize(for rows: Int) -> Int {
        allowedBatchSizes.first { $0 >= rows } ?? rows
    }
}

/// Warm-up before a version turns READY.
public struct WarmupConfig: Sendable, Equatable {
    public var enabled = true
    /// Batch sizes for synthesized warm-up requests; default: 1 and the batcher's sizes.
    public var batchSizes: [Int]?
    /// A JSON warm-up file (a list of TF Serving predict bodies), relative to the version directory.
    public var file: String?
    /// How often each warm-up request runs.
    public var iterations = 1

    public init() {}
}

extension ConfigReader {
    /// The performance settings of a model config.
    func performance() throws(ConfigError) -> PerformanceConfig {
        var config = PerformanceConfig()
        config.instances = try positive("instances") ?? 1
        config.maxQueueSize = try positive("max_queue_size") ?? config.maxQueueSize
        if let spin = try int("worker_spin_micros") {
            guard (0...1_000_000).contains(spin) else {
                throw ConfigError("\(sourceName): worker_spin_micros must be from 0 to 1000000 microseconds, got \(spin)")
            }
            config.workerSpinMicros = spin
        }
        if values(has: "dynamic_batching") {
            let section = try section(
                "dynamic_batching",
                known: ["max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "allowed_batch_sizes", "batch_threads", "adaptive"])
            var batching = BatchingConfig()
            batching.maxBatchSize = try section.positive("max_batch_size") ?? batching.maxBatchSize
            batching.batchTimeoutMicros = try section.int("batch_timeout_micros") ?? batching.batchTimeoutMicros
            batching.maxEnqueuedBatches = try section.positive("max_enqueued_batches") ?? batching.maxEnqueuedBatches
            batching.allowedBatchSizes = (try section.intList("allowed_batch_sizes") ?? []).sorted()
            batching.batchThreads = try section.positive("batch_threads")
            batching.adaptive = try section.bool("adaptive") ?? false
            if let largest = batching.allowedBatchSizes.last, largest != batching.maxBatchSize {
                throw ConfigError(
                    "\(sourceName): dynamic_batching.allowed_batch_sizes must end with max_batch_size (\(batching.maxBatchSize)), got \(batching.allowedBatchSizes)")
            }
            config.batching = batching
        }
        let warmup = try section("warmup", known: ["enabled", "batch_sizes", "file", "iterations"])
        config.warmup.enabled = try warmup.bool("enabled") ?? true
        config.warmup.batchSizes = try warmup.intList("batch_sizes")
        config.warmup.file = try warmup.string("file")
        config.warmup.iterations = try warmup.positive("iterations") ?? 1
        let cache = try section("response_cache", known: ["max_bytes"])
        config.cacheBytes = try cache.positive("max_bytes")
        return config
    }
}
