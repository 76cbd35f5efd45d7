import Foundation
import WharfCore
public import WharfProtocols

/// Reads benchmark inputs from a JSON file: `{"inputs": {name: nested list, ...}}` or any
/// TensorFlow Serving predict body (`{"instances": [...]}` included).
///
/// Values are typed as the model's metadata declares. Names the model does not have are kept
/// (typed from their values), so the server's answer says what is wrong and the benchmark counts
/// the failed requests.
public enum InputFile {
    /// The inputs in the file at `path`, typed for `metadata`'s inputs, and the layout the file
    /// uses (a TF Serving benchmark sends the same layout).
    public static func load(path: String, metadata: ModelMetadata) throws(BenchError) -> TFServingJSON.PredictRequest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchError(.invalidInput, "cannot read the input file \(path)")
        }
        return try decode([UInt8](data), source: path, metadata: metadata)
    }

    /// The inputs in a JSON body and its layout; `source` names the body in errors.
    public static func decode(_ body: [UInt8], source: String, metadata: ModelMetadata) throws(BenchError) -> TFServingJSON.PredictRequest {
        let signature = Signature(key: Signature.defaultKey, inputs: metadata.inputs, outputs: metadata.outputs)
        do {
            let request = try TFServingJSON.decodePredictRequest(body) { _ in signature }
            guard !request.inputs.isEmpty else {
                throw BenchError(.invalidInput, "the input file \(source) holds no inputs")
            }
            return request
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError(
                .invalidInput,
                "the input file \(source) is expected to be {\"inputs\": {name: nested list}} or a TF Serving predict body: \(describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        (error as? any WharfError)?.message ?? "\(error)"
    }
}
