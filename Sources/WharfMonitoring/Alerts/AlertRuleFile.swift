public import Foundation
import Yams

/// A rule file that cannot be used: the message names the file, the line and the problem.
public struct AlertRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var line: Int?

    public init(_ message: String, line: Int? = nil) {
        self.message = message
        self.line = line
    }

    public var description: String { message }
}

/// Where notifications go, as the rule file says (`receivers:`).
public struct ReceiverSettings: Sendable, Equatable {
    public struct Webhook: Sendable, Equatable {
        public var url: String
        /// HMAC-SHA256 key for the `X-Wharf-Signature` header.
        public var secret: String?
        public var maxAttempts: Int

        public init(url: String, secret: String? = nil, maxAttempts: Int = 5) {
            self.url = url
            self.secret = secret
            self.maxAttempts = maxAttempts
        }
    }

    public var webhooks: [Webhook] = []
    /// One SMTP server (and its recipients) per email receiver.
    public var emails: [SMTPConfiguration] = []
    /// The name notifications carry as `receiver`.
    public var name = "wharf"

    public init() {}
}

/// Everything a rule file holds.
public struct AlertConfiguration: Sendable, Equatable {
    public var ruleSet: AlertRuleSet
    public var receivers: ReceiverSettings

    public init(ruleSet: AlertRuleSet = AlertRuleSet(), receivers: ReceiverSettings = ReceiverSettings()) {
        self.ruleSet = ruleSet
        self.receivers = receivers
    }

