import Synchronization

/// Counters the load loops bump and the progress reporter reads while a step runs.
final class LiveCounters: Sendable {
    /// Every answered request, warm-up included.
    let answered = Atomic<Int>(0)
    /// Answered requests in the measurement window.
    let measured = Atomic<Int>(0)
    /// Failed requests in the measurement window.
    let failed = Atomic<Int>(0)
}
