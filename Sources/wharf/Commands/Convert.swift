import ArgumentParser
import Foundation
import WharfCore
import WharfPipeline

/// Threshold overrides shared by `wharf convert --parity` and `wharf parity`.
struct ThresholdFlags: ParsableArguments {
    @Option(name: .customLong("max-abs-error"), help: "Parity: the largest absolute difference allowed (overrides the default).")
    var maxAbsError: Double?

    @Option(name: .customLong("max-rel-error"), help: "Parity: the largest relative difference allowed.")
    var maxRelError: Double?

    @Option(name: .customLong("min-top1"), help: "Parity: the smallest top-1 agreement allowed (0...1).")
    var minTop1: Double?

    /// The defaults for `target` and `quantization` with these overrides.
    func thresholds(_ target: ConversionTarget, _ quantization: Quantization) -> ParityThresholds {
        ParityThresholds.defaults(for: target, quantization: quantization)
            .overridden(by: ParityThresholds(maxAbsError: maxAbsError, maxRelError: maxRelError, minTop1Agreement: minTop1))
    }
}

/// Converter progress on stderr, one line each.
private let printProgress: Converter.ProgressHandler = { line in
    FileHandle.standardError.write(Data("  \(line)\n".utf8))
}

/// `wharf convert SRC --to onnx|tflite|savedmodel --output PATH`: converts a model, optionally
/// checking parity against it.
struct Convert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a model to ONNX, TensorFlow Lite or a SavedModel, optionally checking parity.",
        discussion: """
            Sources: a SavedModel directory, a Keras .keras/.h5 file, a TF1 checkpoint (.meta, or its \
            directory or prefix) or a frozen graph .pb. ONNX uses tf2onnx; TFLite uses TFLiteConverter, \
            with --quantize fp16 (float16 weights), dynamic (int8 weights) or int8 (full integer, \
            calibrated on --calibration-data). With --parity the converted model runs the same inputs \
            as the source (synthesized, or --parity-inputs; int8 uses its calibration data) and the \
            command exits with 1 when an output is outside the thresholds.
            """)

    @Argument(help: "The model to convert.")
    var source: String

    @Option(name: .customLong("to"), help: "The target format: onnx, tflite or savedmodel.")
    var target: String

    @Option(name: .shortAndLong, help: "Where to write the converted model (a file, or a SavedModel directory).")
    var output: String

    @Flag(help: "Replace --output if it exists.")
    var overwrite = false

    @Option(help: "ONNX opset.")
    var opset = 17

    @Option(help: "TFLite quantization: fp16, int8 or dynamic.")
    var quantize: String?

    @Option(name: .customLong("calibration-data"), help: "int8: representative inputs, a .npy or .jsonl file.")
    var calibrationData: String?

    @Flag(name: .customLong("select-tf-ops"), help: "TFLite: keep ops TFLite lacks as TensorFlow ops (needs the Flex delegate).")
    var selectTFOps = false

    @Option(help: "TF1 sources: input tensors, comma-separated (x:0,y:0); default: the graph's placeholders.")
    var inputs: String?

    @Option(help: "TF1 sources: output tensors, comma-separated; default: the graph's one obvious output.")
    var outputs: String?

    @Flag(help: "Check parity against the source and fail when it is outside the thresholds.")
    var parity = false

    @Option(name: .customLong("parity-inputs"), help: "Parity: input rows, a .npy or .jsonl file (default: synthesized).")
    var parityInputs: String?

    @Option(name: .customLong("parity-samples"), help: "Parity: rows to run (default 8 synthesized, or all in the file).")
    var paritySamples: Int?

    @OptionGroup var thresholdFlags: ThresholdFlags

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard ConversionTarget(rawValue: target) != nil else {
            throw ValidationError("--to expects one of onnx, tflite, savedmodel; got '\(target)'")
        }
        if let quantize, Quantization(rawValue: quantize) == nil || quantize == Quantization.float32.rawValue {
            throw ValidationError("--quantize expects fp16, int8 or dynamic; got '\(quantize)'")
        }
    }

    func run() async throws {
        let target = ConversionTarget(rawValue: target)!
        let quantization = quantize.flatMap(Quantization.init(rawValue:)) ?? .float32
        let options = ConversionOptions(
            output: output, overwrite: overwrite, opset: opset, quantization: quantization, calibrationData: calibrationData,
            selectTFOps: selectTFOps, inputNames: Self.names(inputs), outputNames: Self.names(outputs),
            parity: parity ? ParityOptions(inputs: parityInputs, samples: paritySamples) : nil,
            parityThresholds: thresholdFlags.thresholds(target, quantization))
        let result: ConversionResult
        do {
            FileHandle.standardError.write(Data("converting \(source) to \(target)\n".utf8))
            result = try await Converter().convert(source: source, target: target, options: options, progress: printProgress)
        } catch {
            throw CLIError(error)
        }
        if json {
            try printJSON(result)
        } else {
            let parameters = result.parameters.keys.sorted().map { "\($0) \(result.parameters[$0]!)" }.joined(separator: ", ")
            print("converted \(result.source) → \(result.outputPath)")
            print("  format: \(result.format.displayName), \(result.variant), \(TextTable.bytes(result.sizeBytes))")
            print("  converter: \(result.converter)\(parameters.isEmpty ? "" : " (\(parameters))")")
            print("  took \(String(format: "%.1f", result.durationSeconds)) s")
            if let report = result.parity {
                print("")
                print(parityTable(report))
            }
        }
        if let report = result.parity, !report.passed {
            if json { FileHandle.standardError.write(Data("parity FAILED: \(report.failureSummary)\n".utf8)) }
            throw ExitCode(1)
        }
    }

    static func names(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// `wharf parity SRC CONVERTED`: runs the same inputs through a SavedModel and its conversion.
struct Parity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a converted model (.onnx, .tflite or a SavedModel) with its source SavedModel.",
        discussion: """
            Both models run the same rows (synthesized from the signature, or --inputs) and every output \
            is compared: max abs error, max rel error, top-1 agreement. The thresholds are the defaults \
            for the converted model's format and --quantization, with any --max-abs-error, \
            --max-rel-error and --min-top1 overrides. Exits with 1 when an output is outside them.
            """)

    @Argument(help: "The reference: a SavedModel directory (or another source, converted first).")
    var source: String

    @Argument(help: "The converted model: a .onnx file, a .tflite file or a SavedModel directory.")
    var converted: String

    @Option(help: "Input rows, a .npy or .jsonl file (default: synthesized).")
    var inputs: String?

    @Option(help: "Rows to run (default 8 synthesized, or all in --inputs).")
    var samples: Int?

    @Option(help: "Seed of the synthesized rows.")
    var seed = 0

    @Option(help: "How the model was quantized (fp32, fp16, int8, dynamic): picks the default thresholds.")
    var quantization = Quantization.float32.rawValue

    @OptionGroup var thresholdFlags: ThresholdFlags

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard Quantization(rawValue: quantization) != nil else {
            throw ValidationError("--quantization expects fp32, fp16, int8 or dynamic; got '\(quantization)'")
        }
    }

    func run() async throws {
        let lower = converted.lowercased()
        let target: ConversionTarget = lower.hasSuffix(".onnx") ? .onnx : lower.hasSuffix(".tflite") ? .tflite : .savedModel
        let thresholds = thresholdFlags.thresholds(target, Quantization(rawValue: quantization) ?? .float32)
        let report: ParityReport
        do {
            report = try await Converter().parity(
                source: source, converted: converted, thresholds: thresholds,
                options: ParityOptions(inputs: inputs, samples: samples, seed: seed), progress: printProgress)
        } catch {
            throw CLIError(error)
        }
        if json { try printJSON(report) } else { print(parityTable(report)) }
        if !report.passed { throw ExitCode(1) }
    }
}

/// A parity report for people: one row per output, the thresholds, and the verdict.
func parityTable(_ report: ParityReport) -> String {
    func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.3g", value) : "\(value)"
    }
    var table = TextTable("OUTPUT", "MAX ABS ERROR", "MAX REL ERROR", "TOP-1", "RESULT")
    for output in report.outputs {
        table.add(
            output.name, number(output.maxAbsError), number(output.maxRelError),
            output.top1Agreement.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
            output.passed ? "ok" : "FAIL: " + output.failures.joined(separator: "; "))
    }
    return """
        parity: \(report.reference) vs \(report.candidate), \(report.sampleCount) rows, inputs: \(report.inputs)
        \(table.rendered)
        thresholds: \(report.thresholds.summary)
        \(report.passed ? "PASSED" : "FAILED")
        """
}
