public import WharfCore

/// Where one request's time went on the server.
public struct RequestTiming: Sendable, Equatable {
    /// Waiting for an instance (and for the batch to fill).
    public var queue: Duration = .zero
    /// The runtime call of the batch the request ran in.
    public var compute: Duration = .zero
    /// Rows of that batch after padding (1 request alone: its own rows).
    public var batchSize = 0
    /// Requests merged into that batch.
    public var batchRequests = 1
    /// The answer came from the response cache.
    public var cacheHit = false
    /// The response cache was consulted (it is on for the model): a miss when not `cacheHit`.
    public var cacheLookedUp = false
    /// It ran on the request's own thread: no queue, no hand-over to a worker thread.
    public var ranOnCaller = false
    /// The first request of its batch (counting each batch once: batch-size metrics).
    public var leadsBatch = true

    public init() {}
}

/// A request's outputs and timing.
public struct RunResult: Sendable {
    public var outputs: [String: Tensor]
    public var timing: RequestTiming
}

