/// The on-disk formats Wharf recognises.
public enum ModelFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A TensorFlow 2 (or TF1-exported) SavedModel directory: `saved_model.pb` plus `variables/`.
    case savedModel = "saved_model"
    /// An ONNX model file (`.onnx`).
    case onnx
    /// A TensorFlow Lite flatbuffer (`.tflite`).
    case tflite
    /// A Keras model file (`.keras` or `.h5`).
    case keras
    /// A TF1 checkpoint with its meta graph (`.meta` + `.index` + `.data-*`).
    case checkpoint
    /// A frozen TensorFlow GraphDef (`.pb` holding a GraphDef, not a SavedModel).
    case frozenGraph = "frozen_graph"

    /// Whether Wharf serves this format directly (the others are converted first).
    public var isServable: Bool { self == .savedModel || self == .onnx }

    /// A name for people.
    public var displayName: String {
        switch self {
        case .savedModel: "TensorFlow SavedModel"
        case .onnx: "ONNX"
        case .tflite: "TensorFlow Lite"
        case .keras: "Keras"
        case .checkpoint: "TensorFlow 1 checkpoint"
        case .frozenGraph: "frozen TensorFlow graph"
        }
    }

    public var description: String { rawValue }
}
