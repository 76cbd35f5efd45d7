import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// What a ``NotificationDispatcher`` did for one notifier since it started.
public struct NotifierCounters: Sendable, Hashable {
    /// Notifications the notifier delivered.
    public var sent: Int = 0
    /// Notifications the notifier failed to deliver (after its own retries).
    public var failed: Int = 0
    /// Notifications dropped before delivery: the queue was full (the oldest one goes), or the
    /// dispatcher was shutting down.
    public var dropped: Int = 0
    /// Notifications waiting in the queue now (not counting one being delivered).
    public var queued: Int = 0
    /// The last delivery error, for people.
    public var lastError: String?

    /// Zero counters.
    public init(sent: Int = 0, failed: Int = 0, dropped: Int = 0, queued: Int = 0, lastError: String? = nil) {
        self.sent = sent
        self.failed = failed
        self.dropped = dropped
        self.queued = queued
        self.lastError = lastError
    }
}

/// ``NotificationDispatcher/run()`` was called while it was running already.
public struct DispatcherAlreadyRunning: Error, CustomStringConvertible {
    public var description: String { "the notification dispatcher is running already" }
}

/// Hands alert notifications to every notifier in the background, so that whoever raises alerts
/// (the rule evaluator) never waits for a mail server or a webhook.
///
/// ``dispatch(_:)`` only enqueues: each notifier has its own bounded queue and its own delivery
/// loop, so a slow or dead destination delays and drops only its own notifications. When a queue is
/// full its oldest notification is dropped (and counted). Deliveries that fail are logged and
/// counted; the notifiers' own retry policies apply. ``run()`` runs the delivery loops (it is a
/// ServiceLifecycle `Service`: on graceful shutdown it delivers what is queued, then returns; on
/// cancellation it returns at once).
public final class NotificationDispatcher: Service, Sendable {
    /// The notifiers, in the order given.
    public let notifiers: [any Notifier]
    /// The most notifications each notifier's queue holds.
    public let capacity: Int
    private let logger: Logger
    private let state: Mutex<State>

    private struct Lane {
        var pending: [AlertNotification] = []
        var busy = false
        var waiter: CheckedContinuation<AlertNotification?, Never>?
        var counters = NotifierCounters()
    }

    private struct State {
        var lanes: [Lane]
        var finishing = false
        var running = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []

        var isIdle: Bool { lanes.allSatisfy { $0.pending.isEmpty && !$0.busy } }
    }

    /// A dispatcher to `notifiers`, each with a queue of `capacity` notifications (at least 1).
    public init(notifiers: [any Notifier], capacity: Int = 100, logger: Logger = Logger(label: "wharf.monitoring.notifications")) {
        self.notifiers = notifiers
        self.capacity = max(1, capacity)
        self.logger = logger
        self.state = Mutex(State(lanes: Array(repeating: Lane(), count: notifiers.count)))
    }

    /// Queues `notification` for every notifier and returns at once. Never waits for delivery.
    public func dispatch(_ notification: AlertNotification) {
        var handOff: [(CheckedContinuation<AlertNotification?, Never>, AlertNotification)] = []
        var droppedFrom: [Int] = []
        state.withLock { state in
            for index in state.lanes.indices {
                if state.finishing {
                    state.lanes[index].counters.dropped += 1
                    droppedFrom.append(index)
                    continue
                }
                if let waiter = state.lanes[index].waiter {
                    state.lanes[index].waiter = nil
                    state.lanes[index].busy = true
                    handOff.append((waiter, notification))
                    continue
                }
                if state.lanes[index].pending.count >= capacity {
                    state.lanes[index].pending.removeFirst()
                    state.lanes[index].counters.dropped += 1
                    droppedFrom.append(index)
                }
                state.lanes[index].pending.append(notification)
            }
        }
        for (waiter, notification) in handOff { waiter.resume(returning: notification) }
        for index in droppedFrom {
            logger.warning(
                "alert notification dropped: the queue is full or the dispatcher is stopping",
                metadata: ["notifier": "\(notifiers[index].name)", "capacity": "\(capacity)"])
        }
    }

