import Foundation
import Synchronization
import Testing
import WharfTesting
import WharfMonitoring
import WharfServing

@Suite struct SlidingWindowTests {
    @Test func percentilesRatesAndErrorsOverAWindow() {
        let window = SlidingWindow(resolution: .seconds(5), span: .seconds(300))
        let now = SlidingWindow.now()
        for millisecond in 1...1000 {
            window.record(latency: .milliseconds(millisecond), error: millisecond % 10 == 0, at: now - Int64(millisecond) * 10_000_000)
        }
        let stats = window.stats(window: .seconds(60), at: now)
        #expect(stats.requests == 1000)
        #expect(stats.errors == 100)
        #expect(abs(stats.errorRate - 0.1) < 1e-9)
        #expect(abs(stats.requestRate - 1000.0 / 60) < 1e-9)
        #expect(abs(stats.latencyAverage! - 0.5005) < 1e-6)
        // Two significant digits: within 1 % of the exact order statistics.
        for (value, exact) in [(stats.latencyP50!, 0.5), (stats.latencyP95!, 0.95), (stats.latencyP99!, 0.99)] {
            #expect(abs(value - exact) / exact < 0.01, "\(value) vs \(exact)")
        }
        #expect(abs(stats.latencyMax! - 1.0) < 0.01)
    }

    @Test func oldRequestsLeaveShortWindowsFirst() {
        let window = SlidingWindow(resolution: .seconds(5), span: .seconds(300))
        let now = SlidingWindow.now()
        window.record(latency: .milliseconds(5), error: true, at: now - 120_000_000_000)
        window.record(latency: .milliseconds(7), error: false, at: now - 1_000_000_000)
        #expect(window.stats(window: .seconds(60), at: now).requests == 1)
        #expect(window.stats(window: .seconds(60), at: now).errors == 0)
        #expect(window.stats(window: .seconds(300), at: now).requests == 2)
        #expect(window.stats(window: .seconds(300), at: now + 400_000_000_000).requests == 0)
        // A bucket is reused once it falls out of the span: nothing stale is counted.
        window.record(latency: .milliseconds(9), error: false, at: now + 305_000_000_000)
        #expect(window.stats(window: .seconds(300), at: now + 305_000_000_000).requests == 1)
    }
}

@Suite struct AlertRuleFileTests {
    @Test func aFullRuleFileParses() throws {
        let yaml = """
            evaluation_interval: 500ms
            include_defaults: true
            receivers:
              webhooks: [{url: "http://127.0.0.1:9/hook", secret: s3cret, max_attempts: 3}]
              email:
                - {host: 127.0.0.1, port: 2525, security: none, from: wharf@test, to: [ops@test, ml@test]}
            rules:
              - name: SlowModel
                metric: latency_p95
                window: 30s
                op: ">="
                threshold: 0.25
                for: 10s
                severity: critical
                labels: {team: vision}
                annotations: {summary: "{{model}} v{{version}} p95 {{value}}"}
                models: [resnet]
                min_requests: 20
                repeat_interval: 1h
                action: rollback
              - {name: Quiet, metric: request_rate, op: "<", threshold: 1, action: {rollback: staging}}
            """
        let configuration = try AlertConfiguration.parse(yaml: yaml, source: "alerts.yaml", environment: [:])
        #expect(configuration.ruleSet.evaluationInterval == .milliseconds(500))
        #expect(configuration.ruleSet.rules.map(\.name) == ["HighAverageLatency", "HighErrorRate", "HighMemory", "SlowModel", "Quiet"])
        let slow = configuration.ruleSet.rules[3]
        #expect(slow.metric == .latencyP95)
        #expect(slow.window == .seconds(30))
        #expect(slow.comparison == .greaterOrEqual)
        #expect(slow.threshold == 0.25)
        #expect(slow.forDuration == .seconds(10))
        #expect(slow.labels == ["team": "vision"])
        #expect(slow.models == ["resnet"])
        #expect(slow.minRequests == 20)
        #expect(slow.repeatInterval == .seconds(3600))
        #expect(slow.action == .rollback(alias: "production"))
        #expect(configuration.ruleSet.rules[4].action == .rollback(alias: "staging"))
        #expect(configuration.receivers.webhooks.first?.secret == "s3cret")
        #expect(configuration.receivers.emails.first?.to == ["ops@test", "ml@test"])
    }

