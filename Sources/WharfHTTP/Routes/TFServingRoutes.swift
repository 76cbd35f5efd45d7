import HTTPTypes
import Hummingbird
import NIOCore
import WharfCore
import WharfProtocols
import WharfRuntime
import WharfServing

/// TensorFlow Serving's REST API: model status, metadata and `:predict`, for the latest version,
/// a version number or a version label, with TF Serving's paths, bodies and errors.
struct TFServingRoutes<Context: RequestContext> {
    let manager: ModelManager
    let limits: RequestLimits
    var observer: (any InferenceObserver)?

    func register(on router: Router<Context>) {
        let models = router.group("v1/models")
        models.get("{model}") { request, context in try await get(context, selector: .latest) }
        models.get("{model}/metadata") { _, context in try metadata(context, selector: .latest) }
        models.get("{model}/versions/{version}") { _, context in try await get(context, selector: try versionSelector(context)) }
        models.get("{model}/versions/{version}/metadata") { _, context in try metadata(context, selector: try versionSelector(context)) }
        models.get("{model}/labels/{label}") { _, context in try await get(context, selector: try labelSelector(context)) }
        models.get("{model}/labels/{label}/metadata") { _, context in try metadata(context, selector: try labelSelector(context)) }
        models.post("{model}") { request, context in try await post(request, context, selectorParameter: nil) }
        models.post("{model}/versions/{version}") { request, context in try await post(request, context, selectorParameter: "version") }
        models.post("{model}/labels/{label}") { request, context in try await post(request, context, selectorParameter: "label") }
    }

    // MARK: Paths

    /// Splits `name:verb` off the last path segment.
    private func splitVerb(_ segment: String) throws -> (String, String) {
        guard let colon = segment.lastIndex(of: ":") else {
            throw RequestError(.notFound, "expected a URL ending in :predict, :classify or :regress, got '\(segment)'")
        }
        return (String(segment[..<colon]), String(segment[segment.index(after: colon)...]))
    }

    private func versionSelector(_ context: Context) throws -> VersionSelector {
        try parseVersionSelector(try context.parameters.require("version"))
    }

    private func labelSelector(_ context: Context) throws -> VersionSelector {
        .label(try context.parameters.require("label"))
    }

    // MARK: Handlers

    private func get(_ context: Context, selector: VersionSelector) async throws -> Response {
        let name = try context.parameters.require("model")
        guard let status = await manager.status(of: name) else {
            throw ServingError(.modelNotFound, "Could not find any versions of model \(name)")
        }
        var versions = status.versions
        switch selector {
        case .latest:
            break
        case .number(let version):
            versions = versions.filter { $0.version == version }
            guard !versions.isEmpty else {
                throw ServingError(.versionNotFound, "Could not find version \(version) of model \(name)")
            }
        case .label(let label):
            guard let version = status.labels[label] else {
                throw ServingError(.labelNotFound, "Unrecognized servable version label: \(label)")
            }
            versions = versions.filter { $0.version == version }
        }
        let entries: [JSONValue] = versions.sorted { $0.version > $1.version }.map { version in
            .object(JSONObject([
                "version": .string(String(version.version)),
                "state": .string(version.state.tensorFlowServingName),
                "status": .object(JSONObject([
                    "error_code": .string(version.error == nil ? "OK" : "UNKNOWN"),
                    "error_message": .string(version.error ?? ""),
                ])),
            ]))
        }
        return jsonResponse(.ok, encode(.object(JSONObject(["model_version_status": .array(entries)]))))
    }

    private func metadata(_ context: Context, selector: VersionSelector) throws -> Response {
        let name = try context.parameters.require("model")
        let lease = try manager.acquire(model: name, selector)
        let signatures = lease.servable.model.signatures.map { signature in
            JSONObject.Member(key: signature.key, value: .object(JSONObject([
                "inputs": tensorInfos(signature.inputs),
                "outputs": tensorInfos(signature.outputs),
                "method_name": .string(signature.methodName),
                "defaults": .object(JSONObject()),
            ])))
        }
        let body: JSONValue = .object(JSONObject([
            "model_spec": .object(JSONObject([
                "name": .string(name), "signature_name": .string(""), "version": .string(String(lease.servable.version)),
            ])),
            "metadata": .object(JSONObject([
                "signature_def": .object(JSONObject(["signature_def": .object(JSONObject(signatures))])),
            ])),
        ]))
        return jsonResponse(.ok, encode(body))
    }

