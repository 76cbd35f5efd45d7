import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WharfTesting
import WharfMonitoring

/// A notifier that records what it gets, optionally slowly or failing.
final class RecordingNotifier: Notifier {
    let name: String
    let delay: Duration
    let failure: String?
    private let state = Mutex<[AlertNotification]>([])

    init(name: String = "recording", delay: Duration = .zero, failure: String? = nil) {
        self.name = name
        self.delay = delay
        self.failure = failure
    }

    var received: [AlertNotification] { state.withLock { $0 } }

    struct Failure: Error, CustomStringConvertible { var description: String }

    func send(_ notification: AlertNotification) async throws {
        if delay > .zero { try await Task.sleep(for: delay) }
        if let failure { throw Failure(description: failure) }
        state.withLock { $0.append(notification) }
    }
}

@Suite("Notification dispatcher")
struct NotificationDispatcherTests {
    static var quietLogger: Logger {
        var logger = Logger(label: "test.dispatcher")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with the dispatcher's loops running, then cancels them.
    func running<T>(_ dispatcher: NotificationDispatcher, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await dispatcher.run() }
        defer { task.cancel() }
        return try await body()
    }

    @Test("a dead webhook: dispatch returns at once, the failure is counted, other notifiers still deliver")
    func deadWebhook() async throws {
        let url = "http://127.0.0.1:\(unusedPort())/hook"
        let webhook = WebhookNotifier(name: "webhook", url: url, retry: RetryPolicy(attempts: 3, baseDelay: .milliseconds(100)))
        let recorder = RecordingNotifier()
        let dispatcher = NotificationDispatcher(notifiers: [webhook, recorder], logger: Self.quietLogger)
        try await running(dispatcher) {
            let clock = ContinuousClock()
            var slowest = Duration.zero
            for status in [AlertStatus.firing, .resolved] {
                let took = clock.measure { dispatcher.dispatch(Samples.notification(status)) }
                slowest = max(slowest, took)
            }
            #expect(slowest < .milliseconds(50), "dispatch took \(slowest)")
            try await within(30, "delivery") { await dispatcher.waitUntilIdle() }
        }
        let counters = dispatcher.counters()
        #expect(counters["webhook"]?.failed == 2)
        #expect(counters["webhook"]?.sent == 0)
        #expect(counters["webhook"]?.lastError == "webhook \(url) unreachable: connection refused (gave up after 3 attempts)")
        #expect(counters["recording"]?.sent == 2)
        #expect(recorder.received.map(\.status) == [.firing, .resolved])
    }

    @Test("delivers to a real webhook receiver and counts it sent")
    func liveWebhook() async throws {
        let receiver = try await WebhookReceiver.start()
        let dispatcher = NotificationDispatcher(notifiers: [WebhookNotifier(name: "hook", url: receiver.url)], logger: Self.quietLogger)
        try await running(dispatcher) {
            dispatcher.dispatch(Samples.notification(.firing))
            try await within(30, "delivery") { await dispatcher.waitUntilIdle() }
        }
        await receiver.stop()
        #expect(receiver.received.count == 1)
        #expect(dispatcher.counters()["hook"] == NotifierCounters(sent: 1))
    }

    @Test("a slow notifier never slows dispatch")
    func slowNotifier() async throws {
        let slow = RecordingNotifier(name: "slow", delay: .milliseconds(300))
        let dispatcher = NotificationDispatcher(notifiers: [slow], logger: Self.quietLogger)
        try await running(dispatcher) {
            let clock = ContinuousClock()
            let took = clock.measure {
                for _ in 0..<5 { dispatcher.dispatch(Samples.notification(.firing)) }
            }
            #expect(took < .milliseconds(50))
            try await within(30, "delivery") { await dispatcher.waitUntilIdle() }
        }
        #expect(dispatcher.counters()["slow"]?.sent == 5)
    }