    @Test func theShippedDefaultsAreTheOriginalDesignsAlerts() {
        let rules = Dictionary(uniqueKeysWithValues: AlertRule.defaults.map { ($0.metric, $0) })
        #expect(rules[.latencyAverage]?.threshold == 2.0)
        #expect(rules[.errorRate]?.threshold == 0.05)
        #expect(rules[.memoryBytes]?.threshold == 800_000_000)
        #expect(AlertRuleSet().rules == AlertRule.defaults)
    }

    @Test(arguments: [
        ("rules:\n  - name: A\n    metric: latency\n    threshold: 1\n", 3, "expects one of latency_avg"),
        ("rules:\n  - name: A\n    metric: error_rate\n    treshold: 1\n", 4, "unknown key 'treshold'"),
        ("rules:\n  - name: A\n    metric: error_rate\n    threshold: high\n", 4, "expects a number, got 'high'"),
        ("rules:\n  - name: A\n    metric: error_rate\n    threshold: 1\n    for: soon\n", 5, "expects a duration like 30s"),
        ("rules:\n  - {name: A, metric: error_rate, threshold: 1}\n  - {name: A, metric: error_rate, threshold: 2}\n", 3, "defined twice"),
        ("rules:\n  - name: A\n    metric: error_rate\n    threshold: 1\n    op: \"=~\"\n", 5, "expects one of >, >=, <, <="),
        ("rules: [\n  {name: A,\n", 3, "not valid YAML"),
        ("receivers:\n  webhooks: [{url: ftp://x}]\n", 2, "expects an http:// or https:// URL"),
        ("evaluation_interval: 0s\n", 1, "must be positive"),
    ] as [(String, Int, String)])
    func badRuleFilesNameTheLine(_ yaml: String, _ line: Int, _ message: String) {
        do {
            _ = try AlertConfiguration.parse(yaml: yaml, source: "alerts.yaml", environment: [:])
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.message.hasPrefix("alerts.yaml:\(line)"), "\(error.message)")
            #expect(error.line == line)
        }
    }
}

@Suite struct AlertEngineTests {
    final class Inbox: Sendable {
        let notifications = Mutex<[ActiveAlert]>([])
        let history = Mutex<[AlertHistoryEvent]>([])
        let actions = Mutex<[String]>([])

        var hooks: AlertHooks {
            AlertHooks(
                notify: { alert in self.notifications.withLock { $0.append(alert) } },
                record: { event in self.history.withLock { $0.append(event) } },
                act: { action, alert in
                    self.actions.withLock { $0.append("\(action) \(alert.model ?? "") \(alert.version ?? 0)") }
                    return "done"
                })
        }
    }

    static func record(_ monitor: ServingMonitor, model: String, version: Int64, count: Int, errors: Int, latency: Duration = .milliseconds(3)) {
        for index in 0..<count {
            monitor.record(InferenceRecord(
                model: model, version: version, api: "kserve", status: index < errors ? 500 : 200, duration: latency, timing: nil))
        }
    }