    /// The counters of every notifier, by name (notifiers that share a name share an entry, summed).
    public func counters() -> [String: NotifierCounters] {
        let lanes = state.withLock { $0.lanes }
        var result: [String: NotifierCounters] = [:]
        for (index, lane) in lanes.enumerated() {
            var counters = lane.counters
            counters.queued = lane.pending.count
            if let existing = result[notifiers[index].name] {
                counters.sent += existing.sent
                counters.failed += existing.failed
                counters.dropped += existing.dropped
                counters.queued += existing.queued
                counters.lastError = counters.lastError ?? existing.lastError
            }
            result[notifiers[index].name] = counters
        }
        return result
    }

    /// Runs the delivery loops until the task is cancelled, or until a graceful shutdown (then it
    /// first delivers what is queued).
    public func run() async throws {
        let alreadyRunning = state.withLock { state in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { throw DispatcherAlreadyRunning() }
        defer { state.withLock { $0.running = false } }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for index in notifiers.indices {
                    group.addTask { await self.deliveryLoop(index) }
                }
            }
        } onGracefulShutdown: {
            self.finish()
        }
    }

    /// Stops accepting notifications; ``run()`` returns once the queues are delivered. Later
    /// dispatches are dropped.
    public func finish() {
        let waiters = state.withLock { state in
            state.finishing = true
            return state.lanes.indices.compactMap { index -> CheckedContinuation<AlertNotification?, Never>? in
                defer { state.lanes[index].waiter = nil }
                return state.lanes[index].waiter
            }
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Returns when every queue is empty and no delivery is under way (for tests and shutdown).
    /// Queued notifications are only delivered while ``run()`` runs.
    public func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state in
                if state.isIdle { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func deliveryLoop(_ index: Int) async {
        let notifier = notifiers[index]
        while let notification = await next(index) {
            do {
                try await notifier.send(notification)
                state.withLock { $0.lanes[index].counters.sent += 1 }
                logger.debug(
                    "alert notification sent",
                    metadata: ["notifier": "\(notifier.name)", "status": "\(notification.status.rawValue)", "alerts": "\(notification.alerts.count)"])
            } catch is CancellationError where Task.isCancelled {
                // Shutting down: neither sent nor failed.
                continue
            } catch {
                let message = String(describing: error)
                state.withLock {
                    $0.lanes[index].counters.failed += 1
                    $0.lanes[index].counters.lastError = message
                }
                logger.error(
                    "alert notification failed",
                    metadata: ["notifier": "\(notifier.name)", "groupKey": "\(notification.groupKey)", "error": "\(message)"])
            }
        }
    }

    /// The next notification for notifier `index`; `nil` when the loop should end (cancelled, or
    /// finishing with nothing left). Marks the previous delivery as done.
    private func next(_ index: Int) async -> AlertNotification? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<AlertNotification?, Never>) in
                let (immediate, idleWaiters): (AlertNotification??, [CheckedContinuation<Void, Never>]) = state.withLock { state in
                    state.lanes[index].busy = false
                    var result: AlertNotification??
                    if !state.lanes[index].pending.isEmpty {
                        state.lanes[index].busy = true
                        result = .some(state.lanes[index].pending.removeFirst())
                    } else if state.finishing || Task.isCancelled {
                        result = .some(nil)
                    } else {
                        state.lanes[index].waiter = continuation
                        result = nil
                    }
                    var waiters: [CheckedContinuation<Void, Never>] = []
                    if state.isIdle {
                        waiters = state.idleWaiters
                        state.idleWaiters = []
                    }
                    return (result, waiters)
                }
                for waiter in idleWaiters { waiter.resume() }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.lanes[index].waiter = nil }
                return state.lanes[index].waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
