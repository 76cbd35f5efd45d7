/// The measurements of one step: one concurrency in closed loop, or the target rate in open loop.
public struct BenchStepResult: Sendable, Hashable {
    /// The load offered.
    public var load: StepLoad
    /// Seconds measured (the configured duration).
    public var duration: Double
    /// Requests measured, successful or not: in closed loop those answered inside the measurement
    /// window; in open loop those scheduled inside it (the step waits for every one of them).
    public var requests: Int
    /// Requests that failed: a non-2xx answer, a transport error or a timeout.
    public var errors: Int
    /// The first few distinct error messages (`HTTP 400: ...`, `connection refused`, ...).
    public var errorMessages: [String]
    /// Open loop: requests sent more than 1 ms after their scheduled time (the in-flight cap was
    /// reached, or the client fell behind). Their latency counts from the scheduled time.
    public var late: Int
    /// Open loop: requests scheduled in the window that were never sent, because `maxInFlight`
    /// requests were still outstanding when the window closed.
    public var dropped: Int
    /// Latency of the successful requests, in microseconds.
    public var latency: LatencySummary
    /// Successful requests per second.
    public var throughput: Double
    /// Requests sent per second (open loop: compare with the target rate).
    public var achievedRate: Double

    /// A result with the given values.
    public init(
        load: StepLoad, duration: Double, requests: Int, errors: Int, errorMessages: [String], late: Int = 0,
        dropped: Int = 0, latency: LatencySummary, throughput: Double, achievedRate: Double
    ) {
        self.load = load
        self.duration = duration
        self.requests = requests
        self.errors = errors
        self.errorMessages = errorMessages
        self.late = late
        self.dropped = dropped
        self.latency = latency
        self.throughput = throughput
        self.achievedRate = achievedRate
    }

    /// The closed-loop concurrency, `nil` in open loop.
    public var concurrency: Int? {
        if case .concurrency(let count) = load { return count }
        return nil
    }

    /// The open-loop target rate (requests per second), `nil` in closed loop.
    public var targetRate: Double? {
        if case .rate(let rate, _) = load { return rate }
        return nil
    }

    /// Requests answered successfully.
    public var successes: Int { requests - errors }
}
