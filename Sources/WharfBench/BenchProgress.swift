/// A snapshot of a running benchmark, for a progress line.
public struct BenchProgress: Sendable, Hashable {
    /// What the current step is doing.
    public enum Phase: String, Sendable, Hashable {
        /// Sending requests that are not measured yet.
        case warmup = "warm-up"
        /// Measuring.
        case measuring
        /// The window closed; waiting for requests still outstanding.
        case draining
    }

    /// The current step, from 1.
    public var step: Int
    /// The number of steps.
    public var stepCount: Int
    /// The current step's load.
    public var load: StepLoad
    /// The current phase.
    public var phase: Phase
    /// Seconds into the current phase.
    public var elapsed: Double
    /// The length of the current phase in seconds.
    public var phaseDuration: Double
    /// Requests answered since measuring started (0 during warm-up).
    public var requests: Int
    /// Failed requests since measuring started.
    public var errors: Int
    /// Requests answered per second over the last interval.
    public var currentRate: Double

    /// A snapshot with the given values.
    public init(
        step: Int, stepCount: Int, load: StepLoad, phase: Phase, elapsed: Double, phaseDuration: Double, requests: Int,
        errors: Int, currentRate: Double
    ) {
        self.step = step
        self.stepCount = stepCount
        self.load = load
        self.phase = phase
        self.elapsed = elapsed
        self.phaseDuration = phaseDuration
        self.requests = requests
        self.errors = errors
        self.currentRate = currentRate
    }

    /// One line: `[1/3] concurrency 4  measuring 3.2/10.0 s  12034 requests  0 errors  3761 req/s`.
    public var line: String {
        let time = phase == .draining
            ? "draining"
            : "\(phase.rawValue) \(BenchFormat.fixed(min(elapsed, phaseDuration), 1))/\(BenchFormat.fixed(phaseDuration, 1)) s"
        return "[\(step)/\(stepCount)] \(load)  \(time)  \(requests) requests  \(errors) errors  \(BenchFormat.fixed(currentRate, 0)) req/s"
    }
}
