import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import WharfMonitoring
import WharfRegistry

/// The server to ask: `--server URL` (default `http://127.0.0.1:8501`, or `$WHARF_SERVER`).
struct ServerOptions: ParsableArguments {
    @Option(help: "The wharf server (default: $WHARF_SERVER or http://127.0.0.1:8501).")
    var server: String?

    var url: String {
        (server ?? Self.defaultURL).trimmingCharacters(in: ["/"])
    }

    /// `$WHARF_SERVER`, else the local server on TF Serving's REST port.
    static var defaultURL: String { ProcessInfo.processInfo.environment["WHARF_SERVER"] ?? "http://127.0.0.1:8501" }

    /// GETs `path` and decodes the JSON answer; errors say which server did not answer.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await Self.get(url, path, as: type)
    }

    static func get<T: Decodable>(_ url: String, _ path: String, as type: T.Type) async throws -> T {
        guard let target = URL(string: url + path) else { throw ValidationError("--server expects a URL like http://127.0.0.1:8501, got '\(url)'") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(from: target)
        } catch {
            throw CLIError(message: "cannot reach the wharf server at \(url): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            throw CLIError(message: "\(url)\(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        do {
            return try JSONCoding.decode(T.self, String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError(message: "\(url)\(path) answered something that is not wharf's JSON: \(error)")
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live status of a running server: every version's state, request rate, latency percentiles, error rate, alerts.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Refresh every N seconds until interrupted (0: print once).") var watch: Double = 0
    @Option(help: "The window shown (as the server names it: 1m, 5m).") var window: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        repeat {
            let status = try await server.get("/wharf/status", as: StatusReport.self)
            if json {
                let data = try await URLSession.shared.data(from: URL(string: server.url + "/wharf/status")!).0
                print(String(decoding: data, as: UTF8.self))
            } else {
                if watch > 0 { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                print(render(status))
            }
            if watch > 0 { try await Task.sleep(for: .milliseconds(Int(watch * 1000))) }
        } while watch > 0
    }

    private func render(_ status: StatusReport) -> String {
        let name = window ?? status.windows.first ?? "1m"
        func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.2f", $0 * 1000) } ?? "-" }
        var table = TextTable("MODEL", "VERSION", "STATE", "LABELS", "REQ/S", "P50 ms", "P95 ms", "P99 ms", "AVG ms", "ERRORS")
        for version in status.models {
            let stats = version.windows[name]
            table.add(
                version.model, String(version.version), version.state, version.labels.joined(separator: ","),
                stats.map { String(format: "%.1f", $0.requestRate) } ?? "-", ms(stats?.latencyP50), ms(stats?.latencyP95),
                ms(stats?.latencyP99), ms(stats?.latencyAverage), stats.map { String(format: "%.1f%%", $0.errorRate * 100) } ?? "-")
        }
        var lines = [
            "\(server.url)  up \(Int(status.uptimeSeconds))s  memory \(TextTable.bytes(Int64(status.residentMemoryBytes)))  window \(name)", "",
            table.rendered,
        ]
        if !status.alerts.isEmpty {
            lines.append("")
            lines.append(alertTable(status.alerts))
        }
        return lines.joined(separator: "\n")
    }
}

func alertTable(_ alerts: [ActiveAlert]) -> String {
    var table = TextTable("ALERT", "STATE", "SEVERITY", "MODEL", "VERSION", "SINCE", "SUMMARY")
    for alert in alerts {
        table.add(
            alert.rule, alert.state.rawValue, alert.severity, alert.model ?? "-", alert.version.map(String.init) ?? "-",
            TextTable.time(alert.firingSince ?? alert.activeSince), alert.annotations["summary"] ?? "")
    }
    return table.rendered
}

struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Alerts: what is pending or firing now, and the history.", subcommands: [List.self, History.self], defaultSubcommand: List.self)

    struct AlertsState: Decodable {
        var active: [ActiveAlert]
        var ruleError: String?

        enum CodingKeys: String, CodingKey {
            case active
            case ruleError = "rule_error"
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Alerts pending or firing on a running server.")
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let state = try await server.get("/wharf/alerts", as: AlertsState.self)
            if json { return try printJSON(state.active) }
            if let error = state.ruleError { print("rule file refused (previous rules in force): \(error)\n") }
            print(state.active.isEmpty ? "no alerts pending or firing" : alertTable(state.active))
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Alerts that fired and resolved, and the actions they took: from the registry's database, or from --server.")
        @OptionGroup var registry: RegistryOptions
        @Option(help: "Ask a running server instead of reading the registry.") var server: String?
        @Option(help: "Only this model.") var model: String?
        @Option(help: "How many events (newest).") var limit: Int = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit expects 1 to 10000, got \(limit)") }
            var events: [AlertHistoryEvent]
            if let server {
                var query = "/wharf/alerts/history?limit=\(limit)"
                if let model { query += "&model=\(model)" }
                events = try await ServerOptions.get(server.trimmingCharacters(in: ["/"]), query, as: [AlertHistoryEvent].self)
            } else {
                events = try await withRegistry(registry, inspect: false) { registry in
                    try await registry.store.alertEvents(model: model, limit: limit).compactMap { stored in
                        guard var event = try? JSONCoding.decode(AlertHistoryEvent.self, stored.payload) else { return nil }
                        event.id = stored.id
                        return event
                    }
                }
            }
            if json { return try printJSON(events) }
            guard !events.isEmpty else { return print("no alerts in the history") }
            var table = TextTable("WHEN", "EVENT", "ALERT", "SEVERITY", "MODEL", "VERSION", "VALUE", "DETAIL")
            for event in events {
                let metric = AlertMetric(rawValue: event.labels["metric"] ?? "")
                table.add(
                    TextTable.time(event.at), event.kind.rawValue, event.rule, event.severity, event.model ?? "-",
                    event.version.map(String.init) ?? "-", metric?.format(event.value) ?? String(format: "%.4g", event.value),
                    event.detail.isEmpty ? (event.annotations["summary"] ?? "") : event.detail)
            }
            print(table.rendered)
        }
    }
}
