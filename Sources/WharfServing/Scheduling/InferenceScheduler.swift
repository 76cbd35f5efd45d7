import CWharfRuntimeABI
import Foundation
import Synchronization
import WharfCore
import WharfRuntime

/// Runs a version's requests on dedicated threads, one or more per instance, through a bounded
/// queue; with dynamic batching on, requests of the same signature and trailing shapes are joined
/// along the first dimension (padded to an allowed size), run once, and split back.
///
/// A batch closes when it is full or when its timeout (from its first request's arrival) passes.
/// An adaptive batcher (`adaptive: true`) also closes it as soon as no other request for the
/// version is on its way (holding a lease, not yet queued): under load it still gathers the
/// requests being decoded, and a lone request does not wait.
///
/// Without batching (or with a batcher that never waits for a lone request: `batch_timeout_micros:
/// 0`, as Triton's default, or adaptive), a lone request (no other request holds the version) that
/// finds a worker idle runs on the caller's thread with that worker's instance, as TF Serving runs
/// a session in the request's thread: no hand-over to the worker and no hop back, which is most of
/// the server's overhead on a lone request. Under load the hand-over costs less than it saves:
/// the callers' threads stay free for decoding and encoding while the workers compute, and queued
/// requests can share a batch. So a request alone for a moment does not take the caller's path
/// while most of the version's recent requests found company (a moving average over about eight
/// arrivals): at 16 clients a quarter of the requests were alone when they arrived, and running
/// them on their callers cost more CPU than the hand-over saved. The worker stays parked until its
/// instance is handed back, so an instance never runs two requests at once, and a process-wide
/// budget keeps such runs from occupying every thread of Swift's cooperative pool. Everything else
/// goes through the queue.
///
/// With `worker_spin_micros`, a worker that has just run a request polls for the next one that
/// long before it sleeps, while the version is not under load (and a caller's run on its instance
/// sets it polling afterwards). A request that finds it polling goes through the queue: the worker
/// sees it without a wake-up, on a core whose caches still hold the model's weights. A
/// process-wide budget keeps at least one core free of polling workers, and polling steps aside
/// for a while when its core turns out to be contended (`Polling`).
///
/// A full queue rejects a request at once (503); a request whose deadline passes while it waits is
/// answered with 504 instead of running; a request that fails validation never reaches the queue,
/// so it cannot spoil a batch.
final class InferenceScheduler: @unchecked Sendable {
    // @unchecked Sendable: every mutable property is guarded by `condition`'s lock; an instance runs
    // on its worker thread or, while lent, on one caller's thread, never both; runtime models are
    // thread-safe anyway.

    /// Caller-thread runs (and callers waiting on their threads for a polling worker) allowed at
    /// once in the process: all cores but one, so a thread of the cooperative pool is always free
    /// for the requests' other work.
    static let callerRunBudget = max(ProcessInfo.processInfo.activeProcessorCount - 1, 1)
    private static let callerRuns = Atomic<Int>(0)
    /// Workers allowed to poll at once in the process, for the same reason.
    static let pollingBudget = callerRunBudget
    private static let pollingWorkers = Atomic<Int>(0)

    /// How many of the version's recent requests found another one holding it: a moving average
    /// over about the last eight arrivals, in 1/256ths. From half up, the version is under load.
    private let contention = Atomic<Int>(0)
    /// Counts requests joining the queue (and the stop), for a polling worker to watch.
    private let arrivals = Atomic<Int>(0)
    /// The version's workers polling now.
    private let polling = Atomic<Int>(0)

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
        let completion: Completion

