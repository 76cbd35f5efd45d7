extension BenchReport {
    /// The CSV header line's fields.
    public static let csvFields = [
        "concurrency", "target_rps", "duration_s", "requests", "errors", "late", "dropped", "throughput_rps",
        "sent_rps", "mean_us", "min_us", "p50_us", "p90_us", "p95_us", "p99_us", "max_us",
    ]

    /// The results as CSV: a header line, then one line per step (latencies in microseconds; the
    /// column of the other mode is empty).
    public func csv() -> String {
        var lines = [Self.csvFields.joined(separator: ",")]
        for step in steps {
            let latency = step.latency
            let fields: [String] = [
                step.concurrency.map(String.init) ?? "",
                step.targetRate.map(BenchFormat.number) ?? "",
                BenchFormat.number(step.duration),
                String(step.requests), String(step.errors), String(step.late), String(step.dropped),
                BenchFormat.fixed(step.throughput, 2), BenchFormat.fixed(step.achievedRate, 2),
                BenchFormat.fixed(latency.mean, 1), BenchFormat.number(latency.min), BenchFormat.number(latency.p50),
                BenchFormat.number(latency.p90), BenchFormat.number(latency.p95), BenchFormat.number(latency.p99),
                BenchFormat.number(latency.max),
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
