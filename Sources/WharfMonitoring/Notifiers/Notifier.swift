/// Something that delivers alert notifications somewhere: a webhook, an email, a chat.
///
/// `send` either delivers the notification or throws an error that says why not, naming the
/// destination. Implementations bound their own time (timeouts, retries); the
/// ``NotificationDispatcher`` calls them from a background task, so `send` may take long.
public protocol Notifier: Sendable {
    /// A short name that tells notifiers apart in logs and counters (`webhook`, `email-oncall`).
    var name: String { get }
    /// Delivers `notification`; throws when it could not.
    func send(_ notification: AlertNotification) async throws
}
