import Foundation
import Testing
import WharfBench
import WharfMonitoring
import WharfRegistry
import WharfServing
import WharfTesting

/// Monitoring on a live server: /metrics read by Prometheus's own parser, windows that agree with
/// what a client measured, and alerts that fire, act and resolve under an injected fault.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct MonitoringTests {
    static let pixels = Array(repeating: "0.25", count: 784).joined(separator: ",")

    /// Runs python/check_metrics.py on an exposition: the parsed samples, or the parser's error.
    static func parse(_ exposition: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = Fixtures.repositoryRoot.appendingPathComponent(".venv/bin/python")
        process.arguments = [Fixtures.repositoryRoot.appendingPathComponent("python/check_metrics.py").path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(exposition.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func value(_ parsed: [String: Any], _ name: String, _ labels: [String: String]) -> Double? {
        for case let sample as [Any] in parsed["samples"] as? [Any] ?? [] {
            guard sample.count == 3, sample[0] as? String == name, let sampleLabels = sample[1] as? [String: String] else { continue }
            if labels.allSatisfy({ sampleLabels[$0.key] == $0.value }) { return (sample[2] as? NSNumber)?.doubleValue }
        }
        return nil
    }

    @Test func metricsParseWithPrometheusOwnParserAndAddUp() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1)
        let server = try await TestServer.start(repository: repository.root)
        for _ in 0..<7 {
            #expect(try await server.post("/v1/models/mlp:predict", json: #"{"instances": [[\#(Self.pixels)]]}"#).status == 200)
        }
        for _ in 0..<3 {
            let body = #"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": [\#(Self.pixels)]}]}"#
            #expect(try await server.post("/v2/models/mlp/infer", json: body).status == 200)
        }
        #expect(try await server.post("/v1/models/mlp:predict", json: #"{"instances": [[1, 2]]}"#).status == 400)
        #expect(try await server.post("/v1/models/no_such_model:predict", json: #"{"instances": [[1]]}"#).status == 404)

        let metrics = try await server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        let parsed = try Self.parse(metrics.text)
        #expect(parsed["error"] == nil, "\(parsed["error"] ?? "")")
        #expect((parsed["problems"] as? [String])?.isEmpty == true, "\(parsed["problems"] ?? "")")
        let types = try #require(parsed["types"] as? [String: String])
        #expect(types["wharf_requests"] == "counter")
        #expect(types["wharf_request_duration_seconds"] == "histogram")
        #expect(types["wharf_request_compute_seconds"] == "histogram")
        #expect(types["wharf_batch_size"] == "histogram")
        #expect(types["process_resident_memory_bytes"] == "gauge")

        let base = ["model": "mlp", "version": "1"]
        #expect(Self.value(parsed, "wharf_requests_total", base.merging(["api": "tfserving", "code": "200"]) { a, _ in a }) == 7)
        #expect(Self.value(parsed, "wharf_requests_total", base.merging(["api": "kserve", "code": "200"]) { a, _ in a }) == 3)
        #expect(Self.value(parsed, "wharf_requests_total", base.merging(["api": "tfserving", "code": "400"]) { a, _ in a }) == 1)
        #expect(Self.value(parsed, "wharf_requests_total", ["model": ServingMonitor.unknownModel, "code": "404"]) == 1)
        #expect(Self.value(parsed, "wharf_request_duration_seconds_count", base.merging(["api": "tfserving"]) { a, _ in a }) == 8)
        #expect(Self.value(parsed, "wharf_request_compute_seconds_count", base) == 10)
        #expect(Self.value(parsed, "wharf_model_state", base.merging(["state": "READY"]) { a, _ in a }) == 1)
        #expect(Self.value(parsed, "wharf_model_state", base.merging(["state": "LOADING"]) { a, _ in a }) == 0)
        #expect((Self.value(parsed, "process_resident_memory_bytes", [:]) ?? 0) > 50_000_000)
        #expect((Self.value(parsed, "process_open_fds", [:]) ?? 0) > 3)
        #expect(Self.value(parsed, "wharf_runtime_info", ["runtime": "tensorflow"]) == 1)
        await server.stop()
    }

    @Test func windowPercentilesAgreeWithTheClients() async throws {
        // A model that computes for tens of milliseconds on a request of a few bytes: what the
        // client measures beyond the server (loopback, HTTP parsing) is well under 1 %.
        let repository = try ScratchRepository()
        try FileManager.default.createDirectory(at: repository.root.appendingPathComponent("slow"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Fixtures.root.appendingPathComponent("checked/slow_model"), to: repository.root.appendingPathComponent("slow/1"))
        let server = try await TestServer.start(repository: repository.root)
        let configuration = BenchConfiguration(
            baseURL: "http://127.0.0.1:\(server.port)", model: "slow", inferenceProtocol: .v2JSON, batchSize: 1,
            mode: .closedLoop(concurrencies: [2]), duration: .seconds(4), warmup: .zero)
        let report = try await BenchRunner(configuration: configuration).run()
        let client = try #require(report.steps.first)
        #expect(client.errors == 0)
        let status = try #require(try await server.get("/wharf/status").json as? [String: Any])
        let version = try #require((status["models"] as? [[String: Any]])?.first { $0["model"] as? String == "slow" })
        let window = try #require((version["windows"] as? [String: Any])?["1m"] as? [String: Any])
        let requests = try #require(window["requests"] as? Int)
        let serverP95 = try #require(window["latency_p95_seconds"] as? Double)
        let clientP95 = client.latency.p95 / 1e6
        // The same requests: the server saw every request the client measured.
        #expect(requests >= client.requests)
        #expect(requests <= client.requests + 2)
        #expect(abs(serverP95 - clientP95) / clientP95 < 0.05, "server p95 \(serverP95 * 1000) ms, client p95 \(clientP95 * 1000) ms")
        await server.stop()
    }

    /// A rule file changed after the server read it (between reading the configuration and
    /// starting the server) is applied on the rule watcher's first look, about 2 s in. The server
    /// used to read the file a second time at start and take that text as applied, so the change
    /// waited for the next one.
    @Test func aRuleFileChangedDuringStartUpIsApplied() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp", onnx: true)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-alerts-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "include_defaults: false\nrules: [{name: A, metric: error_rate, threshold: 0.1}]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let server = try await TestServer.start(repository: repository.root, alertRulesFile: path) {
            try "include_defaults: false\nrules: [{name: B, metric: error_rate, threshold: 0.2}]\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        var names: [String] = []
        for _ in 0..<100 {
            let answer = try await server.get("/wharf/alerts")
            let rules = (answer.json as? [String: Any])?["rules"] as? [[String: Any]]
            names = rules?.compactMap { $0["name"] as? String } ?? []
            if names == ["B"] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(names == ["B"])
        await server.stop()
    }
}

/// Alerts end to end on a live server with a registry: a version that fails on a share of its
/// inputs makes the error-rate alert fire; a real webhook receiver and a real SMTP server get
/// the notifications; the rule's action rolls `production` back; the alert resolves.
@Suite(.enabled(if: Fixtures.available && SMTPSink.available, "run scripts/bootstrap (fixtures, aiosmtpd)"))
struct AlertingTests {
    static let checked = Fixtures.root.appendingPathComponent("checked")

    /// A registry with `checked` version 1 (sound) and 2 (fails on NaN), production on 2 (moved
    /// there from 1).
    static func registry() async throws -> (Registry, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-registry-\(UUID().uuidString)").path
        let registry = try await RegistryLocation(dataDirectory: directory, environment: [:]).open(inspector: ArtifactInspector(loadModel: false))
        _ = try await registry.push(.init(model: "checked", path: checked.appendingPathComponent("plain_model").path, author: "test"))
        _ = try await registry.push(.init(model: "checked", path: checked.appendingPathComponent("saved_model").path, author: "test"))
        _ = try await registry.setAlias(model: "checked", alias: "production", version: 1, actor: "test")
        _ = try await registry.setAlias(model: "checked", alias: "production", version: 2, actor: "test", reason: "new version")
        return (registry, directory)
    }

    static func rule(action: AlertAction?) -> AlertRule {
        AlertRule(
            name: "ModelErrors", metric: .errorRate, window: .seconds(3), threshold: 0.2, forDuration: .seconds(1), severity: "critical",
            labels: ["team": "ml"], minRequests: 5, action: action)
    }

    /// One request; every other one holds a NaN, which version 2 fails on.
    static func send(_ server: TestServer, poison: Bool) async throws -> (Int, String?) {
        let data = poison ? "NaN, 1, 2, 3" : "0.5, 1, 2, 3"
        let response = try await server.post(
            "/v2/models/checked/infer", json: #"{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [\#(data)]}]}"#)
        return (response.status, (response.json as? [String: Any])?["model_version"] as? String)
    }

    static func alertStates(_ server: TestServer) async throws -> [String] {
        let body = try #require(try await server.get("/wharf/alerts").json as? [String: Any])
        return (body["active"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
    }

    @Test func anInjectedFaultFiresNotifiesRollsBackAndResolves() async throws {
        let (registry, directory) = try await Self.registry()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let webhook = try await WebhookReceiver.start()
        let smtp = try await SMTPSink.start()
        defer { smtp.stop() }
        var alerts = AlertConfiguration(ruleSet: AlertRuleSet(evaluationInterval: .milliseconds(250), rules: [Self.rule(action: .rollback(alias: "production"))]))
        alerts.receivers.webhooks = [.init(url: webhook.url, secret: "hook-secret", maxAttempts: 3)]
        alerts.receivers.emails = [SMTPConfiguration(host: "127.0.0.1", port: smtp.port, from: "wharf@test", to: ["oncall@test"])]
        let scratch = try ScratchRepository()
        let server = try await TestServer.start(repository: scratch.root, registry: registry, apiToken: "t", alerts: alerts)
        let clock = ContinuousClock()
        let start = clock.now
        var pendingAt: Duration?
        var firingAt: Duration?
        var rolledBackAt: Duration?
        var answers: [(Int, String?)] = []
        var poison = false
        // The fault: traffic on version 2, half of it with NaN; until the alert acts.
        while clock.now - start < .seconds(20), rolledBackAt == nil || clock.now - start < rolledBackAt! + .seconds(1) {
            poison.toggle()
            answers.append(try await Self.send(server, poison: poison))
            let states = try await Self.alertStates(server)
            if pendingAt == nil, states.contains("pending") || states.contains("firing") { pendingAt = clock.now - start }
            if firingAt == nil, states.contains("firing") { firingAt = clock.now - start }
            if rolledBackAt == nil, answers.last?.1 == "1" { rolledBackAt = clock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        let pending = try #require(pendingAt, "the alert never went pending")
        let firing = try #require(firingAt, "the alert never fired")
        #expect(firing - pending <= .milliseconds(1000 + 250 + 300), "pending at \(pending), firing at \(firing)")
        #expect(rolledBackAt != nil, "production was never rolled back")

        // The rollback: production is back on 1, by the alert, and requests are answered by 1.
        let production = try await registry.store.aliases(of: "checked").first { $0.alias == "production" }
        #expect(production?.version == 1)
        #expect(production?.updatedBy == "wharf-alerts")
        // (Answers to NaN inputs hold NaN, which Foundation's JSON reader refuses: no version read.)
        #expect(answers.suffix(6).allSatisfy { $0.0 == 200 && ($0.1 ?? "1") == "1" }, "\(answers.suffix(6))")
        #expect(answers.suffix(6).contains { $0.1 == "1" })

        // Both receivers got the firing notification.
        let firingHook = try await waitFor("a firing webhook") { webhook.received.first }
        let payload = try #require(try JSONSerialization.jsonObject(with: firingHook.body) as? [String: Any])
        #expect(payload["version"] as? String == "4")
        #expect(payload["status"] as? String == "firing")
        #expect(payload["receiver"] as? String == "wharf")
        let alert = try #require((payload["alerts"] as? [[String: Any]])?.first)
        let labels = try #require(alert["labels"] as? [String: String])
        #expect(labels == ["alertname": "ModelErrors", "severity": "critical", "team": "ml", "model": "checked", "version": "2"])
        #expect(alert["endsAt"] as? String == "0001-01-01T00:00:00Z")
        #expect((alert["annotations"] as? [String: String])?["summary"]?.contains("error_rate") == true)
        #expect(firingHook.headers["x-wharf-signature"] == WebhookNotifier.signature(of: firingHook.body, secret: "hook-secret"))
        let firingMail = try await waitFor("a firing email") { try smtp.messages().first }
        #expect(firingMail.recipients == ["oncall@test"])
        #expect(firingMail.header("Subject")?.contains("[FIRING") == true)
        #expect(firingMail.body.contains("checked"))

        // Version 2 gets no traffic any more: its window empties and the alert resolves, once.
        let resolvedHook = try await waitFor("a resolved webhook", seconds: 15) { webhook.received.count >= 2 ? webhook.received[1] : nil }
        let resolved = try #require(try JSONSerialization.jsonObject(with: resolvedHook.body) as? [String: Any])
        #expect(resolved["status"] as? String == "resolved")
        #expect(((resolved["alerts"] as? [[String: Any]])?.first?["endsAt"] as? String) != "0001-01-01T00:00:00Z")
        let resolvedMail = try await waitFor("a resolved email") { try smtp.messages().count >= 2 ? try smtp.messages()[1] : nil }
        #expect(resolvedMail.header("Subject")?.contains("[RESOLVED") == true)
        try await Task.sleep(for: .milliseconds(600))
        #expect(webhook.received.count == 2, "duplicate notifications")

        // The history: in the API and in the registry's database.
        let history = try #require(try await server.get("/wharf/alerts/history").json as? [[String: Any]])
        #expect(history.compactMap { $0["kind"] as? String } == ["firing", "action", "resolved"])
        #expect(history.first { $0["kind"] as? String == "action" }?["detail"] as? String == "rolled back production 2 → 1")
        #expect(try await registry.store.alertEvents(model: "checked").map(\.kind) == ["firing", "action", "resolved"])
        await server.stop()
        await webhook.stop()
    }

    @Test func brokenReceiversAreCountedAndNeverBlockServing() async throws {
        let (registry, directory) = try await Self.registry()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let smtp = try await SMTPSink.start(["--user", "wharf", "--password", "right"])
        defer { smtp.stop() }
        var alerts = AlertConfiguration(ruleSet: AlertRuleSet(evaluationInterval: .milliseconds(250), rules: [Self.rule(action: nil)]))
        alerts.receivers.webhooks = [.init(url: "http://127.0.0.1:\(unusedPort())/hook", secret: nil, maxAttempts: 2)]
        alerts.receivers.emails = [SMTPConfiguration(
            host: "127.0.0.1", port: smtp.port, username: "wharf", password: "wrong", from: "wharf@test", to: ["oncall@test"])]
        let scratch = try ScratchRepository()
        let server = try await TestServer.start(repository: scratch.root, registry: registry, apiToken: "t", alerts: alerts)
        var poison = false
        var slowest = Duration.zero
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        var notifiers: [String: [String: Any]] = [:]
        while clock.now < deadline {
            poison.toggle()
            let started = clock.now
            let (status, version) = try await Self.send(server, poison: poison)
            slowest = max(slowest, clock.now - started)
            #expect(status == (poison ? 400 : 200))
            if !poison { #expect(version == "2") }
            let body = try #require(try await server.get("/wharf/alerts").json as? [String: Any])
            notifiers = body["notifiers"] as? [String: [String: Any]] ?? [:]
            if (notifiers["webhook"]?["failed"] as? Int ?? 0) >= 1, (notifiers["email"]?["failed"] as? Int ?? 0) >= 1 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(notifiers["webhook"]?["failed"] as? Int == 1, "\(notifiers)")
        #expect((notifiers["webhook"]?["last_error"] as? String)?.contains("127.0.0.1") == true, "\(notifiers)")
        #expect(notifiers["email"]?["failed"] as? Int == 1, "\(notifiers)")
        #expect((notifiers["email"]?["last_error"] as? String)?.contains("535") == true, "\(notifiers)")
        #expect(try smtp.messages().isEmpty)
        #expect(slowest < .seconds(1), "a request took \(slowest) while notifications failed")
        await server.stop()
    }
}

/// Polls `body` until it gives a value (or fails after `seconds`).
func waitFor<T>(_ what: String, seconds: Double = 10, _ body: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if let value = try await body() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}