    private func tensorInfos(_ specs: [TensorSpec]) -> JSONValue {
        .object(JSONObject(specs.map { spec in
            let shape: JSONValue
            if let dimensions = spec.shape.dimensions {
                shape = .object(JSONObject([
                    "dim": .array(dimensions.map { .object(JSONObject(["size": .string(String($0)), "name": .string("")])) }),
                    "unknown_rank": .bool(false),
                ]))
            } else {
                shape = .object(JSONObject(["dim": .array([]), "unknown_rank": .bool(true)]))
            }
            return JSONObject.Member(key: spec.name, value: .object(JSONObject([
                "dtype": .string(spec.dtype.tensorFlowName), "tensor_shape": shape, "name": .string(spec.tensorName ?? spec.name),
            ])))
        }))
    }

    private func post(_ request: Request, _ context: Context, selectorParameter: String?) async throws -> Response {
        // The verb is glued to the last path segment: /v1/models/m:predict, .../versions/3:predict.
        let lastParameter = selectorParameter ?? "model"
        let (value, verb) = try splitVerb(try context.parameters.require(lastParameter))
        guard verb == "predict" else {
            if verb == "classify" || verb == "regress" {
                throw RequestError(.notImplemented, ":\(verb) is not supported yet; use :predict")
            }
            throw RequestError(.notFound, "unknown method ':\(verb)'; expected :predict, :classify or :regress")
        }
        let name: String
        let selector: VersionSelector
        switch selectorParameter {
        case nil:
            name = value
            selector = .latest
        case "version":
            name = try context.parameters.require("model")
            selector = try parseVersionSelector(value)
        default:
            name = try context.parameters.require("model")
            selector = .label(value)
        }
        return try await observeInference(observer, model: name, api: "tfserving") { version, timing in
            try await predict(request, name: name, selector: selector, version: &version, observed: &timing)
        }
    }

    private func predict(
        _ request: Request, name: String, selector: VersionSelector, version: inout Int64?, observed: inout RequestTiming?
    ) async throws -> Response {
        let lease = try manager.acquire(model: name, selector) { field in HTTPField.Name(field).flatMap { request.headers[$0] } }
        version = lease.servable.version
        var timing = ServerTiming(request: request)
        var request = request
        let body = try await request.collectBody(limit: limits.maxBytes)
        timing.bodyRead()
        let model = lease.servable.model
        let decoded = try body.withUnsafeReadableBytes { bytes in
            try TFServingJSON.decodePredictRequest(bytes) { signatureName in
                if let signatureName, !signatureName.isEmpty { return try model.signature(named: signatureName) }
                guard let signature = model.defaultSignature else {
                    return try model.signature(named: Signature.defaultKey)
                }
                return signature
            }
        }
        try limits.check(decoded.inputs)
        timing.decoded()
        let result = try await lease.execute(
            signature: decoded.signatureKey, inputs: decoded.inputs, outputs: nil, deadline: try timing.deadline())
        timing.ran(result.timing)
        observed = result.timing
        let bytes = try TFServingJSON.encodePredictResponse(result.outputs, format: decoded.format)
        timing.encoded()
        return jsonResponse(.ok, bytes, headers: timing.headers)
    }
}

/// Per-request limits beyond the body size.
struct RequestLimits: Sendable {
    var maxBytes: Int
    var maxElements: Int

    /// Rejects requests whose inputs hold more elements than allowed (413).
    func check(_ inputs: [String: Tensor]) throws {
        let elements = inputs.values.reduce(0) { $0 + $1.elementCount }
        guard elements <= maxElements else {
            throw RequestError(.contentTooLarge, "request holds \(elements) input elements, more than the limit of \(maxElements)")
        }
    }
}
