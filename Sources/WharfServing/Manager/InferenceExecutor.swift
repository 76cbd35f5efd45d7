import NIOPosix

/// Dedicated threads for blocking runtime calls (model loads and TF_SessionRun / OrtRun), so they
/// never block Swift's cooperative pool or an event loop.
public final class InferenceExecutor: Sendable {
    private let pool: NIOThreadPool

    /// Starts `threads` threads.
    public init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: max(threads, 1))
        pool.start()
    }

    /// Runs `body` on one of the threads and returns its result.
    public func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await pool.runIfActive(body)
    }

    /// Stops the threads after the work already queued.
    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
