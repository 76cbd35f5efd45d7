import ArgumentParser
import Foundation
import WharfCore
import WharfRuntime

/// `wharf inspect PATH`: the model's format and every signature, like `saved_model_cli show --all`.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's format and every signature with dtypes and shapes (SavedModel or .onnx).")

    @Argument(help: "A SavedModel directory, a .onnx file, or a directory holding model.onnx.")
    var path: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var runtime: RuntimeFlags

    func run() throws {
        let model: any InferenceModel
        do {
            model = try runtime.loader.load(path: path)
        } catch {
            throw CLIError(error)
        }
        if json {
            print(ModelDescription(model).json)
            return
        }
        print("Model:   \(model.path)")
        print("Format:  \(model.format.displayName)")
        print("Runtime: \(model.runtime.displayName) \(model.metadata["runtime_version"] ?? "")")
        for key in model.metadata.keys.sorted() where key != "runtime_version" {
            print("  \(key): \(model.metadata[key]!)")
        }
        for signature in model.signatures {
            print("")
            print("signature_def['\(signature.key)']  method: \(signature.methodName.isEmpty ? "-" : signature.methodName)")
            for (title, specs) in [("inputs", signature.inputs), ("outputs", signature.outputs)] {
                print("  \(title):")
                let width = specs.map(\.name.count).max() ?? 0
                for spec in specs {
                    let name = spec.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    let dtype = spec.dtype.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                    print("    \(name)  \(dtype) \(spec.shape)  (\(spec.dtype.tensorFlowName))")
                }
            }
        }
    }
}

/// A model's description as JSON for scripts.
struct ModelDescription {
    let model: any InferenceModel

    init(_ model: any InferenceModel) { self.model = model }

    var json: String {
        func spec(_ spec: TensorSpec) -> [String: Any] {
            ["dtype": spec.dtype.rawValue, "shape": spec.shape.dimensions.map { $0 as Any } ?? NSNull()]
        }
        let signatures: [String: Any] = Dictionary(uniqueKeysWithValues: model.signatures.map { signature in
            (signature.key, [
                "method_name": signature.methodName,
                "inputs": Dictionary(uniqueKeysWithValues: signature.inputs.map { ($0.name, spec($0)) }),
                "outputs": Dictionary(uniqueKeysWithValues: signature.outputs.map { ($0.name, spec($0)) }),
            ] as [String: Any])
        })
        let object: [String: Any] = [
            "path": model.path, "format": model.format.rawValue, "runtime": model.runtime.rawValue,
            "metadata": model.metadata, "signatures": signatures,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// An error for the terminal: the message alone, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(message: String) {
        description = message
    }

    init(_ error: any Error) {
        if let error = error as? any WharfError {
            description = error.description
        } else {
            description = "\(error)"
        }
    }
}
