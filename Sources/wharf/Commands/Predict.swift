import ArgumentParser
import Foundation
import WharfCore
import WharfProtocols
import WharfRuntime

/// `wharf predict PATH --input FILE|-`: one TF Serving-style predict request against a model file.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a TF Serving REST predict request (JSON) against a SavedModel or .onnx model.",
        discussion: """
            The request is a TensorFlow Serving predict body: {"instances": [...]} (row format) or \
            {"inputs": ...} (columnar), with an optional "signature_name". The answer is TF Serving's: \
            {"predictions": ...} for row requests, {"outputs": ...} for columnar ones.
            """)

    @Argument(help: "A SavedModel directory, a .onnx file, or a directory holding model.onnx.")
    var path: String

    @Option(name: .shortAndLong, help: "The request JSON file, or - for standard input.")
    var input: String

    @Option(help: "The signature to run (overrides the request's signature_name).")
    var signature: String?

    @Option(name: .customLong("output"), help: "Only return this output (repeatable).")
    var outputs: [String] = []

    @Flag(help: "Indent the JSON answer.")
    var pretty = false

    @OptionGroup var runtime: RuntimeFlags

    func run() throws {
        let body: Data
        if input == "-" {
            body = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw ValidationError("cannot read the request file \(input)")
            }
            body = data
        }
        do {
            let model = try runtime.loader.load(path: path)
            let overriding = signature
            let request = try TFServingJSON.decodePredictRequest([UInt8](body)) { name in
                let key = overriding ?? name
                if let key, !key.isEmpty { return try model.signature(named: key) }
                return try model.defaultSignature ?? model.signature(named: Signature.defaultKey)
            }
            let results = try model.run(
                signature: request.signatureKey, inputs: request.inputs, outputs: outputs.isEmpty ? nil : outputs)
            var answer = try TFServingJSON.encodePredictResponse(results, format: request.format)
            if pretty, let object = try? JSONSerialization.jsonObject(with: Data(answer)),
                let indented = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            {
                answer = [UInt8](indented)
            }
            print(String(decoding: answer, as: UTF8.self))
        } catch {
            throw CLIError(error)
        }
    }
}
