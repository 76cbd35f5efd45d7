import Foundation

extension ReceiverSettings {
    /// The notifiers the rule file's receivers describe: one webhook notifier per URL, one email
    /// notifier per SMTP server.
    public func makeNotifiers() -> [any Notifier] {
        var notifiers: [any Notifier] = []
        for (index, hook) in webhooks.enumerated() {
            notifiers.append(WebhookNotifier(
                name: "webhook\(webhooks.count > 1 ? "-\(index + 1)" : "")", url: hook.url, secret: hook.secret,
                retry: RetryPolicy(attempts: max(1, hook.maxAttempts))))
        }
        for (index, mail) in emails.enumerated() {
            notifiers.append(EmailNotifier(name: "email\(emails.count > 1 ? "-\(index + 1)" : "")", configuration: mail))
        }
        return notifiers
    }
}

extension ActiveAlert {
    /// The alert as Alertmanager sends it: firing (no end) or resolved (with its end).
    public var alertmanagerAlert: Alert {
        Alert(
            status: state == .resolved ? .resolved : .firing, labels: labels, annotations: annotations,
            startsAt: firingSince ?? activeSince, endsAt: state == .resolved ? resolvedAt : nil)
    }

    /// A notification about this alert alone, in Alertmanager's webhook shape.
    public func notification(receiver: String, externalURL: String) -> AlertNotification {
        AlertNotification(receiver: receiver, alerts: [alertmanagerAlert], externalURL: externalURL)
    }
}
