import ServiceLifecycle

/// Runs `body` every `interval` (the interval read anew each time) until the service group shuts
/// down: the loop of every polling service (repository and registry watchers, alert evaluation,
/// rule file reloads).
public func runPeriodically(every interval: @escaping @Sendable () -> Duration, _ body: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            // Cancelled while asleep: the group is shutting down, which is no error.
            guard (try? await Task.sleep(for: interval())) != nil else { return }
            await body()
        }
    }
}
