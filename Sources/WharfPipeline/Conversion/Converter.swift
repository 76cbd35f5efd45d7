public import Foundation
public import Logging
import WharfCore
public import WharfRuntime

/// Converts models and checks their parity by running `python/convert.py` (tf2onnx,
/// TFLiteConverter, Keras and tf.compat.v1 exporters) with the project's `.venv` Python.
///
/// Each call is one converter process: progress lines reach the `progress` callback as they come,
/// the JSON answer becomes a `ConversionResult` or a `ParityReport`, and a failure becomes a
/// `ConversionError` carrying the converter's reason and, where one is to blame, the op.
public struct Converter: Sendable {
    /// Called with each progress line of the converter (without the `progress: ` prefix).
    public typealias ProgressHandler = @Sendable (String) -> Void

    /// The Python interpreter (`.venv/bin/python`).
    public var python: String
    /// `python/convert.py`.
    public var script: String
    /// The converter's environment.
    public var environment: [String: String]
    /// Debug lines: the command run, and the converter's own log when it fails.
    public var logger: Logger

    /// A converter run by `python` on `script`.
    public init(
        python: String, script: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "wharf.convert")
    ) {
        self.python = python
        self.script = script
        self.environment = environment
        self.logger = logger
    }

    /// The project's converter: `bin/python` of the first virtual environment `locator` finds
    /// (`WHARF_VENV`, or a `.venv` in or above the working directory or the executable's
    /// directory), and `python/convert.py` beside that `.venv` (or in or above a search root).
    public init(locator: RuntimeLocator = RuntimeLocator(), logger: Logger = Logger(label: "wharf.convert")) throws(ConversionError) {
        let fileManager = FileManager.default
        let venvs = locator.candidateVenvs()
        guard let venv = venvs.first(where: { fileManager.isExecutableFile(atPath: $0 + "/bin/python") }) else {
            let searched = venvs.isEmpty ? "no .venv found" : "no bin/python in " + venvs.joined(separator: ", ")
            throw ConversionError(
                .environmentMissing,
                "the converters need the project's Python environment (\(searched)). Run scripts/bootstrap to create .venv "
                    + "with tensorflow-cpu, tf2onnx and onnxruntime, or set WHARF_VENV to one.")
        }
        let besideVenv = URL(fileURLWithPath: venv).deletingLastPathComponent().appendingPathComponent("python/convert.py").path
        let candidates = [besideVenv] + locator.pathsUpward("python/convert.py")
        guard let script = candidates.first(where: { fileManager.fileExists(atPath: $0) }) else {
            throw ConversionError(
                .environmentMissing, "python/convert.py not found beside \(venv) or above \(locator.searchRoots.joined(separator: ", "))")
        }
        self.init(python: venv + "/bin/python", script: script, environment: locator.environment, logger: logger)
    }

    /// Converts the model at `source` (a SavedModel, `.keras`/`.h5`, a TF1 checkpoint or a frozen
    /// `.pb`) to `target`. With `options.parity` set, the converted model is also checked against
    /// the source in the same run, and `result.parity` holds the report judged by
    /// `options.parityThresholds` (or the defaults for the target and quantization); a report that
    /// does not pass is returned, not thrown.
    public func convert(
        source: String, target: ConversionTarget, options: ConversionOptions = ConversionOptions(),
        progress: ProgressHandler? = nil
    ) async throws(ConversionError) -> ConversionResult {
        if options.quantization != .float32 && target != .tflite {
            throw ConversionError(.invalidOptions, "quantization (\(options.quantization)) applies to TFLite conversions only, not \(target)")
        }
        if options.parity != nil && target == .savedModel {
            throw ConversionError(.invalidOptions, "parity compares a converted model with its SavedModel; convert to onnx or tflite to check it")
        }
        let output: String
        if let explicit = options.output {
            output = explicit
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-convert-\(UUID().uuidString)")
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw ConversionError(.conversionFailed, "cannot create a directory for the converted model: \(error)", cause: error)
            }
            output = directory.appendingPathComponent(target.defaultFileName).path
        }
        var arguments = [target.subcommand, source, output]
        if options.overwrite { arguments.append("--overwrite") }
        if !options.inputNames.isEmpty { arguments += ["--inputs", options.inputNames.joined(separator: ",")] }
        if !options.outputNames.isEmpty { arguments += ["--outputs", options.outputNames.joined(separator: ",")] }
        switch target {
        case .onnx:
            arguments += ["--opset", String(options.opset)]
        case .tflite:
            if options.quantization != .float32 { arguments += ["--quantize", options.quantization.rawValue] }
            if let calibration = options.calibrationData { arguments += ["--calibration-data", calibration] }
            if let samples = options.calibrationSamples { arguments += ["--calibration-samples", String(samples)] }
            if options.selectTFOps { arguments.append("--select-tf-ops") }
        case .savedModel:
            break
        }
        if let parity = options.parity {
            arguments.append("--parity")
            if let inputs = parity.inputs { arguments += ["--parity-inputs", inputs] }
            if let samples = parity.samples { arguments += ["--parity-samples", String(samples)] }
            arguments += ["--seed", String(parity.seed)]
        }
        let start = ContinuousClock.now
        let answer = try await run(arguments, as: ConvertAnswer.self, progress: progress)
        let elapsed = ContinuousClock.now - start
        let thresholds = options.parityThresholds ?? ParityThresholds.defaults(for: target, quantization: options.quantization)
        return ConversionResult(
            source: answer.source, outputPath: answer.output, target: target,
            variant: Quantization(rawValue: answer.variant) ?? options.quantization, sizeBytes: answer.sizeBytes,
            durationSeconds: elapsed.seconds,
            converter: answer.converter, parameters: answer.parameters,
            parity: answer.parity.map { $0.report(thresholds: thresholds) })
    }

    /// Runs the same inputs through the SavedModel at `source` (TensorFlow; other source kinds are
    /// turned into a temporary SavedModel first) and `converted` (`.onnx` through onnxruntime,
    /// `.tflite` through the TFLite interpreter, or another SavedModel) and judges the differences
    /// by `thresholds` (see `ParityThresholds.defaults(for:quantization:)`). A report that does not
    /// pass is returned, not thrown.
    public func parity(
        source: String, converted: String, thresholds: ParityThresholds, options: ParityOptions = ParityOptions(),
        progress: ProgressHandler? = nil
    ) async throws(ConversionError) -> ParityReport {
        var arguments = ["parity", source, converted, "--seed", String(options.seed)]
        if let inputs = options.inputs { arguments += ["--inputs", inputs] }
        if let samples = options.samples { arguments += ["--samples", String(samples)] }
        let answer = try await run(arguments, as: ParityAnswer.self, progress: progress)
        return answer.report(thresholds: thresholds)
    }

    /// Runs `convert.py` with `arguments` and decodes its answer.
    private func run<Answer: Decodable>(
        _ arguments: [String], as: Answer.Type, progress: ProgressHandler?
    ) async throws(ConversionError) -> Answer {
        var environment = self.environment
        environment["TF_CPP_MIN_LOG_LEVEL"] = environment["TF_CPP_MIN_LOG_LEVEL"] ?? "2"
        environment["PYTHONUNBUFFERED"] = "1"
        let child = ConverterProcess(executable: python, arguments: [script] + arguments, environment: environment)
        logger.debug("running the converter", metadata: ["command": "\(([python, script] + arguments).joined(separator: " "))"])
        let outcome: ConverterProcess.Outcome
        do {
            outcome = try await child.run { line in
                guard line.hasPrefix("progress:") else { return false }
                progress?(line.dropFirst("progress:".count).trimmingCharacters(in: .whitespaces))
                return true
            }
        } catch {
            throw ConversionError(.environmentMissing, "cannot start the converter \(python): \(error). Run scripts/bootstrap", cause: error)
        }
        let line = String(decoding: outcome.stdout, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        let decoder = JSONDecoder()
        if outcome.status == 0, let answer = try? decoder.decode(Answer.self, from: Data(line.utf8)) {
            return answer
        }
        if let failure = try? decoder.decode(FailureAnswer.self, from: Data(line.utf8)) {
            logger.debug("converter failed", metadata: ["log": "\(outcome.stderrTail.joined(separator: "\n"))"])
            throw ConversionError(ConversionError.Code(kind: failure.kind), failure.error, op: failure.op)
        }
        let log = outcome.stderrTail.suffix(8).joined(separator: "\n")
        throw ConversionError(
            .conversionFailed,
            "the converter exited with status \(outcome.status) without an answer\(log.isEmpty ? "" : "; its last lines:\n\(log)")")
    }
}

