import Foundation

/// What a rule watches: a windowed statistic of a model version, or of the process.
public enum AlertMetric: String, Sendable, Codable, CaseIterable {
    case latencyAverage = "latency_avg"
    case latencyP50 = "latency_p50"
    case latencyP95 = "latency_p95"
    case latencyP99 = "latency_p99"
    case errorRate = "error_rate"
    case requestRate = "request_rate"
    case memoryBytes = "memory_bytes"

    /// Per model version (all but memory, which is the process's).
    public var isPerVersion: Bool { self != .memoryBytes }

    /// The value in `stats`, `nil` when there is no data for it.
    func value(in stats: WindowStats) -> Double? {
        switch self {
        case .latencyAverage: stats.latencyAverage
        case .latencyP50: stats.latencyP50
        case .latencyP95: stats.latencyP95
        case .latencyP99: stats.latencyP99
        case .errorRate: stats.requests > 0 ? stats.errorRate : nil
        case .requestRate: stats.requestRate
        case .memoryBytes: nil
        }
    }

    /// A value in the metric's unit, for people: `2.31 s`, `7.5 %`, `812 MB`, `40.0 req/s`.
    public func format(_ value: Double) -> String {
        switch self {
        case .latencyAverage, .latencyP50, .latencyP95, .latencyP99:
            value >= 1 ? String(format: "%.2f s", value) : String(format: "%.1f ms", value * 1000)
        case .errorRate: String(format: "%.1f %%", value * 100)
        case .requestRate: String(format: "%.1f req/s", value)
        case .memoryBytes: String(format: "%.0f MB", value / 1_000_000)
        }
    }
}

/// How a value is compared with the threshold.
public enum AlertComparison: String, Sendable, Codable, CaseIterable {
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="

    public func holds(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .greater: value > threshold
        case .greaterOrEqual: value >= threshold
        case .less: value < threshold
        case .lessOrEqual: value <= threshold
        }
    }
}

/// What a firing rule does besides notifying.
public enum AlertAction: Sendable, Equatable {
    /// Moves the model's alias (normally `production`) back to its previous version, once per
    /// firing, when the version firing is the one the alias points at.
    case rollback(alias: String)
}

/// One alert rule: a windowed metric compared with a threshold, true for a while.
public struct AlertRule: Sendable, Equatable {
    public var name: String
    public var metric: AlertMetric
    public var window: Duration
    public var comparison: AlertComparison
    public var threshold: Double
    /// How long the condition must hold before the alert fires (pending until then).
    public var forDuration: Duration
    public var severity: String
    public var labels: [String: String]
    /// `summary`, `description`, ...; `{{value}}`, `{{threshold}}`, `{{model}}`, `{{version}}`
    /// are replaced.
    public var annotations: [String: String]
    /// Only these models (all when `nil`).
    public var models: [String]?
    /// Fewer requests than this in the window: no decision (latency and error-rate rules).
    public var minRequests: Int
    /// A firing alert is notified again after this long.
    public var repeatInterval: Duration
    public var action: AlertAction?

    public init(
        name: String, metric: AlertMetric, window: Duration = .seconds(60), comparison: AlertComparison = .greater, threshold: Double,
        forDuration: Duration = .zero, severity: String = "warning", labels: [String: String] = [:], annotations: [String: String] = [:],
        models: [String]? = nil, minRequests: Int = 1, repeatInterval: Duration = .seconds(4 * 3600), action: AlertAction? = nil
    ) {
        self.name = name
        self.metric = metric
        self.window = window
        self.comparison = comparison
        self.threshold = threshold
        self.forDuration = forDuration
        self.severity = severity
        self.labels = labels
        self.annotations = annotations
        self.models = models
        self.minRequests = minRequests
        self.repeatInterval = repeatInterval
        self.action = action
    }

    /// The original design's alerts: average latency over 2 s, error rate over 5 %, memory over
    /// 800 MB.
    public static let defaults: [AlertRule] = [
        AlertRule(
            name: "HighAverageLatency", metric: .latencyAverage, window: .seconds(60), threshold: 2.0, forDuration: .seconds(60),
            annotations: ["summary": "{{model}} v{{version}}: average latency {{value}} > {{threshold}}"]),
        AlertRule(
            name: "HighErrorRate", metric: .errorRate, window: .seconds(60), threshold: 0.05, forDuration: .seconds(60),
            severity: "critical", annotations: ["summary": "{{model}} v{{version}}: error rate {{value}} > {{threshold}}"], minRequests: 10),
        AlertRule(
            name: "HighMemory", metric: .memoryBytes, window: .seconds(60), threshold: 800_000_000, forDuration: .seconds(60),
            annotations: ["summary": "wharf uses {{value}} of memory > {{threshold}}"]),
    ]
}

/// The rules and their evaluation interval, as read from a rule file.
public struct AlertRuleSet: Sendable, Equatable {
    public var evaluationInterval: Duration
    public var rules: [AlertRule]

    public init(evaluationInterval: Duration = .seconds(10), rules: [AlertRule] = AlertRule.defaults) {
        self.evaluationInterval = evaluationInterval
        self.rules = rules
    }
}
