import Foundation
import WharfCore
import WharfRuntime

/// Runs a version's requests on dedicated threads, one or more per instance, through a bounded
/// queue; with dynamic batching on, requests of the same signature and trailing shapes are joined
/// along the first dimension (padded to an allowed size), run once, and split back.
///
/// A full queue rejects a request at once (503); a request whose deadline passes while it waits is
/// answered with 504 instead of running; a request that fails validation never reaches the queue,
/// so it cannot spoil a batch.
final class InferenceScheduler: @unchecked Sendable {
    // @unchecked Sendable: every mutable property is guarded by `condition`'s lock; instances are
    // only touched by the worker threads, and runtime models are thread-safe anyway.

    /// What makes requests batchable together.
    struct BatchKey: Hashable {
        struct Input: Hashable {
            var name: String
            var dtype: DataType
            var trailingShape: [Int]
        }
        var signature: String
        var outputs: [String]?
        var inputs: [Input]
    }

    private final class Job {
        let signature: Signature
        let inputs: [String: Tensor]
        let outputs: [String]?
        let key: BatchKey?
        let rows: Int
        let enqueued = ContinuousClock.now
        let deadline: ContinuousClock.Instant?
        let continuation: CheckedContinuation<RunResult, any Error>

        init(
            signature: Signature, inputs: [String: Tensor], outputs: [String]?, key: BatchKey?, rows: Int,
            deadline: ContinuousClock.Instant?, continuation: CheckedContinuation<RunResult, any Error>
        ) {
            self.signature = signature
            self.inputs = inputs
            self.outputs = outputs
            self.key = key
            self.rows = rows
            self.deadline = deadline
            self.continuation = continuation
        }
    }

    private let name: String
    private let batching: BatchingConfig?
    private let bound: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    private var runningThreads = 0
    /// Keys whose outputs turned out not to split by rows (a scalar output, say): never batched again.
    private var unbatchable: Set<BatchKey> = []

    init(name: String, instances: [any InferenceModel], performance: PerformanceConfig) {
        self.name = name
        self.batching = performance.batching
        self.bound = performance.queueBound
        let threads = performance.workerThreads
        runningThreads = threads
        for index in 0..<threads {
            let instance = instances[index % instances.count]
            let thread = Thread { [self] in self.work(on: instance) }
            thread.name = "wharf-\(name)-\(index)"
            thread.start()
        }
    }

