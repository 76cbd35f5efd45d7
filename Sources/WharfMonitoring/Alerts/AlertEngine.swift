public import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import WharfCore
import WharfServing

/// Where an alert is: `inactive` → `pending` (condition true, not yet for long enough) →
/// `firing` → `resolved` (condition false again) → `inactive`.
public enum AlertState: String, Sendable, Codable {
    case inactive, pending, firing, resolved
}

/// One alert: a rule on one model version (or on the process).
public struct ActiveAlert: Sendable, Codable, Equatable {
    public var rule: String
    public var state: AlertState
    public var model: String?
    public var version: Int64?
    public var metric: String
    public var value: Double
    public var threshold: Double
    public var severity: String
    /// `alertname`, `severity`, `model`, `version` and the rule's labels.
    public var labels: [String: String]
    public var annotations: [String: String]
    /// When the condition started to hold.
    public var activeSince: Date
    public var firingSince: Date?
    public var resolvedAt: Date?
    public var lastNotified: Date?
    /// Stable identity of the alert (rule + model + version), as Alertmanager's fingerprint.
    public var fingerprint: String

    enum CodingKeys: String, CodingKey {
        case rule, state, model, version, metric, value, threshold, severity, labels, annotations, fingerprint
        case activeSince = "active_since"
        case firingSince = "firing_since"
        case resolvedAt = "resolved_at"
        case lastNotified = "last_notified"
    }
}

/// A line of the alert history: an alert fired, resolved, or its action ran.
public struct AlertHistoryEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case firing, resolved, action
    }

    public var id: Int64
    public var kind: Kind
    public var rule: String
    public var model: String?
    public var version: Int64?
    public var value: Double
    public var threshold: Double
    public var severity: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// For actions: what happened (`rolled back production 3 → 2`).
    public var detail: String
    public var at: Date

    public init(
        id: Int64 = 0, kind: Kind, rule: String, model: String?, version: Int64?, value: Double, threshold: Double, severity: String,
        labels: [String: String], annotations: [String: String], detail: String = "", at: Date
    ) {
        self.id = id
        self.kind = kind
        self.rule = rule
        self.model = model
        self.version = version
        self.value = value
        self.threshold = threshold
        self.severity = severity
        self.labels = labels
        self.annotations = annotations
        self.detail = detail
        self.at = at
    }
}

/// What the engine hands the outside world.
public struct AlertHooks: Sendable {
    /// A notification to send: the alert as it is now (`firing`, again when repeated, or `resolved`).
    public var notify: @Sendable (ActiveAlert) -> Void
    /// A history event to keep.
    public var record: @Sendable (AlertHistoryEvent) async -> Void
    /// Runs a rule's action for a firing alert; returns what happened, for the history.
    public var act: @Sendable (AlertAction, ActiveAlert) async -> String

    public init(
        notify: @escaping @Sendable (ActiveAlert) -> Void = { _ in },
        record: @escaping @Sendable (AlertHistoryEvent) async -> Void = { _ in },
        act: @escaping @Sendable (AlertAction, ActiveAlert) async -> String = { _, _ in "no action configured" }
    ) {
        self.notify = notify
        self.record = record
        self.act = act
    }
}

/// Evaluates alert rules against the serving monitor's windows every evaluation interval and moves
/// each alert through its states, de-duplicated: one notification when it fires, one again every
/// `repeat_interval` while it fires, one when it resolves.
public final class AlertEngine: Service, Sendable {
    private struct State: Sendable {
        var ruleSet: AlertRuleSet
        var alerts: [String: ActiveAlert] = [:]
        var history: [AlertHistoryEvent] = []
        var nextHistoryID: Int64 = 1
        var ruleError: String?
    }

    public let monitor: ServingMonitor
    private let hooks: AlertHooks
    private let logger: Logger
    private let state: Mutex<State>
    /// How many history events are kept in memory (the registry keeps them all).
    public static let recentHistoryLimit = 500

    public init(monitor: ServingMonitor, rules: AlertRuleSet, hooks: AlertHooks = AlertHooks(), logger: Logger = Logger(label: "wharf.alerts")) {
        self.monitor = monitor
        self.hooks = hooks
        self.logger = logger
        state = Mutex(State(ruleSet: rules))
    }

    /// The rules in force.
    public var ruleSet: AlertRuleSet { state.withLock { $0.ruleSet } }

    /// Why the last rule file was refused, while the previous rules stay in force.
    public var ruleError: String? { state.withLock { $0.ruleError } }

