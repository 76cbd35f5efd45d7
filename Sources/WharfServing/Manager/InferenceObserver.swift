/// One inference request as the front end saw it: what monitoring records.
public struct InferenceRecord: Sendable {
    public var model: String
    /// The version that ran it; `nil` when the request failed before a version was chosen.
    public var version: Int64?
    /// The API it came through: `tfserving`, `kserve`.
    public var api: String
    /// The HTTP status of the answer.
    public var status: Int
    /// Time on the server from the request's arrival at the route to the encoded answer.
    public var duration: Duration
    /// Where the time went, when the request got as far as running.
    public var timing: RequestTiming?
    /// The model itself failed while running (a runtime error, whatever status it maps to).
    public var modelFailed: Bool

    public init(
        model: String, version: Int64?, api: String, status: Int, duration: Duration, timing: RequestTiming?, modelFailed: Bool = false
    ) {
        self.model = model
        self.version = version
        self.api = api
        self.status = status
        self.duration = duration
        self.timing = timing
        self.modelFailed = modelFailed
    }

    /// Answers that count as errors of the version: server-side failures (5xx), overload (429),
    /// and the model failing at run time. Requests Wharf refused before running them (wrong
    /// dtype, shape, unknown model) are the client's mistakes and do not count.
    public var isError: Bool { status >= 500 || status == 429 || modelFailed }
}

/// Receives every inference request's record (metrics, sliding windows). Called on the request's
/// task: implementations must be cheap and must not block.
public protocol InferenceObserver: Sendable {
    func record(_ record: InferenceRecord)
}
