/// The inference runtimes Wharf drives.
public enum RuntimeKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case tensorflow
    case onnxruntime

    /// A name for people.
    public var displayName: String {
        switch self {
        case .tensorflow: "TensorFlow"
        case .onnxruntime: "ONNX Runtime"
        }
    }

    /// The environment variable that names the library file explicitly.
    public var environmentVariable: String {
        switch self {
        case .tensorflow: "WHARF_TF_LIB"
        case .onnxruntime: "WHARF_ORT_LIB"
        }
    }

    /// The library file Wharf opens.
    public var libraryDescription: String {
        switch self {
        case .tensorflow: "libtensorflow_cc.so.2 (PyPI wheel tensorflow-cpu==2.21.0)"
        case .onnxruntime: "libonnxruntime.so (PyPI wheel onnxruntime==1.31.1)"
        }
    }

    /// What a user does to fix a missing or wrong library.
    var remedy: String {
        "Run scripts/bootstrap to install the runtimes into .venv, or set \(environmentVariable) to the path of \(libraryDescription)."
    }

    public var description: String { rawValue }
}
