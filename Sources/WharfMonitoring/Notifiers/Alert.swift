public import Foundation

/// Whether an alert (or a group of alerts) is active or over, as Alertmanager spells it.
public enum AlertStatus: String, Sendable, Codable, Hashable, CaseIterable {
    /// The alert's condition holds.
    case firing
    /// The alert's condition no longer holds.
    case resolved
}

/// One alert, encoded exactly as one element of `alerts` in Prometheus Alertmanager's webhook
/// payload: `status`, `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`, `fingerprint`.
///
/// Times are RFC 3339 strings in UTC. An alert that has not ended encodes `endsAt` as
/// `"0001-01-01T00:00:00Z"` (Go's zero time, which is what Alertmanager sends); decoding that value
/// gives `endsAt == nil`.
public struct Alert: Sendable, Hashable, Codable {
    /// `firing` or `resolved`.
    public var status: AlertStatus
    /// The identifying labels; `alertname` names the rule.
    public var labels: [String: String]
    /// Informational text: by convention `summary`, `description`, `runbook_url`.
    public var annotations: [String: String]
    /// When the alert started firing.
    public var startsAt: Date
    /// When the alert resolved; `nil` while it is firing.
    public var endsAt: Date?
    /// A link to what produced the alert (a rule, a graph); may be empty.
    public var generatorURL: String
    /// A stable identity of the label set (16 lowercase hex digits).
    public var fingerprint: String

    /// An alert. `fingerprint` defaults to ``Alert/fingerprint(of:)`` of `labels`, computed the way
    /// Prometheus fingerprints a label set, so one label set always gets the same fingerprint.
    public init(
        status: AlertStatus,
        labels: [String: String],
        annotations: [String: String] = [:],
        startsAt: Date,
        endsAt: Date? = nil,
        generatorURL: String = "",
        fingerprint: String? = nil
    ) {
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
        self.fingerprint = fingerprint ?? Alert.fingerprint(of: labels)
    }

    /// The alert's rule name: its `alertname` label, or `""`.
    public var name: String { labels["alertname"] ?? "" }

    /// The 64-bit FNV-1a hash of the label set with its names sorted, each name and value followed
    /// by the byte 0xFF, as 16 lowercase hex digits (Prometheus' label set fingerprint).
    public static func fingerprint(of labels: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        for name in labels.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            add(name.utf8)
            add(CollectionOfOne(UInt8(0xff)))
            add(labels[name]!.utf8)
            add(CollectionOfOne(UInt8(0xff)))
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    enum CodingKeys: String, CodingKey {
        case status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint
    }

    /// Reads an alert as Alertmanager writes it; a missing `fingerprint` is computed from the labels.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decode(AlertStatus.self, forKey: .status)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        let starts = try container.decode(String.self, forKey: .startsAt)
        guard let startsAt = RFC3339.parse(starts) else {
            throw DecodingError.dataCorruptedError(forKey: .startsAt, in: container, debugDescription: "'\(starts)' is not an RFC 3339 time")
        }
        self.startsAt = startsAt
        if let ends = try container.decodeIfPresent(String.self, forKey: .endsAt), !ends.isEmpty {
            guard let endsAt = RFC3339.parse(ends) else {
                throw DecodingError.dataCorruptedError(forKey: .endsAt, in: container, debugDescription: "'\(ends)' is not an RFC 3339 time")
            }
            self.endsAt = endsAt <= RFC3339.zeroTime ? nil : endsAt
        } else {
            endsAt = nil
        }
        generatorURL = try container.decodeIfPresent(String.self, forKey: .generatorURL) ?? ""
        fingerprint = try container.decodeIfPresent(String.self, forKey: .fingerprint) ?? Alert.fingerprint(of: labels)
    }

    /// Writes the alert as Alertmanager does (``Alert``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(labels, forKey: .labels)
        try container.encode(annotations, forKey: .annotations)
        try container.encode(RFC3339.format(startsAt), forKey: .startsAt)
        try container.encode(endsAt.map(RFC3339.format) ?? RFC3339.zeroTimeString, forKey: .endsAt)
        try container.encode(generatorURL, forKey: .generatorURL)
        try container.encode(fingerprint, forKey: .fingerprint)
    }
}

