import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import WharfMonitoring
import WharfTesting
#if canImport(Glibc)
import Glibc
#endif

/// Alerts like the ones Wharf's rules raise.
enum Samples {
    /// 2025-11-25T12:00:00Z.
    static let start = Date(timeIntervalSince1970: 1_764_072_000)

    static func alert(_ status: AlertStatus, model: String = "mlp", version: String = "3") -> Alert {
        Alert(
            status: status,
            labels: ["alertname": "HighErrorRate", "model": model, "version": version, "severity": "critical"],
            annotations: [
                "summary": "Error rate above 5% for \(model) v\(version)",
                "description": "5.2% of requests failed over the last 5 minutes.",
                "runbook_url": "https://runbooks.example.com/high-error-rate",
            ],
            startsAt: start,
            endsAt: status == .resolved ? start.addingTimeInterval(600) : nil,
            generatorURL: "http://wharf.local:8080/monitoring/rules/HighErrorRate")
    }

    static func notification(_ status: AlertStatus, alerts: [Alert]? = nil) -> AlertNotification {
        AlertNotification(
            receiver: "oncall",
            alerts: alerts ?? [alert(status)],
            groupLabels: ["alertname": "HighErrorRate", "model": "mlp", "version": "3"],
            externalURL: "http://wharf.local:8080")
    }
}
