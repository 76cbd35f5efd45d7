import Foundation
import WharfCore
import WharfProtocols
import WharfRuntime

/// One warm-up request.
struct WarmupRequest: Sendable {
    var signature: String?
    var inputs: [String: Tensor]
}

/// Where a version's warm-up requests come from, in order of preference:
/// 1. TF Serving's `assets.extra/tf_serving_warmup_requests` (a TFRecord file of PredictionLog
///    protos), so existing TF Serving model directories keep working;
/// 2. a JSON file (the model config's `warmup.file`, or `warmup.json` in the version directory)
///    holding a list of TF Serving predict bodies;
/// 3. requests synthesized from the default signature for each warm-up batch size.
enum WarmupRequests {
    /// The requests, and whether they came from a file (a file's failure fails the load; a
    /// synthesized request's failure is only logged, since made-up values may not suit every model).
    static func make(for model: any InferenceModel, versionPath: String, config: PerformanceConfig) throws -> (requests: [WarmupRequest], fromFile: Bool) {
        let tfServingFile = versionPath + "/assets.extra/tf_serving_warmup_requests"
        if FileManager.default.fileExists(atPath: tfServingFile) {
            return (try TFServingWarmupFile.read(path: tfServingFile), true)
        }
        let jsonFile = config.warmup.file.map { $0.hasPrefix("/") ? $0 : versionPath + "/" + $0 } ?? versionPath + "/warmup.json"
        if FileManager.default.fileExists(atPath: jsonFile) {
            return (try json(path: jsonFile, model: model), true)
        }
        return (synthesized(for: model, config: config), false)
    }

    private static func json(path: String, model: any InferenceModel) throws -> [WarmupRequest] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(.modelInvalid, "cannot read the warm-up file \(path)")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse([UInt8](data))
        } catch {
            throw RuntimeError(.modelInvalid, "warm-up file \(path): \(error.message)")
        }
        guard case .array(let bodies) = value else {
            throw RuntimeError(.modelInvalid, "warm-up file \(path) expects a list of TF Serving predict bodies, got \(value.briefDescription)")
        }
        return try bodies.enumerated().map { index, body in
            do {
                let request = try TFServingJSON.decodePredictRequest(body) { name in
                    if let name, !name.isEmpty { return try model.signature(named: name) }
                    return try model.defaultSignature ?? model.signature(named: Signature.defaultKey)
                }
                return WarmupRequest(signature: request.signatureKey, inputs: request.inputs)
            } catch {
                throw RuntimeError(.modelInvalid, "warm-up file \(path), request \(index): \(error)")
            }
        }
    }

    /// Zeros (and empty strings) shaped like the default signature's inputs, one request per batch
    /// size; unknown dimensions after the first are 1.
    static func synthesized(for model: any InferenceModel, config: PerformanceConfig) -> [WarmupRequest] {
        guard let signature = model.defaultSignature else { return [] }
        var sizes = config.warmup.batchSizes ?? ([1] + (config.batching.map { $0.allowedBatchSizes.isEmpty ? [$0.maxBatchSize] : $0.allowedBatchSizes } ?? []))
        sizes = Array(Set(sizes)).sorted()
        return sizes.compactMap { size -> WarmupRequest? in
            var inputs: [String: Tensor] = [:]
            for spec in signature.inputs {
                guard let dims = spec.shape.dimensions else { return nil }
                let shape = dims.enumerated().map { index, dim in dim >= 0 ? dim : (index == 0 ? size : 1) }
                let tensor: Tensor?
                if spec.dtype == .string {
                    tensor = try? Tensor(shape: shape, strings: [[UInt8]](repeating: [], count: shape.reduce(1, *)))
                } else {
                    tensor = try? Tensor(dtype: spec.dtype, shape: shape) { raw in
                        if let base = raw.baseAddress { base.initializeMemory(as: UInt8.self, repeating: 0, count: raw.count) }
                    }
                }
                guard let tensor else { return nil }
                inputs[spec.name] = tensor
            }
            return WarmupRequest(signature: signature.key, inputs: inputs)
        }
    }
}