    @Test("a full queue drops its oldest notifications and counts them")
    func dropsOldest() async throws {
        let recorder = RecordingNotifier()
        let dispatcher = NotificationDispatcher(notifiers: [recorder], capacity: 2, logger: Self.quietLogger)
        // Not running yet: everything queues.
        for version in 1...5 {
            dispatcher.dispatch(Samples.notification(.firing, alerts: [Samples.alert(.firing, version: String(version))]))
        }
        #expect(dispatcher.counters()["recording"] == NotifierCounters(dropped: 3, queued: 2))
        try await running(dispatcher) {
            try await within(30, "delivery") { await dispatcher.waitUntilIdle() }
        }
        #expect(recorder.received.map { $0.alerts[0].labels["version"] } == ["4", "5"])
        #expect(dispatcher.counters()["recording"] == NotifierCounters(sent: 2, dropped: 3))
    }

    @Test("failures are counted with the last error")
    func failures() async throws {
        let failing = RecordingNotifier(name: "broken", failure: "mail server on fire")
        let dispatcher = NotificationDispatcher(notifiers: [failing], logger: Self.quietLogger)
        try await running(dispatcher) {
            dispatcher.dispatch(Samples.notification(.firing))
            dispatcher.dispatch(Samples.notification(.resolved))
            try await within(30, "delivery") { await dispatcher.waitUntilIdle() }
        }
        #expect(dispatcher.counters()["broken"] == NotifierCounters(failed: 2, lastError: "mail server on fire"))
    }

    @Test("finish: run delivers what is queued, then returns; later dispatches are dropped")
    func finish() async throws {
        let recorder = RecordingNotifier(delay: .milliseconds(20))
        let dispatcher = NotificationDispatcher(notifiers: [recorder], logger: Self.quietLogger)
        for _ in 0..<3 { dispatcher.dispatch(Samples.notification(.firing)) }
        let task = Task { try await dispatcher.run() }
        dispatcher.finish()
        try await within(30, "run to return") { try await task.value }
        #expect(recorder.received.count == 3)
        dispatcher.dispatch(Samples.notification(.firing))
        #expect(dispatcher.counters()["recording"] == NotifierCounters(sent: 3, dropped: 1))
    }

    @Test("cancelling run stops the loops promptly, even mid-delivery")
    func cancellation() async throws {
        let stuck = RecordingNotifier(delay: .seconds(60))
        let dispatcher = NotificationDispatcher(notifiers: [stuck, RecordingNotifier(name: "idle")], logger: Self.quietLogger)
        let task = Task { try await dispatcher.run() }
        dispatcher.dispatch(Samples.notification(.firing))
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        try await within(5, "run to return after cancellation") { try await task.value }
        #expect(dispatcher.counters()["recording"]?.failed == 0)
    }

    @Test("as a ServiceLifecycle service: graceful shutdown delivers what is queued first")
    func gracefulShutdown() async throws {
        let recorder = RecordingNotifier(delay: .milliseconds(100))
        let dispatcher = NotificationDispatcher(notifiers: [recorder], logger: Self.quietLogger)
        let group = ServiceGroup(configuration: .init(services: [dispatcher], logger: Self.quietLogger))
        let task = Task { try await group.run() }
        for _ in 0..<4 { dispatcher.dispatch(Samples.notification(.firing)) }
        // Shut down once the service runs, with two or three notifications still queued (one may be under way).
        try await within(30, "the first delivery") {
            while recorder.received.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect((2...3).contains(dispatcher.counters()["recording"]?.queued ?? 0))
        await group.triggerGracefulShutdown()
        try await within(30, "the service group to stop") { try await task.value }
        #expect(recorder.received.count == 4)
    }

    @Test("run refuses to run twice at once")
    func runTwice() async throws {
        let dispatcher = NotificationDispatcher(notifiers: [RecordingNotifier()], logger: Self.quietLogger)
        let task = Task { try await dispatcher.run() }
        defer { task.cancel() }
        // Once something was delivered, the first run is surely under way.
        dispatcher.dispatch(Samples.notification(.firing))
        try await within(30, "delivery") { await dispatcher.waitUntilIdle() }
        await #expect(throws: DispatcherAlreadyRunning.self) { try await dispatcher.run() }
    }
}
