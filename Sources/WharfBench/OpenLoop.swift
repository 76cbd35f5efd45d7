import Synchronization
import WharfCore

/// Open-loop load: request `i` is scheduled at `start + i / rate`, whatever the server's speed,
/// with at most `maxInFlight` requests outstanding.
///
/// Latency runs from the scheduled send time, not the actual one, so a server that falls behind
/// shows it in the latency (no coordinated omission). A request that cannot leave on time because
/// `maxInFlight` requests are outstanding waits for a slot and counts as late; requests still
/// unsent when the window closes count as dropped. A request counts in the step when its scheduled
/// time falls inside the measurement window; the step waits for all of them to be answered.
enum OpenLoop {
    /// A request that leaves more than this after its scheduled time counts as late.
    static let lateThreshold: Duration = .milliseconds(1)

    static func run(
        requestsPerSecond rate: Double, maxInFlight: Int, request: BenchClient.PreparedRequest, client: BenchClient,
        window: StepWindow, counters: LiveCounters
    ) async -> BenchStepResult {
        let clock = ContinuousClock()
        let interval = Duration.seconds(1 / rate)
        let shards = RecorderShards(count: 16)
        let slots = SlotPool(capacity: maxInFlight)
        var index = 0
        var sent = 0
        var late = 0
        while !Task.isCancelled {
            let scheduled = window.start + interval * index
            guard scheduled < window.measureEnd else { break }
            if clock.now < scheduled {
                try? await clock.sleep(until: scheduled, tolerance: nil)
            }
            if !slots.tryAcquire() {
                await slots.acquire()
            }
            let leaving = clock.now
            guard leaving < window.measureEnd else {
                slots.release()
                break
            }
            let measured = window.measures(scheduled)
            if measured {
                sent += 1
                if leaving - scheduled > lateThreshold { late += 1 }
            }
            let key = index
            client.send(request) { outcome in
                let answered = ContinuousClock.now
                counters.answered.wrappingAdd(1, ordering: .relaxed)
                if measured {
                    counters.measured.wrappingAdd(1, ordering: .relaxed)
                    shards.withRecorder(key) { recorder in
                        switch outcome {
                        case .success: recorder.recordSuccess(answered - scheduled)
                        case .failure(let message):
                            counters.failed.wrappingAdd(1, ordering: .relaxed)
                            recorder.recordFailure(message)
                        }
                    }
                }
                slots.release()
            }
            index += 1
        }
        // Wait until every request sent has been answered: all slots are free again.
        for _ in 0..<maxInFlight {
            await slots.acquire()
        }
        // Every request scheduled in the window that did not leave was dropped.
        var dropped = 0
        while true {
            let scheduled = window.start + interval * index
            guard scheduled < window.measureEnd else { break }
            if window.measures(scheduled) { dropped += 1 }
            index += 1
        }
        let recorder = shards.merged()
        let seconds = window.duration.seconds
        return BenchStepResult(
            load: .rate(requestsPerSecond: rate, maxInFlight: maxInFlight), duration: seconds,
            requests: recorder.successes + recorder.failures, errors: recorder.failures, errorMessages: recorder.errorMessages,
            late: late, dropped: dropped, latency: recorder.summary, throughput: Double(recorder.successes) / seconds,
            achievedRate: Double(sent) / seconds)
    }
}