/// `convert.py`'s answer to a conversion.
private struct ConvertAnswer: Decodable {
    var output: String
    var format: String
    var variant: String
    var sizeBytes: Int64
    var source: String
    var converter: String
    var parameters: [String: String]
    var parity: ParityAnswer?

    enum CodingKeys: String, CodingKey {
        case output, format, variant, sizeBytes = "size_bytes", source, converter, parameters, parity
    }
}

/// `convert.py`'s answer to a parity check.
private struct ParityAnswer: Decodable {
    struct Metrics: Decodable {
        var maxAbsError: Number
        var maxRelError: Number
        var top1Agreement: Number?

        enum CodingKeys: String, CodingKey {
            case maxAbsError = "max_abs_error", maxRelError = "max_rel_error", top1Agreement = "top1_agreement"
        }
    }

    var reference: String
    var candidate: String
    var samples: Int
    var inputs: String
    var outputs: [String: Metrics]

    func report(thresholds: ParityThresholds) -> ParityReport {
        let measured = outputs.map { name, metrics in
            ParityReport.Output(
                name: name, maxAbsError: metrics.maxAbsError.value, maxRelError: metrics.maxRelError.value,
                top1Agreement: metrics.top1Agreement?.value)
        }
        return ParityReport(
            reference: reference, candidate: candidate, inputs: inputs, sampleCount: samples, outputs: measured, thresholds: thresholds)
    }
}

/// A number that may come as "Infinity", "-Infinity" or "NaN" (JSON has no infinities).
private struct Number: Decodable {
    var value: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        switch try container.decode(String.self) {
        case "Infinity": value = .infinity
        case "-Infinity": value = -.infinity
        default: value = .nan
        }
    }
}

/// `convert.py`'s answer to a failure.
private struct FailureAnswer: Decodable {
    var error: String
    var kind: String?
    var op: String?
}
