/// One inference request, encoded once and sent many times.
public struct EncodedRequest: Sendable, Hashable {
    /// The path after the base URL (`/v2/models/mlp/infer`).
    public var path: String
    /// The request body.
    public var body: [UInt8]
    /// The `Content-Type`.
    public var contentType: String
    /// The length of the JSON header for a binary KServe V2 request (the
    /// `Inference-Header-Content-Length` value); `nil` for a JSON-only body.
    public var headerLength: Int?

    /// A request with the given parts.
    public init(path: String, body: [UInt8], contentType: String, headerLength: Int? = nil) {
        self.path = path
        self.body = body
        self.contentType = contentType
        self.headerLength = headerLength
    }
}