    /// Replaces the rules (a reloaded rule file); alerts of rules that are gone are dropped.
    public func replace(rules: AlertRuleSet) {
        state.withLock { state in
            state.ruleSet = rules
            state.ruleError = nil
            let names = Set(rules.rules.map(\.name))
            state.alerts = state.alerts.filter { names.contains($0.value.rule) }
        }
        logger.notice("alert rules loaded", metadata: ["rules": "\(rules.rules.map(\.name).joined(separator: ","))"])
    }

    /// Records that a rule file was refused (the rules in force stay).
    public func reject(_ error: AlertRuleError) {
        let isNew = state.withLock { state in
            defer { state.ruleError = error.message }
            return state.ruleError != error.message
        }
        if isNew { logger.error("alert rule file refused; the previous rules stay active", metadata: ["error": "\(error.message)"]) }
    }

    /// Alerts pending or firing now.
    public var active: [ActiveAlert] {
        state.withLock { Array($0.alerts.values) }.filter { $0.state == .pending || $0.state == .firing }
            .sorted { ($0.rule, $0.model ?? "", $0.version ?? -1) < ($1.rule, $1.model ?? "", $1.version ?? -1) }
    }

    /// The latest history events, newest last.
    public var recentHistory: [AlertHistoryEvent] { state.withLock { $0.history } }

    public func run() async throws {
        await runPeriodically(every: { self.ruleSet.evaluationInterval }) { await self.evaluate() }
    }

    /// One evaluation of every rule.
    public func evaluate(now: Date = Date()) async {
        let rules = ruleSet.rules
        let nowNanos = Int64(now.timeIntervalSince1970 * 1e9)
        var observations: [(AlertRule, String?, Int64?, Double?)] = []
        let observed = monitor.observedVersions
        for rule in rules {
            if rule.metric.isPerVersion {
                for (model, version) in observed where version != nil && (rule.models?.contains(model) ?? true) {
                    let stats = monitor.stats(model: model, version: version, window: rule.window, at: nowNanos)
                    var value = stats.flatMap { rule.metric.value(in: $0) }
                    if rule.metric != .requestRate, (stats?.requests ?? 0) < rule.minRequests { value = nil }
                    observations.append((rule, model, version, value))
                }
            } else {
                observations.append((rule, nil, nil, Double(monitor.residentMemory)))
            }
        }
        var notifications: [ActiveAlert] = []
        var events: [AlertHistoryEvent] = []
        var actions: [(AlertAction, ActiveAlert)] = []
        state.withLock { state in
            var seen = Set<String>()
            for (rule, model, version, value) in observations {
                let key = Self.fingerprint(rule: rule.name, model: model, version: version)
                seen.insert(key)
                let holds = value.map { rule.comparison.holds($0, rule.threshold) } ?? false
                var alert = state.alerts[key]
                if holds, let value {
                    if alert == nil || alert!.state == .inactive || alert!.state == .resolved {
                        alert = Self.makeAlert(rule, model: model, version: version, value: value, since: now, key: key)
                    } else {
                        alert!.value = value
                        alert!.annotations = Self.render(rule, model: model, version: version, value: value)
                    }
                    if alert!.state == .pending, now.timeIntervalSince(alert!.activeSince) >= rule.forDuration.seconds {
                        alert!.state = .firing
                        alert!.firingSince = now
                        alert!.lastNotified = now
                        notifications.append(alert!)
                        events.append(Self.event(.firing, alert!, at: now))
                        if let action = rule.action { actions.append((action, alert!)) }
                    } else if alert!.state == .firing, let last = alert!.lastNotified, now.timeIntervalSince(last) >= rule.repeatInterval.seconds {
                        alert!.lastNotified = now
                        notifications.append(alert!)
                    }
                    state.alerts[key] = alert
                } else if var current = alert {
                    switch current.state {
                    case .firing:
                        current.state = .resolved
                        current.resolvedAt = now
                        if let value { current.value = value }
                        notifications.append(current)
                        events.append(Self.event(.resolved, current, at: now))
                        state.alerts[key] = current
                    case .pending, .resolved:
                        current.state = .inactive
                        state.alerts[key] = current
                    case .inactive:
                        break
                    }
                }
            }
            // A model version that stopped reporting resolves its alerts too.
            for (key, var alert) in state.alerts where !seen.contains(key) && alert.state == .firing {
                alert.state = .resolved
                alert.resolvedAt = now
                notifications.append(alert)
                events.append(Self.event(.resolved, alert, at: now))
                state.alerts[key] = alert
            }
        }
        for alert in notifications {
            logger.log(
                level: alert.state == .firing ? .warning : .notice, "alert \(alert.state.rawValue)",
                metadata: ["alert": "\(alert.rule)", "model": "\(alert.model ?? "-")", "version": "\(alert.version.map(String.init) ?? "-")", "value": "\(alert.value)"])
            hooks.notify(alert)
        }
        for (action, alert) in actions {
            let detail = await hooks.act(action, alert)
            var event = Self.event(.action, alert, at: Date())
            event.detail = detail
            events.append(event)
        }
        for var event in events {
            state.withLock { state in
                event.id = state.nextHistoryID
                state.nextHistoryID += 1
                state.history.append(event)
                if state.history.count > Self.recentHistoryLimit { state.history.removeFirst(state.history.count - Self.recentHistoryLimit) }
            }
            await hooks.record(event)
        }
    }

