import HTTPTypes
import Hummingbird
import NIOCore
import WharfCore
import WharfProtocols
import WharfRuntime
import WharfServing

/// The KServe V2 (Open Inference Protocol) REST API: server and model health and metadata,
/// inference with JSON or binary tensors, and the model repository extension.
struct KServeRoutes<Context: RequestContext> {
    let manager: ModelManager
    let watcher: RepositoryWatcher
    let limits: RequestLimits
    var observer: (any InferenceObserver)?

    static var serverVersion: String { "0.1.0" }

    func register(on router: Router<Context>) {
        router.get("v2") { _, _ in
            jsonResponse(.ok, encode(.object(JSONObject([
                "name": .string("wharf"), "version": .string(Self.serverVersion),
                "extensions": .array([.string("binary_tensor_data"), .string("model_repository")]),
            ]))))
        }
        router.get("v2/health/live") { _, _ in Response(status: .ok) }
        router.get("v2/health/ready") { _, _ in
            await manager.isReady() ? Response(status: .ok) : Response(status: .serviceUnavailable)
        }
        router.get("v2/models/{model}") { _, context in try metadata(context, selector: .latest) }
        router.get("v2/models/{model}/versions/{version}") { _, context in try metadata(context, selector: try versionSelector(context)) }
        router.get("v2/models/{model}/ready") { _, context in ready(context, selector: .latest) }
        router.get("v2/models/{model}/versions/{version}/ready") { _, context in ready(context, selector: try versionSelector(context)) }
        router.post("v2/models/{model}/infer") { request, context in try await infer(request, context, selector: .latest) }
        router.post("v2/models/{model}/versions/{version}/infer") { request, context in
            try await infer(request, context, selector: try versionSelector(context))
        }
        // A baseline for benchmarks: reads the body like an inference route, does nothing with it.
        router.post("wharf/noop") { request, _ in
            var request = request
            _ = try await request.collectBody(limit: limits.maxBytes)
            return jsonResponse(.ok, Array("{}".utf8))
        }
        router.post("v2/repository/index") { _, _ in try await index() }
        router.post("v2/repository/models/{model}/load") { _, context in try await load(context) }
        router.post("v2/repository/models/{model}/unload") { _, context in try await unload(context) }
    }

    private func versionSelector(_ context: Context) throws -> VersionSelector {
        try parseVersionSelector(try context.parameters.require("version"))
    }

    private func ready(_ context: Context, selector: VersionSelector) -> Response {
        guard let name = context.parameters.get("model"), (try? manager.acquire(model: name, selector)) != nil else {
            return Response(status: .badRequest)
        }
        return Response(status: .ok)
    }

    private func metadata(_ context: Context, selector: VersionSelector) throws -> Response {
        let name = try context.parameters.require("model")
        let lease = try manager.acquire(model: name, selector)
        let model = lease.servable.model
        guard let signature = model.defaultSignature else {
            throw InferenceError(.unknownSignature, "model '\(name)' has no serving_default signature to describe")
        }
        func tensors(_ specs: [TensorSpec]) -> JSONValue {
            .array(specs.map { spec in
                .object(JSONObject([
                    "name": .string(spec.name), "datatype": .string(spec.dtype.v2Name),
                    "shape": .array((spec.shape.dimensions ?? [-1]).map { .int(Int64($0)) }),
                ]))
            })
        }
        let platform = model.runtime == .tensorflow ? "tensorflow_savedmodel" : "onnxruntime_onnx"
        let versions = manager.readyVersions(of: name).map { JSONValue.string(String($0)) }
        return jsonResponse(.ok, encode(.object(JSONObject([
            "name": .string(name), "versions": .array(versions), "platform": .string(platform),
            "inputs": tensors(signature.inputs), "outputs": tensors(signature.outputs),
        ]))))
    }