    /// Requests waiting now.
    var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Queues a validated request and waits for its result.
    func submit(
        signature: Signature, inputs: [String: Tensor], outputs: [String]?, deadline: ContinuousClock.Instant?
    ) async throws -> RunResult {
        let key = batching == nil ? nil : InferenceScheduler.batchKey(signature: signature, inputs: inputs, outputs: outputs)
        let rows = key == nil ? 0 : inputs.values.first?.rowCount ?? 0
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: ServingError(.shuttingDown, "version of '\(name)' is unloading; retry"))
                return
            }
            guard queue.count < bound else {
                condition.unlock()
                continuation.resume(throwing: ServingError(
                    .queueFull, "the queue of model '\(name)' is full (\(bound) requests waiting); retry later"))
                return
            }
            queue.append(Job(
                signature: signature, inputs: inputs, outputs: outputs, key: key, rows: rows, deadline: deadline,
                continuation: continuation))
            condition.unlock()
            if batching != nil { condition.broadcast() } else { condition.signal() }
        }
    }

    /// Lets the threads finish what is queued and exit.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.unlock()
        condition.broadcast()
    }

    /// Requests can be batched when every input has the same first dimension.
    private static func batchKey(signature: Signature, inputs: [String: Tensor], outputs: [String]?) -> BatchKey? {
        guard let rows = inputs.values.first?.shape.first else { return nil }
        var keyInputs: [BatchKey.Input] = []
        for name in inputs.keys.sorted() {
            let tensor = inputs[name]!
            guard tensor.shape.first == rows else { return nil }
            keyInputs.append(.init(name: name, dtype: tensor.dtype, trailingShape: Array(tensor.shape.dropFirst())))
        }
        return BatchKey(signature: signature.key, outputs: outputs?.sorted(), inputs: keyInputs)
    }

    // MARK: Worker threads

    private func work(on instance: any InferenceModel) {
        while let batch = nextBatch() {
            execute(batch, on: instance)
        }
        condition.lock()
        runningThreads -= 1
        condition.unlock()
    }

    /// The next batch to run, or `nil` when stopping with nothing left.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        guard !queue.isEmpty else { return nil }
        let first = queue.removeFirst()
        var batch = [first]
        guard let batching, let key = first.key, !unbatchable.contains(key) else { return batch }
        var rows = first.rows
        let timeout = Duration.microseconds(batching.batchTimeoutMicros)
        let closes = first.enqueued + timeout
        while rows < batching.maxBatchSize {
            var index = 0
            while index < queue.count, rows < batching.maxBatchSize {
                let job = queue[index]
                if job.key == key, rows + job.rows <= batching.maxBatchSize {
                    batch.append(job)
                    rows += job.rows
                    queue.remove(at: index)
                } else {
                    index += 1
                }
            }
            let now = ContinuousClock.now
            if rows >= batching.maxBatchSize || stopping || now >= closes { break }
            let wait = now.duration(to: closes)
            let seconds = Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18
            _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
        }
        if !queue.isEmpty { condition.signal() }
        return batch
    }

    private func execute(_ batch: [Job], on instance: any InferenceModel) {
        let started = ContinuousClock.now
        var live: [Job] = []
        for job in batch {
            if let deadline = job.deadline, deadline < started {
                job.continuation.resume(throwing: ServingError(
                    .deadlineExceeded, "the request's deadline passed after \(job.enqueued.duration(to: started)) in the queue"))
            } else {
                live.append(job)
            }
        }
        guard !live.isEmpty else { return }
        if live.count == 1, live[0].key == nil || batching?.allowedBatchSizes.isEmpty != false {
            runAlone(live[0], on: instance, started: started)
            return
        }
        runBatch(live, on: instance, started: started)
    }

    private func runAlone(_ job: Job, on instance: any InferenceModel, started: ContinuousClock.Instant) {
        do {
            let outputs = try instance.run(signature: job.signature.key, inputs: job.inputs, outputs: job.outputs)
            var timing = RequestTiming()
            timing.queue = job.enqueued.duration(to: started)
            timing.compute = started.duration(to: .now)
            timing.batchSize = job.rows
            job.continuation.resume(returning: RunResult(outputs: outputs, timing: timing))
        } catch {
            job.continuation.resume(throwing: error)
        }
    }

    private func runBatch(_ jobs: [Job], on instance: any InferenceModel, started: ContinuousClock.Instant) {
        let first = jobs[0]
        let rows = jobs.reduce(0) { $0 + $1.rows }
        let padded = batching?.paddedSize(for: rows) ?? rows
        let outputs: [String: Tensor]
        do {
            var merged: [String: Tensor] = [:]
            for name in first.inputs.keys {
                merged[name] = try Tensor.concatenate(jobs.map { $0.inputs[name]! }, paddedRows: padded)
            }
            outputs = try instance.run(signature: first.signature.key, inputs: merged, outputs: first.outputs)
        } catch {
            // One request's data must not fail the others: run them one by one.
            if jobs.count > 1 {
                for job in jobs { runAlone(job, on: instance, started: started) }
            } else {
                first.continuation.resume(throwing: error)
            }
            return
        }
        let finished = ContinuousClock.now
        guard outputs.values.allSatisfy({ !$0.shape.isEmpty && $0.shape[0] == padded }) else {
            // Outputs without a batch dimension cannot be split: remember, and run alone.
            condition.lock()
            if let key = first.key { unbatchable.insert(key) }
            condition.unlock()
            for job in jobs { runAlone(job, on: instance, started: started) }
            return
        }
        var offset = 0
        for job in jobs {
            do {
                var sliced: [String: Tensor] = [:]
                for (name, tensor) in outputs { sliced[name] = try tensor.rows(offset..<(offset + job.rows)) }
                var timing = RequestTiming()
                timing.queue = job.enqueued.duration(to: started)
                timing.compute = started.duration(to: finished)
                timing.batchSize = padded
                timing.batchRequests = jobs.count
                timing.leadsBatch = offset == 0
                job.continuation.resume(returning: RunResult(outputs: sliced, timing: timing))
            } catch {
                job.continuation.resume(throwing: error)
            }
            offset += job.rows
        }
    }
}