/// One notification about a group of alerts: the body Prometheus Alertmanager POSTs to a webhook
/// receiver (payload `version` "4"), with the same field names: `version`, `groupKey`,
/// `truncatedAlerts`, `status`, `receiver`, `groupLabels`, `commonLabels`, `commonAnnotations`,
/// `externalURL`, `alerts`.
public struct AlertNotification: Sendable, Hashable, Codable {
    /// The payload format's version; Alertmanager's current one is `"4"`.
    public var version: String
    /// Identifies the group the alerts belong to (Alertmanager: `{}:{alertname="X"}`).
    public var groupKey: String
    /// How many alerts were left out of `alerts` to keep the payload small.
    public var truncatedAlerts: Int
    /// `firing` when at least one alert is firing, else `resolved`.
    public var status: AlertStatus
    /// The name of the receiver (route) the notification is for.
    public var receiver: String
    /// The labels the group was formed by.
    public var groupLabels: [String: String]
    /// The labels every alert of the notification has, with the same value.
    public var commonLabels: [String: String]
    /// The annotations every alert of the notification has, with the same value.
    public var commonAnnotations: [String: String]
    /// A link back to the sender (Wharf's monitoring page or API).
    public var externalURL: String
    /// The alerts.
    public var alerts: [Alert]

    /// A notification with every field given.
    public init(
        version: String = "4",
        groupKey: String,
        truncatedAlerts: Int = 0,
        status: AlertStatus,
        receiver: String,
        groupLabels: [String: String],
        commonLabels: [String: String],
        commonAnnotations: [String: String],
        externalURL: String,
        alerts: [Alert]
    ) {
        self.version = version
        self.groupKey = groupKey
        self.truncatedAlerts = truncatedAlerts
        self.status = status
        self.receiver = receiver
        self.groupLabels = groupLabels
        self.commonLabels = commonLabels
        self.commonAnnotations = commonAnnotations
        self.externalURL = externalURL
        self.alerts = alerts
    }

    /// A notification about `alerts`, with the derived fields computed as Alertmanager does:
    /// `status` is `firing` when any alert fires; `commonLabels` and `commonAnnotations` are the
    /// pairs shared by every alert; `groupKey` is `{}:{name="value", ...}` over `groupLabels`.
    /// `groupLabels` defaults to the common `alertname`, when there is one.
    public init(receiver: String, alerts: [Alert], groupLabels: [String: String]? = nil, externalURL: String = "") {
        let common = AlertNotification.common(alerts.map(\.labels))
        let group = groupLabels ?? common.filter { $0.key == "alertname" }
        self.init(
            groupKey: AlertNotification.groupKey(for: group),
            status: alerts.contains { $0.status == .firing } ? .firing : .resolved,
            receiver: receiver,
            groupLabels: group,
            commonLabels: common,
            commonAnnotations: AlertNotification.common(alerts.map(\.annotations)),
            externalURL: externalURL,
            alerts: alerts)
    }

    /// The alerts that fire.
    public var firing: [Alert] { alerts.filter { $0.status == .firing } }
    /// The alerts that resolved.
    public var resolved: [Alert] { alerts.filter { $0.status == .resolved } }

    /// The JSON body a webhook receiver gets.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// `{}:{a="1", b="2"}`: Alertmanager's group key for a route at the root of the tree.
    static func groupKey(for labels: [String: String]) -> String {
        let pairs = labels.keys.sorted().map { key in
            let value = labels[key]!.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\(key)=\"\(value)\""
        }
        return "{}:{" + pairs.joined(separator: ", ") + "}"
    }

    static func common(_ sets: [[String: String]]) -> [String: String] {
        guard var result = sets.first else { return [:] }
        for set in sets.dropFirst() {
            result = result.filter { set[$0.key] == $0.value }
        }
        return result
    }
}

/// RFC 3339 times in UTC, written and read without Foundation's calendars (which switch to the
/// Julian calendar before 1582 and so misplace Go's zero time, year 1).
enum RFC3339 {
    static let zeroTimeString = "0001-01-01T00:00:00Z"
    /// 0001-01-01T00:00:00Z.
    static let zeroTime = Date(timeIntervalSince1970: TimeInterval(daysFromCivil(year: 1, month: 1, day: 1)) * 86_400)

    /// `2025-11-25T12:30:00Z`, or `2025-11-25T12:30:00.123456Z` when the time has a fraction
    /// (microseconds, trailing zeros dropped).
    static func format(_ date: Date) -> String {
        var micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = floorDivide(&micros, 1_000_000)
        var secondsLeft = seconds
        let days = floorDivide(&secondsLeft, 86_400)
        let (year, month, day) = civilFromDays(days)
        let hour = secondsLeft / 3600, minute = (secondsLeft % 3600) / 60, second = secondsLeft % 60
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
        if micros > 0 {
            var fraction = pad(micros, 6)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` are accepted too.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset: Int64 = 0
        if expect("Zz") {
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2) else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Day of the week, 0 = Sunday.
    static func weekday(_ days: Int64) -> Int64 {
        let weekday = (days + 4) % 7
        return weekday < 0 ? weekday + 7 : weekday
    }

    /// `value / divisor` rounded down; leaves the (non-negative) remainder in `value`.
    static func floorDivide(_ value: inout Int64, _ divisor: Int64) -> Int64 {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            remainder += divisor
            quotient -= 1
        }
        value = remainder
        return quotient
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
