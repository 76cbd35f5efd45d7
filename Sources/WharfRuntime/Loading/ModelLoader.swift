import Foundation
public import WharfCore

/// Finds what kind of model a path holds and loads it into the right runtime.
public struct ModelLoader: Sendable {
    public var locator: RuntimeLocator
    public var options: RuntimeOptions

    public init(locator: RuntimeLocator = RuntimeLocator(), options: RuntimeOptions = RuntimeOptions()) {
        self.locator = locator
        self.options = options
    }

    /// A model file or directory, with its format.
    public struct Artifact: Sendable, Hashable {
        public var format: ModelFormat
        /// The path the runtime opens: the SavedModel directory or the `.onnx` file.
        public var path: String
    }

    /// The format of the model at `path`; a directory with no model, or no such path, is an error
    /// that says what was expected.
    public static func detect(at path: String) throws(RuntimeError) -> Artifact {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RuntimeError(.modelNotFound, "no model at \(path): the path does not exist")
        }
        if isDirectory.boolValue {
            if fileManager.fileExists(atPath: path + "/saved_model.pb") || fileManager.fileExists(atPath: path + "/saved_model.pbtxt") {
                return Artifact(format: .savedModel, path: path)
            }
            if fileManager.fileExists(atPath: path + "/model.onnx") {
                return Artifact(format: .onnx, path: path + "/model.onnx")
            }
            let contents = (try? fileManager.contentsOfDirectory(atPath: path)) ?? []
            if let checkpoint = contents.first(where: { $0.hasSuffix(".meta") }) {
                return Artifact(format: .checkpoint, path: path + "/" + checkpoint)
            }
            throw RuntimeError(
                .modelNotFound,
                "no model in directory \(path): expected a SavedModel (saved_model.pb) or model.onnx, found \(contents.isEmpty ? "nothing" : contents.sorted().prefix(8).joined(separator: ", "))")
        }
        let lower = path.lowercased()
        let formats: [(String, ModelFormat)] = [
            (".onnx", .onnx), (".tflite", .tflite), (".keras", .keras), (".h5", .keras), (".meta", .checkpoint),
            (".pb", .frozenGraph),
        ]
        if let (_, format) = formats.first(where: { lower.hasSuffix($0.0) }) {
            return Artifact(format: format, path: path)
        }
        throw RuntimeError(
            .unsupportedModel,
            "\(path) is not a model Wharf recognises: expected a SavedModel directory, a .onnx file, .tflite, .keras/.h5, .meta or a frozen graph .pb")
    }

    /// Loads the model at `path`. SavedModels run on TensorFlow, `.onnx` files on ONNX Runtime;
    /// other formats must be converted first.
    public func load(path: String) throws -> any InferenceModel {
        let artifact = try ModelLoader.detect(at: path)
        switch artifact.format {
        case .savedModel:
            return try TensorFlowModel(path: artifact.path, options: options, library: try TensorFlowLibrary.shared(locator: locator))
        case .onnx:
            return try ONNXModel(path: artifact.path, options: options, library: try ONNXRuntimeLibrary.shared(locator: locator))
        default:
            throw RuntimeError(
                .unsupportedModel,
                "\(path) is a \(artifact.format.displayName) model; Wharf serves SavedModels and ONNX models, convert it first")
        }
    }

    /// The version of a runtime, opening it if needed.
    public func runtimeVersion(_ runtime: RuntimeKind) throws(RuntimeError) -> (version: String, path: String) {
        switch runtime {
        case .tensorflow:
            let library = try TensorFlowLibrary.shared(locator: locator)
            return (library.version, library.path)
        case .onnxruntime:
            let library = try ONNXRuntimeLibrary.shared(locator: locator)
            return (library.version, library.path)
        }
    }
}
