import Histogram

/// Collects the outcomes of requests: latencies of successes into an HDR histogram (1 µs to 60 s,
/// three significant digits), and failures with the first few distinct messages.
struct LatencyRecorder: Sendable {
    /// The largest latency the histogram tells apart; longer ones are recorded as this value.
    static let highestTrackableMicroseconds: UInt64 = 60_000_000
    /// How many distinct error messages are kept.
    static let keptErrorMessages = 5

    private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: highestTrackableMicroseconds, numberOfSignificantValueDigits: .three)
    private(set) var successes = 0
    private(set) var failures = 0
    private(set) var errorMessages: [String] = []
    private var totalMicroseconds: Double = 0
    private var minimum = UInt64.max
    private var maximum: UInt64 = 0

    mutating func recordSuccess(_ latency: Duration) {
        let microseconds = latency.wholeMicroseconds
        successes += 1
        totalMicroseconds += Double(microseconds)
        minimum = Swift.min(minimum, microseconds)
        maximum = Swift.max(maximum, microseconds)
        histogram.record(Swift.max(1, Swift.min(microseconds, Self.highestTrackableMicroseconds)))
    }

    mutating func recordFailure(_ message: String) {
        failures += 1
        if errorMessages.count < Self.keptErrorMessages, !errorMessages.contains(message) {
            errorMessages.append(message)
        }
    }

    mutating func merge(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        successes += other.successes
        failures += other.failures
        totalMicroseconds += other.totalMicroseconds
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
        for message in other.errorMessages where errorMessages.count < Self.keptErrorMessages && !errorMessages.contains(message) {
            errorMessages.append(message)
        }
    }

    var summary: LatencySummary {
        guard successes > 0 else { return .empty }
        let largest = Double(maximum)
        func percentile(_ value: Double) -> Double {
            // The histogram answers with the top of a value's bucket; never report more than the max.
            Swift.min(Double(histogram.valueAtPercentile(value)), largest)
        }
        return LatencySummary(
            count: successes, mean: totalMicroseconds / Double(successes), min: Double(minimum),
            p50: percentile(50), p90: percentile(90), p95: percentile(95), p99: percentile(99), max: largest)
    }
}

extension Duration {
    /// The duration in whole microseconds (0 for negative durations).
    var wholeMicroseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(Swift.max(0, attoseconds) / 1_000_000_000_000)
    }
}
