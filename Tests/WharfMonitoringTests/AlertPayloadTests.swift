import Foundation
import Testing
import WharfTesting
import WharfMonitoring

@Suite("Alertmanager webhook payload")
struct AlertPayloadTests {
    @Test("encodes with Alertmanager's field names and Go's zero time for an unset endsAt")
    func fieldNames() throws {
        let notification = Samples.notification(.firing)
        let object = try #require(try JSONSerialization.jsonObject(with: notification.jsonData()) as? [String: Any])
        #expect(Set(object.keys) == [
            "version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels", "commonAnnotations",
            "externalURL", "alerts",
        ])
        #expect(object["version"] as? String == "4")
        #expect(object["status"] as? String == "firing")
        #expect(object["receiver"] as? String == "oncall")
        #expect(object["truncatedAlerts"] as? Int == 0)
        #expect(object["groupKey"] as? String == #"{}:{alertname="HighErrorRate", model="mlp", version="3"}"#)
        #expect(object["externalURL"] as? String == "http://wharf.local:8080")
        #expect(object["commonLabels"] as? [String: String] == ["alertname": "HighErrorRate", "model": "mlp", "version": "3", "severity": "critical"])
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        #expect(alerts.count == 1)
        #expect(Set(alerts[0].keys) == ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"])
        #expect(alerts[0]["startsAt"] as? String == "2025-11-25T12:00:00Z")
        #expect(alerts[0]["endsAt"] as? String == "0001-01-01T00:00:00Z")
        #expect((alerts[0]["fingerprint"] as? String)?.count == 16)

        let resolved = try JSONSerialization.jsonObject(with: Samples.notification(.resolved).jsonData()) as? [String: Any]
        let resolvedAlert = try #require((resolved?["alerts"] as? [[String: Any]])?.first)
        #expect(resolved?["status"] as? String == "resolved")
        #expect(resolvedAlert["endsAt"] as? String == "2025-11-25T12:10:00Z")
    }

    @Test("decodes a payload as Alertmanager sends it, and round-trips")
    func decodesAlertmanager() throws {
        let json = """
            {"receiver":"wharf","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighLatency","model":"cnn"},
            "annotations":{"summary":"p99 above 250ms"},"startsAt":"2021-10-12T09:51:03.157076+02:00","endsAt":"0001-01-01T00:00:00Z",
            "generatorURL":"http://prometheus:9090/graph?g0.expr=x","fingerprint":"c6eadffa33fcdf37"}],
            "groupLabels":{"alertname":"HighLatency"},"commonLabels":{"alertname":"HighLatency","model":"cnn"},
            "commonAnnotations":{"summary":"p99 above 250ms"},"externalURL":"http://alertmanager:9093","version":"4",
            "groupKey":"{}:{alertname=\\"HighLatency\\"}","truncatedAlerts":0}
            """
        let notification = try JSONDecoder().decode(AlertNotification.self, from: Data(json.utf8))
        #expect(notification.version == "4")
        #expect(notification.groupKey == #"{}:{alertname="HighLatency"}"#)
        #expect(notification.status == .firing)
        let alert = try #require(notification.alerts.first)
        #expect(alert.endsAt == nil)
        #expect(abs(alert.startsAt.timeIntervalSince1970 - 1_634_025_063.157076) < 1e-5)
        #expect(alert.fingerprint == "c6eadffa33fcdf37")
        #expect(alert.name == "HighLatency")

        let again = try JSONDecoder().decode(AlertNotification.self, from: notification.jsonData())
        #expect(again.alerts[0].startsAt.timeIntervalSince1970 == (alert.startsAt.timeIntervalSince1970 * 1e6).rounded() / 1e6)
        #expect(again.alerts[0].endsAt == nil)
        #expect(again.groupLabels == notification.groupLabels)

        let sample = Samples.notification(.resolved)
        #expect(try JSONDecoder().decode(AlertNotification.self, from: sample.jsonData()) == sample)
    }

    @Test("derived fields: status, common labels and annotations, group key")
    func derived() {
        let a = Samples.alert(.firing, model: "mlp")
        let b = Samples.alert(.resolved, model: "cnn")
        let mixed = AlertNotification(receiver: "r", alerts: [a, b])
        #expect(mixed.status == .firing)
        #expect(mixed.commonLabels == ["alertname": "HighErrorRate", "version": "3", "severity": "critical"])
        #expect(mixed.commonAnnotations["description"] == "5.2% of requests failed over the last 5 minutes.")
        #expect(mixed.commonAnnotations["summary"] == nil)
        #expect(mixed.groupLabels == ["alertname": "HighErrorRate"])
        #expect(mixed.groupKey == #"{}:{alertname="HighErrorRate"}"#)
        #expect(AlertNotification(receiver: "r", alerts: [b]).status == .resolved)
    }

    @Test("fingerprints depend on the label set only")
    func fingerprints() {
        let one = Alert.fingerprint(of: ["alertname": "A", "model": "mlp"])
        #expect(one == Alert.fingerprint(of: ["model": "mlp", "alertname": "A"]))
        #expect(one != Alert.fingerprint(of: ["alertname": "A", "model": "cnn"]))
        #expect(one != Alert.fingerprint(of: ["alertname": "Amodel", "": "mlp"]))
        #expect(one.count == 16 && one.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        // FNV-1a's offset basis: the hash of nothing.
        #expect(Alert.fingerprint(of: [:]) == "cbf29ce484222325")
    }

    @Test("rejects times that are not RFC 3339")
    func badTimes() {
        let json = #"{"status":"firing","labels":{},"annotations":{},"startsAt":"yesterday","endsAt":"","generatorURL":"","fingerprint":""}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Alert.self, from: Data(json.utf8)) }
    }
}
