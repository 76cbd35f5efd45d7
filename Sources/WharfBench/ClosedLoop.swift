import NIOCore
import Synchronization
import WharfCore

/// Closed-loop load: `concurrency` workers, each sending its next request as soon as the previous
/// one is answered, from the start of the warm-up to the end of the measurement window.
///
/// A request counts when its answer arrives inside the window (as wrk counts), and its latency
/// runs from its send to its answer. Each worker lives on one event loop with a connection of its
/// own there, and sends its next request from the previous one's completion, which the
/// connection's handler calls as soon as it has parsed the answer: the loop never leaves the
/// event loop, and only the end of the step goes back to Swift concurrency.
enum ClosedLoop {
    static func run(
        concurrency: Int, request: BenchClient.PreparedRequest, client: BenchClient, window: StepWindow,
        counters: LiveCounters
    ) async -> BenchStepResult {
        let shards = RecorderShards(count: min(concurrency, 16))
        let workers = (0..<concurrency).map { index in
            let eventLoop = client.eventLoopGroup.next()
            return Worker(
                index: index, eventLoop: eventLoop, connection: client.connection(on: eventLoop), request: request,
                client: client, window: window, counters: counters, shards: shards)
        }
        for worker in workers {
            worker.eventLoop.execute { worker.sendNext() }
        }
        for worker in workers {
            try? await worker.done.futureResult.get()
        }
        let recorder = shards.merged()
        let seconds = window.duration.seconds
        let requests = recorder.successes + recorder.failures
        return BenchStepResult(
            load: .concurrency(concurrency), duration: seconds, requests: requests, errors: recorder.failures,
            errorMessages: recorder.errorMessages, latency: recorder.summary,
            throughput: Double(recorder.successes) / seconds, achievedRate: Double(requests) / seconds)
    }

    /// One closed-loop client; every method runs on its event loop.
    private final class Worker: Sendable {
        let index: Int
        let eventLoop: any EventLoop
        /// The worker's own connection; `nil` when requests go through AsyncHTTPClient (https).
        let connection: BenchConnection?
        let request: BenchClient.PreparedRequest
        let client: BenchClient
        let window: StepWindow
        let counters: LiveCounters
        let shards: RecorderShards
        let done: EventLoopPromise<Void>

        init(
            index: Int, eventLoop: any EventLoop, connection: BenchConnection?, request: BenchClient.PreparedRequest,
            client: BenchClient, window: StepWindow, counters: LiveCounters, shards: RecorderShards
        ) {
            self.index = index
            self.eventLoop = eventLoop
            self.connection = connection
            self.request = request
            self.client = client
            self.window = window
            self.counters = counters
            self.shards = shards
            self.done = eventLoop.makePromise()
        }

        func sendNext() {
            let sent = ContinuousClock.now
            guard sent < window.measureEnd else {
                connection?.close()
                done.succeed(())
                return
            }
            if let connection {
                connection.send(request.wire) { outcome in
                    self.answered(outcome, sentAt: sent)
                    switch outcome {
                    case .success:
                        // Straight from the handler that parsed the answer: no hop.
                        self.sendNext()
                    case .failure:
                        // A run of immediate failures (a refused connection) cannot grow the stack.
                        self.eventLoop.execute { self.sendNext() }
                    }
                }
            } else {
                client.send(request.request, on: eventLoop) { outcome in
                    self.answered(outcome, sentAt: sent)
                    // The completion runs while AsyncHTTPClient's connection is still finishing
                    // this request; sending from the loop's next turn finds it idle in the pool
                    // (sending now would open another connection).
                    self.eventLoop.execute { self.sendNext() }
                }
            }
        }

        private func answered(_ outcome: BenchClient.Outcome, sentAt sent: ContinuousClock.Instant) {
            let answered = ContinuousClock.now
            counters.answered.wrappingAdd(1, ordering: .relaxed)
            if window.measures(answered) {
                counters.measured.wrappingAdd(1, ordering: .relaxed)
                shards.withRecorder(index) { recorder in
                    switch outcome {
                    case .success: recorder.recordSuccess(answered - sent)
                    case .failure(let message):
                        counters.failed.wrappingAdd(1, ordering: .relaxed)
                        recorder.recordFailure(message)
                    }
                }
            }
        }
    }
}
