/// The timeline of one step: warm-up from `start`, then the measurement window.
struct StepWindow: Sendable {
    let start: ContinuousClock.Instant
    let measureStart: ContinuousClock.Instant
    let measureEnd: ContinuousClock.Instant

    init(start: ContinuousClock.Instant, warmup: Duration, duration: Duration) {
        self.start = start
        self.measureStart = start + warmup
        self.measureEnd = start + warmup + duration
    }

    var warmup: Duration { measureStart - start }
    var duration: Duration { measureEnd - measureStart }

    /// Whether `instant` falls in the measurement window.
    func measures(_ instant: ContinuousClock.Instant) -> Bool {
        instant >= measureStart && instant < measureEnd
    }
}