        init(
            signature: Signature, inputs: [String: Tensor], outputs: [String]?, key: BatchKey?, rows: Int,
            deadline: ContinuousClock.Instant?, completion: Completion
        ) {
            self.signature = signature
            self.inputs = inputs
            self.outputs = outputs
            self.key = key
            self.rows = rows
            self.deadline = deadline
            self.completion = completion
        }
    }

    /// Where a queued request's result goes: its task, suspended until then, or a caller that
    /// waits on its own thread for a polling worker.
    private enum Completion {
        case task(CheckedContinuation<RunResult, any Error>)
        case waiter(ResultWaiter)

        func resume(returning result: RunResult) {
            switch self {
            case .task(let continuation): continuation.resume(returning: result)
            case .waiter(let waiter): waiter.deliver(.success(result))
            }
        }

        func resume(throwing error: any Error) {
            switch self {
            case .task(let continuation): continuation.resume(throwing: error)
            case .waiter(let waiter): waiter.deliver(.failure(error))
            }
        }
    }

    private let name: String
    private let batching: BatchingConfig?
    /// The version's lease counts, for an adaptive batcher.
    private let leases: LeaseCounts?
    /// A lone request would run by itself at once anyway: no batching, or a batcher that never
    /// waits for company (timeout 0, or adaptive with nobody on the way) and never pads.
    private let runsLoneRequestsAtOnce: Bool
    /// How long a worker polls for work after a run (`worker_spin_micros`), `nil` for not at all.
    private let spin: Duration?
    /// Whether anything reads the load average.
    private let tracksLoad: Bool
    private let bound: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    private var runningThreads = 0
    /// Each worker's instance; whether it waits for work; whether a caller has borrowed it.
    private let workerInstances: [any InferenceModel]
    private var waiting: [Bool]
    private var lent: [Bool]
    private var lentCount = 0
    /// Per worker: the rows its batch still lacks while it waits for the batch to fill (0 when
    /// it is not filling one), and the rows of all queued requests. A new request wakes a filling
    /// worker only when the queue could complete its batch; otherwise it joins at the timeout.
    private var lacking: [Int]
    /// Per worker: a caller has just run a request on its instance, so it should poll.
    private var primed: [Bool]
    private var queuedRows = 0
    /// Keys whose outputs turned out not to split by rows (a scalar output, say): never batched again.
    private var unbatchable: Set<BatchKey> = []

    init(name: String, instances: [any InferenceModel], performance: PerformanceConfig, leases: LeaseCounts? = nil) {
        self.name = name
        self.batching = performance.batching
        self.leases = performance.batching?.adaptive == true ? leases : nil
        runsLoneRequestsAtOnce = performance.batching.map {
            ($0.batchTimeoutMicros == 0 || $0.adaptive) && $0.allowedBatchSizes.isEmpty
        } ?? true
        spin = performance.workerSpinMicros > 0 ? .microseconds(performance.workerSpinMicros) : nil
        tracksLoad = runsLoneRequestsAtOnce || spin != nil
        self.bound = performance.queueBound
        let threads = performance.workerThreads
        runningThreads = threads
        workerInstances = (0..<threads).map { instances[$0 % instances.count] }
        waiting = Array(repeating: false, count: threads)
        lent = Array(repeating: false, count: threads)
        lacking = Array(repeating: 0, count: threads)
        primed = Array(repeating: false, count: threads)
        for index in 0..<threads {
            // What `top -H` and perf show: the worker's number first, since Linux keeps 15 bytes.
            // (Foundation's `Thread.name` does not reach the OS thread on Linux.)
            let threadName = "w\(index)-\(name)"
            let thread = Thread { [self] in
                _ = wharf_name_current_thread(threadName)
                self.work(worker: index)
            }
            thread.name = threadName
            thread.start()
        }
    }

    /// Requests waiting now.
    var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    /// Runs a validated request: on the caller's thread when `alone` (no other request holds the
    /// version), the version is not under load and a worker is idle, otherwise through the queue;
    /// waits for its result. In the lone case with a worker polling instead, the caller waits for
    /// that worker on its own thread, polling too.
    /// `lease`, the request's hold on the version, is marked arrived when the request joins the
    /// queue or runs on its caller.
    func submit(
        signature: Signature, inputs: [String: Tensor], outputs: [String]?, deadline: ContinuousClock.Instant?, alone: Bool,
        lease: ServableLease? = nil
    ) async throws -> RunResult {
        let key = batching == nil ? nil : InferenceScheduler.batchKey(signature: signature, inputs: inputs, outputs: outputs)
        let rows = key == nil ? 0 : inputs.values.first?.rowCount ?? 0
        // Only a scheduler that may run a lone request on its caller, or whose workers poll, needs
        // the average; every arrival counts towards it, alone or not.
        let underLoad = tracksLoad && arrivesUnderLoad(alone: alone)
        if alone, !underLoad, runsLoneRequestsAtOnce, let worker = borrowIdleWorker() {
            defer { giveBack(worker) }
            lease?.markArrived()
            let started = ContinuousClock.now
            // The same check a queued request gets when a worker takes it.
            if let deadline, deadline < started {
                throw ServingError(.deadlineExceeded, "the request's deadline passed before it could run")
            }
            var result = try Self.runOne(
                signature: signature, inputs: inputs, outputs: outputs, rows: rows, on: workerInstances[worker], started: started)
            result.timing.ranOnCaller = true
            return result
        }
        // A polling worker takes the request at once, on a core whose caches hold the model; a
        // task suspended meanwhile would need a thread of the cooperative pool woken for its
        // result (tens of microseconds once that core has gone to sleep), so the caller polls for
        // it instead, within the caller budget.
        if alone, !underLoad, runsLoneRequestsAtOnce, let spin, polling.load(ordering: .relaxed) > 0,
            Self.takePlace(Self.callerRuns, limit: Self.callerRunBudget)
        {
            defer { Self.callerRuns.subtract(1, ordering: .releasing) }
            let waiter = ResultWaiter()
            try enqueue(Job(
                signature: signature, inputs: inputs, outputs: outputs, key: key, rows: rows, deadline: deadline,
                completion: .waiter(waiter)), lease: lease)
            return try waiter.wait(polling: spin).get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            do {
                try enqueue(Job(
                    signature: signature, inputs: inputs, outputs: outputs, key: key, rows: rows, deadline: deadline,
                    completion: .task(continuation)), lease: lease)
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Queues a request and wakes a worker if one needs waking; throws when the scheduler is
    /// stopping or the queue is full.
    private func enqueue(_ job: Job, lease: ServableLease?) throws(ServingError) {
        condition.lock()
        if stopping {
            condition.unlock()
            throw ServingError(.shuttingDown, "version of '\(name)' is unloading; retry")
        }
        guard queue.count < bound else {
            condition.unlock()
            throw ServingError(.queueFull, "the queue of model '\(name)' is full (\(bound) requests waiting); retry later")
        }
        queue.append(job)
        queuedRows += job.rows
        arrivals.add(1, ordering: .relaxed)
        lease?.markArrived()
        // Busy workers look at the queue when they finish; only a worker waiting for work, or
        // one filling a batch that the queue can now complete, needs waking.
        // An adaptive batcher also looks again at each arrival: it may have been the last one
        // on its way.
        let wake = waiting.indices.contains { waiting[$0] && !lent[$0] }
            || lacking.contains { $0 > 0 && ($0 <= queuedRows || leases != nil) }
        let anyLent = lentCount > 0
        condition.unlock()
        guard wake else { return }
        // A lent worker ignores wake-ups, and a filling one may not be the right one to wake.
        if batching != nil || anyLent { condition.broadcast() } else { condition.signal() }
    }

    /// Notes whether an arriving request found another one holding the version, and says whether
    /// most recent ones did. Relaxed and unlocked: a lost update only nudges the average.
    private func arrivesUnderLoad(alone: Bool) -> Bool {
        let previous = contention.load(ordering: .relaxed)
        let recent = previous - (previous >> 3) + (alone ? 0 : 32)
        contention.store(recent, ordering: .relaxed)
        return recent >= 128
    }

    /// Takes one of `limit` places counted by `counter`, unless all are taken.
    private static func takePlace(_ counter: borrowing Atomic<Int>, limit: Int) -> Bool {
        var taken = counter.load(ordering: .relaxed)
        while taken < limit {
            let (exchanged, original) = counter.compareExchange(expected: taken, desired: taken + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            taken = original
        }
        return false
    }

    /// An idle worker whose instance the caller may run one request on, when nothing is queued
    /// (which keeps requests in order) and the process-wide budget allows.
    private func borrowIdleWorker() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, queue.isEmpty, let worker = waiting.indices.first(where: { waiting[$0] && !lent[$0] }),
            Self.takePlace(Self.callerRuns, limit: Self.callerRunBudget)
        else { return nil }
        lent[worker] = true
        lentCount += 1
        return worker
    }

    private func giveBack(_ worker: Int) {
        InferenceScheduler.callerRuns.subtract(1, ordering: .releasing)
        condition.lock()
        lent[worker] = false
        lentCount -= 1
        // A polling worker would see the caller's next request without a wake-up.
        let prime = mayPoll
        if prime { primed[worker] = true }
        let wake = !queue.isEmpty || stopping || prime
        condition.unlock()
        if wake { condition.broadcast() }
    }

    /// A request on its way will not come after all: an adaptive batcher filling a batch looks
    /// again at whether anyone else is coming.
    func noLongerExpected() {
        guard leases != nil else { return }
        condition.lock()
        let filling = lacking.contains { $0 > 0 }
        condition.unlock()
        if filling { condition.broadcast() }
    }

    /// Lets the threads finish what is queued and exit.
    func shutdown() {
        condition.lock()
        stopping = true
        arrivals.add(1, ordering: .relaxed)
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

    private func work(worker: Int) {
        let instance = workerInstances[worker]
        var ran = false
        while let batch = nextBatch(worker: worker, afterRun: ran) {
            execute(batch, on: instance)
            ran = true
        }
        condition.lock()
        runningThreads -= 1
        condition.unlock()
    }

    /// The next batch to run, or `nil` when stopping with nothing left. After a run (or a caller's
    /// run on the worker's instance), the worker polls for work before it waits.
    private func nextBatch(worker: Int, afterRun: Bool) -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        if afterRun { poll() }
        while true {
            waiting[worker] = true
            while (queue.isEmpty && !stopping && !primed[worker]) || lent[worker] { condition.wait() }
            waiting[worker] = false
            guard primed[worker] else { break }
            primed[worker] = false
            poll()
        }
        guard !queue.isEmpty else { return nil }
        let first = queue.removeFirst()
        queuedRows -= first.rows
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
                    queuedRows -= job.rows
                    queue.remove(at: index)
                } else {
                    index += 1
                }
            }
            let now = ContinuousClock.now
            if rows >= batching.maxBatchSize || stopping || now >= closes { break }
            // Adaptive: nobody else is on the way, so waiting would only add latency.
            if let leases, leases.approaching == 0 { break }
            let wait = now.duration(to: closes)
            lacking[worker] = batching.maxBatchSize - rows
            _ = condition.wait(until: Date(timeIntervalSinceNow: wait.seconds))
            lacking[worker] = 0
        }
        if !queue.isEmpty { condition.signal() }
        return batch
    }

    /// With `spin`, while nothing is queued and the version is not under load, waits for the next
    /// arrival by polling rather than sleeping, for `spin` at most. Called and returns with the
    /// lock held; while it polls, the worker is neither waiting nor lendable, so lone requests
    /// queue for it.
    private func poll() {
        guard let spin, queue.isEmpty, !stopping, mayPoll, Self.takePlace(Self.pollingWorkers, limit: Self.pollingBudget)
        else { return }
        // Read under the lock: any request queued from now on changes it.
        let seen = arrivals.load(ordering: .relaxed)
        polling.add(1, ordering: .relaxed)
        condition.unlock()
        _ = Polling.wait(for: spin) { arrivals.load(ordering: .relaxed) != seen }
        polling.subtract(1, ordering: .relaxed)
        Self.pollingWorkers.subtract(1, ordering: .releasing)
        condition.lock()
    }

    /// Whether a worker may poll now: polling is configured, the version is not under load, and
    /// polling is not paused.
    private var mayPoll: Bool {
        spin != nil && contention.load(ordering: .relaxed) < 128 && !Polling.isPaused
    }

    private func execute(_ batch: [Job], on instance: any InferenceModel) {
        let started = ContinuousClock.now
        var live: [Job] = []
        for job in batch {
            if let deadline = job.deadline, deadline < started {
                job.completion.resume(throwing: ServingError(
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
            var result = try Self.runOne(
                signature: job.signature, inputs: job.inputs, outputs: job.outputs, rows: job.rows, on: instance, started: started)
            result.timing.queue = job.enqueued.duration(to: started)
            job.completion.resume(returning: result)
        } catch {
            job.completion.resume(throwing: error)
        }
    }

    /// One request run by itself, on a worker or its caller: its outputs, compute time from
    /// `started` and batch size.
    private static func runOne(
        signature: Signature, inputs: [String: Tensor], outputs: [String]?, rows: Int, on instance: any InferenceModel,
        started: ContinuousClock.Instant
    ) throws -> RunResult {
        let outputs = try instance.run(prepared: signature, inputs: inputs, outputs: outputs)
        var timing = RequestTiming()
        timing.compute = started.duration(to: .now)
        timing.batchSize = rows
        return RunResult(outputs: outputs, timing: timing)
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
                first.completion.resume(throwing: error)
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
                job.completion.resume(returning: RunResult(outputs: sliced, timing: timing))
            } catch {
                job.completion.resume(throwing: error)
            }
            offset += job.rows
        }
    }
}

/// A result handed from a worker to a caller that waits on its own thread: polled for a while,
/// then slept for.
private final class ResultWaiter: @unchecked Sendable {
    // @unchecked Sendable: `result` is written once, before `done` is set with release ordering,
    // and read only after `done` is seen with acquire ordering (or after the semaphore).
    private var result: Result<RunResult, any Error>?
    private let done = Atomic<Bool>(false)
    private let semaphore = DispatchSemaphore(value: 0)

    func deliver(_ result: Result<RunResult, any Error>) {
        self.result = result
        done.store(true, ordering: .releasing)
        // Costs no system call unless the caller already sleeps on it.
        semaphore.signal()
    }

    /// The result: polled for up to `limit`, then waited for.
    func wait(polling limit: Duration) -> Result<RunResult, any Error> {
        if !Polling.wait(for: limit, until: { done.load(ordering: .acquiring) }) {
            semaphore.wait()
        }
        return result!
    }
}
