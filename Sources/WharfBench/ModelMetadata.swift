public import WharfCore
public import WharfProtocols

/// What the server says about a model: KServe V2 model metadata (`GET /v2/models/{m}`).
public struct ModelMetadata: Sendable, Hashable {
    /// The model's name.
    public var name: String
    /// The versions the server has ready.
    public var versions: [String]
    /// The runtime platform (`tensorflow_savedmodel`, `onnxruntime_onnx`, ...).
    public var platform: String
    /// The inputs of the served signature; `-1` marks a dynamic dimension.
    public var inputs: [TensorSpec]
    /// The outputs of the served signature.
    public var outputs: [TensorSpec]

    /// Metadata with the given fields.
    public init(name: String, versions: [String] = [], platform: String = "", inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.name = name
        self.versions = versions
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Reads a KServe V2 metadata response body.
    public init(json: JSONValue) throws(BenchError) {
        guard case .object(let root) = json else {
            throw BenchError(.invalidMetadata, "model metadata is a JSON object, got \(json.briefDescription)")
        }
        name = root["name"]?.stringValue ?? ""
        versions = root["versions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        platform = root["platform"]?.stringValue ?? ""
        inputs = try Self.tensors(root["inputs"], field: "inputs")
        outputs = try Self.tensors(root["outputs"], field: "outputs")
        guard !inputs.isEmpty else {
            throw BenchError(.invalidMetadata, "model metadata lists no inputs; a benchmark needs at least one")
        }
    }

    private static func tensors(_ value: JSONValue?, field: String) throws(BenchError) -> [TensorSpec] {
        guard let value else { return [] }
        guard case .array(let list) = value else {
            throw BenchError(.invalidMetadata, "model metadata '\(field)' is a list, got \(value.briefDescription)")
        }
        var specs: [TensorSpec] = []
        for (index, entry) in list.enumerated() {
            guard case .string(let name) = entry["name"] ?? .null else {
                throw BenchError(.invalidMetadata, "model metadata \(field)[\(index)] needs a \"name\" string")
            }
            guard case .string(let datatype) = entry["datatype"] ?? .null else {
                throw BenchError(.invalidMetadata, "model metadata \(field) '\(name)' needs a \"datatype\" string")
            }
            guard let dtype = DataType.allCases.first(where: { $0.v2Name == datatype }) else {
                throw BenchError(
                    .invalidMetadata,
                    "model metadata \(field) '\(name)' has datatype '\(datatype)'; expected one of \(DataType.allCases.map(\.v2Name).joined(separator: ", "))")
            }
            guard case .array(let dimensions) = entry["shape"] ?? .null else {
                throw BenchError(.invalidMetadata, "model metadata \(field) '\(name)' needs a \"shape\" list")
            }
            var shape: [Int] = []
            for dimension in dimensions {
                guard case .int(let size) = dimension, size >= -1, let value = Int(exactly: size) else {
                    throw BenchError(
                        .invalidMetadata,
                        "model metadata \(field) '\(name)' shape holds sizes or -1, got \(dimension.briefDescription)")
                }
                shape.append(value)
            }
            specs.append(TensorSpec(name: name, dtype: dtype, shape: TensorShape(shape)))
        }
        return specs
    }
}
