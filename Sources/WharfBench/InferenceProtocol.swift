/// The wire protocol a benchmark speaks to the server.
public enum InferenceProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// TensorFlow Serving REST: `POST /v1/models/{m}[/versions/{v}]:predict` with a JSON body.
    case tfServing = "tfserving"
    /// KServe V2 REST with JSON tensors: `POST /v2/models/{m}[/versions/{v}]/infer`.
    case v2JSON = "v2-json"
    /// KServe V2 REST with the binary tensor data extension: a JSON header followed by the raw
    /// little-endian tensor bytes, outputs requested as binary data too.
    case v2Binary = "v2-binary"

    /// The spelling the command line uses: `tfserving`, `v2-json` or `v2-binary`.
    public var description: String { rawValue }

    /// The request path for a model (and optionally one version of it).
    public func inferencePath(model: String, version: Int64?) -> String {
        let versionPart = version.map { "/versions/\($0)" } ?? ""
        switch self {
        case .tfServing: return "/v1/models/\(model)\(versionPart):predict"
        case .v2JSON, .v2Binary: return "/v2/models/\(model)\(versionPart)/infer"
        }
    }
}
