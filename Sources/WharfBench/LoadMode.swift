/// How a benchmark offers load.
public enum LoadMode: Sendable, Hashable {
    /// A fixed number of workers, each sending its next request as soon as the previous one is
    /// answered; one measurement step per concurrency, in the order given.
    case closedLoop(concurrencies: [Int])
    /// Requests sent on a fixed schedule whatever the server's speed, at most `maxInFlight` of them
    /// outstanding at once; latency counts from each request's scheduled send time.
    case openLoop(requestsPerSecond: Double, maxInFlight: Int)

    /// The measurement steps this mode runs, in order.
    public var steps: [StepLoad] {
        switch self {
        case .closedLoop(let concurrencies): concurrencies.map { .concurrency($0) }
        case .openLoop(let rate, let maxInFlight): [.rate(requestsPerSecond: rate, maxInFlight: maxInFlight)]
        }
    }

    /// The most requests any step has outstanding at once (the connection pool's size).
    public var maximumConcurrency: Int {
        switch self {
        case .closedLoop(let concurrencies): concurrencies.max() ?? 1
        case .openLoop(_, let maxInFlight): maxInFlight
        }
    }
}

/// The load of one measurement step.
public enum StepLoad: Sendable, Hashable, CustomStringConvertible {
    /// Closed loop with this many concurrent workers.
    case concurrency(Int)
    /// Open loop at this target rate.
    case rate(requestsPerSecond: Double, maxInFlight: Int)

    /// `concurrency 4` or `rate 200 req/s`.
    public var description: String {
        switch self {
        case .concurrency(let count): "concurrency \(count)"
        case .rate(let rate, _): "rate \(BenchFormat.number(rate)) req/s"
        }
    }
}
