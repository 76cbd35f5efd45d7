import Foundation
import WharfCore
public import WharfRuntime

/// Finds what an artifact directory holds before anything is written: the formats present and the
/// signatures of the model, read by loading it in its runtime (so a push of something that does
/// not load is refused up front).
public struct ArtifactInspector: Sendable {
    public var locator: RuntimeLocator
    /// Load the model to read its signatures (and prove it loads). Off, only the files are checked.
    public var loadModel: Bool

    public init(locator: RuntimeLocator = RuntimeLocator(), loadModel: Bool = true) {
        self.locator = locator
        self.loadModel = loadModel
    }

    /// The formats and signatures of the model in `directory`.
    public func inspect(directory: String) throws(RegistryError) -> ArtifactFacts {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw RegistryError(.notAModel, "\(directory) does not exist")
        }
        guard isDirectory.boolValue else {
            throw RegistryError(.notAModel, "\(directory) is a file; push a directory holding a SavedModel, model.onnx or .tflite files")
        }
        let top = ((try? fileManager.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var formats: [String] = []
        if top.contains("saved_model.pb") || top.contains("saved_model.pbtxt") { formats.append("savedmodel") }
        if top.contains("model.onnx") { formats.append("onnx") }
        for file in top where file.hasSuffix(".tflite") {
            let stem = String(file.dropLast(".tflite".count))
            let variant = stem.split(separator: "_").last.map(String.init) ?? ""
            formats.append(["fp16", "int8", "dynamic"].contains(variant) ? "tflite-" + variant : "tflite")
        }
        guard !formats.isEmpty else {
            throw RegistryError(
                .notAModel,
                "\(directory) holds no model: expected saved_model.pb, model.onnx or a .tflite file at its top level, found \(top.isEmpty ? "nothing" : top.prefix(8).joined(separator: ", "))")
        }
        _ = try TreeHash.files(under: directory)  // plain files only
        guard loadModel, formats.contains("savedmodel") || formats.contains("onnx") else {
            return ArtifactFacts(formats: formats, signatures: [])
        }
        let path = formats.contains("savedmodel") ? directory : directory + "/model.onnx"
        do {
            let model = try ModelLoader(locator: locator).load(path: path)
            let signatures = model.signatures.map { signature in
                SignatureSummary(
                    key: signature.key, inputs: signature.inputs.map(Self.summary), outputs: signature.outputs.map(Self.summary))
            }
            return ArtifactFacts(formats: formats, signatures: signatures)
        } catch {
            throw RegistryError(.notAModel, "\(path) does not load: \(error)", cause: error)
        }
    }

    private static func summary(_ spec: TensorSpec) -> TensorSummary {
        TensorSummary(name: spec.name, dtype: spec.dtype.rawValue, shape: spec.shape.dimensions.map { $0.map(Int64.init) })
    }
}
