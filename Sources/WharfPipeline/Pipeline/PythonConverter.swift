import Foundation

/// The pipeline's converters: `Converter` (python/convert.py in the project's `.venv`).
public struct PythonConverter: PipelineConverting {
    public init() {}

    /// `onnx`, `tflite`, `tflite-fp16`, `tflite-int8`, `tflite-dynamic` as a converter target.
    static func target(_ name: String) throws -> (ConversionTarget, Quantization) {
        switch name {
        case "onnx": (.onnx, .float32)
        case "tflite": (.tflite, .float32)
        case "tflite-fp16": (.tflite, .float16)
        case "tflite-int8": (.tflite, .int8)
        case "tflite-dynamic": (.tflite, .dynamicRange)
        default: throw PipelineError("unknown conversion target '\(name)'; expected one of \(PipelineDefinition.knownTargets.joined(separator: ", "))")
        }
    }

    public func toSavedModel(source: String, output: String, progress: @escaping @Sendable (String) -> Void) async throws -> [String: String] {
        let result = try await Converter().convert(
            source: source, target: .savedModel, options: ConversionOptions(output: output, overwrite: true), progress: progress)
        return result.parameters.merging(["converter": result.converter]) { first, _ in first }
    }

    public func convert(
        savedModel: String, target: String, output: String, calibrationData: String?, progress: @escaping @Sendable (String) -> Void
    ) async throws -> [String: String] {
        let (kind, quantization) = try Self.target(target)
        let result = try await Converter().convert(
            source: savedModel, target: kind,
            options: ConversionOptions(output: output, overwrite: true, quantization: quantization, calibrationData: calibrationData),
            progress: progress)
        return result.parameters.merging(["converter": result.converter]) { first, _ in first }
    }

    public func parity(savedModel: String, converted: String, target: String, maxAbsError: Double?, minTop1: Double?) async throws
        -> (passed: Bool, numbers: [String: Double], detail: String)
    {
        let (kind, quantization) = try Self.target(target)
        let thresholds = ParityThresholds.defaults(for: kind, quantization: quantization)
            .overridden(by: ParityThresholds(maxAbsError: maxAbsError, minTop1Agreement: minTop1))
        let report = try await Converter().parity(source: savedModel, converted: converted, thresholds: thresholds)
        var numbers: [String: Double] = ["samples": Double(report.sampleCount)]
        var parts: [String] = []
        for output in report.outputs {
            numbers["\(output.name).max_abs_error"] = output.maxAbsError
            numbers["\(output.name).max_rel_error"] = output.maxRelError
            if let top1 = output.top1Agreement { numbers["\(output.name).top1_agreement"] = top1 }
            parts.append(
                "\(output.name) max abs \(ParityReport.format(output.maxAbsError))"
                    + (output.top1Agreement.map { ", top-1 \(ParityReport.format($0))" } ?? "")
                    + (output.failures.isEmpty ? "" : " (\(output.failures.joined(separator: "; ")))"))
        }
        return (report.passed, numbers, "\(parts.joined(separator: "; ")) [\(thresholds.summary)] on \(report.sampleCount) rows")
    }
}
