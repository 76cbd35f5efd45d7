import ServiceLifecycle

/// Runs `body` every `interval` (the interval read anew each time) until the service group shuts
/// down: the loop of every polling service (repository and registry watchers, alert evaluation,
/// rule file reloads).
public func runPeriodically(every interval: @escaping @Sendable () -> Duration, _ body: @escaping @Sendable () async -> Void) async throws {
    try await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            try await Task.sleep(for: interval())
            await body()
        }
    }
}
