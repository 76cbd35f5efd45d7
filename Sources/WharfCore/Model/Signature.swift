/// A named tensor a signature takes or returns, with its declared type and shape.
public struct TensorSpec: Sendable, Hashable, CustomStringConvertible {
    /// The key clients use (a SignatureDef input/output key, or an ONNX input/output name).
    public var name: String
    public var dtype: DataType
    public var shape: TensorShape
    /// The graph tensor behind the key (`serving_default_pixels:0`), where the runtime has one.
    public var tensorName: String?

    public init(name: String, dtype: DataType, shape: TensorShape, tensorName: String? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.tensorName = tensorName
    }

    public var description: String { "\(name): \(dtype) \(shape)" }
}

/// One callable entry point of a model: named inputs and outputs, as in a TensorFlow SignatureDef.
public struct Signature: Sendable, Hashable {
    /// The signature key used by TensorFlow Serving clients.
    public static let defaultKey = "serving_default"
    /// TensorFlow Serving's method name for predict signatures.
    public static let predictMethod = "tensorflow/serving/predict"

    public var key: String
    public var methodName: String
    /// Inputs in a stable order (sorted by name).
    public var inputs: [TensorSpec]
    /// Outputs in a stable order (sorted by name).
    public var outputs: [TensorSpec]

    public init(key: String, methodName: String = Signature.predictMethod, inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.key = key
        self.methodName = methodName
        self.inputs = inputs.sorted { $0.name < $1.name }
        self.outputs = outputs.sorted { $0.name < $1.name }
    }

    /// The input of the given name, if the signature has one.
    public func input(named name: String) -> TensorSpec? { inputs.first { $0.name == name } }

    /// The output of the given name, if the signature has one.
    public func output(named name: String) -> TensorSpec? { outputs.first { $0.name == name } }

    /// Checks that `tensors` provides exactly this signature's inputs with matching types, ranks
    /// and static dimensions; the error names the input and says what was expected and what came.
    public func validate(inputs tensors: [String: Tensor]) throws(InferenceError) {
        for name in tensors.keys.sorted() where input(named: name) == nil {
            throw InferenceError(
                .unknownInput,
                "signature '\(key)' has no input '\(name)'; its inputs are: \(inputNames)")
        }
        for spec in inputs {
            guard let tensor = tensors[spec.name] else {
                throw InferenceError(
                    .missingInput, "signature '\(key)' needs input '\(spec.name)' (\(spec.dtype) \(spec.shape)), it is missing")
            }
            guard tensor.dtype == spec.dtype else {
                throw InferenceError(
                    .dtypeMismatch,
                    "input '\(spec.name)' expects \(spec.dtype) \(spec.shape), got \(tensor.dtype) \(tensor.shape.shapeDescription)")
            }
            guard spec.shape.accepts(tensor.shape) else {
                let what = spec.shape.rank == tensor.shape.count ? "a different static dimension" : "rank \(tensor.shape.count)"
                throw InferenceError(
                    .shapeMismatch,
                    "input '\(spec.name)' expects \(spec.dtype) \(spec.shape), got \(tensor.dtype) \(tensor.shape.shapeDescription) (\(what))")
            }
        }
    }

    /// Checks that every name in `names` is an output of this signature.
    public func validate(outputNames names: [String]) throws(InferenceError) {
        for name in names where output(named: name) == nil {
            throw InferenceError(
                .unknownOutput, "signature '\(key)' has no output '\(name)'; its outputs are: \(outputNames)")
        }
    }

    private var inputNames: String { inputs.map(\.name).joined(separator: ", ") }
    private var outputNames: String { outputs.map(\.name).joined(separator: ", ") }
}