    /// Reads a rule file:
    ///
    /// ```yaml
    /// evaluation_interval: 10s
    /// include_defaults: true            # the shipped rules too (latency, error rate, memory)
    /// receivers:
    ///   webhooks: [{url: http://alerts.local/hook, secret: s3cret, max_attempts: 5}]
    ///   email: [{host: smtp.local, port: 587, security: starttls, username: wharf, password_env: SMTP_PASSWORD,
    ///            from: wharf@local, to: [oncall@local]}]
    /// rules:
    ///   - name: SlowModel
    ///     metric: latency_p95              # latency_avg|latency_p50|latency_p95|latency_p99|error_rate|request_rate|memory_bytes
    ///     window: 1m
    ///     op: ">"
    ///     threshold: 0.25                  # seconds; a fraction for error_rate; bytes for memory_bytes
    ///     for: 30s
    ///     severity: warning
    ///     labels: {team: vision}
    ///     annotations: {summary: "{{model}} v{{version}} p95 {{value}}"}
    ///     models: [resnet]
    ///     min_requests: 20
    ///     repeat_interval: 1h
    ///     action: rollback                 # or {rollback: production}
    /// ```
    public static func parse(yaml text: String, source: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(AlertRuleError) -> AlertConfiguration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return AlertConfiguration(ruleSet: AlertRuleSet(rules: [])) }
            root = node
        } catch let error as YamlError {
            let line = Self.line(of: error)
            throw AlertRuleError("\(source)\(line.map { ":\($0)" } ?? ""): not valid YAML: \(error)", line: line)
        } catch {
            throw AlertRuleError("\(source): not valid YAML: \(error)")
        }
        let reader = NodeReader(node: root, source: source, path: "")
        let top = try reader.mapping(known: ["evaluation_interval", "include_defaults", "receivers", "rules"])
        var configuration = AlertConfiguration(ruleSet: AlertRuleSet(rules: []))
        if let interval = try top["evaluation_interval"]?.duration() {
            guard interval > .zero else { throw top["evaluation_interval"]!.error("must be positive") }
            configuration.ruleSet.evaluationInterval = interval
        }
        if try top["include_defaults"]?.bool() ?? false { configuration.ruleSet.rules = AlertRule.defaults }
        if let receivers = top["receivers"] {
            let fields = try receivers.mapping(known: ["name", "webhooks", "email"])
            if let name = try fields["name"]?.string() { configuration.receivers.name = name }
            for hook in try fields["webhooks"]?.sequence() ?? [] {
                let item = try hook.mapping(known: ["url", "secret", "secret_env", "max_attempts"])
                guard let url = try item["url"]?.string() else { throw hook.error("a webhook needs a url") }
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
                    throw item["url"]!.error("expects an http:// or https:// URL, got '\(url)'")
                }
                var secret = try item["secret"]?.string()
                if secret == nil, let variable = try item["secret_env"]?.string() { secret = environment[variable] }
                configuration.receivers.webhooks.append(.init(url: url, secret: secret, maxAttempts: try item["max_attempts"]?.int() ?? 5))
            }
            for mail in try fields["email"]?.sequence() ?? [] {
                let item = try mail.mapping(known: [
                    "host", "port", "security", "username", "password", "password_env", "from", "to", "ca_file", "insecure_skip_verify",
                ])
                guard let host = try item["host"]?.string() else { throw mail.error("an email receiver needs a host") }
                guard let from = try item["from"]?.string() else { throw mail.error("an email receiver needs a from address") }
                let to = try item["to"]?.stringList() ?? []
                guard !to.isEmpty else { throw mail.error("an email receiver needs at least one address in to") }
                let securityName = try item["security"]?.string() ?? "starttls"
                let security: SMTPConfiguration.Security
                switch securityName {
                case "none": security = .none
                case "starttls": security = .startTLS
                case "tls": security = .tls
                default: throw item["security"]!.error("expects none, starttls or tls, got '\(securityName)'")
                }
                var password = try item["password"]?.string()
                if password == nil, let variable = try item["password_env"]?.string() {
                    guard let value = environment[variable] else { throw item["password_env"]!.error("environment variable \(variable) is not set") }
                    password = value
                }
                var verification = SMTPConfiguration.CertificateVerification.system
                if let caFile = try item["ca_file"]?.string() { verification = .trustCAFile(caFile) }
                if try item["insecure_skip_verify"]?.bool() ?? false { verification = .skip }
                configuration.receivers.emails.append(SMTPConfiguration(
                    host: host, port: try item["port"]?.int() ?? (security == .tls ? 465 : 587), security: security,
                    certificateVerification: verification, username: try item["username"]?.string(), password: password, from: from, to: to))
            }
        }
        var names = Set(configuration.ruleSet.rules.map(\.name))
        for node in try top["rules"]?.sequence() ?? [] {
            let rule = try Self.rule(node)
            guard names.insert(rule.name).inserted else { throw node.error("rule '\(rule.name)' is defined twice") }
            configuration.ruleSet.rules.append(rule)
        }
        return configuration
    }

    private static func rule(_ node: NodeReader) throws(AlertRuleError) -> AlertRule {
        let item = try node.mapping(known: [
            "name", "metric", "window", "op", "threshold", "for", "severity", "labels", "annotations", "models", "min_requests",
            "repeat_interval", "action",
        ])
        guard let name = try item["name"]?.string(), !name.isEmpty else { throw node.error("a rule needs a name") }
        let named = NodeReader(node: node.node, source: node.source, path: "rule '\(name)'")
        guard let metricName = try item["metric"]?.string() else { throw named.error("needs a metric") }
        guard let metric = AlertMetric(rawValue: metricName) else {
            throw item["metric"]!.error("expects one of \(AlertMetric.allCases.map(\.rawValue).joined(separator: ", ")); got '\(metricName)'")
        }
        guard let threshold = try item["threshold"]?.double() else { throw named.error("needs a threshold (a number)") }
        var rule = AlertRule(name: name, metric: metric, threshold: threshold)
        if let op = try item["op"]?.string() {
            guard let comparison = AlertComparison(rawValue: op) else {
                throw item["op"]!.error("expects one of >, >=, <, <=; got '\(op)'")
            }
            rule.comparison = comparison
        }
        if let window = try item["window"]?.duration() {
            guard window >= .seconds(1) else { throw item["window"]!.error("must be at least 1s") }
            rule.window = window
        }
        if let duration = try item["for"]?.duration() { rule.forDuration = duration }
        if let severity = try item["severity"]?.string() { rule.severity = severity }
        if let labels = try item["labels"]?.stringMap() { rule.labels = labels }
        if let annotations = try item["annotations"]?.stringMap() { rule.annotations = annotations }
        rule.models = try item["models"]?.stringList()
        if let minimum = try item["min_requests"]?.int() { rule.minRequests = max(0, minimum) }
        if let repeat_ = try item["repeat_interval"]?.duration() { rule.repeatInterval = repeat_ }
        if let action = item["action"] {
            if let text = try? action.string(), text == "rollback" {
                rule.action = .rollback(alias: "production")
            } else if let map = try? action.stringMap(), map.count == 1, let alias = map["rollback"] {
                rule.action = .rollback(alias: alias)
            } else {
                throw action.error("expects rollback or {rollback: ALIAS}")
            }
        }
        return rule
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): mark.line
        default: nil
        }
    }

}

