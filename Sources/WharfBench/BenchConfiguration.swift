/// Everything a benchmark run needs: where the server is, which model, the protocol, the load
/// and how long to measure it.
public struct BenchConfiguration: Sendable, Hashable {
    /// The server's base URL, e.g. `http://127.0.0.1:8501` (a trailing `/` is ignored).
    public var baseURL: String
    /// The model to benchmark.
    public var model: String
    /// A specific version; `nil` for the server's latest.
    public var version: Int64?
    /// The wire protocol.
    public var inferenceProtocol: InferenceProtocol
    /// Rows per request for synthesized inputs (replaces a dynamic first dimension). Ignored when
    /// `inputFile` is set: the file's tensors are sent as they are.
    public var batchSize: Int
    /// Closed loop over a list of concurrencies, or open loop at a fixed rate.
    public var mode: LoadMode
    /// How long each step is measured.
    public var duration: Duration
    /// How long each step runs before measuring starts (connections opened, caches warm).
    public var warmup: Duration
    /// A JSON file with the inputs: `{"inputs": {name: nested list}}` or any TensorFlow Serving
    /// predict body. `nil`: inputs are synthesized from the model's metadata.
    public var inputFile: String?
    /// How long the client waits for a request's answer to go on arriving (the connection's read
    /// timeout) before the request counts as failed. The metadata request gets as long.
    public var requestTimeout: Duration
    /// Seed for synthesized input values (each step uses `seed + step index`).
    public var seed: UInt64

    /// A configuration; every setting but the model has a default.
    public init(
        baseURL: String = "http://127.0.0.1:8501", model: String, version: Int64? = nil,
        inferenceProtocol: InferenceProtocol = .v2Binary, batchSize: Int = 1,
        mode: LoadMode = .closedLoop(concurrencies: [1]), duration: Duration = .seconds(10),
        warmup: Duration = .seconds(2), inputFile: String? = nil, requestTimeout: Duration = .seconds(30),
        seed: UInt64 = 42
    ) {
        self.baseURL = baseURL
        self.model = model
        self.version = version
        self.inferenceProtocol = inferenceProtocol
        self.batchSize = batchSize
        self.mode = mode
        self.duration = duration
        self.warmup = warmup
        self.inputFile = inputFile
        self.requestTimeout = requestTimeout
        self.seed = seed
    }

    /// `baseURL` without trailing slashes.
    public var normalizedBaseURL: String {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The full URL inference requests go to.
    public var inferenceURL: String {
        normalizedBaseURL + inferenceProtocol.inferencePath(model: model, version: version)
    }

    /// The KServe V2 metadata URL of the model (or of the chosen version).
    public var metadataURL: String {
        normalizedBaseURL + "/v2/models/\(model)" + (version.map { "/versions/\($0)" } ?? "")
    }

    /// Checks every setting; the error names the setting, what it expects and what it got.
    public func validate() throws(BenchError) {
        guard let scheme = ["http://", "https://"].first(where: { baseURL.hasPrefix($0) }) else {
            throw BenchError(.invalidConfiguration, "the server URL starts with http:// or https://, got '\(baseURL)'")
        }
        let authority = baseURL.dropFirst(scheme.count).prefix(while: { $0 != "/" })
        guard !authority.isEmpty, !authority.contains(where: \.isWhitespace) else {
            throw BenchError(.invalidConfiguration, "the server URL needs a host, e.g. http://127.0.0.1:8501; got '\(baseURL)'")
        }
        guard !model.isEmpty, !model.contains("/"), !model.contains(where: \.isWhitespace) else {
            throw BenchError(.invalidConfiguration, "the model name is a non-empty name without '/' or spaces, got '\(model)'")
        }
        if let version, version < 0 {
            throw BenchError(.invalidConfiguration, "a model version is a non-negative integer, got \(version)")
        }
        guard batchSize >= 1 else {
            throw BenchError(.invalidConfiguration, "the batch size is at least 1, got \(batchSize)")
        }
        switch mode {
        case .closedLoop(let concurrencies):
            guard !concurrencies.isEmpty else {
                throw BenchError(.invalidConfiguration, "closed loop needs at least one concurrency")
            }
            if let bad = concurrencies.first(where: { $0 < 1 || $0 > 4096 }) {
                throw BenchError(.invalidConfiguration, "a concurrency is between 1 and 4096, got \(bad)")
            }
        case .openLoop(let rate, let maxInFlight):
            guard rate.isFinite, rate > 0, rate <= 1_000_000 else {
                throw BenchError(.invalidConfiguration, "the request rate is a positive number of requests per second up to 1000000, got \(rate)")
            }
            guard maxInFlight >= 1, maxInFlight <= 4096 else {
                throw BenchError(.invalidConfiguration, "max in-flight requests is between 1 and 4096, got \(maxInFlight)")
            }
        }
        guard duration > .zero else {
            throw BenchError(.invalidConfiguration, "the measurement duration is positive, got \(duration)")
        }
        guard warmup >= .zero else {
            throw BenchError(.invalidConfiguration, "the warm-up duration is zero or positive, got \(warmup)")
        }
        guard requestTimeout > .zero else {
            throw BenchError(.invalidConfiguration, "the request timeout is positive, got \(requestTimeout)")
        }
    }
}
