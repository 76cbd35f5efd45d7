import Foundation

/// A failure of the pipeline or of one of its stages, with the reason in words.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// What the pipeline needs from the converters (python/convert.py behind `Converter`).
public protocol PipelineConverting: Sendable {
    /// A Keras file, TF1 checkpoint or frozen graph as a SavedModel at `output`; the converter's
    /// parameters for the lineage.
    func toSavedModel(source: String, output: String, progress: @escaping @Sendable (String) -> Void) async throws -> [String: String]
    /// The SavedModel as `target` (`onnx`, `tflite`, `tflite-fp16`, `tflite-int8`, `tflite-dynamic`)
    /// at `output`; the converter's parameters for the lineage.
    func convert(
        savedModel: String, target: String, output: String, calibrationData: String?, progress: @escaping @Sendable (String) -> Void
    ) async throws -> [String: String]
    /// Runs the same inputs through the SavedModel and the converted artifact: whether they agree
    /// within the bounds (the target's defaults where `nil`), the numbers, and the verdict in words.
    func parity(savedModel: String, converted: String, target: String, maxAbsError: Double?, minTop1: Double?) async throws
        -> (passed: Bool, numbers: [String: Double], detail: String)
}