    private func infer(_ request: Request, _ context: Context, selector: VersionSelector) async throws -> Response {
        let name = try context.parameters.require("model")
        return try await observeInference(observer, model: name, api: "kserve") { version, timing in
            try await infer(request, name: name, selector: selector, version: &version, observed: &timing)
        }
    }

    private func infer(
        _ request: Request, name: String, selector: VersionSelector, version: inout Int64?, observed: inout RequestTiming?
    ) async throws -> Response {
        let lease = try manager.acquire(model: name, selector) { field in HTTPField.Name(field).flatMap { request.headers[$0] } }
        version = lease.servable.version
        var timing = ServerTiming(request: request)
        var headerLength: Int?
        if let field = request.headers[kserveHeaderLengthField] {
            guard let length = Int(field), length >= 0 else {
                throw RequestError(.badRequest, "\(KServeV2.headerLengthField) expects a byte count, got '\(field)'")
            }
            headerLength = length
        }
        var request = request
        let body = try await request.collectBody(limit: limits.maxBytes)
        timing.bodyRead()
        let decoded = try body.withUnsafeReadableBytes { try KServeV2.decodeInferRequest($0, headerLength: headerLength) }
        let model = lease.servable.model
        let signature: Signature
        if let key = decoded.signatureName, !key.isEmpty {
            signature = try model.signature(named: key)
        } else {
            signature = try model.defaultSignature ?? model.signature(named: Signature.defaultKey)
        }
        try limits.check(decoded.inputs)
        timing.decoded()
        let requested = decoded.outputs?.map(\.name)
        let result = try await lease.execute(
            signature: signature.key, inputs: decoded.inputs, outputs: requested, deadline: try timing.deadline())
        timing.ran(result.timing)
        observed = result.timing
        let outputs = result.outputs
        var binaryFlags: [String: Bool] = [:]
        for output in decoded.outputs ?? [] { binaryFlags[output.name] = output.binary }
        let (bytes, jsonLength) = KServeV2.encodeInferResponse(
            modelName: name, modelVersion: String(lease.servable.version), id: decoded.id, outputs: outputs,
            order: requested ?? signature.outputs.map(\.name), binary: { binaryFlags[$0] ?? decoded.binaryOutputs })
        timing.encoded()
        guard let jsonLength else { return jsonResponse(.ok, bytes, headers: timing.headers) }
        var headers = timing.headers
        headers[.contentType] = "application/octet-stream"
        headers[kserveHeaderLengthField] = String(jsonLength)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func index() async throws -> Response {
        await watcher.indexNow()
        let entries = await manager.status().flatMap { model -> [JSONValue] in
            if model.versions.isEmpty {
                return [.object(JSONObject(["name": .string(model.name), "state": .string("UNAVAILABLE"), "reason": .string(model.explicitlyUnloaded ? "unloaded" : "")]))]
            }
            return model.versions.map { version in
                .object(JSONObject([
                    "name": .string(model.name), "version": .string(String(version.version)),
                    "state": .string(version.state.rawValue), "reason": .string(version.error ?? ""),
                ]))
            }
        }
        return jsonResponse(.ok, encode(.array(entries)))
    }

    private func load(_ context: Context) async throws -> Response {
        let name = try context.parameters.require("model")
        let source = watcher.scanner.scan()[name]
        try await manager.load(name, source: source)
        await manager.waitUntilIdle()
        guard let status = await manager.status(of: name), status.isReady else {
            let reasons = await manager.status(of: name)?.versions.compactMap(\.error) ?? []
            throw RequestError(.badRequest, "failed to load '\(name)'\(reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))")
        }
        return Response(status: .ok)
    }

    private func unload(_ context: Context) async throws -> Response {
        let name = try context.parameters.require("model")
        try await manager.unload(name)
        return Response(status: .ok)
    }
}

/// Made once: a generic type cannot hold it as a static stored property.
private let kserveHeaderLengthField = HTTPField.Name(KServeV2.headerLengthField)!