    static func fingerprint(rule: String, model: String?, version: Int64?) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(rule)\u{0}\(model ?? "")\u{0}\(version.map(String.init) ?? "")".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }

    private static func makeAlert(_ rule: AlertRule, model: String?, version: Int64?, value: Double, since: Date, key: String) -> ActiveAlert {
        var labels = rule.labels
        labels["alertname"] = rule.name
        labels["severity"] = rule.severity
        if let model { labels["model"] = model }
        if let version { labels["version"] = String(version) }
        return ActiveAlert(
            rule: rule.name, state: .pending, model: model, version: version,
            metric: rule.metric.rawValue, value: value, threshold: rule.threshold, severity: rule.severity, labels: labels,
            annotations: render(rule, model: model, version: version, value: value), activeSince: since, fingerprint: key)
    }

    /// The rule's annotations with `{{value}}`, `{{threshold}}`, `{{model}}`, `{{version}}`
    /// replaced; a `summary` is made when the rule has none.
    static func render(_ rule: AlertRule, model: String?, version: Int64?, value: Double) -> [String: String] {
        var annotations = rule.annotations
        if annotations["summary"] == nil {
            let subject = model.map { "\($0)\(version.map { " v\($0)" } ?? "")" } ?? "wharf"
            annotations["summary"] = "\(subject): \(rule.metric.rawValue) {{value}} \(rule.comparison.rawValue) {{threshold}}"
        }
        return annotations.mapValues { text in
            text.replacingOccurrences(of: "{{value}}", with: rule.metric.format(value))
                .replacingOccurrences(of: "{{threshold}}", with: rule.metric.format(rule.threshold))
                .replacingOccurrences(of: "{{model}}", with: model ?? "")
                .replacingOccurrences(of: "{{version}}", with: version.map(String.init) ?? "")
        }
    }

    private static func event(_ kind: AlertHistoryEvent.Kind, _ alert: ActiveAlert, at: Date) -> AlertHistoryEvent {
        AlertHistoryEvent(
            kind: kind, rule: alert.rule, model: alert.model, version: alert.version, value: alert.value, threshold: alert.threshold,
            severity: alert.severity, labels: alert.labels, annotations: alert.annotations, at: at)
    }
}

/// Reloads the rule file when it changes; a bad file is refused (the engine keeps its rules and
/// reports the error) until it is fixed.
public final class AlertRuleWatcher: Service, Sendable {
    public let path: String
    public let engine: AlertEngine
    public let interval: Duration
    private let lastText = Mutex<String?>(nil)

    public init(path: String, engine: AlertEngine, interval: Duration = .seconds(2)) {
        self.path = path
        self.engine = engine
        self.interval = interval
    }

    public func run() async throws {
        await runPeriodically(every: { self.interval }) { self.check() }
    }

    /// Reads the file; applies it when it changed and parses.
    public func check() {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            engine.reject(AlertRuleError("\(path): cannot read the file"))
            return
        }
        let changed = lastText.withLock { last in
            defer { last = text }
            return last != text
        }
        guard changed else { return }
        do {
            engine.replace(rules: try AlertConfiguration.parse(yaml: text, source: path).ruleSet)
        } catch {
            engine.reject(error)
        }
    }

    /// Marks the current contents as applied (after the server loaded them at start-up).
    public func markLoaded(_ text: String) {
        lastText.withLock { $0 = text }
    }
}
