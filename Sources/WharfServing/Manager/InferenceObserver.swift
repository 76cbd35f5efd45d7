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

    public init(model: String, version: Int64?, api: String, status: Int, duration: Duration, timing: RequestTiming?) {
        self.model = model
        self.version = version
        self.api = api
        self.status = status
        self.duration = duration
        self.timing = timing
    }

    /// Answers that count as errors: server-side failures (5xx). Client mistakes (4xx) are the
    /// client's, except 429 (overloaded).
    public var isError: Bool { status >= 500 || status == 429 }
}

/// Receives every inference request's record (metrics, sliding windows). Called on the request's
/// task: implementations must be cheap and must not block.
public protocol InferenceObserver: Sendable {
    func record(_ record: InferenceRecord)
}
