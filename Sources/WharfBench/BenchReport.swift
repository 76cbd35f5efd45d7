import WharfCore

/// The results of a benchmark run: what was measured and how, and one result per step.
public struct BenchReport: Sendable {
    /// The settings of the run.
    public var configuration: BenchConfiguration
    /// The model as the server described it.
    public var metadata: ModelMetadata
    /// One result per step, in order.
    public var steps: [BenchStepResult]

    /// A report with the given parts.
    public init(configuration: BenchConfiguration, metadata: ModelMetadata, steps: [BenchStepResult]) {
        self.configuration = configuration
        self.metadata = metadata
        self.steps = steps
    }

    /// Failed requests over all steps.
    public var totalErrors: Int { steps.reduce(0) { $0 + $1.errors } }

    /// One line saying what was measured: model, protocol, URL, batch size and durations.
    public var headline: String {
        let version = configuration.version.map { " version \($0)" } ?? ""
        let batch = configuration.inputFile.map { "inputs from \($0)" } ?? "batch size \(configuration.batchSize)"
        return "model \(configuration.model)\(version) over \(configuration.inferenceProtocol) at \(configuration.normalizedBaseURL), "
            + "\(batch), \(BenchFormat.number(configuration.duration.seconds)) s per step after "
            + "\(BenchFormat.number(configuration.warmup.seconds)) s warm-up"
    }
}