/// A YAML node with its place in the file, for errors that say where.
struct NodeReader {
    let node: Node
    let source: String
    let path: String

    var line: Int? { node.mark.map { $0.line } }

    func error(_ message: String) -> AlertRuleError {
        let place = line.map { "\(source):\($0)" } ?? source
        return AlertRuleError("\(place): \(path.isEmpty ? "" : path + ": ")\(message)", line: line)
    }

    private func child(_ node: Node, _ key: String) -> NodeReader {
        NodeReader(node: node, source: source, path: path.isEmpty ? key : "\(path).\(key)")
    }

    func mapping(known: [String]) throws(AlertRuleError) -> [String: NodeReader] {
        guard case .mapping(let mapping) = node else { throw error("expects a mapping of keys") }
        var result: [String: NodeReader] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw NodeReader(node: key, source: source, path: path).error("keys must be strings") }
            guard known.contains(name) else {
                throw NodeReader(node: key, source: source, path: path).error("unknown key '\(name)'; expected one of \(known.joined(separator: ", "))")
            }
            result[name] = child(value, name)
        }
        return result
    }

    func sequence() throws(AlertRuleError) -> [NodeReader] {
        guard case .sequence(let sequence) = node else { throw error("expects a list") }
        return sequence.enumerated().map { index, item in NodeReader(node: item, source: source, path: "\(path)[\(index)]") }
    }

    func string() throws(AlertRuleError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expects a text value") }
        return scalar.string
    }

    func int() throws(AlertRuleError) -> Int {
        guard let value = node.int else { throw error("expects an integer, got '\(node.string ?? "a collection")'") }
        return value
    }

    func double() throws(AlertRuleError) -> Double {
        guard let value = node.float ?? node.int.map(Double.init) else {
            throw error("expects a number, got '\(node.string ?? "a collection")'")
        }
        return value
    }

    func bool() throws(AlertRuleError) -> Bool {
        guard let value = node.bool else { throw error("expects true or false, got '\(node.string ?? "a collection")'") }
        return value
    }

    func stringList() throws(AlertRuleError) -> [String] {
        try sequence().map { (item: NodeReader) throws(AlertRuleError) -> String in try item.string() }
    }

    func stringMap() throws(AlertRuleError) -> [String: String] {
        guard case .mapping(let mapping) = node else { throw error("expects a mapping of names to text") }
        var result: [String: String] = [:]
        for (key, value) in mapping {
            guard let name = key.string, case .scalar(let scalar) = value else { throw error("expects a mapping of names to text") }
            result[name] = scalar.string
        }
        return result
    }

    /// `30s`, `5m`, `1h`, `250ms`, or a number of seconds.
    func duration() throws(AlertRuleError) -> Duration {
        let text = try string().trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) { return .milliseconds(Int64(seconds * 1000)) }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)), number >= 0 { return .milliseconds(Int64(number * scale * 1000)) }
        }
        throw error("expects a duration like 30s, 5m, 1h or 250ms; got '\(text)'")
    }
}
