import Foundation
import Histogram
import Synchronization
import WharfCore

/// What happened in a window of time: request rate, error rate and latency percentiles.
public struct WindowStats: Sendable, Codable, Equatable {
    /// The window's length.
    public var windowSeconds: Double
    public var requests: Int
    public var errors: Int
    /// Requests per second over the window.
    public var requestRate: Double
    /// Errors over requests (0 with no requests).
    public var errorRate: Double
    /// Latency in seconds; `nil` with no requests.
    public var latencyAverage: Double?
    public var latencyP50: Double?
    public var latencyP95: Double?
    public var latencyP99: Double?
    public var latencyMax: Double?

    public init(windowSeconds: Double) {
        self.windowSeconds = windowSeconds
        requests = 0
        errors = 0
        requestRate = 0
        errorRate = 0
    }

    enum CodingKeys: String, CodingKey {
        case requests, errors
        case windowSeconds = "window_seconds"
        case requestRate = "request_rate"
        case errorRate = "error_rate"
        case latencyAverage = "latency_avg_seconds"
        case latencyP50 = "latency_p50_seconds"
        case latencyP95 = "latency_p95_seconds"
        case latencyP99 = "latency_p99_seconds"
        case latencyMax = "latency_max_seconds"
    }
}

/// Requests of the last few minutes in fixed-width buckets (a ring), each with its counts and an
/// HDR histogram of latencies (microseconds up to 100 s, two significant digits: 1 % resolution;
/// about 10 KB, allocated only for buckets that saw requests). A window's
/// statistics merge the buckets it covers; a bucket is reused once it is older than the longest
/// window. Recording takes a lock and a histogram increment.
public final class SlidingWindow: Sendable {
    private struct Bucket {
        var index: Int64 = -1
        var requests = 0
        var errors = 0
        var latencySum: Double = 0
        var histogram: Histogram<UInt32>?
    }

    /// Bucket width.
    public let resolution: Duration
    /// The longest window it answers for.
    public let span: Duration
    private let resolutionNanos: Int64
    private let buckets: Mutex<[Bucket]>

    public init(resolution: Duration = .seconds(1), span: Duration = .seconds(300)) {
        self.resolution = resolution
        self.span = span
        resolutionNanos = max(1, resolution.nanoseconds)
        let count = Int(span.nanoseconds / resolutionNanos) + 2
        buckets = Mutex(Array(repeating: Bucket(), count: count))
    }

    /// The current time in nanoseconds since 1970 (wall clock, so windows line up across processes).
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// Records one request.
    public func record(latency: Duration, error: Bool, at now: Int64 = SlidingWindow.now()) {
        let index = now / resolutionNanos
        let micros = UInt64(max(1, latency.nanoseconds / 1000))
        buckets.withLock { buckets in
            let slot = Int(index % Int64(buckets.count))
            if buckets[slot].index != index {
                buckets[slot] = Bucket(index: index)
            }
            buckets[slot].requests += 1
            if error { buckets[slot].errors += 1 }
            buckets[slot].latencySum += Double(micros) / 1e6
            if buckets[slot].histogram == nil {
                var histogram = Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: .two)
                histogram.autoResize = true
                buckets[slot].histogram = histogram
            }
            _ = buckets[slot].histogram!.record(micros)
        }
    }

    /// The statistics of the last `window` (at most `span`).
    public func stats(window: Duration, at now: Int64 = SlidingWindow.now()) -> WindowStats {
        let windowNanos = min(window.nanoseconds, span.nanoseconds)
        let newest = now / resolutionNanos
        let oldest = (now - windowNanos) / resolutionNanos + 1
        var stats = WindowStats(windowSeconds: Double(windowNanos) / 1e9)
        var merged: Histogram<UInt32>?
        var sum: Double = 0
        // Copies (the histograms are copy-on-write) so that merging never holds up `record`.
        let live = buckets.withLock { buckets in buckets.filter { $0.index >= oldest && $0.index <= newest } }
        for bucket in live {
            stats.requests += bucket.requests
            stats.errors += bucket.errors
            sum += bucket.latencySum
            if let histogram = bucket.histogram {
                if merged == nil { merged = histogram } else { merged!.add(histogram) }
            }
        }
        guard stats.requests > 0, let merged else { return stats }
        stats.requestRate = Double(stats.requests) / stats.windowSeconds
        stats.errorRate = Double(stats.errors) / Double(stats.requests)
        stats.latencyAverage = sum / Double(stats.requests)
        stats.latencyP50 = Double(merged.valueAtPercentile(50)) / 1e6
        stats.latencyP95 = Double(merged.valueAtPercentile(95)) / 1e6
        stats.latencyP99 = Double(merged.valueAtPercentile(99)) / 1e6
        stats.latencyMax = Double(merged.max) / 1e6
        return stats
    }
}
