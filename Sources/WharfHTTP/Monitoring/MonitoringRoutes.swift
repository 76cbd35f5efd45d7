import Foundation
import Hummingbird
import NIOCore
import WharfCore
import WharfMonitoring
import WharfRegistry
import WharfServing

/// Monitoring over HTTP: Prometheus metrics, live windows per model version, alerts and their
/// history. The dashboard and `wharf status` read these same endpoints.
///
/// ```
/// GET /metrics                      Prometheus text format
/// GET /wharf/status                 every version's state and windows (rate, latency percentiles, errors), memory, active alerts
/// GET /wharf/alerts                 active alerts, the rules in force, a refused rule file's error
/// GET /wharf/alerts/history         ?limit=100&model=mlp
/// ```
struct MonitoringRoutes<Context: RequestContext> {
    let monitor: ServingMonitor
    let engine: AlertEngine?
    let manager: ModelManager
    let registry: Registry?
    let dispatcher: NotificationDispatcher?
    let started = Date()

    func register(on router: Router<Context>) {
        router.get("metrics") { _, _ in
            let bytes = await monitor.exposition(manager: manager)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("wharf/status") { _, _ in try jsonResponse(encoding: await status()) }
        router.get("wharf/alerts") { _, _ in
            try jsonResponse(encoding: AlertsBody(
                active: engine?.active ?? [], rules: (engine?.ruleSet.rules ?? []).map { RuleBody(rule: $0) },
                evaluationIntervalSeconds: engine.map { $0.ruleSet.evaluationInterval.seconds }, ruleError: engine?.ruleError,
                notifiers: (dispatcher?.counters() ?? [:]).mapValues(NotifierBody.init)))
        }
        router.get("wharf/alerts/history") { request, _ in
            let limit = try queryLimit(request, fallback: 100, maximum: 10_000)
            let model = request.uri.queryParameters.get("model").map { String($0) }
            return try jsonResponse(encoding: try await history(model: model, limit: limit))
        }
    }

    private func history(model: String?, limit: Int) async throws -> [AlertHistoryEvent] {
        if let registry {
            return try await registry.store.alertEvents(model: model, limit: limit).compactMap { stored in
                guard var event = try? JSONCoding.decode(AlertHistoryEvent.self, stored.payload) else { return nil }
                event.id = stored.id
                return event
            }
        }
        let recent = (engine?.recentHistory ?? []).filter { model == nil || $0.model == model }
        return Array(recent.suffix(limit))
    }

    private func status() async -> StatusReport {
        let windows = Dictionary(monitor.windowStats().map { ("\($0.model)\u{0}\($0.version ?? -1)", $0.windows) }, uniquingKeysWith: { first, _ in first })
        var models: [StatusReport.Version] = []
        for model in await manager.status() {
            for version in model.versions {
                models.append(StatusReport.Version(
                    model: model.name, version: version.version, state: version.state.rawValue, error: version.error,
                    labels: model.labels.filter { $0.value == version.version }.map(\.key).sorted(),
                    windows: windows["\(model.name)\u{0}\(version.version)"] ?? [:]))
            }
        }
        return StatusReport(
            uptimeSeconds: Date().timeIntervalSince(started), residentMemoryBytes: monitor.residentMemory,
            windows: monitor.windows.map(ServingMonitor.name), models: models, alerts: engine?.active ?? [])
    }
}

/// `GET /wharf/alerts`.
struct AlertsBody: Codable {
    var active: [ActiveAlert]
    var rules: [RuleBody]
    var evaluationIntervalSeconds: Double?
    var ruleError: String?
    /// Delivery counters per notifier.
    var notifiers: [String: NotifierBody]

    enum CodingKeys: String, CodingKey {
        case active, rules, notifiers
        case evaluationIntervalSeconds = "evaluation_interval_seconds"
        case ruleError = "rule_error"
    }
}

/// A notifier's delivery counters.
struct NotifierBody: Codable {
    var sent: Int
    var failed: Int
    var dropped: Int
    var queued: Int
    var lastError: String?

    init(_ counters: NotifierCounters) {
        sent = counters.sent
        failed = counters.failed
        dropped = counters.dropped
        queued = counters.queued
        lastError = counters.lastError
    }

    enum CodingKeys: String, CodingKey {
        case sent, failed, dropped, queued
        case lastError = "last_error"
    }
}

/// A rule as the API shows it.
struct RuleBody: Codable {
    var name: String
    var metric: String
    var windowSeconds: Double
    var op: String
    var threshold: Double
    var forSeconds: Double
    var severity: String
    var action: String?

    init(rule: AlertRule) {
        name = rule.name
        metric = rule.metric.rawValue
        windowSeconds = rule.window.seconds
        op = rule.comparison.rawValue
        threshold = rule.threshold
        forSeconds = rule.forDuration.seconds
        severity = rule.severity
        if case .rollback(let alias) = rule.action { action = "rollback \(alias)" }
    }

    enum CodingKeys: String, CodingKey {
        case name, metric, op, threshold, severity, action
        case windowSeconds = "window_seconds"
        case forSeconds = "for_seconds"
    }
}
