extension BenchReport {
    /// The results as an aligned table (latencies in milliseconds), followed by one line per step
    /// that had errors, with the first error messages.
    public func table() -> String {
        let openLoop = steps.contains { $0.targetRate != nil }
        var columns: [(header: String, values: [String])] = []
        if openLoop {
            columns.append(("target/s", steps.map { BenchFormat.number($0.targetRate ?? 0) }))
            columns.append(("sent/s", steps.map { BenchFormat.fixed($0.achievedRate, 1) }))
        } else {
            columns.append(("concurrency", steps.map { String($0.concurrency ?? 0) }))
        }
        columns.append(("requests", steps.map { String($0.requests) }))
        columns.append(("errors", steps.map { String($0.errors) }))
        if openLoop {
            columns.append(("late", steps.map { String($0.late) }))
            columns.append(("dropped", steps.map { String($0.dropped) }))
        }
        columns.append(("req/s", steps.map { BenchFormat.fixed($0.throughput, 1) }))
        let latencies: [(String, KeyPath<LatencySummary, Double>)] = [
            ("mean ms", \.mean), ("p50 ms", \.p50), ("p90 ms", \.p90), ("p95 ms", \.p95), ("p99 ms", \.p99), ("max ms", \.max),
        ]
        for (header, path) in latencies {
            columns.append((header, steps.map { BenchFormat.fixed($0.latency[keyPath: path] / 1000, 3) }))
        }
        let widths = columns.map { column in column.values.reduce(column.header.count) { max($0, $1.count) } }
        var lines = [zip(columns, widths).map { BenchFormat.right($0.header, $1) }.joined(separator: "  ")]
        for row in steps.indices {
            lines.append(zip(columns, widths).map { BenchFormat.right($0.values[row], $1) }.joined(separator: "  "))
        }
        for step in steps where step.errors > 0 {
            lines.append("\(step.load): \(step.errors) of \(step.requests) requests failed; first errors:")
            lines.append(contentsOf: step.errorMessages.map { "  \($0)" })
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
