/// Latency statistics of one step's successful requests, in microseconds.
///
/// Percentiles come from an HDR histogram with three significant digits (so they are within 0.1 %
/// of the true value); count, mean, min and max are exact.
public struct LatencySummary: Sendable, Hashable {
    /// Requests measured.
    public var count: Int
    /// Mean latency.
    public var mean: Double
    /// Smallest latency.
    public var min: Double
    /// Median latency.
    public var p50: Double
    /// 90th percentile.
    public var p90: Double
    /// 95th percentile.
    public var p95: Double
    /// 99th percentile.
    public var p99: Double
    /// Largest latency.
    public var max: Double

    /// A summary with the given values.
    public init(count: Int, mean: Double, min: Double, p50: Double, p90: Double, p95: Double, p99: Double, max: Double) {
        self.count = count
        self.mean = mean
        self.min = min
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
        self.max = max
    }

    /// The summary of no requests: every value 0.
    public static let empty = LatencySummary(count: 0, mean: 0, min: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0)
}
