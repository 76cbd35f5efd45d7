public import Foundation
public import NIOCore

/// Delivers notifications as plain-text email through an SMTP server (``SMTPClient``), one
/// message per notification to every recipient of the configuration.
///
/// The subject reads like `[FIRING] HighErrorRate model=mlp version=3` (`[FIRING:2] ...` for two
/// firing alerts, `[RESOLVED] ...` when all resolved): the status, the alert name and the group's
/// other labels. The body lists each alert with its summary, description, start and end, labels,
/// other annotations and source link.
public struct EmailNotifier: Notifier {
    public let name: String
    /// The server, the security, the sender and the recipients.
    public let configuration: SMTPConfiguration
    private let client: SMTPClient

    /// An email notifier; by default on NIO's shared event loops.
    public init(name: String = "email", configuration: SMTPConfiguration, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.name = name
        self.configuration = configuration
        self.client = SMTPClient(configuration: configuration, eventLoopGroup: eventLoopGroup)
    }

    public func send(_ notification: AlertNotification) async throws {
        let message = EmailNotifier.message(for: notification, from: configuration.from, to: configuration.to)
        try await client.send(
            message: message, from: EmailNotifier.address(in: configuration.from), to: configuration.to.map(EmailNotifier.address(in:)))
    }

    /// The complete message for `notification`: the headers (From, To, Subject, Date, Message-ID,
    /// MIME-Version, Content-Type, Content-Transfer-Encoding) and the plain-text body, with CRLF
    /// line breaks.
    public static func message(for notification: AlertNotification, from: String, to: [String], date: Date = Date()) -> String {
        let body = self.body(for: notification)
        let ascii = body.utf8.allSatisfy { $0 < 128 }
        let shortLines = body.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 900 }
        let sevenBit = ascii && shortLines
        let domain = address(in: from).split(separator: "@").last.map(String.init) ?? "wharf.localdomain"
        var headers = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(encodedHeader(subject(for: notification)))",
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(sevenBit ? "7bit" : "quoted-printable")",
            "X-Wharf-Alert-Status: \(notification.status.rawValue)",
        ]
        if !notification.groupKey.isEmpty { headers.append("X-Wharf-Group-Key: \(encodedHeader(notification.groupKey))") }
        let text = sevenBit ? body : quotedPrintable(body)
        // One kind of line break, CRLF, whatever the pieces used.
        return (headers + ["", text]).joined(separator: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
            .joined(separator: "\r\n")
    }

    /// `[FIRING] HighErrorRate model=mlp version=3`: the status (with the number of alerts in it
    /// when more than one), the alert name, and the group labels (the common labels when the group
    /// has none but the name) other than `alertname`, sorted.
    public static func subject(for notification: AlertNotification) -> String {
        let count = notification.status == .firing ? notification.firing.count : notification.resolved.count
        var subject = "[\(notification.status.rawValue.uppercased())\(count > 1 ? ":\(count)" : "")]"
        let alertname = notification.groupLabels["alertname"] ?? notification.commonLabels["alertname"] ?? notification.alerts.first?.name ?? ""
        if !alertname.isEmpty { subject += " " + alertname }
        var labels = notification.groupLabels.filter { $0.key != "alertname" }
        if labels.isEmpty { labels = notification.commonLabels.filter { $0.key != "alertname" } }
        for key in labels.keys.sorted() { subject += " \(key)=\(labels[key]!)" }
        return subject
    }

    /// The plain-text body: a summary line, then each firing and each resolved alert.
    public static func body(for notification: AlertNotification) -> String {
        let firing = notification.firing, resolved = notification.resolved
        var lines: [String] = []
        var counts: [String] = []
        if !firing.isEmpty { counts.append("\(firing.count) firing") }
        if !resolved.isEmpty { counts.append("\(resolved.count) resolved") }
        lines.append("Alerts: \(counts.isEmpty ? "none" : counts.joined(separator: ", ")) (receiver \(notification.receiver))")
        if notification.truncatedAlerts > 0 { lines.append("\(notification.truncatedAlerts) more alerts were left out.") }
        for (title, alerts) in [("Firing", firing), ("Resolved", resolved)] where !alerts.isEmpty {
            lines.append("")
            lines.append("== \(title) ==")
            for alert in alerts {
                lines.append("")
                lines.append("[\(alert.status.rawValue.uppercased())] \(alert.name.isEmpty ? "(no alertname)" : alert.name)")
                if let summary = alert.annotations["summary"] { lines.append("  Summary:     \(indented(summary))") }
                if let description = alert.annotations["description"] { lines.append("  Description: \(indented(description))") }
                lines.append("  Started:     \(humanDate(alert.startsAt))")
                if let ended = alert.endsAt, alert.status == .resolved {
                    lines.append("  Ended:       \(humanDate(ended))")
                }
                lines.append("  Labels:")
                for key in alert.labels.keys.sorted() { lines.append("    \(key) = \(alert.labels[key]!)") }
                let others = alert.annotations.filter { $0.key != "summary" && $0.key != "description" }
                if !others.isEmpty {
                    lines.append("  Annotations:")
                    for key in others.keys.sorted() { lines.append("    \(key) = \(indented(others[key]!, by: 6))") }
                }
                if !alert.generatorURL.isEmpty { lines.append("  Source:      \(alert.generatorURL)") }
                lines.append("  Fingerprint: \(alert.fingerprint)")
            }
        }
        lines.append("")
        lines.append("-- ")
        lines.append("Sent by Wharf" + (notification.externalURL.isEmpty ? "" : " (\(notification.externalURL))") + ".")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The bare address in `Name <address>`, or the text itself without surrounding spaces.
    static func address(in mailbox: String) -> String {
        if let open = mailbox.lastIndex(of: "<"), let close = mailbox[open...].firstIndex(of: ">") {
            return String(mailbox[mailbox.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
        }
        return mailbox.trimmingCharacters(in: .whitespaces)
    }

    /// Continuation lines of a multi-line text, indented under the first.
    static func indented(_ text: String, by width: Int = 15) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + String(repeating: " ", count: width))
    }

    /// `2025-11-25 12:30:00 UTC`.
    static func humanDate(_ date: Date) -> String {
        let text = RFC3339.format(date)
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8)) + " UTC"
    }

    /// `Tue, 25 Nov 2025 12:30:00 +0000` (RFC 5322 §3.3), in UTC.
    static func rfc5322Date(_ date: Date) -> String {
        var seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = RFC3339.floorDivide(&seconds, 86_400)
        let (year, month, day) = RFC3339.civilFromDays(days)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let time = RFC3339.pad(seconds / 3600, 2) + ":" + RFC3339.pad(seconds % 3600 / 60, 2) + ":" + RFC3339.pad(seconds % 60, 2)
        return "\(weekdays[Int(RFC3339.weekday(days))]), \(day) \(months[Int(month) - 1]) \(RFC3339.pad(year, 4)) \(time) +0000"
    }

    /// A header value as it is when it is printable ASCII, else as RFC 2047 encoded words
    /// (`=?UTF-8?B?...?=`, folded).
    static func encodedHeader(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if clean.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) { return clean }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Quoted-printable (RFC 2045 §6.7) of UTF-8 text: lines of at most 76 characters, `=XX` for
    /// bytes outside printable ASCII, for `=`, and for spaces at line ends.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var current: [UInt8] = []
            var encodedLine: [String] = []
            for (index, byte) in bytes.enumerated() {
                let last = index == bytes.count - 1
                var piece: [UInt8]
                if (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !last) {
                    piece = [byte]
                } else {
                    piece = [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                }
                if current.count + piece.count > 75 {
                    encodedLine.append(String(decoding: current, as: UTF8.self) + "=")
                    current = []
                }
                current += piece
            }
            encodedLine.append(String(decoding: current, as: UTF8.self))
            output.append(encodedLine.joined(separator: "\r\n"))
        }
        return output.joined(separator: "\r\n")
    }
}
