import NIOPosix

/// Dedicated threads for blocking work outside the request path (model loads and warm-up), so it
/// never blocks Swift's cooperative pool or an event loop.
final class InferenceExecutor: Sendable {
    private let pool: NIOThreadPool

    /// Starts `threads` threads.
    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(threads, 1))
        pool.start()
    }

    /// Runs `body` on one of the threads and returns its result.
    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await pool.runIfActive(body)
    }

    /// Stops the threads after the work already queued.
    func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
