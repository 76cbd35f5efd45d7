import Synchronization
import WharfCore
import WharfProtocols

/// Runs a benchmark: reads the model's metadata, builds the request once per step (from the input
/// file or from random inputs that fit the model), then offers the configured load step by step
/// and measures it.
///
/// ```swift
/// let configuration = BenchConfiguration(model: "mlp", mode: .closedLoop(concurrencies: [1, 4]))
/// let report = try await BenchRunner(configuration: configuration).run()
/// print(report.table())
/// ```
public struct BenchRunner: Sendable {
    /// The settings of the run.
    public let configuration: BenchConfiguration

    /// A runner for `configuration` (checked when the run starts).
    public init(configuration: BenchConfiguration) {
        self.configuration = configuration
    }

    /// Runs every step and returns the measurements. `progress`, when given, is called about four
    /// times a second from a background task while a step runs.
    ///
    /// Throws `BenchError` when the settings are invalid, the server cannot be reached, it does not
    /// serve the model, or the input file is unusable. Failed requests do not throw; they are
    /// counted in each step's results.
    public func run(progress: (@Sendable (BenchProgress) -> Void)? = nil) async throws(BenchError) -> BenchReport {
        try configuration.validate()
        let client = BenchClient(
            poolSize: configuration.mode.maximumConcurrency, requestTimeout: configuration.requestTimeout,
            baseURL: configuration.normalizedBaseURL)
        do {
            let report = try await run(client: client, progress: progress)
            await client.shutdown()
            return report
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// The model's metadata and the request the first step sends, without offering any load
    /// (to look at the request, or to hand the same bytes to another load generator).
    public func prepareRequest() async throws(BenchError) -> (metadata: ModelMetadata, request: EncodedRequest) {
        try configuration.validate()
        let client = BenchClient(poolSize: 1, requestTimeout: configuration.requestTimeout, baseURL: configuration.normalizedBaseURL)
        do {
            let metadata = try await client.metadata(url: configuration.metadataURL, model: configuration.model)
            let request = try encodedRequest(metadata: metadata, fileInputs: try fileInputs(metadata), step: 0)
            await client.shutdown()
            return (metadata, request)
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func run(client: BenchClient, progress: (@Sendable (BenchProgress) -> Void)?) async throws(BenchError) -> BenchReport {
        let metadata = try await client.metadata(url: configuration.metadataURL, model: configuration.model)
        let fileInputs = try fileInputs(metadata)
        let steps = configuration.mode.steps
        var results: [BenchStepResult] = []
        for (index, load) in steps.enumerated() {
            let encoded = try encodedRequest(metadata: metadata, fileInputs: fileInputs, step: index)
            let request = try client.prepare(encoded, baseURL: configuration.normalizedBaseURL)
            let counters = LiveCounters()
            let window = StepWindow(start: .now, warmup: configuration.warmup, duration: configuration.duration)
            let reporter = progress.map { callback in
                Task {
                    await Self.reportProgress(
                        step: index + 1, stepCount: steps.count, load: load, window: window, counters: counters, callback: callback)
                }
            }
            let result: BenchStepResult
            switch load {
            case .concurrency(let concurrency):
                result = await ClosedLoop.run(
                    concurrency: concurrency, request: request, client: client, window: window, counters: counters)
            case .rate(let rate, let maxInFlight):
                result = await OpenLoop.run(
                    requestsPerSecond: rate, maxInFlight: maxInFlight, request: request, client: client, window: window,
                    counters: counters)
            }
            reporter?.cancel()
            await reporter?.value
            results.append(result)
        }
        return BenchReport(configuration: configuration, metadata: metadata, steps: results)
    }

    private func fileInputs(_ metadata: ModelMetadata) throws(BenchError) -> TFServingJSON.PredictRequest? {
        guard let path = configuration.inputFile else { return nil }
        return try InputFile.load(path: path, metadata: metadata)
    }

    private func encodedRequest(
        metadata: ModelMetadata, fileInputs: TFServingJSON.PredictRequest?, step: Int
    ) throws(BenchError) -> EncodedRequest {
        let inputs: [String: Tensor]
        if let fileInputs {
            inputs = fileInputs.inputs
        } else {
            inputs = try InputSynthesizer.synthesize(
                metadata.inputs, batchSize: configuration.batchSize, seed: configuration.seed &+ UInt64(step))
        }
        return RequestEncoder.encode(
            inputs, outputs: metadata.outputs.map(\.name), inferenceProtocol: configuration.inferenceProtocol,
            model: configuration.model, version: configuration.version, tfServingFormat: fileInputs?.format ?? .row)
    }

    private static func reportProgress(
        step: Int, stepCount: Int, load: StepLoad, window: StepWindow, counters: LiveCounters,
        callback: @Sendable (BenchProgress) -> Void
    ) async {
        let clock = ContinuousClock()
        var lastTime = clock.now
        var lastAnswered = 0
        while !Task.isCancelled {
            try? await clock.sleep(for: .milliseconds(250))
            guard !Task.isCancelled else { break }
            let now = clock.now
            let answered = counters.answered.load(ordering: .relaxed)
            let rate = Double(answered - lastAnswered) / max((now - lastTime).seconds, 1e-6)
            (lastTime, lastAnswered) = (now, answered)
            let phase: BenchProgress.Phase
            let elapsed: Duration
            let length: Duration
            if now < window.measureStart {
                (phase, elapsed, length) = (.warmup, now - window.start, window.warmup)
            } else if now < window.measureEnd {
                (phase, elapsed, length) = (.measuring, now - window.measureStart, window.duration)
            } else {
                (phase, elapsed, length) = (.draining, now - window.measureEnd, .zero)
            }
            callback(BenchProgress(
                step: step, stepCount: stepCount, load: load, phase: phase, elapsed: elapsed.seconds,
                phaseDuration: length.seconds, requests: counters.measured.load(ordering: .relaxed),
                errors: counters.failed.load(ordering: .relaxed), currentRate: rate))
        }
    }
}
