public import WharfCore

/// A model loaded into a runtime, ready to run. Implementations are thread-safe: several threads
/// may call `run` at once.
public protocol InferenceModel: AnyObject, Sendable {
    /// The runtime executing the model.
    var runtime: RuntimeKind { get }
    /// The format the model was loaded from.
    var format: ModelFormat { get }
    /// Where the model was loaded from.
    var path: String { get }
    /// Every signature, sorted by key.
    var signatures: [Signature] { get }
    /// Facts about the model for people (`tensorflow_version`, `producer`, `opset`, ...).
    var metadata: [String: String] { get }

    /// Runs a signature (`nil` for the default one: `serving_default`, or the only one). Inputs are checked against the signature first; `outputs` limits the
    /// outputs computed (all when `nil`). Blocks the calling thread for the whole computation, so
    /// call it from a dedicated thread, never from an event loop; the serving scheduler also runs
    /// lone requests on their own thread of Swift's cooperative pool, within a budget that always
    /// leaves one of its threads free.
    func run(signature: String?, inputs: [String: Tensor], outputs: [String]?) throws -> [String: Tensor]

    /// Runs inputs already checked against `signature` by `prepare`, without checking them again.
    func run(prepared signature: Signature, inputs: [String: Tensor], outputs: [String]?) throws -> [String: Tensor]
}

extension InferenceModel {
    /// The signature with the given key, or an error listing the keys there are.
    public func signature(named key: String) throws(InferenceError) -> Signature {
        if let signature = signatures.first(where: { $0.key == key }) { return signature }
        let keys = signatures.map(\.key).joined(separator: ", ")
        throw InferenceError(.unknownSignature, "serving signature key '\(key)' not found; the model has: \(keys)")
    }

    /// The signature a request that names none should use: `serving_default`, or the only one.
    public var defaultSignature: Signature? {
        signatures.first { $0.key == Signature.defaultKey } ?? (signatures.count == 1 ? signatures.first : nil)
    }

    /// Runs a signature (the default one when `nil`) on `inputs` with every output.
    public func run(signature: String? = nil, inputs: [String: Tensor]) throws -> [String: Tensor] {
        try run(signature: signature, inputs: inputs, outputs: nil)
    }

    /// By default the inputs are simply checked again.
    public func run(prepared signature: Signature, inputs: [String: Tensor], outputs: [String]?) throws -> [String: Tensor] {
        try run(signature: signature.key, inputs: inputs, outputs: outputs)
    }

    /// Resolves a request's signature key (`nil` or empty picks the default) and checks its inputs
    /// and requested outputs; the common first step of every backend's `run`, and of schedulers
    /// that validate a request before it joins a batch.
    public func prepare(signature key: String?, inputs: [String: Tensor], outputs: [String]?) throws(InferenceError) -> Signature {
        let signature: Signature
        if let key, !key.isEmpty {
            signature = try self.signature(named: key)
        } else if let fallback = defaultSignature {
            signature = fallback
        } else {
            signature = try self.signature(named: Signature.defaultKey)
        }
        try signature.validate(inputs: inputs)
        if let outputs { try signature.validate(outputNames: outputs) }
        return signature
    }
}