    @Test func anAlertGoesPendingFiringAndResolvedOnce() async throws {
        let monitor = ServingMonitor(windows: [.seconds(10), .seconds(60)], resolution: .seconds(1))
        let rule = AlertRule(
            name: "Errors", metric: .errorRate, window: .seconds(60), threshold: 0.2, forDuration: .seconds(2), severity: "critical",
            labels: ["team": "ml"], minRequests: 5, repeatInterval: .seconds(30), action: .rollback(alias: "production"))
        let inbox = Inbox()
        let engine = AlertEngine(monitor: monitor, rules: AlertRuleSet(evaluationInterval: .seconds(1), rules: [rule]), hooks: inbox.hooks)
        Self.record(monitor, model: "mlp", version: 2, count: 20, errors: 10)
        Self.record(monitor, model: "mlp", version: 1, count: 20, errors: 0)
        let start = Date()

        await engine.evaluate(now: start)
        #expect(engine.active.map(\.state) == [.pending])
        #expect(engine.active.first?.version == 2)
        #expect(inbox.notifications.withLock { $0 }.isEmpty)
        await engine.evaluate(now: start + 1)
        #expect(engine.active.map(\.state) == [.pending])
        await engine.evaluate(now: start + 2.1)
        let firing = try #require(engine.active.first)
        #expect(firing.state == .firing)
        #expect(firing.labels == ["alertname": "Errors", "severity": "critical", "team": "ml", "model": "mlp", "version": "2"])
        #expect(firing.annotations["summary"] == "mlp v2: error_rate 50.0 % > 20.0 %")
        #expect(abs(firing.value - 0.5) < 1e-9)
        // Still firing: no duplicate notification until the repeat interval.
        await engine.evaluate(now: start + 3)
        #expect(inbox.notifications.withLock { $0 }.map(\.state) == [.firing])
        #expect(inbox.actions.withLock { $0 } == ["rollback(alias: \"production\") mlp 2"])
        await engine.evaluate(now: start + 33)
        #expect(inbox.notifications.withLock { $0 }.map(\.state) == [.firing, .firing])
        // The errors leave the window: resolved, once.
        await engine.evaluate(now: start + 75)
        await engine.evaluate(now: start + 76)
        #expect(inbox.notifications.withLock { $0 }.map(\.state) == [.firing, .firing, .resolved])
        #expect(engine.active.isEmpty)
        #expect(inbox.history.withLock { $0 }.map(\.kind) == [.firing, .action, .resolved])
        #expect(inbox.history.withLock { $0 }[1].detail == "done")
    }

    @Test func fewRequestsDecideNothingAndMemoryRulesWatchTheProcess() async {
        let monitor = ServingMonitor(windows: [.seconds(60)], resolution: .seconds(1))
        let rules = [
            AlertRule(name: "Errors", metric: .errorRate, threshold: 0.05, minRequests: 10),
            AlertRule(name: "Memory", metric: .memoryBytes, threshold: 1_000),
        ]
        let inbox = Inbox()
        let engine = AlertEngine(monitor: monitor, rules: AlertRuleSet(rules: rules), hooks: inbox.hooks)
        Self.record(monitor, model: "mlp", version: 1, count: 3, errors: 3)
        await engine.evaluate()
        let active = engine.active
        #expect(active.map(\.rule) == ["Memory"])
        #expect(active.first?.state == .firing)
        #expect(active.first?.model == nil)
        #expect((active.first?.value ?? 0) > 1_000_000)
    }

    @Test func reloadedRulesReplaceTheOldOnesAndBadFilesAreRefused() async throws {
        let monitor = ServingMonitor()
        let engine = AlertEngine(monitor: monitor, rules: AlertRuleSet(rules: []))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-alerts-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let watcher = AlertRuleWatcher(path: path, engine: engine)
        try "rules: [{name: A, metric: error_rate, threshold: 0.1}]\n".write(toFile: path, atomically: true, encoding: .utf8)
        watcher.check()
        #expect(engine.ruleSet.rules.map(\.name) == ["A"])
        #expect(engine.ruleError == nil)
        try "rules:\n  - {name: B, metric: nope, threshold: 0.1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        watcher.check()
        #expect(engine.ruleSet.rules.map(\.name) == ["A"])
        #expect(engine.ruleError?.contains("\(path):2") == true)
        try "rules: [{name: C, metric: latency_p99, threshold: 1}]\n".write(toFile: path, atomically: true, encoding: .utf8)
        watcher.check()
        #expect(engine.ruleSet.rules.map(\.name) == ["C"])
        #expect(engine.ruleError == nil)
    }
}
